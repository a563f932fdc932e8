/** Calls of the returned function share the next run of `run` that starts after them. */
export function coalesced(run: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  return () => {
    if (queued) return queued;
    const p: Promise<void> = (running ?? Promise.resolve())
      .catch(() => {})
      .then(() => {
        queued = undefined;
        running = p;
        return run();
      })
      .finally(() => {
        if (running === p) running = undefined;
      });
    queued = p;
    return p;
  };
}
