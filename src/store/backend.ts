/**
 * The revisioned key/value store every part of localeks keeps its state in.
 *
 * The model is kine's (k3s-io/kine) and etcd's: a log of rows, each with a
 * global revision. A key's current value is its newest row; a delete is a row
 * with the deleted flag. Every write gets a new, strictly increasing revision.
 * Readers can read at the latest or at any revision not yet compacted, and
 * watchers receive every event after a revision, in revision order, each
 * exactly once.
 *
 * Kubernetes resourceVersions are these revisions (see kube/api/versioner.ts,
 * the only place a revision becomes a resourceVersion).
 *
 * Values are strings (UTF-8 text, almost always JSON).
 */

/** One key's state at some revision. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this incarnation of the key. */
  createRevision: number;
  /** Revision of the newest write to the key (this row). */
  modRevision: number;
  /** Number of writes since creation; 1 after create (etcd's `version`). */
  version: number;
  /** Lease id the key is attached to; 0 for none. */
  lease: number;
}

/** A change to a key, as watchers see it. */
export interface WatchEvent {
  type: 'put' | 'delete';
  /** For put: the new state. For delete: the key with value of the deleted row and modRevision = the delete revision. */
  kv: KeyValue;
  /** The state before this event; absent for a create. */
  prevKv?: KeyValue;
}

export type StoreErrorCode =
  /** Create of a key that exists. */
  | 'KeyExists'
  /** Update or delete of a key that does not exist. */
  | 'KeyNotFound'
  /** Update or delete whose expected mod revision is not the key's current one. */
  | 'Conflict'
  /** Read or watch at a revision older than the compaction point. */
  | 'Compacted'
  /** Read at a revision newer than the store's current revision. */
  | 'FutureRevision'
  /** The backend cannot serve the request now (closed, lost its connection). */
  | 'Unavailable'
  /** The lease does not exist or has expired. */
  | 'LeaseNotFound';

/** The only error type a Backend throws on purpose. */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** For Conflict and KeyExists: the key's current state. */
  readonly current?: KeyValue;
  /** For Compacted: the oldest revision still readable. */
  readonly compactRevision?: number;

  constructor(code: StoreErrorCode, message: string, extra: { current?: KeyValue; compactRevision?: number } = {}) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.current = extra.current;
    this.compactRevision = extra.compactRevision;
  }
}

/** isStoreError tells whether e is a StoreError, optionally of one code. */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}

export interface RangeOptions {
  /** Every key starting with this prefix. */
  prefix: string;
  /** Read as of this revision (0 or absent = latest). Compacted revisions throw Compacted. */
  revision?: number;
  /** Start strictly after this key (continuation); keys are ordered bytewise. */
  after?: string;
  /** At most this many keys (0 or absent = no limit). */
  limit?: number;
  /** Only count the matching keys; kvs is empty. */
  countOnly?: boolean;
}

export interface RangeResult {
  /** The revision the range was read at (the store's current revision for latest reads). */
  revision: number;
  kvs: KeyValue[];
  /** True when keys beyond `limit` exist. */
  more: boolean;
  /** Number of keys matching prefix/after at that revision, before limit. */
  count: number;
}

export interface GetResult {
  revision: number;
  kv?: KeyValue;
}

export interface WriteResult {
  /** The revision of this write. */
  revision: number;
  kv: KeyValue;
  /** The state before the write (absent for create). */
  prevKv?: KeyValue;
}

/**
 * One operation in a transaction. Each operation carries its own condition:
 *  - create: the key must not exist;
 *  - update: the key must exist and, when expectedModRevision is given, be at it;
 *  - delete: likewise;
 *  - put: unconditional create-or-replace.
 */
export type TxnOp =
  | { op: 'create'; key: string; value: string; lease?: number }
  | { op: 'update'; key: string; value: string; expectedModRevision?: number; lease?: number }
  | { op: 'put'; key: string; value: string; lease?: number }
  | { op: 'delete'; key: string; expectedModRevision?: number };

