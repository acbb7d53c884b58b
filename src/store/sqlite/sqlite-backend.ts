/**
 * The sqlite backend: the embedded default store, kine's log-structured model
 * on better-sqlite3 (k3s-io/kine pkg/drivers/sqlite, pkg/logstructured).
 *
 * Schema (one database file, `<dir>/state.db`):
 *   kine    the log. `id` (INTEGER PRIMARY KEY AUTOINCREMENT) is the revision;
 *           every write appends one row: name, created (1 for the row that
 *           creates an incarnation), deleted (1 for a delete row, whose value
 *           is empty: the deleted value is its prev_revision row's, which
 *           compaction keeps while the delete row exists), create_revision, prev_revision (the row this
 *           one supersedes; 0 for a create), version (etcd's), lease, value.
 *           kine's `old_value` is replaced by a join on prev_revision: the
 *           previous row is never compacted away while a row after the
 *           compaction point points at it (see compactRows).
 *           AUTOINCREMENT keeps the revision counter in sqlite_sequence, so
 *           revisions never go back even when compaction removes the newest
 *           rows.
 *   latest  name -> id of the live row of every existing key (plus its lease),
 *           so "current value of all keys under a prefix" is one index range
 *           scan instead of kine's MAX(id) GROUP BY name over the whole log.
 *   leases  id, ttl, expires_at (ms since epoch).
 *   meta    compact_rev (reads older than it throw Compacted), next_lease.
 *
 * Writes go through one queue and are group-committed: every write that
 * arrives in the same event-loop turn (including while the previous commit
 * was running, since better-sqlite3 commits synchronously) runs in one SQLite
 * transaction, or in groups of FLUSH_AT committed as they fill while a WAL
 * sync can start for them. Each job checks its own conditions
 * (create/CAS/lease) against the state the earlier jobs of the batch left,
 * before writing anything; a failing job rejects only its own promise. A
 * job's promise resolves only after COMMIT returned, i.e. once the write is
 * durable.
 *
 * Durability (default, `synchronous: 'FULL'`): every acknowledged write has
 * been fsynced, so it survives a crash of the process, a power loss or a
 * kernel crash. SQLite's own synchronous=FULL would fsync the WAL inside
 * COMMIT, on the event loop: while the disk is busy (other I/O on the
 * machine) one fsync blocked every request of the process for up to a
 * second. So SQLite runs with synchronous=NORMAL (in WAL mode: the WAL is
 * written, not synced, at commit; it is synced before each checkpoint and
 * the database after it) and the backend syncs the WAL itself with
 * fdatasync on libuv's thread pool after each commit. Nothing of a batch is
 * visible outside before that sync returns: its jobs' promises resolve, its
 * events are published to watchers, and reads (get, range, currentRevision,
 * watch history) see the store at the newest synced revision only (reads
 * while a sync is pending are made at that revision). A batch committed
 * while a sync runs starts a second one (two at most; beyond, batches wait
 * for the next, which covers them all): a sync covers every commit made
 * before it started (the WAL is one file, written in order, and its frames
 * are checksummed in a chain: a crash keeps a prefix of the commits). Later
 * batches may build on an unsynced one (its conditions see its rows): a
 * crash loses both or keeps the older, never the older alone. Group commit keeps the fsyncs few (one
 * per batch, or fewer). `synchronous: 'NORMAL'` drops the sync: a write is
 * acknowledged at COMMIT and survives a crash of the process (the WAL pages
 * are in the OS page cache) but not a power loss.
 *
 * Watchers are served by the Broadcaster: committed batches are published in
 * revision order, and a watch from a past revision first reads the log.
 * Compaction (compact(rev) and a periodic Compactor) removes superseded rows
 * in small id-range batches that go through the same write queue, so writes
 * are never blocked for long.
 */
