/**
 * The watch cache of one cluster (apiserver's cacher): every object under the
 * cluster's `registry/` prefix, fed by ONE store watch, plus a ring buffer of
 * recent events so that watches resume from a resourceVersion without going
 * back to the store. Objects are kept parsed (treat them as immutable) with
 * their encoded JSON memoized per revision, so N watchers and repeated lists
 * cost one serialization per object revision. Versions superseded by newer
 * ones (kept only by the history buffer) keep their JSON and drop the parsed
 * object once serialized (decoded again on demand).
 *
 * `rev` is the newest store revision the cache has applied. Reads that must
 * be consistent wait with `waitFor(rev)` for the revision of the last write.
 */
import { type Backend, type KeyValue, type StoreError, type WatchEvent, type Watcher } from '../../../store/backend.ts';
import type { KObject } from '../../api/types.ts';

export interface CacheEntry {
  key: string;
  /** Set once a newer version (or a delete) replaced the entry in the cache. */
  superseded?: true;
  /** Store modRevision = resourceVersion. */
  rev: number;
  /** Decoded object with metadata.resourceVersion set. Never mutate. */
  obj: KObject;
  json?: string;
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface CacheEvent {
  type: CacheEventType;
  rev: number;
  key: string;
  /** Storage resource ("pods", "apps/deployments"). */
  resource: string;
  /** Namespace segment of the key ('' for cluster-scoped). */
  namespace: string;
  /** The new object (for DELETED: the last state, stamped with the delete revision). */
  obj: KObject;
  /** The previous object (MODIFIED, DELETED). */
  prev?: KObject;
  json?: string;
  /** Encoded watch lines per event type, shared by watchers. */
  lines?: Record<string, string>;
}

export interface CacheWatcher {
  resource: string;
  namespace: string;
  onEvents(events: CacheEvent[]): void;
  /** The cache lost its store watch: the watcher must end (clients re-list or re-watch). */
  onClose(reason: string): void;
}

/** Returns the JSON of an entry or event, serializing at most once. */
export function encodedJson(x: CacheEntry | CacheEvent): string {
  return (x.json ??= JSON.stringify(x.obj));
}

/**
 * The watch line of an event (`{"type":...,"object":...}` and a newline).
 * When the event's JSON is not serialized yet, it becomes a slice of the
 * line, so the two share one copy of the characters.
 */
export function encodedLine(e: CacheEvent, type: string): string {
  const head = `{"type":"${type}","object":`;
  const memo = e instanceof EntryEvent ? e.memoizedJson : e.json;
  if (memo !== undefined) return `${head}${memo}}\n`;
  const line = `${head}${JSON.stringify(e.obj)}}\n`;
  e.json = line.slice(head.length, line.length - 2);
  return line;
}

/** Groups whose names have no dot (legacy built-in groups). Any other first segment with a dot is a group. */
const DOTLESS_GROUPS = new Set(['apps', 'batch', 'autoscaling', 'policy']);

/** Splits a key relative to the registry prefix into storage resource, namespace and name. */
export function splitRegistryKey(rel: string, namespacedHint?: (resource: string) => boolean): { resource: string; namespace: string; name: string } {
  const segs = rel.split('/');
  let resource: string;
  let rest: string[];
  if (segs.length > 2 && (segs[0]!.includes('.') || DOTLESS_GROUPS.has(segs[0]!))) {
    resource = `${segs[0]}/${segs[1]}`;
    rest = segs.slice(2);
  } else {
    resource = segs[0]!;
    rest = segs.slice(1);
  }
  if (rest.length >= 2 || (namespacedHint && namespacedHint(resource) && rest.length === 2)) return { resource, namespace: rest[0]!, name: rest.slice(1).join('/') };
  return { resource, namespace: '', name: rest[0] ?? '' };
}

function decode(kv: KeyValue, rev: number): KObject {
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(rev);
  return obj;
}

/** Shares the managedFields subtrees and short strings of a decoded object with equal ones (in place; values stay equal). */
export function internObject(obj: KObject): void {
  internManagedFields(obj);
  internStrings(obj);
}

/**
 * Interned short string values (names, namespaces, uids, timestamps, images,
 * reasons): JSON.parse gives every object its own copies, the same few
 * thousand values repeated over every pod, Event and version. Bounded as
 * fieldsIntern.
 */
const stringIntern = new Map<string, string>();
const STRING_INTERN_MAX = 200_000;
const STRING_INTERN_LEN = 96;

function internString(v: string): string {
  const s = stringIntern.get(v);
  if (s !== undefined) return s;
  if (stringIntern.size >= STRING_INTERN_MAX) stringIntern.clear();
  stringIntern.set(v, v);
  return v;
}

/** Replaces short string values of an object tree (not frozen parts) by interned ones. */
function internStrings(o: Record<string, any> | any[]): void {
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const v = o[i];
      if (typeof v === 'string') {
        if (v.length <= STRING_INTERN_LEN) o[i] = internString(v);
      } else if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) internStrings(v);
    }
    return;
  }
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string') {
      if (v.length <= STRING_INTERN_LEN) o[k] = internString(v);
    } else if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) internStrings(v);
  }
}

