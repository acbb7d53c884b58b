/**
 * AwsState is where AWS providers keep their resources: JSON documents in the
 * revisioned store under `/aws/<service>/<account>/<region>/<type>/<id>`,
 * read from an in-memory cache that one store watch keeps current.
 *
 * - Reads (get, list) are synchronous and served from the cache.
 * - Writes (commit) go to the store as one transaction and resolve once
 *   durable; the cache is updated with the written revisions at once, so a
 *   provider reads its own writes. Events from the watch (writes by other
 *   localeks replicas sharing an etcd store) are applied only when newer
 *   than what the cache holds for that key.
 * - Documents returned by get/list are shared with the cache: treat them as
 *   read-only and write changed copies back (mutate() does that for you).
 *
 * Global services (IAM) use region `global` (see GLOBAL_REGION).
 */
import { type Backend, isStoreError, type KeyValue, type TxnOp, type WatchEvent, type Watcher } from '../../store/backend.ts';
import { awsError } from './types.ts';

/** The region segment used for global services such as IAM and Route 53. */
export const GLOBAL_REGION = 'global';

export const AWS_PREFIX = '/aws/';

/** Where a resource lives: account and region. */
export interface Scope {
  accountId: string;
  region: string;
}

/** awsKey builds the store key of one resource. Ids must not contain '/' (they are escaped). */
export function awsKey(scope: Scope, service: string, type: string, id: string): string {
  return `${collectionPrefix(scope, service, type)}${encodeURIComponent(id)}`;
}

/** collectionPrefix is the key prefix of every resource of one type in one account and region. */
export function collectionPrefix(scope: Scope, service: string, type: string): string {
  return `${AWS_PREFIX}${service}/${scope.accountId}/${scope.region}/${type}/`;
}

interface Entry {
  doc: unknown;
  rev: number;
}

/** A write in a commit. */
export type StateOp =
  | { op: 'create'; key: string; doc: unknown }
  | { op: 'put'; key: string; doc: unknown; expectedRevision?: number }
  | { op: 'delete'; key: string; expectedRevision?: number };

export class AwsState {
  /** collection prefix -> id key -> entry */
  private readonly collections = new Map<string, Map<string, Entry>>();
  /** collection prefix -> its ids in key order; dropped when an id is added or removed (list() is hot in Describe calls) */
  private readonly sortedIds = new Map<string, string[]>();
  /** deleted key -> revision of the delete, so a late watch event cannot resurrect it */
  private readonly tombstones = new Map<string, number>();
  private watcher: Watcher | undefined;
  private started = false;

  constructor(private readonly backend: Backend) {}

  /** start loads every AWS resource into the cache and follows the store from there. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    let after: string | undefined;
    let revision = 0;
    for (;;) {
      const page = await this.backend.range({ prefix: AWS_PREFIX, after, limit: 5000, revision: revision || undefined });
      revision = page.revision;
      for (const kv of page.kvs) this.apply(kv.key, JSON.parse(kv.value), kv.modRevision);
      if (!page.more || page.kvs.length === 0) break;
      after = page.kvs[page.kvs.length - 1]!.key;
    }
    this.watcher = this.backend.watch(
      AWS_PREFIX,
      { afterRevision: revision },
      {
        onEvents: (events) => this.onEvents(events),
        onError: () => {
          // The store closed or compacted past us; reload from scratch.
          this.started = false;
          this.collections.clear();
          this.sortedIds.clear();
          this.tombstones.clear();
          void this.start().catch(() => {});
        },
      },
    );
  }

  stop(): void {
    this.watcher?.cancel();
    this.watcher = undefined;
  }

  /** get returns the document at key, or undefined. */
  get<T>(key: string): T | undefined {
    return this.entry(key)?.doc as T | undefined;
  }

  /** revision returns the mod revision of the document at key (0 if absent). */
  revision(key: string): number {
    return this.entry(key)?.rev ?? 0;
  }

  /** list returns every document of a collection (see collectionPrefix), in key order. */
  list<T>(prefix: string): T[] {
    const c = this.collections.get(prefix);
    if (!c) return [];
    let ids = this.sortedIds.get(prefix);
    if (!ids) {
      ids = [...c.keys()].sort();
      this.sortedIds.set(prefix, ids);
    }
    return ids.map((k) => c.get(k)!.doc as T);
  }

  /** collectionsUnder lists the collection prefixes that start with p (e.g. every account of a service). */
  collectionsUnder(p: string): string[] {
    return [...this.collections.keys()].filter((k) => k.startsWith(p));
  }

