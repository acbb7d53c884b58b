/**
 * The memory backend: the reference implementation of Backend, kept simple on
 * purpose (kine's drivers/memory plays the same role). Tests and `--store
 * memory` use it; nothing survives the process.
 *
 * State is the log itself: `log` holds every row in revision order (until
 * compaction), `latest` indexes each live key's newest row. Reads at an older
 * revision scan the log backwards.
 */
import {
  assertDistinctKeys,
  type Backend,
  checkTxnCondition,
  type DeleteRangeResult,
  outermostPrefixes,
  type GetResult,
  type KeyValue,
  type RangeOptions,
  type RangeResult,
  StoreError,
  type TxnOp,
  type TxnResult,
  type WatchCallbacks,
  type WatchEvent,
  type WatchOptions,
  type Watcher,
  type WriteResult,
  TxnWrites,
} from '../backend.ts';
import { Broadcaster } from '../broadcaster.ts';
import { type CompactionOptions, Compactor } from '../compactor.ts';
import { LeaseKeeper } from '../leases.ts';

export interface MemoryBackendOptions {
  /** How often expired leases are looked for, in ms (default 500). */
  leaseSweepMs?: number;
  /** Periodic compaction; false turns it off (default: on, see Compactor). */
  compaction?: CompactionOptions | false;
}

interface Row {
  revision: number;
  event: WatchEvent;
}

export class MemoryBackend extends TxnWrites implements Backend {
  readonly kind = 'memory';
  private revision = 0;
  private compacted = 0;
  private log: Row[] = [];
  private latest = new Map<string, KeyValue>();
  private closed = false;
  private readonly broadcaster = new Broadcaster((after, prefix) => this.history(after, prefix));
  private readonly leases: LeaseKeeper;
  private readonly compactor?: Compactor;

  constructor(opts: MemoryBackendOptions = {}) {
    super();
    this.leases = new LeaseKeeper((keys) => this.expireKeys(keys), opts.leaseSweepMs);
    if (opts.compaction !== false) this.compactor = new Compactor(this, opts.compaction);
  }

  async currentRevision(): Promise<number> {
    return this.revision;
  }

  async compactRevision(): Promise<number> {
    return this.compacted;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.check();
    const rev = this.readRevision(opts.revision);
    if (rev === this.revision) return { revision: rev, kv: this.latest.get(key) };
    return { revision: rev, kv: this.atRevision(rev, (k) => k === key).get(key) };
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    this.check();
    const rev = this.readRevision(opts.revision);
    const match = (k: string) => k.startsWith(opts.prefix) && (opts.after === undefined || k > opts.after);
    let kvs: KeyValue[];
    if (rev === this.revision && opts.countOnly) {
      let count = 0;
      for (const k of this.latest.keys()) if (match(k)) count++;
      return { revision: rev, kvs: [], more: false, count };
    }
    if (rev === this.revision) {
      kvs = [];
      for (const [k, kv] of this.latest) if (match(k)) kvs.push(kv);
    } else {
      kvs = [...this.atRevision(rev, match).values()];
    }
    kvs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const count = kvs.length;
    if (opts.countOnly) return { revision: rev, kvs: [], more: false, count };
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    return { revision: rev, kvs: kvs.slice(0, limit), more: count > limit, count };
  }


  async txn(ops: TxnOp[]): Promise<TxnResult> {
    this.check();
    assertDistinctKeys(ops);
    // Check every condition before writing anything (keys are distinct, so
    // no op sees another's write).
    for (const op of ops) {
      if ('lease' in op && op.lease && !this.leases.has(op.lease)) throw new StoreError('LeaseNotFound', `lease ${op.lease} not found`);
      checkTxnCondition(op, this.latest.get(op.key));
    }
    const results: WriteResult[] = [];
    const events: WatchEvent[] = [];
    for (const op of ops) {
      const prev = this.latest.get(op.key);
      const revision = ++this.revision;
      let event: WatchEvent;
      if (op.op === 'delete') {
        const kv: KeyValue = { ...prev!, modRevision: revision };
        this.latest.delete(op.key);
        this.leases.detach(prev!.lease, op.key);
        event = { type: 'delete', kv, prevKv: prev };
      } else {
        const lease = op.lease ?? 0;
        const kv: KeyValue = {
          key: op.key,
          value: op.value,
          createRevision: prev ? prev.createRevision : revision,
          modRevision: revision,
          version: prev ? prev.version + 1 : 1,
          lease,
        };
        this.latest.set(op.key, kv);
        if (prev) this.leases.detach(prev.lease, op.key);
        this.leases.attach(lease, op.key);
        event = prev ? { type: 'put', kv, prevKv: prev } : { type: 'put', kv };
      }
      this.log.push({ revision, event });
      events.push(event);
      results.push({ revision, kv: event.kv, prevKv: event.prevKv });
    }
    this.broadcaster.publish(events);
    return { revision: this.revision, results };
  }