/**
 * Interned fieldsV1 trees (hash-consing). The objects one manager writes
 * (the pods of a ReplicaSet, a kubelet's statuses, a component's Events)
 * own nearly the same fields, so their trees are equal but for a few keys
 * (a generated volume name): the cache keeps one frozen copy of each
 * distinct subtree, keyed by its keys and its children's ids, instead of one
 * per object and version (a tree is mostly empty `{}` leaves, 56 bytes
 * each: half the heap of a cached pod). Bounded: the table starts over when
 * full (subtrees already shared stay shared).
 */
const fieldsIntern = new Map<string, Record<string, unknown>>();
const fieldsId = new WeakMap<object, number>();
let nextFieldsId = 1;
const FIELDS_INTERN_MAX = 100_000;

/** The shared frozen copy of a fieldsV1 (sub)tree, or the tree itself when it is not made only of objects. */
function internFields(o: Record<string, any>): Record<string, any> {
  if (Object.isFrozen(o)) return o;
  let key = '';
  for (const k in o) {
    const v = o[k];
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return o;
    const c = internFields(v);
    const id = fieldsId.get(c);
    if (id === undefined) return o;
    if (c !== v) o[k] = c;
    key += `${k}\u0000${id}\u0001`;
  }
  const shared = fieldsIntern.get(key);
  if (shared !== undefined) return shared;
  if (fieldsIntern.size >= FIELDS_INTERN_MAX) fieldsIntern.clear();
  Object.freeze(o);
  fieldsId.set(o, nextFieldsId++);
  fieldsIntern.set(key, o);
  return o;
}

/**
 * Replaces each managedFields entry's fieldsV1 by the shared frozen tree of
 * the same content. Safe because fieldsV1 objects are never mutated, only
 * replaced (managed-fields.ts, patch/apply.ts), and objects of the cache are
 * never mutated at all (writers work on structuredClone copies, which are
 * not frozen).
 */
export function internManagedFields(obj: KObject): void {
  const mf = obj.metadata?.managedFields;
  if (!Array.isArray(mf)) return;
  for (const e of mf) {
    const f = e?.fieldsV1;
    if (f !== null && typeof f === 'object' && !Array.isArray(f)) e.fieldsV1 = internFields(f);
  }
}

