// Build something on first use and keep it, but forget a failed attempt so the
// next call tries again (a cold start that hit a transient error must not
// poison the instance). Used for handlers, clients, topics and keys.
export function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () => {
    made ??= make().catch((err: unknown) => {
      made = undefined;
      throw err;
    });
    return made;
  };
}