export interface TxnResult {
  /**
   * The revision of the last write of the transaction. Backends differ in how
   * they number the writes of one transaction: memory and sqlite give each
   * operation its own revision (in operation order), etcd gives every
   * operation of a transaction the same revision. Callers may rely only on
   * results' revisions being non-decreasing in operation order, greater than
   * any revision acknowledged before the txn was sent, and `revision` being
   * the greatest.
   */
  revision: number;
  /** One result per operation, in order. */
  results: WriteResult[];
}

export interface DeleteRangeResult {
  revision: number;
  /** The deleted keys' states before the delete, in key order. */
  deleted: KeyValue[];
}

export interface WatchOptions {
  /**
   * Deliver every event with revision > afterRevision. 0 = only future events.
   * afterRevision >= compactRevision() always works; afterRevision <
   * compactRevision() - 1 always fails with Compacted (through onError). At
   * exactly compactRevision() - 1 etcd still serves the watch and the
   * in-process backends report Compacted.
   */
  afterRevision?: number;
}

/**
 * A running watch. Events arrive through the onEvents callback given to
 * watch(), in batches, in revision order (non-decreasing: the events of one
 * etcd transaction share a revision and arrive in operation order), each
 * exactly once. A watch ends by cancel() or by onError (after which no event
 * follows).
 */
export interface Watcher {
  cancel(): void;
}

export interface WatchCallbacks {
  onEvents(events: WatchEvent[]): void;
  /** Called at most once; Compacted when afterRevision is older than the compaction point. */
  onError(err: StoreError): void;
}

/**
 * Backend is the store interface; sqlite, memory and etcd implement it, and the
 * conformance suite (conformance.ts) holds them to one contract.
 *
 * Every promise of a write resolves only once the write is durable (for sqlite:
 * committed and synced; for etcd: acknowledged by the cluster).
 */
export interface Backend {
  /** Backend kind, for health and metrics: 'sqlite' | 'memory' | 'etcd'. */
  readonly kind: string;

  /** The newest revision written (0 for an empty store). */
  currentRevision(): Promise<number>;
  /** The oldest revision still readable after compaction (0 if never compacted). */
  compactRevision(): Promise<number>;

  /** The key at the latest revision or at opts.revision; kv absent when not present. */
  get(key: string, opts?: { revision?: number }): Promise<GetResult>;
  /** Keys under a prefix, ordered by key. */
  range(opts: RangeOptions): Promise<RangeResult>;

  /** Creates key; throws KeyExists (with current) if it exists. */
  create(key: string, value: string, opts?: { lease?: number }): Promise<WriteResult>;
  /**
   * Replaces key's value. Throws KeyNotFound if absent, Conflict (with current)
   * if expectedModRevision is given and differs from the key's mod revision.
   */
  update(key: string, value: string, opts?: { expectedModRevision?: number; lease?: number }): Promise<WriteResult>;
  /** Creates or replaces key unconditionally. */
  put(key: string, value: string, opts?: { lease?: number }): Promise<WriteResult>;
  /** Deletes key. Throws KeyNotFound if absent, Conflict if expectedModRevision differs. */
  delete(key: string, opts?: { expectedModRevision?: number }): Promise<WriteResult>;
  /**
   * Applies all operations atomically or none: if any condition fails, throws
   * that operation's StoreError and nothing is written. Watchers see the
   * events in operation order. A transaction names each key at most once
   * (etcd's rule); a repeated key throws a TypeError and writes nothing.
   */
  txn(ops: TxnOp[]): Promise<TxnResult>;

  /**
   * Deletes every key under any of the prefixes, atomically (etcd's
   * DeleteRange with a range end; several ranges in one transaction). A
   * prefix inside another is covered by it. Watchers get one delete event
   * per key, in key order, after every earlier event; memory and sqlite give
   * each key its own revision, etcd gives them all one (as for txn). Returns
   * the revision after the delete (the current revision when nothing
   * matched) and the deleted keys' last states, in key order.
   */
  deleteRange(prefixes: readonly string[]): Promise<DeleteRangeResult>;

  /** Watches keys with a prefix. See Watcher. */
  watch(prefix: string, opts: WatchOptions, cb: WatchCallbacks): Watcher;

