/**
 * Compactor runs a backend's compaction periodically, the way kube-apiserver
 * compacts etcd (apiserver/pkg/storage/etcd3/compact.go): at each tick it
 * compacts to the revision it saw at the previous tick, so at least one
 * interval of history stays readable for watchers that reconnect, and it
 * always keeps the newest `minRetainRevisions` revisions (kine's default
 * window is 1000).
 */
import type { Backend } from './backend.ts';

export interface CompactionOptions {
  /** Time between compactions in ms (default 5 minutes). */
  intervalMs?: number;
  /** Revisions always kept behind the current one (default 1000). */
  minRetainRevisions?: number;
}

export class Compactor {
  private readonly timer: NodeJS.Timeout;
  private seen = 0;
  private running = false;
  private readonly minRetain: number;

  constructor(
    private readonly backend: Pick<Backend, 'currentRevision' | 'compactRevision' | 'compact'>,
    opts: CompactionOptions = {},
    private readonly onError: (e: unknown) => void = () => {},
  ) {
    this.minRetain = opts.minRetainRevisions ?? 1000;
    this.timer = setInterval(() => void this.tick(), opts.intervalMs ?? 5 * 60_000);
    this.timer.unref();
  }

  /** tick runs one compaction step; exported for tests. */
  async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const current = await this.backend.currentRevision();
      const target = Math.min(this.seen, current - this.minRetain);
      this.seen = current;
      if (target > (await this.backend.compactRevision())) await this.backend.compact(target);
    } catch (e) {
      this.onError(e);
    } finally {
      this.running = false;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
