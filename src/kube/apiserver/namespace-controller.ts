/**
 * The namespace controller and the service-account controller's `default`
 * ServiceAccount, in-process for each cluster:
 *  - every Active namespace gets a `default` ServiceAccount;
 *  - a namespace being deleted (Terminating) has its content deleted, and
 *    once nothing is left its `kubernetes` finalizer is removed, which lets
 *    the registry remove the namespace.
 * Objects with finalizers keep the namespace Terminating, as upstream.
 */
import type { KObject } from '../api/types.ts';
import type { Resource } from '../api/scheme.ts';
import { isStatusError } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';

interface Log {
  warn(obj: unknown, msg?: string): void;
}

const RETRY_MS = 1000;

export class NamespaceController {
  private unsubscribe: (() => void) | undefined;
  private readonly queue = new Set<string>();
  private running = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly reg: ClusterRegistry,
    private readonly log: Log,
  ) {}

  private get nsRes(): Resource {
    return this.reg.scheme.get('', 'v1', 'namespaces')!;
  }

  start(): void {
    void this.reg.cache.ready().then(() => {
      if (this.stopped) return;
      this.unsubscribe = this.reg.cache.addWatcher({
        resource: 'namespaces',
        namespace: '',
        onEvents: (evs) => {
          for (const e of evs) if (e.type !== 'DELETED') this.observe(e.obj);
        },
        onClose: () => {
          this.unsubscribe = undefined;
          if (!this.stopped) setTimeout(() => this.start(), RETRY_MS).unref();
        },
      });
      for (const e of this.reg.cache.list('namespaces', '')) this.observe(e.obj);
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private observe(ns: KObject): void {
    const name = ns.metadata?.name;
    if (!name) return;
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating' || ns.status?.phase !== 'Active' || !this.reg.cache.get(this.reg.keyFor(this.reg.scheme.get('', 'v1', 'serviceaccounts')!, name, 'default'))) {
      this.queue.add(name);
      void this.run();
    }
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let again = false;
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const name = this.queue.values().next().value as string;
        this.queue.delete(name);
        try {
          if (!(await this.sync(name))) again = true;
        } catch (e) {
          if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) this.log.warn({ err: e, namespace: name }, 'namespace controller');
          this.queue.add(name);
          again = true;
          break;
        }
      }
    } finally {
      this.running = false;
    }
    if (again && !this.stopped) {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.run(), RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** Returns false when the namespace must be looked at again later. */
  private async sync(name: string): Promise<boolean> {
    const cur = await this.reg.getFromStore(this.nsRes, '', name);
    if (!cur) return true;
    const ns = cur.obj;
    if (!ns.metadata?.deletionTimestamp) {
      await this.ensureDefaultServiceAccount(name);
      return true;
    }
    // Terminating: delete everything in it.
    let remaining = 0;
    const seen = new Set<string>();
    for (const r of this.reg.scheme.all()) {
      if (!r.namespaced || r.virtual || seen.has(r.storageResource)) continue;
      seen.add(r.storageResource);
      const prefix = this.reg.listPrefix(r, name);
      const items = await this.reg.backend.range({ prefix });
      for (const kv of items.kvs) {
        remaining++;
        const obj = JSON.parse(kv.value) as KObject;
        if (obj.metadata?.deletionTimestamp) continue;
        try {
          await this.reg.delete(r, name, obj.metadata!.name!, {});
        } catch (e) {
          if (!isStatusError(e, 'NotFound')) throw e;
        }
      }
    }
    if (remaining > 0) {
      const left = await this.countRemaining(name);
      if (left > 0) return false;
    }
    await this.reg.guaranteedUpdate(
      this.nsRes,
      '',
      name,
      (c) => {
        if (!c) return c as unknown as KObject;
        c.spec = { ...(c.spec ?? {}), finalizers: (c.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
        c.metadata!.resourceVersion = '';
        return c;
      },
      { subresource: 'finalize' },
    );
    return true;
  }

  private async countRemaining(ns: string): Promise<number> {
    let n = 0;
    const seen = new Set<string>();
    for (const r of this.reg.scheme.all()) {
      if (!r.namespaced || r.virtual || seen.has(r.storageResource)) continue;
      seen.add(r.storageResource);
      n += (await this.reg.backend.range({ prefix: this.reg.listPrefix(r, ns), countOnly: true })).count;
    }
    return n;
  }

  private async ensureDefaultServiceAccount(ns: string): Promise<void> {
    const sa = this.reg.scheme.get('', 'v1', 'serviceaccounts')!;
    if (await this.reg.getFromStore(sa, ns, 'default')) return;
    try {
      await this.reg.create(sa, ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
    } catch (e) {
      if (!isStatusError(e, 'AlreadyExists') && !isStatusError(e, 'Forbidden') && !isStatusError(e, 'NotFound')) throw e;
    }
  }
}
