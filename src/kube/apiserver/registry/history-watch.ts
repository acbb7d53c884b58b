/**
 * Watches that start before the watch cache's window, served from the store
 * as kube-apiserver serves them from etcd: the resource's objects are read at
 * the requested revision (to know each event's previous state, which label
 * and field selectors need), then a store watch delivers every event after
 * it. Only a compacted revision is 410 Gone (the caller checks
 * `compactRevision` first; a compaction racing with the range or the watch
 * surfaces as StoreError Compacted through `onError`).
 */
import { type Backend, type KeyValue, StoreError, type Watcher, isStoreError } from '../../../store/backend.ts';
import type { KObject } from '../../api/types.ts';
import { type CacheEvent, splitRegistryKey } from './watch-cache.ts';

export interface HistoryWatchOptions {
  backend: Backend;
  /** The cluster's registry prefix, `/k8s/<uid>/registry/`. */
  registryPrefix: string;
  /** Storage resource ("pods", "apps/deployments"). */
  resource: string;
  /** Namespace to watch ('' = all namespaces, or a cluster-scoped resource). */
  namespace: string;
  /** Deliver every event with a revision greater than this. */
  afterRevision: number;
  /** Events in revision order, each exactly once, shaped like the watch cache's. */
  onEvents(events: CacheEvent[]): void;
  /** The store watch ended (Compacted: the revision went away meanwhile). No event follows. */
  onError(err: StoreError): void;
}

function decode(kv: KeyValue, rev: number): KObject {
  const obj = JSON.parse(kv.value) as KObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(rev);
  return obj;
}

/**
 * Starts a watch from the store. Resolves once the range at `afterRevision`
 * is read and the store watch is running; returns its cancel function.
 * Rejects with StoreError Compacted when the revision is no longer readable.
 */
export async function watchFromStore(o: HistoryWatchOptions): Promise<() => void> {
  const prefix = `${o.registryPrefix}${o.resource}/${o.namespace ? `${o.namespace}/` : ''}`;
  const state = new Map<string, KObject>();
  if (o.afterRevision > 0) {
    const r = await o.backend.range({ prefix, revision: o.afterRevision });
    for (const kv of r.kvs) state.set(kv.key, decode(kv, kv.modRevision));
  }
  let cancelled = false;
  let watcher: Watcher | undefined;
  watcher = o.backend.watch(prefix, { afterRevision: o.afterRevision }, {
    onEvents: (evs) => {
      if (cancelled) return;
      const out: CacheEvent[] = [];
      for (const ev of evs) {
        const rev = ev.kv.modRevision;
        const key = ev.kv.key;
        const { resource, namespace } = splitRegistryKey(key.slice(o.registryPrefix.length));
        if (resource !== o.resource) continue;
        const prev = state.get(key) ?? (ev.prevKv ? decode(ev.prevKv, ev.prevKv.modRevision) : undefined);
        if (ev.type === 'delete') {
          state.delete(key);
          const base = prev ?? decode(ev.kv, rev);
          out.push({ type: 'DELETED', rev, key, resource, namespace, obj: { ...base, metadata: { ...base.metadata, resourceVersion: String(rev) } }, prev });
        } else {
          const obj = decode(ev.kv, rev);
          state.set(key, obj);
          out.push({ type: prev ? 'MODIFIED' : 'ADDED', rev, key, resource, namespace, obj, prev });
        }
      }
      if (out.length > 0) o.onEvents(out);
    },
    onError: (err) => {
      if (cancelled) return;
      cancelled = true;
      o.onError(err);
    },
  });
  return () => {
    cancelled = true;
    watcher?.cancel();
    watcher = undefined;
  };
}

/** True when err means the revision was compacted (answer 410 Gone). */
export function isCompacted(err: unknown): err is StoreError {
  return isStoreError(err, 'Compacted');
}
