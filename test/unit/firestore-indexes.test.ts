// The index declarations in infra/ cover every field the Firestore adapters
// query on: a query added without its index fails here, not in production.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

it('declares an index for every field the adapters filter or order on', () => {
  const decl = JSON.parse(readFileSync(join(root, 'infra', 'firestore.indexes.json'), 'utf8')) as {
    indexes: { collectionGroup: string; fields: { fieldPath: string }[] }[];
    fieldOverrides: { collectionGroup: string; fieldPath: string; indexes: unknown[] }[];
  };
  const indexed = new Set([
    ...decl.fieldOverrides.filter((f) => f.indexes.length > 0).map((f) => f.fieldPath),
    ...decl.indexes.flatMap((i) => i.fields.map((f) => f.fieldPath)),
  ]);
  const source = ['firestore-task-store.ts', 'firestore-provenance-store.ts']
    .map((f) => readFileSync(join(root, 'functions', 'adapters', f), 'utf8'))
    .join('\n');
  const queried = new Set<string>();
  for (const m of source.matchAll(/\.(?:where|orderBy)\('([^']+)'/g)) queried.add(m[1]!);
  // tasksDue takes the field as a parameter: its values are the DueField type's.
  if (/\.where\(field\b/.test(source)) for (const f of ['aliveAt', 'recoverAt']) queried.add(f);
  assert.ok(queried.size >= 5, `found ${[...queried]}`);
  for (const field of queried) assert.ok(indexed.has(field), `${field} is queried but has no declared index`);
});

it("declares the composite index of the read API's subject pages (subjects contains, signedAt, id)", () => {
  const decl = JSON.parse(readFileSync(join(root, 'infra', 'firestore.indexes.json'), 'utf8')) as {
    indexes: { collectionGroup: string; fields: Record<string, string>[] }[];
  };
  assert.deepEqual(decl.indexes.find((i) => i.collectionGroup === 'provenance')?.fields, [
    { fieldPath: 'subjects', arrayConfig: 'CONTAINS' },
    { fieldPath: 'signedAt', order: 'ASCENDING' },
    { fieldPath: '__name__', order: 'ASCENDING' },
  ]);
});
