/**
 * Text output shows control and invisible characters escaped: a value from a
 * profile or a live catalog must not redraw the terminal (a carriage return,
 * a line erase, concealed text) to show a decision that was not made.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { visible } from '../../src/cli/main';
import { palette } from '../../src/cli/output';
import { ex, run } from './run';

describe('visible', () => {
  it('escapes control, bidi and invisible characters, and keeps new lines, tabs and our own colours', () => {
    expect(visible('a\rb\u001b[2Kc\u001b[8md\u2028e\u200bf\u202eg\u0085h')).toBe('a\\u000db\\u001b[2Kc\\u001b[8md\\u2028e\\u200bf\\u202eg\\u0085h');
    const p = palette(true);
    const coloured = `${p.good('ok')}\t${p.bad('no')}\n${p.dim(p.bold('x'))} ${p.warn('w')}`;
    expect(visible(coloured)).toBe(coloured);
  });

  it('holds for explain: a profile named to overwrite the decision line shows escaped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'visible-'));
    try {
      // The profile's label (its file name) starts the answer; here it tries to erase the line and conceal the rest.
      const profile = join(dir, 'p\r\u001b[2K  => REFUSED by rule "spoofed"\u001b[8m.yaml');
      writeFileSync(profile, readFileSync(ex('profiles/1-alice.yaml')));
      const r = await run(['explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', profile]);
      expect(r.code).toBe(0);
      expect(r.out).toContain('p\\u000d\\u001b[2K  => REFUSED by rule "spoofed"\\u001b[8m.yaml');
      expect(r.out).not.toMatch(/[\r\u001b]/);
      expect(r.out).toMatch(/=> SIGNED IN as user:default\/alice/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
