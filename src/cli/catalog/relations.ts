/**
 * Relations as the catalog makes them: the built-in processor emits, for each
 * reference in a built-in kind's spec, a pair of relations (one each way,
 * refs parsed with the kind's default target kind and the entity's own
 * namespace, lower-cased). All processed entities' rows go into one table;
 * an entity is later served with every row whose source is its ref, whichever
 * entity emitted it (so a group's `members` makes its users `memberOf` it).
 */
import { getCompoundEntityRef, parseEntityRef, stringifyEntityRef, type Entity, type EntityRelation } from '@backstage/catalog-model';

/** One row of the relations table. */
export interface RelationRow {
  source: string;
  type: string;
  target: string;
}

/** The relations table, by source ref; each source's rows distinct by type and target. */
export type RelationsBySource = Map<string, Map<string, EntityRelation>>;

export function relationsTable(rows: Iterable<RelationRow>): RelationsBySource {
  const bySource: RelationsBySource = new Map();
  for (const r of rows) {
    let forSource = bySource.get(r.source);
    if (!forSource) bySource.set(r.source, (forSource = new Map()));
    forSource.set(`${r.type}\0${r.target}`, { type: r.type, targetRef: r.target });
  }
  return bySource;
}

/** Every relation pair the built-in processor emits for an entity (refs lower-cased). */
export function builtinRelations(entity: Entity): RelationRow[] {
  const out: RelationRow[] = [];
  const selfRef = getCompoundEntityRef(entity);
  const self = stringifyEntityRef(selfRef);
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  function emit(targets: unknown, defaultKind: string | undefined, outgoing: string, incoming: string) {
    if (!targets) return;
    for (const target of [targets].flat()) {
      const targetRef = parseEntityRef(target as string, { defaultKind, defaultNamespace: selfRef.namespace });
      const other = stringifyEntityRef(targetRef);
      out.push({ source: self, type: outgoing, target: other });
      out.push({ source: other, type: incoming, target: self });
    }
  }
  switch (entity.kind) {
    case 'Component':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.subcomponentOf, 'Component', 'partOf', 'hasPart');
      emit(spec.providesApis, 'API', 'providesApi', 'apiProvidedBy');
      emit(spec.consumesApis, 'API', 'consumesApi', 'apiConsumedBy');
      emit(spec.dependsOn, undefined, 'dependsOn', 'dependencyOf');
      emit(spec.dependencyOf, undefined, 'dependencyOf', 'dependsOn');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'API':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'Resource':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.dependsOn, undefined, 'dependsOn', 'dependencyOf');
      emit(spec.dependencyOf, undefined, 'dependencyOf', 'dependsOn');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'User':
      emit(spec.memberOf, 'Group', 'memberOf', 'hasMember');
      break;
    case 'Group':
      emit(spec.parent, 'Group', 'childOf', 'parentOf');
      emit(spec.children, 'Group', 'parentOf', 'childOf');
      emit(spec.members, 'User', 'hasMember', 'memberOf');
      break;
    case 'System':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.domain, 'Domain', 'partOf', 'hasPart');
      break;
    case 'Domain':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.subdomainOf, 'Domain', 'partOf', 'hasPart');
      break;
    default:
  }
  return out;
}