const byKey = (a: CacheEntry, b: CacheEntry): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The index of key in a key-sorted array, or -1. */
function indexOfKey(arr: readonly CacheEntry[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (arr[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < arr.length && arr[lo]!.key === key ? lo : -1;
}

/**
 * A new key-sorted array: `arr` with `changes` applied (key -> new entry, or
 * null for removed). Replacements only: a copy patched in place; otherwise
 * one merge with the sorted added entries.
 */
export function mergeSorted(arr: readonly CacheEntry[], changes: ReadonlyMap<string, CacheEntry | null>): CacheEntry[] {
  const at: number[] = [];
  const added: CacheEntry[] = [];
  let removed = false;
  for (const [key, e] of changes) {
    const i = indexOfKey(arr, key);
    if (i < 0) {
      if (e) added.push(e);
    } else if (e) at.push(i);
    else removed = true;
  }
  if (!removed && added.length === 0) {
    const out = arr.slice();
    for (const i of at) out[i] = changes.get(out[i]!.key)!;
    return out;
  }
  added.sort(byKey);
  const out: CacheEntry[] = [];
  let j = 0;
  for (const old of arr) {
    while (j < added.length && added[j]!.key < old.key) out.push(added[j++]!);
    const ch = changes.get(old.key);
    if (ch === undefined) out.push(old);
    else if (ch !== null) out.push(ch);
  }
  while (j < added.length) out.push(added[j++]!);
  return out;
}

/** An ADDED or MODIFIED event: it shares its entry's object and serialization. */
class EntryEvent implements CacheEvent {
  lines?: Record<string, string>;
  constructor(
    readonly type: CacheEventType,
    readonly rev: number,
    readonly key: string,
    readonly resource: string,
    readonly namespace: string,
    private readonly entry: CacheEntry,
    private readonly prevEntry: CacheEntry | undefined,
  ) {}

  get obj(): KObject {
    return this.entry.obj;
  }

  get prev(): KObject | undefined {
    return this.prevEntry?.obj;
  }

  get json(): string {
    return encodedJson(this.entry);
  }

  /** The entry's JSON if serialized already (does not serialize). */
  get memoizedJson(): string | undefined {
    return this.entry.json;
  }

  set json(v: string | undefined) {
    this.entry.json = v;
  }
}

/**
 * A version superseded by a newer one lives on only in the history buffer
 * (its events' obj and the next event's prev). When its JSON is already
 * memoized (watched resources), the entry keeps only that string: the parsed
 * object is held weakly and decoded again if it was collected. A parsed
 * object takes several times the memory of its JSON.
 */
function compact(entry: CacheEntry): void {
  const json = entry.json;
  if (json === undefined) return;
  let ref = new WeakRef(entry.obj);
  Object.defineProperty(entry, 'obj', {
    get: () => {
      let o = ref.deref();
      if (o === undefined) {
        o = JSON.parse(json) as KObject;
        ref = new WeakRef(o);
      }
      return o;
    },
    enumerable: true,
    configurable: true,
  });
}

// History kept in memory: at most BUFFER_CAPACITY events, and beyond BUFFER_MIN only
// those of the last BUFFER_WINDOW_MS (upstream's eventFreshDuration) whose objects
// total at most BUFFER_MAX_BYTES of JSON (a superseded version nobody serialized stays
// parsed, several times its JSON: a burst of pod writes would otherwise hold 100,000
// of them). Older watches are served from the store (history-watch.ts), so the window
// only saves store reads.
const BUFFER_CAPACITY = 100_000;
const BUFFER_MAX_BYTES = 64 << 20;
const BUFFER_MIN = 100;
const BUFFER_WINDOW_MS = 75_000;
/** Age (ms) of a cached version before it is interned; a sweep runs at most INTERN_SLICE_MS before yielding. */
const INTERN_DELAY_MS = 1000;
const INTERN_SLICE_MS = 8;
/** A cache nobody has read or watched for this long drops its memoized JSON (rebuilt on demand). */
const IDLE_MS = 60_000;

export class WatchCache {
  /** Newest revision applied. */
  rev = 0;
  /** Events with rev > bufferStart are all in the buffer. */
  bufferStart = 0;
  /**
   * (ClusterRegistry) For a put event of the registry's own write: the object
   * it stored, as a private copy equal to JSON.parse of the value with
   * metadata.resourceVersion set; undefined otherwise (the value is parsed).
   * Saves a JSON.parse per write.
   */
  written?: (kv: KeyValue) => KObject | undefined;
  private readonly byResource = new Map<string, Map<string, CacheEntry>>();
  /** Per resource: namespace → its entries (cluster-scoped and all-namespace lists use byResource). */
  private readonly byNamespace = new Map<string, Map<string, Map<string, CacheEntry>>>();
  /** Sorted entry arrays per `resource\0namespace`, brought up to date lazily after a change. */
  private readonly sorted = new Map<string, CacheEntry[]>();
  /** Per sorted array: key -> its new entry (null: removed) since the array was built. */
  private readonly sortedChanges = new Map<string, Map<string, CacheEntry | null>>();
  private buffer: CacheEvent[] = [];
  /** Arrival time of each buffered event (same indexes as buffer). */
  private bufferTimes: number[] = [];
  /** Stored size (JSON characters) of each buffered event's object (same indexes as buffer), and their sum from bufferHead. */
  private bufferSizes: number[] = [];
  private bufferBytes = 0;
  private bufferHead = 0;
  private readonly watchers = new Set<CacheWatcher>();
  private readonly anyListeners = new Set<(events: CacheEvent[]) => void>();
  /** Watchers by `resource\0namespace` ('' namespace = all namespaces). */
  private readonly watchersByKey = new Map<string, Set<CacheWatcher>>();
  private waiters: Array<{ rev: number; resolve: () => void }> = [];
  private storeWatch: Watcher | undefined;
  /** Last list/eventsSince/addWatcher (Date.now()), for idle trimming (single gets, as writes do, do not count). */
  private lastRead = Date.now();
  private memoDropped = false;
  private started: Promise<void> | undefined;
  private closed = false;
  /**
   * Entries to intern (internObject), in two generations: a sweep every
   * INTERN_DELAY_MS interns the older one's entries still current, so the
   * versions a burst of writes replaces within a second (a pod's binding,
   * ContainerCreating, Running) are never walked; only survivors are.
   */
  private internOld: CacheEntry[] = [];
  private internNew: CacheEntry[] = [];
  /** Storage resource of each entry of internOld / internNew. */
  private internOldRes: string[] = [];
  private internNewRes: string[] = [];
  /** Watchers per storage resource (any namespace). */
  private readonly watchedResources = new Map<string, number>();
  private internTimer: unknown;

  constructor(
    private readonly backend: Backend,
    /** `/k8s/<uid>/registry/` */
    readonly prefix: string,
    /** JSON characters of history kept beyond BUFFER_MIN events (default BUFFER_MAX_BYTES). */
    private readonly historyBytes = BUFFER_MAX_BYTES,
  ) {}

  /** Loads the cache (once) and starts following the store. */
  ready(): Promise<void> {
    return (this.started ??= this.load());
  }

  private async load(): Promise<void> {
    const r = await this.backend.range({ prefix: this.prefix });
    this.byResource.clear();
    this.byNamespace.clear();
    this.sorted.clear();
    this.sortedChanges.clear();
    for (const kv of r.kvs) {
      const { resource, namespace } = splitRegistryKey(kv.key.slice(this.prefix.length));
      const obj = decode(kv, kv.modRevision);
      internObject(obj);
      this.put(resource, namespace, { key: kv.key, rev: kv.modRevision, obj });
    }
    this.rev = r.revision;
    this.bufferStart = r.revision;
    this.buffer = [];
    this.bufferTimes = [];
    this.bufferSizes = [];
    this.bufferBytes = 0;
    this.bufferHead = 0;
    this.storeWatch = this.backend.watch(this.prefix, { afterRevision: r.revision }, {
      onEvents: (evs) => this.apply(evs),
      onError: (err) => this.lost(err),
    });
    this.wake();
  }

  private lost(err: StoreError): void {
    this.storeWatch = undefined;
    for (const w of [...this.watchers]) w.onClose(`watch cache lost its store watch: ${err.message}`);
    this.watchers.clear();
    this.watchersByKey.clear();
    this.watchedResources.clear();
    if (this.closed) return;
    // Re-list and follow again; readers wait on `started`.
    this.started = this.load().catch(() => {
      this.started = undefined;
    });
  }

  private mapFor(resource: string): Map<string, CacheEntry> {
    let m = this.byResource.get(resource);
    if (!m) {
      m = new Map();
      this.byResource.set(resource, m);
    }
    return m;
  }

  private nsMap(resource: string, namespace: string): Map<string, CacheEntry> {
    let r = this.byNamespace.get(resource);
    if (!r) {
      r = new Map();
      this.byNamespace.set(resource, r);
    }
    let m = r.get(namespace);
    if (!m) {
      m = new Map();
      r.set(namespace, m);
    }
    return m;
  }

  private put(resource: string, namespace: string, e: CacheEntry): void {
    this.mapFor(resource).set(e.key, e);
    if (namespace) this.nsMap(resource, namespace).set(e.key, e);
    this.noteSorted(`${resource}\0`, e.key, e);
    if (namespace) this.noteSorted(`${resource}\0${namespace}`, e.key, e);
  }

  /**
   * A change to a sorted list already built: remembered, and applied at the
   * next list() by a merge (linear) instead of sorting the whole list again
   * (a sort of 100,000 pods held the event loop ~100 ms, after every write).
   */
  private noteSorted(k: string, key: string, e: CacheEntry | null): void {
    const arr = this.sorted.get(k);
    if (!arr) return;
    let ch = this.sortedChanges.get(k);
    if (!ch) this.sortedChanges.set(k, (ch = new Map()));
    ch.set(key, e);
    if (ch.size > 1024 && ch.size > arr.length) {
      // A list nobody reads any more: drop it (rebuilt by a sort when read) rather than collect its changes.
      this.sorted.delete(k);
      this.sortedChanges.delete(k);
    }
  }

  private remove(resource: string, namespace: string, key: string): void {
    this.mapFor(resource).delete(key);
    if (namespace) {
      const m = this.byNamespace.get(resource)?.get(namespace);
      m?.delete(key);
      if (m && m.size === 0) this.byNamespace.get(resource)!.delete(namespace);
    }
    this.noteSorted(`${resource}\0`, key, null);
    if (namespace) this.noteSorted(`${resource}\0${namespace}`, key, null);
  }

  private apply(evs: WatchEvent[]): void {
    const out: CacheEvent[] = [];
    let superseded: CacheEntry[] | undefined;
    for (const ev of evs) {
      const rev = ev.kv.modRevision;
      const key = ev.kv.key;
      const { resource, namespace } = splitRegistryKey(key.slice(this.prefix.length));
      const m = this.mapFor(resource);
      const prevEntry = m.get(key);
      let ce: CacheEvent;
      if (ev.type === 'delete') {
        if (prevEntry) {
          this.remove(resource, namespace, key);
          prevEntry.superseded = true;
        }
        const base = prevEntry?.obj ?? (ev.prevKv ? decode(ev.prevKv, ev.prevKv.modRevision) : decode(ev.kv, rev));
        const obj = { ...base, metadata: { ...base.metadata, resourceVersion: String(rev) } };
        ce = { type: 'DELETED', rev, key, resource, namespace, obj, prev: prevEntry?.obj };
      } else {
        const obj = this.written?.(ev.kv) ?? decode(ev.kv, rev);
        const entry: CacheEntry = { key, rev, obj };
        this.put(resource, namespace, entry);
        this.queueIntern(entry, resource);
        ce = new EntryEvent(prevEntry ? 'MODIFIED' : 'ADDED', rev, key, resource, namespace, entry, prevEntry);
        if (prevEntry) {
          prevEntry.superseded = true;
          (superseded ??= []).push(prevEntry);
        }
      }
      out.push(ce);
      this.buffer.push(ce);
      const size = ev.kv.value.length || (ev.prevKv?.value.length ?? 0);
      this.bufferSizes.push(size);
      this.bufferBytes += size;
      if (rev > this.rev) this.rev = rev;
    }
    const now = Date.now();
    for (let i = 0; i < out.length; i++) this.bufferTimes.push(now);
    this.trimBuffer(now);
    if (out.length > 0 && this.watchers.size > 0) {
      // Group the batch by resource and by resource+namespace once, then hand each watcher its group.
      const groups = new Map<string, CacheEvent[]>();
      for (const e of out) {
        for (const k of [`${e.resource}\0`, `${e.resource}\0${e.namespace}`]) {
          const g = groups.get(k);
          if (g) g.push(e);
          else groups.set(k, [e]);
          if (e.namespace === '') break;
        }
      }
      for (const [k, evs] of groups) {
        const ws = this.watchersByKey.get(k);
        if (ws) for (const w of ws) w.onEvents(evs);
      }
    }
    if (out.length > 0) for (const fn of this.anyListeners) fn(out);
    // Listeners have seen the previous versions: history keeps them as JSON only.
    if (superseded) for (const e of superseded) compact(e);
    this.wake();
  }

  /** Drops history beyond the capacity and the window (keeping BUFFER_MIN events). */
  private trimBuffer(now: number): void {
    let drop = Math.max(0, this.buffer.length - this.bufferHead - BUFFER_CAPACITY);
    let bytes = this.bufferBytes;
    for (let i = 0; i < drop; i++) bytes -= this.bufferSizes[this.bufferHead + i]!;
    while (this.buffer.length - this.bufferHead - drop > BUFFER_MIN && (now - this.bufferTimes[this.bufferHead + drop]! > BUFFER_WINDOW_MS || bytes > this.historyBytes)) {
      bytes -= this.bufferSizes[this.bufferHead + drop]!;
      drop++;
    }
    if (drop > 0) {
      this.bufferBytes = bytes;
      this.bufferHead += drop;
      this.bufferStart = this.buffer[this.bufferHead - 1]!.rev;
      if (this.bufferHead > 4096 && this.bufferHead * 2 > this.buffer.length) {
        this.buffer = this.buffer.slice(this.bufferHead);
        this.bufferTimes = this.bufferTimes.slice(this.bufferHead);
        this.bufferSizes = this.bufferSizes.slice(this.bufferHead);
        this.bufferHead = 0;
      }
    }
    if (this.bufferHead > 0 && this.buffer.length - this.bufferHead <= BUFFER_MIN && this.bufferHead >= this.buffer.length - this.bufferHead) {
      // Release the dropped prefix's memory even when no more events come (idle clusters).
      this.buffer = this.buffer.slice(this.bufferHead);
      this.bufferTimes = this.bufferTimes.slice(this.bufferHead);
      this.bufferSizes = this.bufferSizes.slice(this.bufferHead);
      this.bufferHead = 0;
    }
  }

  /**
   * Bounds the memory of a quiet cache (called periodically by the API
   * server): history older than the window goes even without new events,
   * and a cache nobody has read or watched for a minute drops its memoized
   * JSON (objects stay parsed; JSON is rebuilt on the next read).
   */
  trim(now = Date.now()): void {
    this.trimBuffer(now);
    if (this.watchers.size > 0 || now - this.lastRead < IDLE_MS || this.memoDropped) return;
    for (const m of this.byResource.values()) for (const e of m.values()) e.json = undefined;
    for (let i = this.bufferHead; i < this.buffer.length; i++) {
      const e = this.buffer[i]!;
      e.lines = undefined;
      // An entry event's JSON is its entry's (a superseded entry's only copy).
      if (!(e instanceof EntryEvent)) e.json = undefined;
    }
    this.memoDropped = true;
  }

  private touch(): void {
    this.lastRead = Date.now();
    this.memoDropped = false;
  }

  /** Declares the cache current through `rev` (no events of ours up to it). */
  private wake(): void {
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) (this.rev >= w.rev ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  /** Resolves once the cache has applied every event up to rev (our own writes). */
  async waitFor(rev: number, timeoutMs = 3000): Promise<boolean> {
    await this.ready();
    if (this.rev >= rev) return true;
    // Revisions are global to the store: rev may belong to writes outside this
    // cluster. Once the store has reached rev, every event of ours up to it has
    // been handed to our watch (the in-process broadcaster delivers on a
    // microtask; etcd's stream gets a moment), so the cache is current at rev.
    if ((await this.backend.currentRevision()) >= rev) {
      await new Promise<void>((r) => setImmediate(r));
      if (this.backend.kind === 'etcd') await new Promise<void>((r) => setTimeout(r, 50));
      if (this.rev < rev) {
        this.rev = rev;
        this.wake();
      }
      return true;
    }
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        rev,
        resolve: () => {
          clearTimeout(t);
          resolve(true);
        },
      };
      this.waiters.push(waiter);
    });
  }

  get(key: string): CacheEntry | undefined {
    const { resource } = splitRegistryKey(key.slice(this.prefix.length));
    return this.byResource.get(resource)?.get(key);
  }

  /**
   * Entries of a storage resource (optionally one namespace), ordered by key.
   * The array is shared and cached until the next change: do not mutate it.
   */
  list(resource: string, namespace: string): readonly CacheEntry[] {
    this.touch();
    const k = `${resource}\0${namespace}`;
    let arr = this.sorted.get(k);
    const changes = this.sortedChanges.get(k);
    if (arr && !changes) return arr;
    this.sortedChanges.delete(k);
    if (arr && changes) arr = mergeSorted(arr, changes);
    else {
      const m = namespace === '' ? this.byResource.get(resource) : this.byNamespace.get(resource)?.get(namespace);
      if (!m) {
        this.sorted.delete(k);
        return [];
      }
      arr = [...m.values()].sort(byKey);
    }
    if (arr.length === 0) {
      this.sorted.delete(k);
      return arr;
    }
    this.sorted.set(k, arr);
    return arr;
  }

  /** Number of objects of a storage resource in a namespace (or all). */
  count(resource: string, namespace = ''): number {
    return namespace === '' ? (this.byResource.get(resource)?.size ?? 0) : this.list(resource, namespace).length;
  }

  /**
   * Events after `rev` for a resource, from the buffer; undefined when rev is
   * older than the buffer (the caller answers 410 Expired).
   */
  eventsSince(rev: number, resource: string, namespace: string): CacheEvent[] | undefined {
    this.touch();
    if (rev < this.bufferStart) return undefined;
    const out: CacheEvent[] = [];
    // Binary search the first event with rev > rev.
    let lo = this.bufferHead;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.buffer[mid]!.rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.buffer.length; i++) {
      const e = this.buffer[i]!;
      if (e.resource === resource && (namespace === '' || e.namespace === namespace)) out.push(e);
    }
    return out;
  }

  /** Listens to every event of the cluster (controllers that span resources, e.g. the garbage collector). */
  onAny(fn: (events: CacheEvent[]) => void): () => void {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  /** Every storage resource the cache holds objects of. */
  resources(): string[] {
    return [...this.byResource.keys()];
  }

  addWatcher(w: CacheWatcher): () => void {
    this.touch();
    this.watchers.add(w);
    this.watchedResources.set(w.resource, (this.watchedResources.get(w.resource) ?? 0) + 1);
    const k = `${w.resource}\0${w.namespace}`;
    let set = this.watchersByKey.get(k);
    if (!set) {
      set = new Set();
      this.watchersByKey.set(k, set);
    }
    set.add(w);
    return () => {
      if (!this.watchers.delete(w)) return;
      const n = (this.watchedResources.get(w.resource) ?? 1) - 1;
      if (n > 0) this.watchedResources.set(w.resource, n);
      else this.watchedResources.delete(w.resource);
      const s = this.watchersByKey.get(k);
      s?.delete(w);
      if (s && s.size === 0) this.watchersByKey.delete(k);
    };
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  private queueIntern(e: CacheEntry, resource: string): void {
    this.internNew.push(e);
    this.internNewRes.push(resource);
    this.internTimer ??= setTimeout(() => this.internSweep(), INTERN_DELAY_MS).unref();
  }

  /**
   * Interns the older generation's current entries, INTERN_SLICE_MS at a
   * time (the rest on the next turn of the loop). An entry of a resource
   * nobody watches also drops the JSON its write memoized (a pod's is ~5 KB
   * next to its parsed object): it only saves a serialization for a later
   * get or list, rebuilt on demand; watched resources keep it for their
   * watchers.
   */
  private internSweep(): void {
    this.internTimer = undefined;
    if (this.closed) return;
    if (this.internOld.length === 0) {
      this.internOld = this.internNew;
      this.internOldRes = this.internNewRes;
      this.internNew = [];
      this.internNewRes = [];
    }
    const q = this.internOld;
    const t0 = performance.now();
    let i = 0;
    while (i < q.length) {
      const res = this.internOldRes[i]!;
      const e = q[i++]!;
      if (!e.superseded) {
        internObject(e.obj);
        if (e.json !== undefined && !this.watchedResources.has(res)) e.json = undefined;
      }
      if ((i & 63) === 0 && performance.now() - t0 > INTERN_SLICE_MS) break;
    }
    if (i < q.length) {
      this.internOld = q.slice(i);
      this.internOldRes = this.internOldRes.slice(i);
      this.internTimer = setImmediate(() => this.internSweep());
      return;
    }
    this.internOld = [];
    this.internOldRes = [];
    if (this.internNew.length > 0) this.internTimer = setTimeout(() => this.internSweep(), INTERN_DELAY_MS).unref();
  }

  close(): void {
    this.closed = true;
    this.storeWatch?.cancel();
    for (const w of [...this.watchers]) w.onClose('watch cache closed');
    this.watchers.clear();
    this.watchersByKey.clear();
    this.watchedResources.clear();
  }
}
