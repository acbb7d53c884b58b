/**
 * The garbage collector (kube-controller-manager's garbagecollector), in
 * process for each cluster, driven by the watch cache:
 *  - Background: when an owner is gone, dependents whose owners are all gone
 *    are deleted; dependents with other live owners lose the dangling
 *    ownerReference;
 *  - Orphan: an owner being deleted with the `orphan` finalizer has the
 *    ownerReferences to it removed from its dependents, then the finalizer;
 *  - Foreground: an owner with the `foregroundDeletion` finalizer has its
 *    dependents deleted (in the foreground too) and loses the finalizer once
 *    none is left.
 */
import type { KObject } from '../api/types.ts';
import type { Resource } from '../api/scheme.ts';
import { isStatusError } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';
import { type CacheEvent, splitRegistryKey } from './registry/watch-cache.ts';

interface Log {
  warn(obj: unknown, msg?: string): void;
}

export class GarbageCollector {
  /** owner uid → dependent keys. */
  private readonly dependents = new Map<string, Set<string>>();
  /** uid → key of every live object. */
  private readonly uids = new Map<string, string>();
  private readonly queue = new Set<string>(); // owner uids to process
  private running = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly reg: ClusterRegistry,
    private readonly log: Log,
  ) {}

  start(): void {
    void this.reg.cache.ready().then(() => {
      if (this.stopped) return;
      this.unsubscribe = this.reg.cache.onAny((evs) => this.observe(evs));
      for (const res of this.reg.cache.resources()) {
        for (const e of this.reg.cache.list(res, '')) this.index(e.key, e.obj, undefined);
      }
      // Dependents whose owners are already gone, and owners waiting on the collector.
      for (const owner of this.dependents.keys()) if (!this.uids.has(owner)) this.queue.add(owner);
      for (const res of this.reg.cache.resources()) {
        for (const e of this.reg.cache.list(res, '')) if (this.waiting(e.obj)) this.queue.add(e.obj.metadata!.uid!);
      }
      void this.run();
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.retry) clearTimeout(this.retry);
  }

  private waiting(o: KObject): boolean {
    const f: string[] = o.metadata?.finalizers ?? [];
    return !!o.metadata?.deletionTimestamp && (f.includes('orphan') || f.includes('foregroundDeletion'));
  }

  private index(key: string, obj: KObject | undefined, prev: KObject | undefined): void {
    for (const r of prev?.metadata?.ownerReferences ?? []) this.dependents.get(r.uid)?.delete(key);
    if (prev?.metadata?.uid && !obj) this.uids.delete(prev.metadata.uid);
    if (!obj) return;
    if (obj.metadata?.uid) this.uids.set(obj.metadata.uid, key);
    for (const r of obj.metadata?.ownerReferences ?? []) {
      if (!r?.uid) continue;
      let s = this.dependents.get(r.uid);
      if (!s) this.dependents.set(r.uid, (s = new Set()));
      s.add(key);
    }
  }

  private observe(evs: CacheEvent[]): void {
    for (const e of evs) {
      const uid = e.obj.metadata?.uid;
      if (e.type === 'DELETED') {
        this.index(e.key, undefined, e.prev ?? e.obj);
        if (uid && this.dependents.get(uid)?.size) this.queue.add(uid);
        // A dependent went away: its owners waiting in the foreground may be done.
        for (const r of (e.prev ?? e.obj).metadata?.ownerReferences ?? []) if (r?.uid && this.uids.has(r.uid)) this.queue.add(r.uid);
      } else {
        this.index(e.key, e.obj, e.prev);
        if (uid && this.waiting(e.obj)) this.queue.add(uid);
        for (const r of e.obj.metadata?.ownerReferences ?? []) if (r?.uid && !this.uids.has(r.uid)) this.queue.add(r.uid);
      }
    }
    if (this.queue.size > 0) void this.run();
  }

  private resourceOf(key: string): { res: Resource; ns: string; name: string } | undefined {
    const { resource, namespace, name } = splitRegistryKey(key.slice(this.reg.prefix.length));
    const res = this.reg.scheme.all().find((r) => r.storageResource === resource && r.preferred) ?? this.reg.scheme.all().find((r) => r.storageResource === resource);
    return res ? { res, ns: namespace, name } : undefined;
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let again = false;
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const uid = this.queue.values().next().value as string;
        this.queue.delete(uid);
        try {
          if (!(await this.process(uid))) again = true;
        } catch (e) {
          if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) this.log.warn({ err: e, uid }, 'garbage collector');
          this.queue.add(uid);
          again = true;
          break;
        }
      }
    } finally {
      this.running = false;
    }
    if (again && !this.stopped) {
      if (this.retry) clearTimeout(this.retry);
      this.retry = setTimeout(() => {
        // Re-queue owners still waiting.
        void this.run();
      }, 500);
      this.retry.unref();
    }
  }

  private async removeOwnerRef(key: string, ownerUid: string): Promise<void> {
    const t = this.resourceOf(key);
    if (!t) return;
    await this.reg.guaranteedUpdate(t.res, t.ns, t.name, (cur) => {
      if (!cur) throw Object.assign(new Error('gone'), { status: { reason: 'NotFound' } });
      cur.metadata!.ownerReferences = (cur.metadata!.ownerReferences ?? []).filter((r: any) => r.uid !== ownerUid);
      if (cur.metadata!.ownerReferences!.length === 0) delete cur.metadata!.ownerReferences;
      cur.metadata!.resourceVersion = '';
      return cur;
    }, { fieldManager: 'generic-garbage-collector' }).catch((e) => {
      if (!isStatusError(e, 'NotFound') && (e as { status?: { reason?: string } }).status?.reason !== 'NotFound') throw e;
    });
  }

  private async removeFinalizer(ownerKey: string, finalizer: string): Promise<void> {
    const t = this.resourceOf(ownerKey);
    if (!t) return;
    await this.reg.guaranteedUpdate(t.res, t.ns, t.name, (cur) => {
      if (!cur) throw Object.assign(new Error('gone'), { status: { reason: 'NotFound' } });
      cur.metadata!.finalizers = (cur.metadata!.finalizers ?? []).filter((f: string) => f !== finalizer);
      cur.metadata!.resourceVersion = '';
      return cur;
    }, { fieldManager: 'generic-garbage-collector' }).catch((e) => {
      if ((e as { status?: { reason?: string } }).status?.reason !== 'NotFound') throw e;
    });
  }

  /** Returns false when the owner must be looked at again later. */
  private async process(ownerUid: string): Promise<boolean> {
    const deps = [...(this.dependents.get(ownerUid) ?? [])];
    const ownerKey = this.uids.get(ownerUid);
    const owner = ownerKey ? this.reg.cache.get(ownerKey)?.obj : undefined;
    if (!owner) {
      // Background: the owner is gone.
      for (const key of deps) {
        const dep = this.reg.cache.get(key)?.obj;
        const t = this.resourceOf(key);
        if (!dep || !t) continue;
        const live = (dep.metadata?.ownerReferences ?? []).filter((r: any) => r.uid !== ownerUid && this.uids.has(r.uid));
        if (live.length > 0) await this.removeOwnerRef(key, ownerUid);
        else if (!dep.metadata?.deletionTimestamp) {
          await this.reg.delete(t.res, t.ns, t.name, { propagationPolicy: 'Background', preconditions: { uid: dep.metadata?.uid } }).catch((e) => {
            if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) throw e;
          });
        }
      }
      return true;
    }
    const fins: string[] = owner.metadata?.finalizers ?? [];
    if (!owner.metadata?.deletionTimestamp) return true;
    if (fins.includes('orphan')) {
      for (const key of deps) await this.removeOwnerRef(key, ownerUid);
      await this.removeFinalizer(ownerKey!, 'orphan');
      return true;
    }
    if (fins.includes('foregroundDeletion')) {
      for (const key of deps) {
        const dep = this.reg.cache.get(key)?.obj;
        const t = this.resourceOf(key);
        if (!dep || !t || dep.metadata?.deletionTimestamp) continue;
        await this.reg.delete(t.res, t.ns, t.name, { propagationPolicy: 'Foreground' }).catch((e) => {
          if (!isStatusError(e, 'NotFound')) throw e;
        });
      }
      const left = [...(this.dependents.get(ownerUid) ?? [])].filter((k) => this.reg.cache.get(k));
      if (left.length > 0) return false;
      await this.removeFinalizer(ownerKey!, 'foregroundDeletion');
      return true;
    }
    return true;
  }
}
