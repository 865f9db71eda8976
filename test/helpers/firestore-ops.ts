// Counts the document reads and writes our code asks the Firestore client
// for, by wrapping the public SDK methods (the same calls Firestore bills).
// Used to hold the Firestore adapter to the cost invariants on the emulator.
import { DocumentReference, Query, Transaction, Firestore } from '@google-cloud/firestore';

import type { OpCounts } from '../../functions/adapters/memory-task-store.js';

export const firestoreOps: OpCounts = { reads: 0, writes: 0 };
let depth = 0; // only the outermost SDK call counts (create() calls into batch internals)

function wrap(proto: object, name: string, count: (result: unknown, args: unknown[]) => Partial<OpCounts>): void {
  const target = proto as Record<string, (...a: unknown[]) => unknown>;
  const original = target[name];
  if (!original || (original as { __counted?: boolean }).__counted) return;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const outer = depth === 0;
    depth++;
    let result: unknown;
    try {
      result = original.apply(this, args);
    } finally {
      depth--;
    }
    if (!outer) return result;
    const add = (c: Partial<OpCounts>) => {
      firestoreOps.reads += c.reads ?? 0;
      firestoreOps.writes += c.writes ?? 0;
    };
    // A refused call (create on an existing document, update of a missing one)
    // was still one request: count it too.
    if (result instanceof Promise) {
      return result.then(
        (r) => {
          add(count(r, args));
          return r;
        },
        (err) => {
          add(count(undefined, args));
          throw err;
        },
      );
    }
    add(count(result, args));
    return result;
  };
  (wrapped as { __counted?: boolean }).__counted = true;
  target[name] = wrapped;
}

const docsIn = (snap: unknown): number => {
  const s = (snap ?? {}) as { size?: number; docs?: unknown[] };
  return Math.max(1, s.size ?? s.docs?.length ?? 1);
};

export function installFirestoreOpCounter(): void {
  for (const m of ['create', 'set', 'update', 'delete']) wrap(DocumentReference.prototype, m, () => ({ writes: 1 }));
  wrap(DocumentReference.prototype, 'get', () => ({ reads: 1 }));
  wrap(Query.prototype, 'get', (snap) => ({ reads: docsIn(snap) }));
  wrap(Firestore.prototype, 'getAll', (snaps, args) => ({ reads: ((snaps as unknown[]) ?? args).length }));
  for (const m of ['create', 'set', 'update', 'delete']) wrap(Transaction.prototype, m, () => ({ writes: 1 }));
  wrap(Transaction.prototype, 'get', (snap) => ({ reads: docsIn(snap) }));
  wrap(Transaction.prototype, 'getAll', (snaps, args) => ({ reads: ((snaps as unknown[]) ?? args).length }));
}
