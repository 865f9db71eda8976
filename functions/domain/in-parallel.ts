// Bounded fan-out: the sweep's tasks and a task's publications both run
// through this one pool, so "at most N at once, each item taken once" is
// written (and tested) in one place.

/** Runs `work` over the items, at most `limit` at once; rejects with the first error once all have settled. */
export async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const queue = items.values(); // one iterator shared by the workers: each item is taken once
  const errors: unknown[] = [];
  const worker = async () => {
    for (const item of queue) {
      await work(item).catch((err: unknown) => void errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length) throw errors[0];
}
