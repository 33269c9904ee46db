/** Bounded concurrency: the replay never has more than a handful of requests or handshakes in flight. */

/**
 * Runs `task(0)` … `task(count - 1)`, at most `parallel` at a time, and answers their results in
 * order. The first failure stops new tasks from starting and is thrown once the running ones end.
 */
export async function inParallel<T>(
  count: number,
  parallel: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      const index = next++;
      try {
        results[index] = await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(0, Math.min(parallel, count)) }, worker);
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return results;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
