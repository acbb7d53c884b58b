/**
 * Timed phases of a benchmark workload and the one-line report the
 * localeks-versus-moto benchmarks print for each server.
 */

/** One timed phase: how many operations it did and how long it took. */
export interface PhaseResult {
  name: string;
  ops: number;
  seconds: number;
}

/** phaseTimer returns timed(name, ops, fn), which runs fn and appends its PhaseResult to phases. */
export function phaseTimer(phases: PhaseResult[]): (name: string, ops: number, fn: () => Promise<void>) => Promise<void> {
  return async (name, ops, fn) => {
    const t0 = process.hrtime.bigint();
    await fn();
    phases.push({ name, ops, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
  };
}

/** report prints `label N ops in S s = R ops/s (per phase)` and returns the overall ops/s. */
export function report(label: string, phases: PhaseResult[]): number {
  const ops = phases.reduce((a, p) => a + p.ops, 0);
  const secs = phases.reduce((a, p) => a + p.seconds, 0);
  const cols = phases.map((p) => `${p.name} ${(p.ops / p.seconds).toFixed(0)} ops/s`).join(', ');
  console.log(`${label.padEnd(9)} ${ops} ops in ${secs.toFixed(2)} s = ${(ops / secs).toFixed(0)} ops/s  (${cols})`);
  return ops / secs;
}
