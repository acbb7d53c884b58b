/**
 * EKS access policies as Kubernetes permissions. An access entry's
 * associated policies (AssociateAccessPolicy) grant their rules at cluster
 * scope or in a list of namespaces, on top of RBAC. The EKS user guide
 * ("Review access policy permissions") describes them as the user-facing
 * ClusterRoles: AmazonEKSClusterAdminPolicy ~ cluster-admin,
 * AmazonEKSAdminPolicy ~ admin, AmazonEKSEditPolicy ~ edit,
 * AmazonEKSViewPolicy ~ view, AmazonEKSAdminViewPolicy = read everything,
 * secrets included; the others ListAccessPolicies returns (secret reader,
 * hybrid nodes, cluster insights, the Auto Mode policies) as described
 * below. The ClusterRole-like ones read the cluster's own
 * admin/edit/view ClusterRoles, so aggregation (CRD roles labelled
 * rbac.authorization.k8s.io/aggregate-to-edit, ...) reaches them as it does
 * on EKS.
 */
import type { PolicyRule, RbacSource, VirtualGrant } from './rbac.ts';

export const ACCESS_POLICY_ARN_PREFIX = 'arn:aws:eks::aws:cluster-access-policy/';

const ALL: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];
const READ_ALL: PolicyRule[] = [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] }];

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
/** Leader-election leases (the Auto Mode capability policies; EKS scopes them to its components' lease names). */
const LEASES: PolicyRule[] = [rule(['coordination.k8s.io'], ['leases'], ['get', 'watch', 'create', 'update', 'patch'])];
const EVENTS = rule(['', 'events.k8s.io'], ['events'], ['create', 'patch', 'update', 'get', 'list', 'watch']);
const CRDS = rule(['apiextensions.k8s.io'], ['customresourcedefinitions'], ['create', ...READ]);

/**
 * How each access policy's rules are found: fixed rules, or a ClusterRole of
 * the cluster. The rules follow the EKS user guide's "Review access policy
 * permissions" tables where it gives them (Admin, ClusterAdmin, AdminView,
 * Edit, View, Hybrid) and its prose where it describes the Auto Mode and
 * capability policies without a table (those are modeled from the described
 * resources and verbs).
 */