  /**
   * commit writes all ops atomically. A create of an existing key or a write
   * whose expectedRevision is stale throws a StoreError (KeyExists/Conflict),
   * which providers may map to their own AWS error; nothing is written then.
   */
  async commit(ops: StateOp[]): Promise<number> {
    if (ops.length === 0) return 0;
    const txn: TxnOp[] = ops.map((o) => {
      if (o.op === 'create') return { op: 'create', key: o.key, value: JSON.stringify(o.doc) };
      if (o.op === 'put') {
        return o.expectedRevision !== undefined
          ? o.expectedRevision === 0
            ? { op: 'create', key: o.key, value: JSON.stringify(o.doc) }
            : { op: 'update', key: o.key, value: JSON.stringify(o.doc), expectedModRevision: o.expectedRevision }
          : { op: 'put', key: o.key, value: JSON.stringify(o.doc) };
      }
      return { op: 'delete', key: o.key, expectedModRevision: o.expectedRevision };
    });
    const res = await this.backend.txn(txn);
    res.results.forEach((r, i) => {
      const o = ops[i]!;
      this.apply(o.key, o.op === 'delete' ? undefined : o.doc, r.revision);
    });
    return res.revision;
  }

  /**
   * mutate reads the document at key, lets fn return the new one (or
   * undefined to delete it), and writes it with compare-and-swap, retrying on
   * a concurrent change. fn receives a deep copy it may modify.
   */
  async mutate<T>(key: string, fn: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const e = this.entry(key);
      const next = fn(e ? (structuredClone(e.doc) as T) : undefined);
      try {
        if (next === undefined) {
          if (e) await this.commit([{ op: 'delete', key, expectedRevision: e.rev }]);
        } else {
          await this.commit([{ op: 'put', key, doc: next, expectedRevision: e?.rev ?? 0 }]);
        }
        return next;
      } catch (err) {
        if (attempt < 20 && (isStoreError(err, 'Conflict') || isStoreError(err, 'KeyExists') || isStoreError(err, 'KeyNotFound'))) {
          await this.refresh(key);
          continue;
        }
        if (isStoreError(err)) throw awsError('InternalFailure', `state write failed: ${err.message}`, 500);
        throw err;
      }
    }
  }

  /** refresh re-reads one key from the store (after a conflict with another writer). */
  async refresh(key: string): Promise<void> {
    const r = await this.backend.get(key);
    if (r.kv) this.apply(key, JSON.parse(r.kv.value), r.kv.modRevision, true);
    else this.apply(key, undefined, r.revision, true);
  }

  private entry(key: string): Entry | undefined {
    const i = key.lastIndexOf('/');
    return this.collections.get(key.slice(0, i + 1))?.get(key.slice(i + 1));
  }

  private onEvents(events: WatchEvent[]): void {
    for (const ev of events) this.applyKv(ev.kv, ev.type === 'delete');
  }

  private applyKv(kv: KeyValue, deleted: boolean): void {
    // Our own writes come back through the watch: skip them before parsing.
    const known = this.entry(kv.key)?.rev ?? this.tombstones.get(kv.key) ?? 0;
    if (kv.modRevision <= known) return;
    this.apply(kv.key, deleted ? undefined : JSON.parse(kv.value), kv.modRevision);
  }

  private apply(key: string, doc: unknown, rev: number, force = false): void {
    const i = key.lastIndexOf('/');
    const prefix = key.slice(0, i + 1);
    const id = key.slice(i + 1);
    const c = this.collections.get(prefix);
    const cur = c?.get(id);
    const known = cur?.rev ?? this.tombstones.get(key) ?? 0;
    if (!force && rev <= known) return;
    if (doc === undefined) {
      if (c?.delete(id)) this.sortedIds.delete(prefix);
      if (c && c.size === 0) this.collections.delete(prefix);
      this.tombstones.set(key, rev);
      if (this.tombstones.size > 100_000) this.pruneTombstones();
      return;
    }
    this.tombstones.delete(key);
    let coll = c;
    if (!coll) {
      coll = new Map();
      this.collections.set(prefix, coll);
    }
    if (!coll.has(id)) this.sortedIds.delete(prefix);
    coll.set(id, { doc, rev });
  }

  private pruneTombstones(): void {
    // Keep the newest half; older deletes cannot be raced by watch events that far behind.
    const sorted = [...this.tombstones].sort((a, b) => a[1] - b[1]);
    for (const [k] of sorted.slice(0, sorted.length >> 1)) this.tombstones.delete(k);
  }
}