  async deleteRange(prefixes: readonly string[]): Promise<DeleteRangeResult> {
    this.check();
    const ps = outermostPrefixes(prefixes);
    const keys: string[] = [];
    for (const k of this.latest.keys()) if (ps.some((p) => k.startsWith(p))) keys.push(k);
    keys.sort();
    if (keys.length === 0) return { revision: this.revision, deleted: [] };
    const r = await this.txn(keys.map((key) => ({ op: 'delete', key })));
    return { revision: r.revision, deleted: r.results.map((w) => w.prevKv!) };
  }

  watch(prefix: string, opts: WatchOptions, cb: WatchCallbacks): Watcher {
    if (this.closed) {
      queueMicrotask(() => cb.onError(new StoreError('Unavailable', 'store is closed')));
      return { cancel() {} };
    }
    return this.broadcaster.subscribe(prefix, opts.afterRevision ?? 0, this.revision, cb);
  }

  async compact(revision: number): Promise<void> {
    this.check();
    if (revision <= this.compacted) return;
    if (revision > this.revision) throw new StoreError('FutureRevision', `revision ${revision} is in the future`);
    // Keep each key's newest row at or before `revision` so reads at the
    // compaction point still see every live key; drop all older rows.
    const keep = new Set<number>();
    const seen = new Set<string>();
    for (let i = this.log.length - 1; i >= 0; i--) {
      const row = this.log[i]!;
      if (row.revision > revision) {
        keep.add(row.revision);
        continue;
      }
      const k = row.event.kv.key;
      if (!seen.has(k)) {
        seen.add(k);
        if (row.event.type === 'put') keep.add(row.revision);
      }
    }
    this.log = this.log.filter((r) => keep.has(r.revision));
    this.compacted = revision;
    this.broadcaster.compacted(revision);
  }

  async grantLease(ttlSeconds: number): Promise<number> {
    this.check();
    return this.leases.grant(ttlSeconds);
  }

  async keepAliveLease(id: number): Promise<void> {
    this.check();
    this.leases.keepAlive(id);
  }

  async revokeLease(id: number): Promise<void> {
    this.check();
    const keys = this.leases.revoke(id);
    await this.expireKeys(keys);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leases.close();
    this.compactor?.close();
    this.broadcaster.close();
  }

  private async expireKeys(keys: string[]): Promise<void> {
    const ops: TxnOp[] = keys.filter((k) => this.latest.has(k)).map((key) => ({ op: 'delete', key }));
    if (ops.length > 0 && !this.closed) await this.txn(ops);
  }

  private check(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
  }

  private readRevision(rev?: number): number {
    if (!rev) return this.revision;
    if (rev > this.revision) throw new StoreError('FutureRevision', `revision ${rev} is newer than ${this.revision}`);
    if (rev < this.compacted) {
      throw new StoreError('Compacted', `revision ${rev} has been compacted`, { compactRevision: this.compacted });
    }
    return rev;
  }

  /** The live keys matching `match` as of revision rev, from the log. */
  private atRevision(rev: number, match: (k: string) => boolean): Map<string, KeyValue> {
    const out = new Map<string, KeyValue>();
    for (const row of this.log) {
      if (row.revision > rev) break;
      const k = row.event.kv.key;
      if (!match(k)) continue;
      if (row.event.type === 'delete') out.delete(k);
      else out.set(k, row.event.kv);
    }
    return out;
  }

  /** Events after `after` under `prefix`, for watchers that start in the past. */
  private history(after: number, prefix: string): WatchEvent[] {
    if (after < this.compacted) throw new StoreError('Compacted', `revision ${after} has been compacted`, { compactRevision: this.compacted });
    const out: WatchEvent[] = [];
    for (const row of this.log) if (row.revision > after && row.event.kv.key.startsWith(prefix)) out.push(row.event);
    return out;
  }
}
