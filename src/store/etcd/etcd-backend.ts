/**
 * The etcd backend: Backend mapped natively onto etcd's v3 API through the
 * etcd3 client's gRPC stubs (kube-apiserver's storage/etcd3 does the same in
 * Go). Revisions are etcd's; nothing is kept locally but caches.
 *
 *   create          txn: compare version(key) = 0, then put
 *   update/delete   txn: compare mod_revision(key) = expected (or version > 0)
 *   txn             one etcd txn with every op's compare; on failure the
 *                   else-branch reads every key, so the first failing op's
 *                   error (with `current`) comes from the same snapshot.
 *                   etcd gives all writes of a txn one revision, which the
 *                   Backend contract allows; etcd refuses a key twice in a txn.
 *   range/get       range [key, prefix end) with limit, revision, count_only
 *   watch           etcd watch with prev_kv from afterRevision + 1; the etcd3
 *                   client resumes it after reconnects from the last revision
 *                   seen, so nothing is missed or repeated
 *   compact         compaction RPC; etcd has no "what is the compaction
 *                   revision" call, so it is cached and, when unknown, probed
 *                   with a watch from revision 1 (etcd answers with the
 *                   compact_revision)
 *   leases          lease ids are chosen here (below 2^53, so they stay exact
 *                   JavaScript numbers; etcd's own are 63-bit); keep-alives
 *                   share one LeaseKeepAlive stream
 *
 * etcd bounds a transaction by --max-txn-ops (default 128) and a request by
 * --max-request-bytes (default 1.5 MiB); localeks' own transactions can be
 * larger (snapshot restores), so run etcd with higher limits (see
 * etcd-server.ts for the flags the tests use).
 *
 * The etcd3 client's default fault handling stays on: it retries a call up
 * to 3 times on connection-level errors, so a conditional write whose reply
 * was lost with the connection can be retried and then fail with KeyExists
 * or Conflict although the first attempt was applied (callers that re-read
 * on Conflict, as every CAS loop does, converge).
 *
 * A watch with afterRevision 0 starts after the newest revision this client
 * has seen (any response header), so a watch opened after a write returned
 * never misses the writes that follow it.
 */
import { Etcd3, type IKeyValue, type IRequestOp, type ICompare, type Watcher as EtcdWatcher } from 'etcd3';
import {
  assertDistinctKeys,
  type Backend,
  checkTxnCondition,
  type DeleteRangeResult,
  outermostPrefixes,
  type GetResult,
  isStoreError,
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
import { type CompactionOptions, Compactor } from '../compactor.ts';

export interface EtcdBackendOptions {
  /** host:port of each member. */
  hosts: string[];
  /** Periodic compaction; false turns it off (default: on, see Compactor). */
  compaction?: CompactionOptions | false;
}

type KeepAliveStream = Awaited<ReturnType<Etcd3['leaseClient']['leaseKeepAlive']>>;

const enc = (s: string) => Buffer.from(s, 'utf8');
const NUL = Buffer.from([0]);

/** rangeEnd is etcd's prefix end in bytes: the prefix with its last byte below 0xff incremented. */
function rangeEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]! += 1;
      return end;
    }
  }
  return NUL; // every key >= key
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: Number(kv.lease),
  };
}

/** Reasons etcd gives in error messages (etcdserver/api/v3rpc/rpctypes, mvcc). */
const isCompacted = (e: unknown) => /required revision has been compacted/.test(String((e as Error)?.message));
const isFuture = (e: unknown) => /required revision is a future revision/.test(String((e as Error)?.message));
const isLeaseNotFound = (e: unknown) => /requested lease not found/.test(String((e as Error)?.message));

export class EtcdBackend extends TxnWrites implements Backend {
  readonly kind = 'etcd';
  private readonly client: Etcd3;
  private readonly compactor?: Compactor;
  private closed = false;
  /** Newest revision seen in any response header. */
  private seen = 0;
  /** Compaction revision: cached; undefined = probe etcd. */
  private compacted: number | undefined;
  private readonly watchers = new Set<{ end(err: StoreError): void }>();
  private keepAlive?: { stream: KeepAliveStream; pending: Array<{ id: string; resolve: (ttl: number) => void; reject: (e: unknown) => void }> };

