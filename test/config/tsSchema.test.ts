/**
 * `backstage-cli config:check` compiles the `config.d.ts` schemas of an app's
 * own packages with ts-json-schema-generator, which package.json overrides to
 * 2.4.0 (the last version that runs on Node 20 without an engine warning):
 * config-loader's compile path still works with it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigSchema } from '@backstage/config-loader';

test('a package with a config.d.ts schema compiles, its @visibility tag kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-dts-'));
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dts-schema', configSchema: 'config.d.ts' }));
    writeFileSync(join(dir, 'config.d.ts'), 'export interface Config {\n  app: {\n    /** @visibility frontend */\n    title: string;\n  };\n}\n');
    const schema = await loadConfigSchema({ dependencies: [], packagePaths: [join(dir, 'package.json')] });
    const [compiled] = (schema.serialize() as { schemas: { value: any }[] }).schemas;
    expect(compiled.value.properties.app).toEqual({
      type: 'object',
      properties: { title: { type: 'string', visibility: 'frontend' } },
      required: ['title'],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
