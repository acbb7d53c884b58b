/**
 * Built-in mutating admission for pods (kube-apiserver's default plugins):
 *  - ServiceAccount: spec.serviceAccountName defaults to "default", the
 *    service account must exist, and a projected kube-api-access-<suffix>
 *    volume is mounted at /var/run/secrets/kubernetes.io/serviceaccount
 *    unless automountServiceAccountToken is false;
 *  - DefaultTolerationSeconds: not-ready/unreachable NoExecute for 300 s;
 *  - Priority: spec.priority from spec.priorityClassName (the system
 *    classes, or a PriorityClass object), 0 by default.
 */
import type { KObject } from '../api/types.ts';
import { newForbidden } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';
import { generateName } from './registry/generic-store.ts';
import type { Resource } from '../api/scheme.ts';
import { namespaceLevels, podSecurityViolations } from './pod-security.ts';

const SA_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Pod Security admission for a pod (enforce rejects with 403, warn adds
 * warnings) and for the pod templates of workloads (warnings only, as upstream).
 */
export function admitPodSecurity(reg: ClusterRegistry, res: Resource, obj: KObject, warnings: string[] | undefined): void {
  const spec = res.storageResource === 'pods' ? obj.spec : res.storageResource === 'batch/cronjobs' ? obj.spec?.jobTemplate?.spec?.template?.spec : obj.spec?.template?.spec;
  if (!spec) return;
  const nsRes = reg.scheme.get('', 'v1', 'namespaces')!;
  const ns = reg.cache.get(reg.keyFor(nsRes, '', obj.metadata?.namespace ?? ''))?.obj;
  const { enforce, warn } = namespaceLevels(ns);
  if (!enforce && !warn) return;
  const isPod = res.storageResource === 'pods';
  if (enforce) {
    const v = podSecurityViolations(enforce, spec);
    if (v.length) {
      if (isPod) throw newForbidden({ group: '', resource: 'pods' }, obj.metadata?.name ?? '', `violates PodSecurity "${enforce}:latest": ${v.join(', ')}`);
      warnings?.push(`would violate PodSecurity "${enforce}:latest": ${v.join(', ')}`);
    }
  }
  if (warn && warn !== enforce) {
    const v = podSecurityViolations(warn, spec);
    if (v.length) warnings?.push(`would violate PodSecurity "${warn}:latest": ${v.join(', ')}`);
  }
}

/**
 * Whether a pod update matters to Pod Security admission (upstream's
 * isSignificantPodUpdate): a container image or a seccomp annotation changed,
 * or a container was added (ephemeral containers). Other updates are allowed
 * even in a namespace the pod no longer conforms to.
 */
export function significantPodUpdate(pod: KObject, old: KObject): boolean {
  const seccomp = 'seccomp.security.alpha.kubernetes.io/pod';
  const a = pod.metadata?.annotations ?? {};
  const b = old.metadata?.annotations ?? {};
  if (a[seccomp] !== b[seccomp]) return true;
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const now: any[] = pod.spec?.[field] ?? [];
    const before: any[] = old.spec?.[field] ?? [];
    if (now.length !== before.length) return true;
    for (let i = 0; i < now.length; i++) {
      if (now[i]?.image !== before[i]?.image) return true;
      const key = `container.seccomp.security.alpha.kubernetes.io/${now[i]?.name}`;
      if (a[key] !== b[key]) return true;
    }
  }
  return false;
}

export async function admitPodCreate(reg: ClusterRegistry, pod: KObject): Promise<void> {
  const spec = (pod.spec ??= {});
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const podsRes = { group: '', resource: 'pods' };
  // ServiceAccount.
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  const saRes = reg.scheme.get('', 'v1', 'serviceaccounts')!;
  const sa = reg.cache.get(reg.keyFor(saRes, ns, spec.serviceAccountName))?.obj ?? (await reg.getFromStore(saRes, ns, spec.serviceAccountName))?.obj;
  if (!sa) {
    throw newForbidden(podsRes, name, `error looking up service account ${ns}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`);
  }
  const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
  const containers: any[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const hasMount = containers.some((c) => (c.volumeMounts ?? []).some((m: any) => m.mountPath === SA_MOUNT));
  if (automount && !hasMount && containers.length > 0) {
    const volName = `kube-api-access-${generateName('').slice(0, 5)}`;
    spec.volumes = [
      ...(spec.volumes ?? []),
      {
        name: volName,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' }, path: 'namespace' }] } },
          ],
        },
      },
    ];
    for (const c of containers) c.volumeMounts = [...(c.volumeMounts ?? []), { name: volName, readOnly: true, mountPath: SA_MOUNT }];
  }
  // DefaultTolerationSeconds.
  const tol: any[] = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const has = tol.some((t) => (t.key === key || (t.operator === 'Exists' && !t.key)) && (!t.effect || t.effect === 'NoExecute'));
    if (!has) tol.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tol;
  // Priority.
  if (spec.priorityClassName) {
    const pcRes = reg.scheme.get('scheduling.k8s.io', 'v1', 'priorityclasses')!;
    const pc = reg.cache.get(reg.keyFor(pcRes, '', spec.priorityClassName))?.obj;
    if (!pc) throw newForbidden(podsRes, name, `no PriorityClass with name ${spec.priorityClassName} was found`);
    spec.priority = pc.value;
    spec.preemptionPolicy ??= pc.preemptionPolicy ?? 'PreemptLowerPriority';
  } else {
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
  }
}
