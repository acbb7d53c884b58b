/**
 * inParallel runs the tasks with at most `limit` in flight, each started as
 * soon as a slot frees, and resolves when all have finished (it rejects with
 * the first failure; tasks that should not stop the others catch their own).
 */
export async function inParallel(tasks: ReadonlyArray<() => Promise<unknown>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}
