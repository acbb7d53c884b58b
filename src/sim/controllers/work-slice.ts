/**
 * Long synchronous loops of the data plane (scans of every pod, scheduling
 * cycles, bursts of creates) give the event loop back every few
 * milliseconds, so API requests are answered while a pass runs:
 *
 *   const slice = new WorkSlice();
 *   for (const x of items) {
 *     if (slice.due()) await slice.yield();
 *     ...
 *   }
 *
 * Loops over the watch cache's lists may yield: a list is an immutable
 * snapshot (a change makes a new array).
 */
export class WorkSlice {
  private started: number;
  private n = 0;

  /**
   * @param budgetMs synchronous work between yields
   * @param now the clock slices are measured on (tests pass their own)
   */
  constructor(
    private readonly budgetMs = 15,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Whether the slice's budget is spent (checks the clock every 16 calls). */
  due(): boolean {
    return (++this.n & 15) === 0 && this.now() - this.started >= this.budgetMs;
  }

  /** Lets pending I/O (API requests) run, then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    this.started = this.now();
  }
}