  /**
   * Forgets history before revision: afterwards reads at revisions older than
   * `revision` throw Compacted, reads at `revision` or newer still work (keys'
   * latest values are kept). Compacting to an already compacted revision is a
   * no-op; a revision newer than the current one throws FutureRevision.
   */
  compact(revision: number): Promise<void>;

  /**
   * Grants a lease of ttlSeconds (at least 1; etcd may round small TTLs up to
   * its minimum); keys attached to it are deleted, as ordinary delete events,
   * some time after it expires. Lease ids are positive safe integers.
   */
  grantLease(ttlSeconds: number): Promise<number>;
  /** Extends a lease by its TTL; throws LeaseNotFound. */
  keepAliveLease(id: number): Promise<void>;
  /** Revokes a lease now, deleting its keys. */
  revokeLease(id: number): Promise<void>;

  /**
   * Stops accepting calls (they throw Unavailable), waits for in-flight
   * writes, ends every watcher with an Unavailable onError, releases resources.
   */
  close(): Promise<void>;
}

/**
 * prefixEnd returns the smallest string greater than every string with the
 * given prefix (etcd's range_end for a prefix), for backends that range by
 * [start, end).
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}';
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** assertDistinctKeys throws the TypeError Backend.txn promises when ops name a key twice. */
export function assertDistinctKeys(ops: readonly TxnOp[]): void {
  if (ops.length < 2) return;
  const seen = new Set<string>();
  for (const op of ops) {
    if (seen.has(op.key)) throw new TypeError(`txn names key ${op.key} more than once`);
    seen.add(op.key);
  }
}

/**
 * checkTxnCondition throws the StoreError Backend.txn promises when op's
 * condition does not hold for cur, the key's current state (undefined when
 * absent). Every backend checks each op with it before writing anything
 * (leases are checked by the backend, which knows them).
 */
export function checkTxnCondition(op: TxnOp, cur: KeyValue | undefined): void {
  if (op.op === 'create') {
    if (cur) throw new StoreError('KeyExists', `key exists: ${op.key}`, { current: cur });
    return;
  }
  if (op.op === 'put') return;
  if (!cur) throw new StoreError('KeyNotFound', `key not found: ${op.key}`);
  if (op.expectedModRevision !== undefined && cur.modRevision !== op.expectedModRevision) {
    throw new StoreError('Conflict', `mod revision of ${op.key} is ${cur.modRevision}, not ${op.expectedModRevision}`, { current: cur });
  }
}

/**
 * outermostPrefixes drops the prefixes that another prefix of the list
 * covers (and duplicates), so deleteRange names each key once; sorted.
 */
export function outermostPrefixes(prefixes: readonly string[]): string[] {
  const sorted = [...new Set(prefixes)].sort();
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => p.startsWith(q))) out.push(p);
  return out;
}

/**
 * TxnWrites gives a backend the single-key writes of Backend (create, update,
 * put, delete) as one-operation transactions, so each backend writes only
 * txn (and checks conditions in one place, checkTxnCondition).
 */
export abstract class TxnWrites {
  abstract txn(ops: TxnOp[]): Promise<TxnResult>;

  /** See Backend.create. */
  async create(key: string, value: string, opts: { lease?: number } = {}): Promise<WriteResult> {
    return (await this.txn([{ op: 'create', key, value, lease: opts.lease }])).results[0]!;
  }

  /** See Backend.update. */
  async update(key: string, value: string, opts: { expectedModRevision?: number; lease?: number } = {}): Promise<WriteResult> {
    return (await this.txn([{ op: 'update', key, value, ...opts }])).results[0]!;
  }

  /** See Backend.put. */
  async put(key: string, value: string, opts: { lease?: number } = {}): Promise<WriteResult> {
    return (await this.txn([{ op: 'put', key, value, lease: opts.lease }])).results[0]!;
  }

  /** See Backend.delete. */
  async delete(key: string, opts: { expectedModRevision?: number } = {}): Promise<WriteResult> {
    return (await this.txn([{ op: 'delete', key, ...opts }])).results[0]!;
  }
}
