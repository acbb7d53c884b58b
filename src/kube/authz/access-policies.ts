/**
 * EKS access policies as Kubernetes permissions. An access entry's
 * associated policies (AssociateAccessPolicy) grant their rules at cluster
 * scope or in a list of namespaces, on top of RBAC. The EKS user guide
 * ("Review access policy permissions") describes them as the user-facing
 * ClusterRoles: AmazonEKSClusterAdminPolicy ~ cluster-admin,
 * AmazonEKSAdminPolicy ~ admin, AmazonEKSEditPolicy ~ edit,
 * AmazonEKSViewPolicy ~ view, AmazonEKSAdminViewPolicy = read everything,
 * secrets included. The ClusterRole-like ones read the cluster's own
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

/** How each access policy's rules are found: fixed rules, or a ClusterRole of the cluster. */
const POLICIES: Record<string, { rules?: PolicyRule[]; clusterRole?: string }> = {
  AmazonEKSClusterAdminPolicy: { rules: ALL },
  AmazonEKSAdminPolicy: { clusterRole: 'admin' },
  AmazonEKSEditPolicy: { clusterRole: 'edit' },
  AmazonEKSViewPolicy: { clusterRole: 'view' },
  AmazonEKSAdminViewPolicy: { rules: READ_ALL },
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
