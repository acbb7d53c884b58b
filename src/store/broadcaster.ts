/**
 * Broadcaster fans the store's event stream out to watchers (kine's
 * pkg/broadcaster plays this role). Backends that see every write in this
 * process (memory, sqlite) publish each committed batch here, in revision
 * order.
 *
 * Each watcher has its own queue: events are delivered asynchronously (on a
 * microtask) so that a watcher's callback that writes to the store cannot
 * re-enter the write path, and so that one slow callback batch does not reorder
 * another watcher's events. A watcher that starts in the past first receives
 * the history after its revision, read synchronously at subscribe time, so
 * nothing committed between the history read and the subscription can be
 * missed or duplicated.
 */
import { StoreError, type WatchCallbacks, type WatchEvent, type Watcher } from './backend.ts';

/** Reads the events after a revision under a prefix; throws Compacted when too old. */
export type HistoryReader = (afterRevision: number, prefix: string) => WatchEvent[];

interface Subscriber {
  prefix: string;
  cb: WatchCallbacks;
  pending: WatchEvent[];
  scheduled: boolean;
  done: boolean;
  /** Highest revision queued for this subscriber; guards against duplicates. */
  last: number;
}

export class Broadcaster {
  private readonly subs = new Set<Subscriber>();

  constructor(private readonly readHistory: HistoryReader) {}

  /** Number of live watchers (for metrics). */
  get size(): number {
    return this.subs.size;
  }

  /**
   * subscribe starts a watcher for keys under prefix, receiving every event
   * with revision > afterRevision (0 = from now: after currentRevision).
   */
  subscribe(prefix: string, afterRevision: number, currentRevision: number, cb: WatchCallbacks): Watcher {
    const sub: Subscriber = { prefix, cb, pending: [], scheduled: false, done: false, last: currentRevision };
    if (afterRevision > 0 && afterRevision < currentRevision) {
      try {
        sub.pending = this.readHistory(afterRevision, prefix);
      } catch (e) {
        queueMicrotask(() => cb.onError(e instanceof StoreError ? e : new StoreError('Unavailable', String(e))));
        return { cancel() {} };
      }
      this.schedule(sub);
    } else if (afterRevision > currentRevision) {
      // A watch from a future revision waits for it: events up to afterRevision are skipped.
      sub.last = afterRevision;
    }
    this.subs.add(sub);
    return {
      cancel: () => {
        sub.done = true;
        this.subs.delete(sub);
      },
    };
  }

  /** publish queues a committed batch (in revision order) for every matching watcher. */
  publish(events: WatchEvent[]): void {
    if (events.length === 0 || this.subs.size === 0) return;
    for (const sub of this.subs) {
      let added = false;
      for (const ev of events) {
        if (ev.kv.modRevision <= sub.last || !ev.kv.key.startsWith(sub.prefix)) continue;
        sub.pending.push(ev);
        sub.last = ev.kv.modRevision;
        added = true;
      }
      if (added) this.schedule(sub);
    }
  }

  /** compacted is a hook for backends; live watchers are unaffected by compaction. */
  compacted(_revision: number): void {}

  /** close ends every watcher with Unavailable. */
  close(): void {
    for (const sub of this.subs) {
      sub.done = true;
      const err = new StoreError('Unavailable', 'store closed');
      queueMicrotask(() => sub.cb.onError(err));
    }
    this.subs.clear();
  }

  private schedule(sub: Subscriber): void {
    if (sub.scheduled) return;
    sub.scheduled = true;
    queueMicrotask(() => {
      sub.scheduled = false;
      if (sub.done || sub.pending.length === 0) return;
      const batch = sub.pending;
      sub.pending = [];
      sub.cb.onEvents(batch);
    });
  }
}
