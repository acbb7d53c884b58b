/**
 * The ReplicaSet controller of kube-controller-manager, as one pass over a
 * cluster's watch cache (the data plane loop calls it on pod and ReplicaSet
 * events): each ReplicaSet not being deleted gets spec.replicas active pods
 * (created from its template with generateName `<rs>-` and a controller
 * ownerReference; removed in upstream's order, rollout.ts podsToDelete), and
 * its status (replicas, fullyLabeledReplicas, readyReplicas,
 * availableReplicas honouring minReadySeconds, observedGeneration).
 *
 * As upstream, one sync creates or deletes at most BURST_REPLICAS pods of a
 * ReplicaSet (the creates' events start the next pass), and the pass keeps
 * at most WRITE_CONCURRENCY writes in flight, so a 5,000-replica scale-up
 * flows through scheduling and the kubelets in batches instead of holding
 * 5,000 creates (and the event loop) at once.
 *
 * Not done yet: adoption of orphan pods matching the selector, release of
 * owned pods that stop matching, the slow-start batches of creates, the
 * ReplicaFailure condition.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { labelSelectorFromObject, matchLabels } from '../../kube/apiserver/selectors.ts';
import { isPodAvailable, isPodReady, podsToDelete } from '../../kube/controllers/deployment/rollout.ts';
import { inParallel } from '../../util/in-parallel.ts';
import { WorkSlice } from './work-slice.ts';

/** kube-controller-manager's burstReplicas: pods created or deleted per ReplicaSet per sync. */
export const BURST_REPLICAS = 500;

/** Writes a pass keeps in flight. */
const WRITE_CONCURRENCY = 256;

export interface ReplicaSetPassContext {
  reg: ClusterRegistry;
  nowMs: number;
  /** Ask for another pass at this simulated time (minReadySeconds). */
  wake(atMs: number): void;
  log: { warn(o: object, msg?: string): void };
  /** Only bring statuses up to date (no creates or deletes): the data plane's status catch-up at the end of a pass. */
  statusOnly?: boolean;
}

function controllerUid(pod: KObject): string | undefined {
  return (pod.metadata?.ownerReferences ?? []).find((o) => o.controller)?.uid;
}

/**
 * What a sync reads of a pod, per pod object (watch-cache objects are never
 * mutated; a pass reads every pod twice, and most are unchanged since the
 * last pass): its controller, whether it is active and Ready, and whether it
 * is fully labeled for a ReplicaSet spec (rechecked when the spec object
 * changes).
 */
interface PodFacts {
  owner: string | undefined;
  active: boolean;
  ready: boolean;
  labeledFor?: unknown;
  labeled?: boolean;
}
const podFacts = new WeakMap<KObject, PodFacts>();

function factsOf(p: KObject): PodFacts {
  let f = podFacts.get(p);
  if (!f) {
    f = { owner: controllerUid(p), active: !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed', ready: isPodReady(p) };
    podFacts.set(p, f);
  }
  return f;
}

/** syncReplicaSets runs one reconcile of every ReplicaSet of the cluster. */
export async function syncReplicaSets(ctx: ReplicaSetPassContext): Promise<void> {
  const { reg } = ctx;
  const rsRes = reg.scheme.get('apps', 'v1', 'replicasets');
  const podsRes = reg.scheme.get('', 'v1', 'pods');
  if (!rsRes || !podsRes) return;
  const rsList = reg.cache.list('apps/replicasets', '');
  if (rsList.length === 0) return;
  const owned = new Map<string, KObject[]>();
  const slice = new WorkSlice();
  for (const e of reg.cache.list('pods', '')) {
    if (slice.due()) await slice.yield();
    const uid = factsOf(e.obj).owner;
    if (!uid) continue;
    const l = owned.get(uid) ?? [];
    l.push(e.obj);
    owned.set(uid, l);
  }
  const jobs: Array<() => Promise<unknown>> = [];
  for (const e of rsList) {
    if (slice.due()) await slice.yield();
    const rs = e.obj;
    const m = rs.metadata!;
    const ns = m.namespace!;
    const pods = owned.get(m.uid!) ?? [];
    const active = pods.filter((p) => factsOf(p).active);
    const want: number = rs.spec?.replicas ?? 1;
    if (!m.deletionTimestamp && !ctx.statusOnly) {
      const diff = active.length - want;
      if (diff < 0) {
        const t = rs.spec?.template ?? {};
        for (let k = 0; k < Math.min(-diff, BURST_REPLICAS); k++) {
          const pod: KObject = {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: {
              generateName: `${m.name}-`,
              namespace: ns,
              labels: { ...(t.metadata?.labels ?? {}) },
              ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
              ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: m.name, uid: m.uid, controller: true, blockOwnerDeletion: true }],
            },
            spec: structuredClone(t.spec ?? {}),
          };
          jobs.push(() => reg.create(podsRes, ns, pod, { fieldManager: 'kube-controller-manager', handOff: true }).catch((err) => ctx.log.warn({ err, rs: m.name }, 'replicaset: pod create failed')));
        }
      } else if (diff > 0) {
        for (const p of podsToDelete(active, Math.min(diff, BURST_REPLICAS))) {
          jobs.push(() => reg.delete(podsRes, ns, p.metadata!.name!, { preconditions: { uid: p.metadata!.uid } }).catch(() => {}));
        }
      }
    }
    // Status from what is observed now (the next pass sees the creates and deletes).
    const sel = labelSelectorFromObject(rs.spec?.selector) ?? [];
    const minReady: number = rs.spec?.minReadySeconds ?? 0;
    const tmplLabels = rs.spec?.template?.metadata?.labels ?? {};
    let available = 0;
    let ready = 0;
    let labeled = 0;
    const spec = rs.spec;
    for (const p of active) {
      const f = factsOf(p);
      if (f.labeledFor !== spec) {
        f.labeled = matchLabels(sel, p.metadata?.labels) && Object.entries(tmplLabels).every(([k, v]) => p.metadata?.labels?.[k] === v);
        f.labeledFor = spec;
      }
      if (f.labeled) labeled++;
      if (f.ready) ready++;
      if (minReady === 0 ? f.ready : isPodAvailable(p, minReady, ctx.nowMs)) available++;
      else if (minReady > 0 && f.ready) {
        const readyCond = (p.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
        ctx.wake(Date.parse(readyCond.lastTransitionTime) + minReady * 1000);
      }
    }
    const status: Record<string, unknown> = {
      replicas: active.length,
      fullyLabeledReplicas: labeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: m.generation ?? 1,
    };
    for (const k of ['readyReplicas', 'availableReplicas', 'fullyLabeledReplicas']) if (status[k] === 0) delete status[k];
    const cur = rs.status ?? {};
    const same = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'].every((k) => (cur[k] ?? 0) === (status[k] ?? 0));
    if (!same) {
      jobs.push(() =>
        reg
          .guaranteedUpdate(rsRes, ns, m.name!, (c) => {
            if (!c || c.metadata?.uid !== m.uid) throw new Error('replicaset replaced');
            const next = structuredClone(c);
            next.metadata!.resourceVersion = '';
            next.status = { ...(c.status?.conditions ? { conditions: c.status.conditions } : {}), ...status };
            return next;
          }, { fieldManager: 'kube-controller-manager', subresource: 'status' })
          .catch((err) => ctx.log.warn({ err, rs: m.name }, 'replicaset: status update failed')),
      );
    }
  }
  await inParallel(jobs, WRITE_CONCURRENCY);
}