import { chmodSync, closeSync, existsSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  assertDistinctKeys,
  type Backend,
  checkTxnCondition,
  type DeleteRangeResult,
  outermostPrefixes,
  type GetResult,
  type KeyValue,
  prefixEnd,
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

export interface SqliteBackendOptions {
  /** Folder for the database (created if missing). */
  dir: string;
  /** File name inside dir (default state.db). */
  file?: string;
  /** Periodic compaction; false turns it off (default: on, see Compactor). */
  compaction?: CompactionOptions | false;
  /** How often expired leases are looked for, in ms (default 500). */
  leaseSweepMs?: number;
  /** Log ids examined per compaction transaction (default 5000). */
  compactBatchSize?: number;
  /**
   * Checkpoints (copying the WAL into the database file, with an fsync of
   * each) run on a worker thread's own connection every CHECKPOINT_MS while
   * there are writes (default), instead of inside a COMMIT on the event
   * loop every 1000 WAL pages. false: SQLite's automatic checkpoints.
   */
  checkpointWorker?: boolean;
  /**
   * FULL (default): a write is acknowledged once the WAL holding it is
   * fsynced (see the module comment). NORMAL: acknowledged at commit; it
   * still survives kill -9 of the process, not a power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** A log row as the statements return it. */
interface LogRow {
  id: number;
  name: string;
  deleted: number;
  create_revision: number;
  version: number;
  lease: number;
  value: string;
}

/** A history row: a log row joined with the row it superseded. */
interface HistoryRow extends LogRow {
  prev_revision: number;
  p_value: string | null;
  p_create_revision: number | null;
  p_version: number | null;
  p_lease: number | null;
}

/** One unit of work in a group commit; run() executes inside the batch transaction. */
interface Job {
  run(events: WatchEvent[]): unknown;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/**
 * WAL syncs running at once (see syncWalAsync). Two: a batch committed during
 * a sync waits for about one sync instead of the rest of the running one plus
 * its own; more would only queue in the disk behind each other.
 */
const MAX_SYNCS_IN_FLIGHT = 2;

/**
 * Writes queued in one event-loop turn that commit at once instead of at the
 * end of the turn, when a sync can start for them: a server busy reading
 * hundreds of requests in one turn answers the first ones sooner (their sync
 * overlaps the rest of the turn) instead of all at its end.
 */
const FLUSH_AT = 64;

/** How often the checkpoint worker is asked to checkpoint while there are writes. */
const CHECKPOINT_MS = 250;

/**
 * The checkpoint worker (CommonJS, evaluated: it needs no TypeScript loader):
 * its own connection to the database runs PRAGMA wal_checkpoint(PASSIVE) on
 * request (PASSIVE never blocks the writer or readers) and answers with the
 * result. synchronous=FULL on its connection: the WAL is synced before the
 * copy and the database after it.
 */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 1000');
parentPort.on('message', (m) => {
  if (m === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    parentPort.postMessage({ ok: db.pragma('wal_checkpoint(PASSIVE)')[0] });
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
});
`;

/** A committed batch waiting for the WAL sync that makes it durable. */
interface CommittedBatch {
  jobs: Job[];
  results: Array<{ ok: boolean; v: unknown }>;
  events: WatchEvent[];
  /** Newest revision of the batch (the store's revision after it). */
  rev: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kine (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  lease INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kine_name_id ON kine (name, id);
CREATE TABLE IF NOT EXISTS latest (
  name TEXT PRIMARY KEY,
  id INTEGER NOT NULL,
  lease INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_lease ON latest (lease) WHERE lease != 0;
CREATE TABLE IF NOT EXISTS leases (
  id INTEGER PRIMARY KEY,
  ttl INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS leases_expiry ON leases (expires_at);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

const COLS = 'k.id, k.name, k.deleted, k.create_revision, k.version, k.lease, k.value';

function toKv(r: LogRow): KeyValue {
  return { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: r.id, version: r.version, lease: r.lease };
}

export class SqliteBackend extends TxnWrites implements Backend {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly s: ReturnType<typeof prepare>;
  private readonly batchTx: (jobs: Job[], events: WatchEvent[], results: Array<{ ok: boolean; v: unknown }>) => void;
  private readonly broadcaster: Broadcaster;
  private readonly compactor?: Compactor;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly compactBatchSize: number;
  /** Newest committed revision (during a batch: the newest revision handed out). */
  private rev: number;
  /** Newest revision whose batch is durable (synced) and visible: what readers see. */
  private synced: number;
  /** Whether commits are followed by a WAL sync (synchronous FULL). */
  private readonly syncWal: boolean;
  private walFd: number | undefined;
  private readonly walFile: string;
  /** Committed batches not yet covered by a finished sync, oldest first. */
  private unsynced: CommittedBatch[] = [];
  /** Syncs running, oldest first, each with the batches committed before it started that no finished sync covered yet. */
  private readonly syncs: Array<{ batches: CommittedBatch[] }> = [];
  /** The checkpoint worker (undefined: SQLite checkpoints automatically in COMMIT). */
  private checkpointer: Worker | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private checkpointRunning = false;
  /** Commits since the last checkpoint request. */
  private commitsSinceCheckpoint = 0;
  private compacted: number;
  private nextLease: number;
  private queue: Job[] = [];
  private flushScheduled = false;
  private closed = false;
  private compacting: Promise<void> | undefined;
  /** Group-commit counters (for metrics and the benchmark): SQLite transactions committed, and jobs in them. */
  readonly stats = { commits: 0, jobs: 0 };

  /** open creates or opens the store in opts.dir. */
  static async open(opts: SqliteBackendOptions): Promise<SqliteBackend> {
    return new SqliteBackend(opts);
  }

  private constructor(opts: SqliteBackendOptions) {
    super();
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const file = join(opts.dir, opts.file ?? 'state.db');
    // The store holds secrets (KMS key material, service account signing
    // keys, the instance CA key): owner-only. SQLite gives its -wal and -shm
    // files the database file's mode, so setting it here covers them.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    this.db = new Database(file);
    // 2 KiB pages (new databases only): a write dirties a leaf of the log's
    // name index and of `latest` at random places, and each dirty page goes
    // to the WAL whole; halving the page cuts WAL bytes per write by ~40%
    // (less to fsync per commit). Raw SQLite batches of 64 writes ran 15-35%
    // faster; end to end on an idle machine both sizes measure the same,
    // since the JavaScript side dominates there.
    this.db.pragma('page_size = 2048');
    this.db.pragma('journal_mode = WAL');
    // FULL durability is kept by our own WAL sync after each commit, off the event loop (module comment).
    this.db.pragma('synchronous = NORMAL');
    this.syncWal = opts.synchronous !== 'NORMAL';
    this.walFile = `${file}-wal`;
    this.db.exec(SCHEMA);
    this.s = prepare(this.db);
    this.rev = (this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'kine'`).pluck().get() as number | undefined) ?? 0;
    // What an earlier process committed is synced now (it may have died between its commit and its sync).
    if (this.syncWal && existsSync(this.walFile)) this.syncNow();
    this.synced = this.rev;
    this.compacted = this.getMeta('compact_rev');
    this.nextLease = Math.max(this.getMeta('next_lease'), 1);
    this.compactBatchSize = opts.compactBatchSize ?? 5000;
    this.batchTx = this.db.transaction((jobs: Job[], events: WatchEvent[], results: Array<{ ok: boolean; v: unknown }>) => {
      for (const job of jobs) {
        try {
          results.push({ ok: true, v: job.run(events) });
        } catch (e) {
          // Jobs check every condition before writing, so a StoreError
          // leaves nothing behind; anything else (an SQLite error mid-write)
          // aborts the whole batch.
          if (!(e instanceof StoreError)) throw e;
          results.push({ ok: false, v: e });
        }
      }
    });
    this.broadcaster = new Broadcaster((after, prefix) => this.history(after, prefix));
    if (this.getMeta('compact_scanned') < this.compacted) {
      // A compaction pass was cut short (crash or close): finish it.
      this.compacting = this.compactRows(this.compacted)
        .catch(() => {})
        .finally(() => (this.compacting = undefined));
    }
    if (opts.compaction !== false) this.compactor = new Compactor(this, opts.compaction);
    if (opts.checkpointWorker !== false) this.startCheckpointer(file);
    this.sweepTimer = setInterval(() => this.sweepLeases(), opts.leaseSweepMs ?? 500);
    this.sweepTimer.unref();
  }

  async currentRevision(): Promise<number> {
    this.check();
    return this.synced;
  }

  async compactRevision(): Promise<number> {
    this.check();
    return this.compacted;
  }

  async get(key: string, opts: { revision?: number } = {}): Promise<GetResult> {
    this.check();
    const rev = this.readRevision(opts.revision);
    if (rev === this.rev) {
      // (rev === this.rev only when nothing is waiting for a sync: reads never see unsynced rows.)
      const r = this.s.getLatest.get(key) as LogRow | undefined;
      return { revision: rev, kv: r ? toKv(r) : undefined };
    }
    const r = this.s.getAt.get(key, rev) as LogRow | undefined;
    return { revision: rev, kv: r && !r.deleted ? toKv(r) : undefined };
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    this.check();
    const rev = this.readRevision(opts.revision);
    const end = opts.prefix === '' ? '\u{10FFFF}' : prefixEnd(opts.prefix);
    const exclusive = opts.after !== undefined && opts.after >= opts.prefix;
    const start = exclusive ? opts.after! : opts.prefix;
    const latest = rev === this.rev;
    const count = () => {
      const now = (exclusive ? this.s.countLatestGt : this.s.countLatestGe).get(start, end) as number;
      if (latest) return now;
      // At a recent revision: today's count minus the keys created (plus
      // the keys deleted) since, read from the log by revision. Far back,
      // counting the newest row per name is cheaper.
      if (this.rev - rev <= 50_000) return now - ((exclusive ? this.s.countDeltaGt : this.s.countDeltaGe).get(rev, start, end) as number);
      return (exclusive ? this.s.countAtGt : this.s.countAtGe).get(start, end, rev) as number;
    };
    if (opts.countOnly) return { revision: rev, kvs: [], more: false, count: count() };
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const stmt = latest
      ? exclusive
        ? this.s.rangeLatestGt
        : this.s.rangeLatestGe
      : limit
        ? exclusive
          ? this.s.pageAtGt
          : this.s.pageAtGe
        : exclusive
          ? this.s.rangeAtGt
          : this.s.rangeAtGe;
    const sqlLimit = limit ? limit + 1 : -1;
    const rows = (latest ? stmt.all(start, end, sqlLimit) : stmt.all(start, end, rev, sqlLimit)) as LogRow[];
    const more = limit > 0 && rows.length > limit;
    if (more) rows.length = limit;
    const kvs = rows.map(toKv);
    return { revision: rev, kvs, more, count: more ? count() : kvs.length };
  }


  txn(ops: TxnOp[]): Promise<TxnResult> {
    try {
      assertDistinctKeys(ops);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.enqueue((events) => {
      // Check phase: nothing is written unless every condition holds.
      const now = Date.now();
      const prevs = ops.map((op) => {
        const c = this.s.getLatest.get(op.key) as LogRow | undefined;
        if (op.op !== 'delete' && op.lease && this.s.leaseAlive.get(op.lease, now) === undefined) {
          throw new StoreError('LeaseNotFound', `lease ${op.lease} not found`);
        }
        checkTxnCondition(op, c ? toKv(c) : undefined);
        return c;
      });
      // Write phase.
      const results = ops.map((op, i) => (op.op === 'delete' ? this.writeDelete(prevs[i]!, events) : this.writePut(op.key, op.value, op.lease ?? 0, prevs[i], events)));
      return { revision: this.rev, results } satisfies TxnResult;
    }) as Promise<TxnResult>;
  }

  /**
   * deleteRange reads the live rows of the ranges with one index scan each
   * (no per-key lookups or condition checks) and appends their delete rows,
   * inside one group-commit job. (A set-based INSERT ... SELECT measured the
   * same: the cost is the index pages the rows dirty, not the statements.)
   */
  deleteRange(prefixes: readonly string[]): Promise<DeleteRangeResult> {
    const ps = outermostPrefixes(prefixes);
    return this.enqueue((events) => {
      const rows: LogRow[] = [];
      for (const p of ps) rows.push(...(this.s.rangeLatestGe.all(p, p === '' ? '\u{10FFFF}' : prefixEnd(p), -1) as LogRow[]));
      if (rows.length === 0) return { revision: this.rev, deleted: [] } satisfies DeleteRangeResult;
      // Delete rows take revisions rev+1, rev+2, ... in key order (prefixes are sorted and disjoint).
      const deleted: KeyValue[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const id = ++this.rev;
        this.s.insertRow.run(id, r.name, 0, 1, r.create_revision, r.id, r.version, r.lease, '');
        const prevKv = toKv(r);
        deleted[i] = prevKv;
        events.push({ type: 'delete', kv: { key: r.name, value: r.value, createRevision: r.create_revision, modRevision: id, version: r.version, lease: r.lease }, prevKv });
      }
      for (const p of ps) this.s.deleteLatestRange.run(p, p === '' ? '\u{10FFFF}' : prefixEnd(p));
      return { revision: this.rev, deleted } satisfies DeleteRangeResult;
    }) as Promise<DeleteRangeResult>;
  }


  watch(prefix: string, opts: WatchOptions, cb: WatchCallbacks): Watcher {
    if (this.closed) {
      queueMicrotask(() => cb.onError(new StoreError('Unavailable', 'store is closed')));
      return { cancel() {} };
    }
    // Batches still waiting for their sync are published when it returns, after the synced revision.
    return this.broadcaster.subscribe(prefix, opts.afterRevision ?? 0, this.synced, cb);
  }

  /**
   * compact records the new compaction point (durably, before anything is
   * removed, so no reader can see a half-compacted revision), then removes
   * superseded rows in batches through the write queue.
   */
  async compact(revision: number): Promise<void> {
    this.check();
    if (revision > this.synced) throw new StoreError('FutureRevision', `revision ${revision} is newer than ${this.synced}`);
    await this.enqueue(() => {
      if (revision <= this.compacted) return;
      this.s.setMeta.run('compact_rev', revision);
      this.compacted = revision;
    });
    // One row-removal pass at a time; a later pass covers an earlier target.
    while (this.compacting) await this.compacting;
    if (this.closed) return;
    this.compacting = this.compactRows(this.compacted).finally(() => (this.compacting = undefined));
    await this.compacting;
  }

  async grantLease(ttlSeconds: number): Promise<number> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return this.enqueue(() => {
      const id = this.nextLease;
      this.s.insertLease.run(id, ttl, Date.now() + ttl * 1000);
      this.s.setMeta.run('next_lease', id + 1);
      this.nextLease = id + 1;
      return id;
    }) as Promise<number>;
  }

  async keepAliveLease(id: number): Promise<void> {
    await this.enqueue(() => {
      const now = Date.now();
      if (this.s.keepAlive.run(now, id, now).changes === 0) throw new StoreError('LeaseNotFound', `lease ${id} not found`);
    });
  }

  async revokeLease(id: number): Promise<void> {
    await this.enqueue((events) => {
      if (this.s.getLease.get(id) === undefined) throw new StoreError('LeaseNotFound', `lease ${id} not found`);
      this.dropLease(id, events);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweepTimer);
    await this.stopCheckpointer();
    this.compactor?.close();
    if (this.queue.length > 0) this.flush();
    await this.compacting?.catch(() => {});
    // Acknowledge what is committed once it is synced (a sync in flight finishes on its own first).
    while (this.syncs.length > 0) await new Promise((r) => setImmediate(r));
    if (this.unsynced.length > 0) {
      let err: unknown;
      try {
        this.syncNow();
      } catch (e) {
        err = e;
      }
      this.settle(this.unsynced.splice(0), err);
    }
    this.broadcaster.close();
    this.db.close();
    if (this.walFd !== undefined) closeSync(this.walFd);
  }

  // --- write path ---

  private enqueue(run: (events: WatchEvent[]) => unknown): Promise<unknown> {
    if (this.closed) return Promise.reject(new StoreError('Unavailable', 'store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ run, resolve, reject });
      if (this.queue.length >= FLUSH_AT && this.syncs.length < MAX_SYNCS_IN_FLIGHT) {
        // A full group commits now, so its sync runs while the rest of this turn's writes are prepared.
        this.flush();
        return;
      }
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** flush commits every queued job in one transaction (group commit). */
  private flush(): void {
    this.flushScheduled = false;
    const jobs = this.queue;
    this.queue = [];
    if (jobs.length > 0) this.commit(jobs);
  }

  private commit(jobs: Job[]): void {
    const startRev = this.rev;
    const startCompacted = this.compacted;
    const startLease = this.nextLease;
    const events: WatchEvent[] = [];
    const results: Array<{ ok: boolean; v: unknown }> = [];
    try {
      this.batchTx(jobs, events, results);
    } catch (e) {
      // Nothing of the batch was committed: undo the counters, then give
      // each job its own transaction so one bad job fails alone.
      this.rev = startRev;
      this.compacted = startCompacted;
      this.nextLease = startLease;
      if (jobs.length > 1) {
        for (const job of jobs) this.commit([job]);
      } else {
        jobs[0]!.reject(e);
      }
      return;
    }
    this.stats.commits++;
    this.commitsSinceCheckpoint++;
    this.stats.jobs += jobs.length;
    const batch: CommittedBatch = { jobs, results, events, rev: this.rev };
    if (!this.syncWal) {
      this.settle([batch]);
      return;
    }
    this.unsynced.push(batch);
    if (this.syncs.length < MAX_SYNCS_IN_FLIGHT) this.syncWalAsync();
  }

  /**
   * Starts the checkpoint worker and turns SQLite's automatic checkpoints
   * off (each ran inside a COMMIT, on the event loop: copying ~2 MB of WAL
   * pages and two fsyncs, 10-35 ms on a busy disk, every few hundred
   * writes). If the worker cannot start, automatic checkpoints stay on.
   */
  private startCheckpointer(file: string): void {
    let w: Worker;
    try {
      w = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3') } });
    } catch {
      return;
    }
    w.unref();
    w.on('message', () => {
      this.checkpointRunning = false;
    });
    const lost = (): void => {
      // Back to SQLite's own checkpoints.
      if (this.checkpointer !== w) return;
      this.checkpointer = undefined;
      if (this.checkpointTimer) clearInterval(this.checkpointTimer);
      if (!this.closed) this.db.pragma('wal_autocheckpoint = 1000');
    };
    w.on('error', lost);
    w.on('exit', lost);
    this.checkpointer = w;
    this.db.pragma('wal_autocheckpoint = 0');
    let requestedAt = 0;
    this.checkpointTimer = setInterval(() => {
      if (!this.checkpointer) return;
      if (this.checkpointRunning) {
        // A worker that stopped answering must not let the WAL grow without bound.
        if (Date.now() - requestedAt > 30_000) {
          this.db.pragma('wal_autocheckpoint = 1000');
          this.checkpointer = undefined;
          void w.terminate();
        }
        return;
      }
      if (this.commitsSinceCheckpoint === 0) return;
      this.commitsSinceCheckpoint = 0;
      this.checkpointRunning = true;
      requestedAt = Date.now();
      this.checkpointer.postMessage('checkpoint');
    }, CHECKPOINT_MS);
    this.checkpointTimer.unref();
  }

  private async stopCheckpointer(): Promise<void> {
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    const w = this.checkpointer;
    this.checkpointer = undefined;
    if (!w) return;
    // The worker closes its connection and exits (terminated if it does not within a second).
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => void w.terminate().finally(resolve), 1000);
      w.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      w.postMessage('close');
    });
  }

  /**
   * Makes the WAL durable in the thread pool, then settles every batch
   * committed before the sync started. Up to MAX_SYNCS_IN_FLIGHT syncs run at
   * once: a batch committed while one runs starts its own instead of waiting
   * for it to end and then for a whole second one. A sync that returns covers
   * every batch committed before it started, so it settles those of the
   * earlier syncs still running too (they stay in order: batches are settled
   * oldest first, and a sync that returns later finds nothing left).
   */
  private syncWalAsync(): void {
    const batches = this.unsynced;
    this.unsynced = [];
    let fd: number;
    try {
      fd = this.walDescriptor();
    } catch (e) {
      this.settle(batches, e);
      return;
    }
    const sync = { batches };
    this.syncs.push(sync);
    fdatasync(fd, (err) => {
      // This sync and every older one still listed, in order (an error fails what this sync covered).
      const covered = this.syncs.splice(0, this.syncs.indexOf(sync) + 1);
      for (const s of covered) this.settle(s.batches, err ?? undefined);
      if (this.unsynced.length > 0 && !this.closed && this.syncs.length < MAX_SYNCS_IN_FLIGHT) this.syncWalAsync();
    });
  }

  /** Syncs the WAL on the calling thread (open and close). */
  private syncNow(): void {
    fdatasyncSync(this.walDescriptor());
  }

  /** The WAL file, opened once (SQLite creates it with the WAL mode; the database's mode covers it). */
  private walDescriptor(): number {
    return (this.walFd ??= openSync(this.walFile, 'r'));
  }

  /**
   * Publishes durable batches, in order, and settles their jobs; a failed
   * sync fails them all (their rows are committed, but their durability is
   * unknown: the caller sees the error, as it would a failed COMMIT).
   */
  private settle(batches: CommittedBatch[], err?: unknown): void {
    for (const b of batches) {
      if (err !== undefined) {
        const e = new StoreError('Unavailable', `syncing the write-ahead log failed: ${(err as Error).message ?? err}`);
        for (const job of b.jobs) job.reject(e);
        continue;
      }
      if (b.rev > this.synced) this.synced = b.rev;
      this.broadcaster.publish(b.events);
      for (let i = 0; i < b.jobs.length; i++) {
        const r = b.results[i]!;
        if (r.ok) b.jobs[i]!.resolve(r.v);
        else b.jobs[i]!.reject(r.v);
      }
    }
  }

  private writePut(key: string, value: string, lease: number, prev: LogRow | undefined, events: WatchEvent[]): WriteResult {
    const id = ++this.rev;
    const createRevision = prev ? prev.create_revision : id;
    const version = prev ? prev.version + 1 : 1;
    this.s.insertRow.run(id, key, prev ? 0 : 1, 0, createRevision, prev ? prev.id : 0, version, lease, value);
    this.s.upsertLatest.run(key, id, lease);
    const kv: KeyValue = { key, value, createRevision, modRevision: id, version, lease };
    const prevKv = prev ? toKv(prev) : undefined;
    events.push(prevKv ? { type: 'put', kv, prevKv } : { type: 'put', kv });
    return { revision: id, kv, prevKv };
  }

  private writeDelete(prev: LogRow, events: WatchEvent[]): WriteResult {
    const id = ++this.rev;
    this.s.insertRow.run(id, prev.name, 0, 1, prev.create_revision, prev.id, prev.version, prev.lease, '');
    this.s.deleteLatest.run(prev.name);
    const prevKv = toKv(prev);
    const kv: KeyValue = { ...prevKv, modRevision: id };
    events.push({ type: 'delete', kv, prevKv });
    return { revision: id, kv, prevKv };
  }

  /** dropLease deletes the lease and every key attached to it (inside a job). */
  private dropLease(id: number, events: WatchEvent[]): void {
    for (const name of this.s.keysOfLease.all(id) as string[]) {
      this.writeDelete(this.s.getLatest.get(name) as LogRow, events);
    }
    this.s.deleteLease.run(id);
  }

  private sweepLeases(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const id of this.s.expiredLeases.all(now) as number[]) {
      this.enqueue((events) => {
        // The lease may have been kept alive or revoked since the sweep read it.
        const l = this.s.getLease.get(id) as { expires_at: number } | undefined;
        if (l && l.expires_at <= Date.now()) this.dropLease(id, events);
      }).catch(() => {});
    }
  }

  /**
   * compactRows removes every row at or below target that is superseded by a
   * row at or below target, and every delete row at or below target. A row's
   * immediate successor points at it through prev_revision (a create after a
   * delete points at nothing, but then the row before it is a delete row), so
   * a pass only scans the rows written since the previous pass, in id-range
   * batches, and removes their predecessors by primary key: no scan of the
   * whole log. Reads at target or newer still see every live key, and every
   * row after target keeps the row its prev_revision points at. Progress is
   * kept in meta.compact_scanned, so a pass cut short by a crash resumes at
   * the next open.
   */
  private async compactRows(target: number): Promise<void> {
    let lo = this.s.getMeta.get('compact_scanned') as number | undefined ?? 0;
    while (lo < target && !this.closed) {
      const from = lo;
      const to = Math.min(lo + this.compactBatchSize, target);
      await this.enqueue(() => {
        this.s.compactSuperseded.run(from, to);
        this.s.compactDeletes.run(from, to);
        this.s.setMeta.run('compact_scanned', to);
      });
      lo = to;
    }
  }

  // --- read path ---

  private check(): void {
    if (this.closed) throw new StoreError('Unavailable', 'store is closed');
  }

  /** The revision a read is made at: the newest synced one by default (this.rev only when nothing waits for a sync). */
  private readRevision(rev?: number): number {
    if (!rev) return this.synced;
    if (rev > this.synced) throw new StoreError('FutureRevision', `revision ${rev} is newer than ${this.synced}`);
    if (rev < this.compacted) throw new StoreError('Compacted', `revision ${rev} has been compacted`, { compactRevision: this.compacted });
    return rev;
  }

  /** Events after `after` under `prefix`, for watchers that start in the past. */
  private history(after: number, prefix: string): WatchEvent[] {
    if (after < this.compacted) throw new StoreError('Compacted', `revision ${after} has been compacted`, { compactRevision: this.compacted });
    const end = prefix === '' ? '\u{10FFFF}' : prefixEnd(prefix);
    const out: WatchEvent[] = [];
    for (const r of this.s.history.all(after, prefix, end, this.synced) as HistoryRow[]) {
      // A delete row's value is the deleted one, its predecessor's (older databases stored it in the row too).
      const kv = toKv(r.deleted && r.p_value !== null ? { ...r, value: r.p_value } : r);
      const prevKv: KeyValue | undefined =
        r.prev_revision && r.p_value !== null
          ? { key: r.name, value: r.p_value, createRevision: r.p_create_revision!, modRevision: r.prev_revision, version: r.p_version!, lease: r.p_lease! }
          : undefined;
      if (r.deleted) out.push({ type: 'delete', kv, prevKv });
      else out.push(prevKv ? { type: 'put', kv, prevKv } : { type: 'put', kv });
    }
    return out;
  }

  private getMeta(name: string): number {
    return (this.s.getMeta.get(name) as number | undefined) ?? 0;
  }
}

