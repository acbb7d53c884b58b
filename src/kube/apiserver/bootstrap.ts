/**
 * Cluster bootstrap objects, as a fresh EKS cluster has them: the namespaces
 * default, kube-system, kube-public, kube-node-lease; the `kubernetes`
 * Service (first IP of the service CIDR) with its Endpoints and
 * EndpointSlice; default ServiceAccounts; the system PriorityClasses; the
 * upstream bootstrap ClusterRoles and ClusterRoleBindings; and, on the first
 * bootstrap only, EKS's default add-ons (src/sim/addons/default-addons.ts).
 *
 * bootstrapCluster is idempotent: objects that exist are left as they are.
 */
import type { Backend } from '../../store/backend.ts';
import { type Clock, SimClock } from '../../sim/clock.ts';
import type { ClusterInfo } from '../types.ts';
import { Scheme } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { isStatusError } from './errors.ts';
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from './bootstrap-policy.ts';
import { eksClusterRbac, eksKubeSystemRbac } from '../authz/eks-bootstrap.ts';
import { ClusterRegistry } from './registry/generic-store.ts';
import { nthIp } from './registry/service-allocator.ts';
import { defaultAddonObjects } from '../../sim/addons/default-addons.ts';
import { eksGp2StorageClass } from './eks-storage-class.ts';

export const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Addresses the `kubernetes` Endpoints list (the control plane's ENIs in a real cluster). */
export const API_ENDPOINT_IPS = ['172.16.0.10', '172.16.1.10'];

function objects(cluster: ClusterInfo): Array<[string, string, string, KObject]> {
  const out: Array<[string, string, string, KObject]> = [];
  for (const ns of BOOTSTRAP_NAMESPACES) out.push(['', 'namespaces', '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }]);
  for (const ns of BOOTSTRAP_NAMESPACES) out.push(['', 'serviceaccounts', ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } }]);
  out.push([
    '',
    'services',
    'default',
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
      spec: { type: 'ClusterIP', clusterIP: nthIp(cluster.serviceIpv4Cidr || '10.100.0.0/16', 1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 443 }], sessionAffinity: 'None' },
    },
  ]);
  out.push([
    '',
    'endpoints',
    'default',
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: API_ENDPOINT_IPS.map((ip) => ({ ip })), ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }],
    },
  ]);
  out.push([
    'discovery.k8s.io',
    'endpointslices',
    'default',
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: API_ENDPOINT_IPS.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
    },
  ]);
  for (const [name, value] of [
    ['system-node-critical', 2000001000],
    ['system-cluster-critical', 2000000000],
  ] as const) {
    out.push([
      'scheduling.k8s.io',
      'priorityclasses',
      '',
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority', description: `Used for system critical pods that must not be moved from their current node.` },
    ]);
  }
  for (const o of bootstrapClusterRoles()) out.push(['rbac.authorization.k8s.io', 'clusterroles', '', o]);
  for (const o of bootstrapClusterRoleBindings()) out.push(['rbac.authorization.k8s.io', 'clusterrolebindings', '', o]);
  // (auth) The eks:* roles and bindings EKS adds for its control-plane components.
  const eks = eksClusterRbac();
  const eksKs = eksKubeSystemRbac();
  for (const o of eks.clusterRoles) out.push(['rbac.authorization.k8s.io', 'clusterroles', '', o]);
  for (const o of eks.clusterRoleBindings) out.push(['rbac.authorization.k8s.io', 'clusterrolebindings', '', o]);
  for (const o of eksKs.roles) out.push(['rbac.authorization.k8s.io', 'roles', 'kube-system', o]);
  for (const o of eksKs.roleBindings) out.push(['rbac.authorization.k8s.io', 'rolebindings', 'kube-system', o]);
  return out;
}

/**
 * Creates the bootstrap objects of a cluster that do not exist yet, through
 * the registry (so they are defaulted and validated like any other write).
 */
export async function bootstrapCluster(backend: Backend, cluster: ClusterInfo, clock: Clock = new SimClock()): Promise<void> {
  const scheme = new Scheme();
  const reg = new ClusterRegistry({ backend, clock, cluster, scheme });
  try {
    const list = objects(cluster);
    // The default add-ons (aws-node, kube-proxy, coredns) and the gp2 StorageClass come with the first bootstrap only: once deleted they stay deleted.
    if (!(await reg.getFromStore(scheme.preferred('', 'namespaces')!, '', 'kube-system'))) {
      for (const o of defaultAddonObjects(cluster)) list.push([o.group, o.resource, o.namespace, o.obj]);
      list.push(['storage.k8s.io', 'storageclasses', '', eksGp2StorageClass(cluster)]);
    }
    for (const [group, resource, ns, obj] of list) {
      const r = scheme.preferred(group, resource)!;
      if (await reg.getFromStore(r, ns, obj.metadata!.name!)) continue;
      try {
        await reg.create(r, ns, structuredClone(obj), { fieldManager: 'kube-apiserver' });
      } catch (e) {
        if (!isStatusError(e, 'AlreadyExists')) throw e;
      }
    }
  } finally {
    reg.cache.close();
  }
}
