/**
 * Stitching: the entity as the catalog finally serves it. A view or edit URL
 * annotation with a `javascript:` URL is replaced, the relations are the
 * distinct rows whose source is the entity, ordered by type then target
 * (binary order), and the entity gets a uid and an etag.
 */
import { ANNOTATION_EDIT_URL, ANNOTATION_VIEW_URL, type Entity, type EntityRelation } from '@backstage/catalog-model';
import { createHash } from 'node:crypto';
import { stableStringify } from '../../common/data';
import { jsonCopy } from './json';
import type { Processed } from './processing';

const scriptProtocolPattern =
  /^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*:/i;

export function stitch(p: Processed, relations: Map<string, EntityRelation> | undefined): Entity {
  const entity = jsonCopy(p.entity);
  for (const annotation of [ANNOTATION_VIEW_URL, ANNOTATION_EDIT_URL]) {
    const value = entity.metadata.annotations?.[annotation];
    if (typeof value === 'string' && scriptProtocolPattern.test(value)) {
      entity.metadata.annotations![annotation] = 'https://backstage.io/annotation-rejected-for-security-reasons';
    }
  }
  entity.relations = [...(relations?.values() ?? [])].sort(
    (a, b) => compareStrings(a.type, b.type) || compareStrings(a.targetRef, b.targetRef),
  );
  // The real uid is a random UUID, and the real etag a hash of the entity
  // including that uid; here both are derived from the entity so that runs are
  // reproducible. Neither is searchable by a filter that could match both.
  entity.metadata.uid = uuidFrom(p.ref);
  const hash = createHash('sha1').update(stableStringify(entity)).digest('hex');
  if (!entity.metadata.etag) entity.metadata.etag = hash;
  return entity;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uuidFrom(ref: string): string {
  const h = createHash('sha1').update(`signin-rules:${ref}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