const POLICIES: Record<string, { rules?: PolicyRule[]; clusterRole?: string }> = {
  AmazonEKSClusterAdminPolicy: { rules: ALL },
  AmazonEKSAdminPolicy: { clusterRole: 'admin' },
  AmazonEKSEditPolicy: { clusterRole: 'edit' },
  AmazonEKSViewPolicy: { clusterRole: 'view' },
  AmazonEKSAdminViewPolicy: { rules: READ_ALL },
  AmazonEKSSecretReaderPolicy: { rules: [rule([''], ['secrets'], READ)] },
  AmazonEKSHybridPolicy: { rules: [rule(['*'], ['nodes'], ['list'])] },
  AmazonEKSClusterInsightsPolicy: {
    rules: [rule([''], ['nodes', 'pods', 'namespaces', 'services', 'endpoints', 'configmaps'], READ), rule(['apps'], ['deployments', 'daemonsets', 'replicasets', 'statefulsets'], READ), rule(['*'], ['*'], ['list'])],
  },
  AmazonEKSBlockStoragePolicy: { rules: LEASES },
  AmazonEKSLoadBalancingPolicy: { rules: LEASES },
  AmazonEKSNetworkingPolicy: { rules: LEASES },
  AmazonEKSComputePolicy: { rules: LEASES },
  AmazonEKSBlockStorageClusterPolicy: {
    rules: [
      rule(['storage.k8s.io'], ['csidrivers'], [...READ, ...WRITE]),
      rule([''], ['persistentvolumes'], [...READ, ...WRITE]),
      rule([''], ['persistentvolumeclaims'], ['get', 'list', 'watch', 'update']),
      rule([''], ['persistentvolumeclaims/status'], ['patch']),
      rule([''], ['nodes', 'pods'], READ),
      EVENTS,
      rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattributesclasses'], READ),
      rule(['storage.k8s.io'], ['volumeattachments', 'volumeattachments/status'], ['get', 'list', 'watch', 'update', 'patch']),
      rule(['snapshot.storage.k8s.io', 'groupsnapshot.storage.k8s.io'], ['*'], [...READ, ...WRITE]),
    ],
  },
  AmazonEKSComputeClusterPolicy: {
    rules: [
      rule(['karpenter.sh'], ['nodepools', 'nodepools/status', 'nodeclaims', 'nodeclaims/status'], [...READ, ...WRITE]),
      rule(['eks.amazonaws.com'], ['nodeclasses', 'nodeclasses/status', 'nodediagnostics'], [...READ, ...WRITE]),
      rule([''], ['pods', 'nodes', 'persistentvolumes', 'persistentvolumeclaims', 'replicationcontrollers', 'namespaces'], READ),
      rule(['storage.k8s.io'], ['storageclasses', 'csinodes', 'volumeattachments'], READ),
      rule(['apps'], ['deployments', 'daemonsets', 'replicasets', 'statefulsets'], ['list', 'watch']),
      rule(['policy'], ['poddisruptionbudgets'], READ),
      EVENTS,
      rule([''], ['nodes'], ['update', 'patch', 'delete']),
      rule([''], ['pods/eviction'], ['create']),
      rule([''], ['pods'], ['delete']),
      CRDS,
    ],
  },
  AmazonEKSLoadBalancingClusterPolicy: {
    rules: [
      EVENTS,
      rule([''], ['pods', 'nodes', 'endpoints', 'namespaces'], READ),
      rule([''], ['pods/status'], ['update', 'patch']),
      rule([''], ['services', 'services/status'], [...READ, ...WRITE]),
      rule(['networking.k8s.io'], ['ingresses', 'ingresses/status'], [...READ, ...WRITE]),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule(['networking.k8s.io'], ['ingressclasses'], READ),
      rule(['eks.amazonaws.com', 'elbv2.k8s.aws'], ['targetgroupbindings', 'targetgroupbindings/status'], [...READ, ...WRITE]),
      rule(['eks.amazonaws.com', 'elbv2.k8s.aws'], ['ingressclassparams'], READ),
      CRDS,
      rule(['admissionregistration.k8s.io'], ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'], ['create', ...READ, 'update', 'patch']),
    ],
  },
  AmazonEKSNetworkingClusterPolicy: {
    rules: [
      rule(['eks.amazonaws.com'], ['nodeclasses', 'nodeclasses/status'], READ),
      rule(['karpenter.sh'], ['nodeclaims', 'nodeclaims/status'], READ),
      rule([''], ['pods'], READ),
      rule(['vpcresources.k8s.aws', 'eks.amazonaws.com'], ['cninodes', 'cninodes/status'], [...READ, ...WRITE]),
      CRDS,
      EVENTS,
    ],
  },
  // Service-integration policies the guide lists without a table: modeled on the user-facing roles they resemble.
  AmazonAIOpsAssistantPolicy: { clusterRole: 'view' },
  AmazonARCRegionSwitchScalingPolicy: { rules: [rule(['apps'], ['deployments', 'statefulsets', 'replicasets'], READ), rule(['apps'], ['deployments/scale', 'statefulsets/scale', 'replicasets/scale'], ['get', 'update', 'patch'])] },
  AmazonEMRJobPolicy: { clusterRole: 'edit' },
  AmazonSagemakerHyperpodClusterPolicy: { clusterRole: 'view' },
  AmazonSagemakerHyperpodControllerPolicy: { clusterRole: 'edit' },
  AmazonSagemakerHyperpodSystemNamespacePolicy: { clusterRole: 'admin' },
  AmazonEKSAutoNodePolicy: {
    rules: [
      rule([''], ['endpoints', 'services', 'nodes', 'pods', 'namespaces', 'persistentvolumes', 'persistentvolumeclaims'], READ),
      rule(['discovery.k8s.io'], ['endpointslices'], READ),
      rule(['storage.k8s.io'], ['volumeattachments', 'csinodes', 'storageclasses'], READ),
      rule(['vpcresources.k8s.aws', 'eks.amazonaws.com'], ['cninodes'], ['get', 'list', 'watch', 'update', 'patch']),
      rule([''], ['nodes/status', 'pods/status'], ['patch', 'update']),
      EVENTS,
    ],
  },
};

/** Names of the access policies whose Kubernetes permissions localeks models. */
export function modeledAccessPolicies(): string[] {
  return Object.keys(POLICIES);
}

/** An association of an access policy with an access entry (EKS AssociatedAccessPolicy). */
export interface PolicyAssociation {
  policyArn: string;
  accessScope: { type: 'cluster' | 'namespace' | string; namespaces?: string[] };
}

/**
 * grantsFor turns an access entry's policy associations into virtual RBAC
 * grants. Unknown policy ARNs grant nothing.
 */
export function grantsFor(src: RbacSource, associations: PolicyAssociation[]): VirtualGrant[] {
  const out: VirtualGrant[] = [];
  for (const a of associations) {
    if (!a.policyArn.startsWith(ACCESS_POLICY_ARN_PREFIX)) continue;
    const p = POLICIES[a.policyArn.slice(ACCESS_POLICY_ARN_PREFIX.length)];
    if (!p) continue;
    const rules = p.rules ?? src.getClusterRole(p.clusterRole!)?.rules ?? [];
    const namespaces = a.accessScope.type === 'namespace' ? (a.accessScope.namespaces ?? []) : undefined;
    // A namespace-scoped association with no namespaces grants nothing.
    if (namespaces && namespaces.length === 0) continue;
    out.push({ namespaces, rules, source: `EKS access policy ${a.policyArn}` });
  }
  return out;
}
