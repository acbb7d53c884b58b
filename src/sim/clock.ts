/**
 * Simulated time. Every delay in localeks (lifecycle transitions, pod starts,
 * heartbeats, CronJobs, token expiry) is measured on one Clock, so that the
 * time scale can speed the simulation up and tests can jump it forward.
 *
 * SimClock keeps simulated time as an offset plus a scale over the real
 * clock, and all pending timers in one priority queue (a binary heap) driven
 * by a single real timer for the earliest deadline, never one timer per
 * object.
 */

export interface Clock {
  /** Simulated now, in epoch milliseconds. */
  nowMs(): number;
  now(): Date;
  /** Runs fn once simulated time has advanced by delayMs. Returns a cancel function. */
  after(delayMs: number, fn: () => void): () => void;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * earliestTimer keeps one timer on the clock at the earliest time it was
 * asked for: `at(ms)` moves it earlier (a later time than the pending one is
 * ignored), and it calls `fire` once when due; `cancel` drops it.
 */
export function earliestTimer(clock: Clock, fire: () => void): { at(ms: number): void; cancel(): void } {
  let due = Infinity;
  let cancelTimer: (() => void) | undefined;
  return {
    at(ms) {
      if (ms >= due) return;
      cancelTimer?.();
      due = ms;
      cancelTimer = clock.after(Math.max(0, ms - clock.nowMs()), () => {
        due = Infinity;
        cancelTimer = undefined;
        fire();
      });
    },
    cancel() {
      cancelTimer?.();
      cancelTimer = undefined;
      due = Infinity;
    },
  };
}

export interface SimClockConfig {
  /** Simulated milliseconds per real millisecond (default 1). */
  scale?: number;
  /** The real clock (default Date.now); tests inject their own. */
  realNow?: () => number;
}

export class SimClock implements Clock {
  private readonly scale: number;
  private readonly realNow: () => number;
  private readonly realStart: number;
  private simStart: number;
  private heap: Timer[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private stopped = false;

  constructor(config: SimClockConfig = {}) {
    const scale = config.scale ?? 1;
    if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`clock scale must be a positive number, got ${scale}`);
    this.scale = scale;
    this.realNow = config.realNow ?? Date.now;
    this.realStart = this.realNow();
    this.simStart = this.realStart;
  }

  nowMs(): number {
    return this.simStart + (this.realNow() - this.realStart) * this.scale;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** The scale (simulated ms per real ms). */
  get timeScale(): number {
    return this.scale;
  }

  after(delayMs: number, fn: () => void): () => void {
    const t: Timer = { at: this.nowMs() + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.push(t);
    this.arm();
    return () => {
      t.cancelled = true;
    };
  }

  /** advance jumps simulated time forward by ms and fires every timer now due. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`cannot advance the clock by ${ms}`);
    this.simStart += ms;
    this.fireDue();
  }

  /** Number of pending timers (for metrics and tests). */
  get pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /** stop cancels the real timer; pending timers never fire. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fireDue(): void {
    const now = this.nowMs();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const t = this.pop()!;
      if (t.cancelled) continue;
      try {
        t.fn();
      } catch (e) {
        // A timer callback's failure must not stop the others.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    const next = this.heap[0];
    if (!next) return;
    if (this.timer && this.armedFor <= next.at) return;
    if (this.timer) clearTimeout(this.timer);
    const realDelay = Math.max(0, (next.at - this.nowMs()) / this.scale);
    this.armedFor = next.at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      this.fireDue();
    }, Math.min(realDelay, 2 ** 31 - 1));
    this.timer.unref();
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
