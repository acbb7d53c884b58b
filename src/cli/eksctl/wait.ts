/**
 * Polling with a deadline for the CLI's waits (control plane ACTIVE, node
 * groups ACTIVE). The interval starts short, so the `fast` timing
 * profile's sub-second transitions are seen within a few tens of
 * milliseconds (a Describe costs the server about a millisecond), and grows
 * with the time already waited (a twentieth of it, at most 2 s), so
 * realistic minutes-long waits do not hammer the server. Nodes are awaited
 * through a watch instead (nodegroups.ts waitNodesReady).
 */
import { EksctlError, EXIT } from './errors.ts';

export interface WaitOptions {
  /** Absolute deadline (epoch ms, real time). */
  deadline: number;
  /** What is awaited, for the timeout message. */
  what: string;
}

/** nextInterval is the sleep after `elapsedMs` of waiting. */
export function nextInterval(elapsedMs: number): number {
  return Math.min(2000, 25 + Math.floor(elapsedMs / 20));
}

/**
 * waitUntil calls check until it returns a value other than undefined
 * (resolved with it). Errors from check propagate. Past the deadline it
 * throws EksctlError with exit code 4 (timed out).
 */
export async function waitUntil<T>(check: () => Promise<T | undefined>, opts: WaitOptions): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > opts.deadline) throw new EksctlError(`timed out waiting for ${opts.what}`, EXIT.TIMEOUT);
    await new Promise((r) => setTimeout(r, nextInterval(Date.now() - start)));
  }
}