  /**
   * open connects to the etcd members in opts.hosts and reads the current and
   * compaction revisions; it throws (Unavailable) when etcd cannot be reached.
   */
  static async open(opts: EtcdBackendOptions): Promise<EtcdBackend> {
    const b = new EtcdBackend(opts);
    try {
      await b.currentRevision();
      await b.compactRevision();
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  private constructor(opts: EtcdBackendOptions) {
    super();
    this.client = new Etcd3({
      hosts: opts.hosts.map((h) => (h.includes('://') ? h : `http://${h}`)),
      // Unpaginated ranges over many keys exceed gRPC's default 4 MiB.
      grpcOptions: { 'grpc.max_receive_message_length': 1 << 30 },
    });
    if (opts.compaction !== false) this.compactor = new Compactor(this, opts.compaction);
  }

  async currentRevision(): Promise<number> {
    const res = await this.call(() => this.client.kv.range({ key: NUL, count_only: true }));
    return this.observe(res.header.revision);
  }

  async compactRevision(): Promise<number> {
    this.check();
    if (this.compacted === undefined) this.compacted = await this.probeCompacted();
    return this.compacted;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    const res = await this.call(() => this.client.kv.range({ key: enc(key), revision: opts.revision || 0 }));
    const rev = this.observe(res.header.revision);
    return { revision: opts.revision || rev, kv: res.kvs[0] ? toKv(res.kvs[0]) : undefined };
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    const prefix = enc(opts.prefix);
    const start = opts.after !== undefined && opts.after >= opts.prefix ? Buffer.concat([enc(opts.after), NUL]) : prefix.length > 0 ? prefix : NUL;
    const res = await this.call(() =>
      this.client.kv.range({
        key: start,
        range_end: rangeEnd(prefix),
        revision: opts.revision || 0,
        limit: opts.limit && opts.limit > 0 ? opts.limit : 0,
        count_only: opts.countOnly ?? false,
      }),
    );
    const rev = this.observe(res.header.revision);
    return { revision: opts.revision || rev, kvs: res.kvs.map(toKv), more: res.more, count: Number(res.count) };
  }


  async txn(ops: TxnOp[]): Promise<TxnResult> {
    this.check();
    assertDistinctKeys(ops);
    if (ops.length === 0) return { revision: await this.currentRevision(), results: [] };
    const only = ops[0]!;
    if (ops.length === 1 && only.op === 'put') {
      // No condition: a plain Put (cheaper for etcd than a Txn).
      const res = await this.call(() => this.client.kv.put({ key: enc(only.key), value: enc(only.value), lease: only.lease ?? 0, prev_kv: true }));
      const revision = this.observe(res.header.revision);
      return { revision, results: [this.putResult(only.key, only.value, only.lease ?? 0, revision, res.prev_kv)] };
    }
    const compare: ICompare[] = [];
    const success: IRequestOp[] = [];
    const failure: IRequestOp[] = [];
    for (const op of ops) {
      const key = enc(op.key);
      if (op.op === 'create') compare.push({ key, target: 'Version', result: 'Equal', version: 0 });
      else if (op.op !== 'put') {
        if (op.expectedModRevision !== undefined) compare.push({ key, target: 'Mod', result: 'Equal', mod_revision: op.expectedModRevision });
        else compare.push({ key, target: 'Version', result: 'Greater', version: 0 });
      }
      if (op.op === 'delete') success.push({ request_delete_range: { key, prev_kv: true } });
      else success.push({ request_put: { key, value: enc(op.value), lease: op.lease ?? 0, prev_kv: true } });
      failure.push({ request_range: { key } });
    }
    const res = await this.call(() => this.client.kv.txn({ compare, success, failure }));
    const revision = this.observe(res.header.revision);
    if (!res.succeeded) {
      ops.forEach((op, i) => {
        const raw = res.responses[i]!.response_range.kvs[0];
        checkTxnCondition(op, raw ? toKv(raw) : undefined);
      });
      throw new StoreError('Conflict', 'transaction condition failed');
    }
    const results = ops.map((op, i): WriteResult => {
      const r = res.responses[i]!;
      if (op.op === 'delete') {
        const prevKv = toKv(r.response_delete_range.prev_kvs[0]!);
        return { revision, kv: { ...prevKv, modRevision: revision }, prevKv };
      }
      return this.putResult(op.key, op.value, op.lease ?? 0, revision, r.response_put.prev_kv);
    });
    return { revision, results };
  }

  async deleteRange(prefixes: readonly string[]): Promise<DeleteRangeResult> {
    this.check();
    const ps = outermostPrefixes(prefixes);
    if (ps.length === 0) return { revision: await this.currentRevision(), deleted: [] };
    // One txn without conditions: every range goes at one revision.
    const success: IRequestOp[] = ps.map((p) => {
      const b = enc(p);
      return { request_delete_range: { key: b.length > 0 ? b : NUL, range_end: rangeEnd(b), prev_kv: true } };
    });
    const res = await this.call(() => this.client.kv.txn({ compare: [], success, failure: [] }));
    const revision = this.observe(res.header.revision);
    const deleted = res.responses.flatMap((r) => r.response_delete_range.prev_kvs.map(toKv)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { revision, deleted };
  }

  private putResult(key: string, value: string, lease: number, revision: number, prevRaw: IKeyValue | null | undefined): WriteResult {
    const prev = prevRaw ? toKv(prevRaw) : undefined;
    const kv: KeyValue = {
      key,
      value,
      createRevision: prev ? prev.createRevision : revision,
      modRevision: revision,
      version: prev ? prev.version + 1 : 1,
      lease,
    };
    return { revision, kv, prevKv: prev };
  }

  watch(prefix: string, opts: WatchOptions, cb: WatchCallbacks): Watcher {
    let done = false;
    let w: EtcdWatcher | undefined;
    const handle = {
      end: (err: StoreError) => {
        if (done) return;
        done = true;
        this.watchers.delete(handle);
        w?.cancel().catch(() => {});
        cb.onError(err);
      },
    };
    if (this.closed) {
      queueMicrotask(() => handle.end(new StoreError('Unavailable', 'store is closed')));
      return { cancel() {} };
    }
    this.watchers.add(handle);
    const p = enc(prefix);
    let last = opts.afterRevision || this.seen;
    let delivered = false;
    const start = (after: number) => {
      w = this.client
        .watch()
        .inRange({ start: p.length > 0 ? p : NUL, end: rangeEnd(p) }).withPreviousKV().startRevision(String(after + 1)).watcher();
      w.on('data', (res) => {
        if (done || res.events.length === 0) return;
        const events: WatchEvent[] = [];
        for (const ev of res.events) {
          const rev = Number(ev.kv.mod_revision);
          if (rev < last) continue; // replayed after a reconnect
          last = rev;
          const prevKv = ev.prev_kv ? toKv(ev.prev_kv) : undefined;
          if (ev.type === 'Delete') {
            const kv = prevKv ? { ...prevKv, modRevision: rev } : { ...toKv(ev.kv), modRevision: rev };
            events.push({ type: 'delete', kv, prevKv });
          } else {
            events.push(prevKv ? { type: 'put', kv: toKv(ev.kv), prevKv } : { type: 'put', kv: toKv(ev.kv) });
          }
        }
        this.observe(res.header.revision);
        if (events.length > 0) {
          delivered = true;
          cb.onEvents(events);
        }
      });
      w.on('error', (err) => {
        // etcd cancels a watch from a compacted revision with compact_revision
        // set and (in 3.4) no reason text, which the etcd3 client drops: ask
        // etcd for its compaction revision to tell that case apart.
        this.compacted = undefined;
        void this.compactRevision()
          .catch(() => 0)
          .then((cr) => {
            if (done) return;
            const compacted = isCompacted(err) || last + 1 < cr;
            if (compacted && !opts.afterRevision && !delivered) {
              // A watch "from now" started from the newest revision this
              // client had seen, which compaction has passed since. Revisions
              // that old predate the watch() call (unless a compaction raced
              // it), so start again at the compaction point.
              last = cr - 1;
              start(last);
              return;
            }
            handle.end(
              compacted
                ? new StoreError('Compacted', `revision ${last} has been compacted`, { compactRevision: cr })
                : new StoreError('Unavailable', `etcd watch failed: ${err.message}`),
            );
          });
      });
    };
    start(last);
    return {
      cancel: () => {
        if (done) return;
        done = true;
        this.watchers.delete(handle);
        w!.cancel().catch(() => {});
      },
    };
  }

  async compact(revision: number): Promise<void> {
    this.check();
    if (revision <= (await this.compactRevision())) return;
    try {
      await this.call(() => this.client.kv.compact({ revision, physical: true }));
      this.compacted = revision;
    } catch (e) {
      // Someone compacted further already: that is fine.
      if (!isStoreError(e, 'Compacted')) throw e;
    }
  }

  async grantLease(ttlSeconds: number): Promise<number> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    for (;;) {
      const id = 1 + Math.floor(Math.random() * 2 ** 52);
      try {
        await this.call(() => this.client.leaseClient.leaseGrant({ TTL: ttl, ID: id }));
        return id;
      } catch (e) {
        if (!/lease already exists/.test(String((e as Error).message))) throw e;
      }
    }
  }

  async keepAliveLease(id: number): Promise<void> {
    this.check();
    const ttl = await new Promise<number>((resolve, reject) => {
      void this.keepAliveStream().then(
        (ka) => {
          ka.pending.push({ id: String(id), resolve, reject });
          ka.stream.write({ ID: id });
        },
        reject,
      );
    }).catch((e) => {
      throw this.mapError(e);
    });
    if (ttl <= 0) throw new StoreError('LeaseNotFound', `lease ${id} not found`);
  }

  async revokeLease(id: number): Promise<void> {
    await this.call(() => this.client.leaseClient.leaseRevoke({ ID: id }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.compactor?.close();
    for (const w of [...this.watchers]) w.end(new StoreError('Unavailable', 'store closed'));
    this.keepAlive?.stream.cancel();
    this.client.close();
  }

  // --- helpers ---

  private check(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
  }

  private observe(rev: string): number {
    const n = Number(rev);
    if (n > this.seen) this.seen = n;
    return n;
  }

  /** call runs one etcd RPC and turns etcd's errors into StoreErrors. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    this.check();
    try {
      return await fn();
    } catch (e) {
      throw await this.mapErrorAsync(e);
    }
  }

  private async mapErrorAsync(e: unknown): Promise<unknown> {
    if (isCompacted(e)) {
      this.compacted = undefined;
      const cr = await this.compactRevision().catch(() => undefined);
      return new StoreError('Compacted', 'required revision has been compacted', { compactRevision: cr });
    }
    return this.mapError(e);
  }

  private mapError(e: unknown): unknown {
    if (e instanceof StoreError || e instanceof TypeError) return e;
    if (this.closed) return new StoreError('Unavailable', 'store is closed');
    if (isFuture(e)) return new StoreError('FutureRevision', 'required revision is a future revision');
    if (isLeaseNotFound(e)) return new StoreError('LeaseNotFound', 'requested lease not found');
    return new StoreError('Unavailable', `etcd: ${(e as Error)?.message ?? String(e)}`);
  }

  private async keepAliveStream(): Promise<NonNullable<EtcdBackend['keepAlive']>> {
    if (this.keepAlive) return this.keepAlive;
    const stream = await this.client.leaseClient.leaseKeepAlive();
    const ka = { stream, pending: [] as NonNullable<EtcdBackend['keepAlive']>['pending'] };
    const fail = (e: unknown) => {
      if (this.keepAlive === ka) this.keepAlive = undefined;
      for (const p of ka.pending.splice(0)) p.reject(e);
    };
    stream.on('data', (res) => {
      this.observe(res.header.revision);
      // Responses come back in request order on one stream.
      const p = ka.pending.shift();
      p?.resolve(Number(res.TTL));
    });
    stream.on('error', fail);
    stream.on('end', () => fail(new StoreError('Unavailable', 'lease keep-alive stream ended')));
    this.keepAlive = ka;
    return ka;
  }

  /**
   * probeCompacted finds etcd's compaction revision: 0 if revision 1 is still
   * readable, else the compact_revision etcd reports to a watch from 1.
   */
  private async probeCompacted(): Promise<number> {
    try {
      await this.client.kv.range({ key: NUL, revision: 1, count_only: true });
      return 0;
    } catch (e) {
      if (isFuture(e)) return 0;
      if (!isCompacted(e)) throw this.mapError(e);
    }
    const stream = await this.client.watchClient.watch();
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.cancel();
        reject(new StoreError('Unavailable', 'etcd did not report its compaction revision'));
      }, 10_000);
      stream.on('data', (res) => {
        if (res.compact_revision && res.compact_revision !== '0') {
          clearTimeout(timer);
          stream.cancel();
          resolve(Number(res.compact_revision));
        }
      });
      stream.on('error', () => {});
      stream.write({ create_request: { key: NUL, start_revision: 1 } });
    });
  }
}
