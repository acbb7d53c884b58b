/**
 * MeteredBackend wraps a Backend and counts its calls, written keys, open
 * watches and delivered watch events into the server's metrics. It changes
 * no behaviour: every call, result and error passes through unchanged.
 */
import {
  type Backend,
  type GetResult,
  type RangeOptions,
  type RangeResult,
  StoreError,
  type TxnOp,
  type TxnResult,
  type WatchCallbacks,
  type WatchOptions,
  type Watcher,
  type WriteResult,
  type DeleteRangeResult,
} from '../store/backend.ts';
import type { ServerMetrics } from './metrics.ts';

export class MeteredBackend implements Backend {
  constructor(
    /** The wrapped backend. */
    readonly inner: Backend,
    private readonly metrics: Pick<ServerMetrics, 'storeOps' | 'storeWrites' | 'storeWatchEvents' | 'storeWatchers'>,
  ) {}

  get kind(): string {
    return this.inner.kind;
  }

  private async count<T>(op: string, p: Promise<T>): Promise<T> {
    try {
      const v = await p;
      this.metrics.storeOps.inc({ op, result: 'ok' });
      return v;
    } catch (e) {
      this.metrics.storeOps.inc({ op, result: e instanceof StoreError ? e.code : 'error' });
      throw e;
    }
  }

  private async write<T>(op: 'create' | 'update' | 'put' | 'delete', p: Promise<T>): Promise<T> {
    const v = await this.count(op, p);
    this.metrics.storeWrites.inc({ op });
    return v;
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  compactRevision(): Promise<number> {
    return this.inner.compactRevision();
  }

  get(key: string, opts?: { revision?: number }): Promise<GetResult> {
    return this.count('get', this.inner.get(key, opts));
  }

  range(opts: RangeOptions): Promise<RangeResult> {
    return this.count('range', this.inner.range(opts));
  }

  create(key: string, value: string, opts?: { lease?: number }): Promise<WriteResult> {
    return this.write('create', this.inner.create(key, value, opts));
  }

  update(key: string, value: string, opts?: { expectedModRevision?: number; lease?: number }): Promise<WriteResult> {
    return this.write('update', this.inner.update(key, value, opts));
  }

  put(key: string, value: string, opts?: { lease?: number }): Promise<WriteResult> {
    return this.write('put', this.inner.put(key, value, opts));
  }

  delete(key: string, opts?: { expectedModRevision?: number }): Promise<WriteResult> {
    return this.write('delete', this.inner.delete(key, opts));
  }

  async txn(ops: TxnOp[]): Promise<TxnResult> {
    const r = await this.count('txn', this.inner.txn(ops));
    for (const o of ops) this.metrics.storeWrites.inc({ op: o.op });
    return r;
  }

  async deleteRange(prefixes: readonly string[]): Promise<DeleteRangeResult> {
    const r = await this.count('deleteRange', this.inner.deleteRange(prefixes));
    for (let i = 0; i < r.deleted.length; i++) this.metrics.storeWrites.inc({ op: 'delete' });
    return r;
  }

  watch(prefix: string, opts: WatchOptions, cb: WatchCallbacks): Watcher {
    let open = true;
    const done = () => {
      if (open) {
        open = false;
        this.metrics.storeWatchers.dec();
      }
    };
    this.metrics.storeWatchers.inc();
    this.metrics.storeOps.inc({ op: 'watch', result: 'ok' });
    let w: Watcher;
    try {
      w = this.inner.watch(prefix, opts, {
        onEvents: (events) => {
          this.metrics.storeWatchEvents.inc(events.length);
          cb.onEvents(events);
        },
        onError: (err) => {
          done();
          cb.onError(err);
        },
      });
    } catch (e) {
      done();
      throw e;
    }
    return {
      cancel: () => {
        done();
        w.cancel();
      },
    };
  }

  compact(revision: number): Promise<void> {
    return this.count('compact', this.inner.compact(revision));
  }

  grantLease(ttlSeconds: number): Promise<number> {
    return this.count('lease_grant', this.inner.grantLease(ttlSeconds));
  }

  keepAliveLease(id: number): Promise<void> {
    return this.count('lease_keepalive', this.inner.keepAliveLease(id));
  }

  revokeLease(id: number): Promise<void> {
    return this.count('lease_revoke', this.inner.revokeLease(id));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