function prepare(db: Database.Database) {
  const latestFrom = `FROM latest l JOIN kine k ON k.id = l.id`;
  // Newest row per name at or below a revision, among rows in [start, end).
  const at = (op: string) =>
    `FROM kine k JOIN (SELECT name, MAX(id) AS mid FROM kine WHERE name ${op} ? AND name < ? AND id <= ? GROUP BY name) m ON k.id = m.mid WHERE k.deleted = 0`;
  const atPage = (op: string) =>
    `FROM kine k WHERE k.name ${op} ? AND k.name < ? AND k.id = (SELECT MAX(k2.id) FROM kine k2 WHERE k2.name = k.name AND k2.id <= ?) AND k.deleted = 0`;
  return {
    getLatest: db.prepare(`SELECT ${COLS} ${latestFrom} WHERE l.name = ?`),
    getAt: db.prepare(`SELECT ${COLS} FROM kine k WHERE k.name = ? AND k.id <= ? ORDER BY k.id DESC LIMIT 1`),
    rangeLatestGe: db.prepare(`SELECT ${COLS} ${latestFrom} WHERE l.name >= ? AND l.name < ? ORDER BY l.name LIMIT ?`),
    rangeLatestGt: db.prepare(`SELECT ${COLS} ${latestFrom} WHERE l.name > ? AND l.name < ? ORDER BY l.name LIMIT ?`),
    countLatestGe: db.prepare(`SELECT count(*) FROM latest WHERE name >= ? AND name < ?`).pluck(),
    countLatestGt: db.prepare(`SELECT count(*) FROM latest WHERE name > ? AND name < ?`).pluck(),
    rangeAtGe: db.prepare(`SELECT ${COLS} ${at('>=')} ORDER BY k.name LIMIT ?`),
    rangeAtGt: db.prepare(`SELECT ${COLS} ${at('>')} ORDER BY k.name LIMIT ?`),
    // A page at an old revision walks the name index in order and stops at
    // the limit (the GROUP BY form above sorts the whole prefix first).
    pageAtGe: db.prepare(`SELECT ${COLS} ${atPage('>=')} ORDER BY k.name LIMIT ?`),
    pageAtGt: db.prepare(`SELECT ${COLS} ${atPage('>')} ORDER BY k.name LIMIT ?`),
    countAtGe: db.prepare(`SELECT count(*) ${at('>=')}`).pluck(),
    countDeltaGe: db.prepare(`SELECT COALESCE(SUM(created) - SUM(deleted), 0) FROM kine NOT INDEXED WHERE id > ? AND name >= ? AND name < ?`).pluck(),
    countDeltaGt: db.prepare(`SELECT COALESCE(SUM(created) - SUM(deleted), 0) FROM kine NOT INDEXED WHERE id > ? AND name > ? AND name < ?`).pluck(),
    countAtGt: db.prepare(`SELECT count(*) ${at('>')}`).pluck(),
    // Walks the log from the start revision by primary key (NOT INDEXED keeps
    // SQLite from scanning every row of the prefix by name and sorting).
    history: db.prepare(
      `SELECT ${COLS}, k.prev_revision, p.value AS p_value, p.create_revision AS p_create_revision, p.version AS p_version, p.lease AS p_lease
       FROM kine k NOT INDEXED LEFT JOIN kine p ON p.id = k.prev_revision
       WHERE k.id > ? AND k.name >= ? AND k.name < ? AND k.id <= ? ORDER BY k.id`,
    ),
    insertRow: db.prepare(
      `INSERT INTO kine (id, name, created, deleted, create_revision, prev_revision, version, lease, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertLatest: db.prepare(`INSERT INTO latest (name, id, lease) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET id = excluded.id, lease = excluded.lease`),
    deleteLatest: db.prepare(`DELETE FROM latest WHERE name = ?`),
    deleteLatestRange: db.prepare(`DELETE FROM latest WHERE name >= ? AND name < ?`),
    setMeta: db.prepare(`INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`),
    getMeta: db.prepare(`SELECT value FROM meta WHERE name = ?`).pluck(),
    compactSuperseded: db.prepare(`DELETE FROM kine WHERE id IN (SELECT prev_revision FROM kine WHERE id > ? AND id <= ? AND prev_revision != 0)`),
    compactDeletes: db.prepare(`DELETE FROM kine WHERE id > ? AND id <= ? AND deleted = 1`),
    leaseAlive: db.prepare(`SELECT 1 FROM leases WHERE id = ? AND expires_at > ?`).pluck(),
    getLease: db.prepare(`SELECT ttl, expires_at FROM leases WHERE id = ?`),
    insertLease: db.prepare(`INSERT INTO leases (id, ttl, expires_at) VALUES (?, ?, ?)`),
    keepAlive: db.prepare(`UPDATE leases SET expires_at = ? + ttl * 1000 WHERE id = ? AND expires_at > ?`),
    deleteLease: db.prepare(`DELETE FROM leases WHERE id = ?`),
    expiredLeases: db.prepare(`SELECT id FROM leases WHERE expires_at <= ? LIMIT 1000`).pluck(),
    keysOfLease: db.prepare(`SELECT name FROM latest WHERE lease = ? ORDER BY name`).pluck(),
  };
}
