/**
 * The `eks:*` ClusterRoles, ClusterRoleBindings, Roles and RoleBindings EKS
 * creates in every cluster for its control-plane components (the add-on
 * manager, the managed node group manager, the certificate controller, the
 * Fargate manager, the pod identity webhook, ...), bound to the users those
 * components authenticate as. They are what `kubectl get clusterroles` shows
 * on EKS next to upstream's bootstrap policy, so tools and audits that look
 * for them find them. The rules are the permissions each component needs
 * for what it does (as far as EKS documents or shows them); localeks's own
 * simulated components do not authenticate through them.
 */
import type { KObject } from '../api/types.ts';

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] };

const READ = ['get', 'list', 'watch'];
const r = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]): Rule => ({ apiGroups, resources, verbs, ...(resourceNames ? { resourceNames } : {}) });
const RBAC = 'rbac.authorization.k8s.io';

const meta = (name: string, namespace?: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { 'eks.amazonaws.com/component': name.replace(/^eks:/, '') } });

interface Component {
  name: string;
  /** ClusterRole rules (none: no ClusterRole). */
  clusterRules?: Rule[];
  /** kube-system Role rules (none: no Role). */
  roleRules?: Rule[];
  /** Subjects of the bindings (default: the user of the same name). */
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

const COMPONENTS: Component[] = [
  {
    name: 'eks:addon-manager',
    clusterRules: [
      r(['*'], ['*'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
      r([RBAC], ['clusterroles', 'clusterrolebindings', 'roles', 'rolebindings'], ['bind', 'escalate']),
    ],
    roleRules: [r([''], ['configmaps', 'secrets', 'serviceaccounts', 'services'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'])],
  },
  {
    name: 'eks:node-manager',
    clusterRules: [
      r([''], ['nodes'], ['get', 'list', 'watch', 'patch', 'update', 'delete']),
      r([''], ['pods'], ['get', 'list', 'watch', 'delete']),
      r([''], ['pods/eviction'], ['create']),
      r(['apps'], ['daemonsets', 'statefulsets', 'replicasets'], READ),
      r(['policy'], ['poddisruptionbudgets'], READ),
      r([''], ['configmaps'], READ),
    ],
    roleRules: [r([''], ['configmaps'], ['get', 'create', 'update', 'patch'], ['aws-auth'])],
  },
  {
    name: 'eks:certificate-controller',
    clusterRules: [
      r(['certificates.k8s.io'], ['certificatesigningrequests'], READ),
      r(['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], ['update', 'patch']),
      r(['certificates.k8s.io'], ['signers'], ['approve', 'sign'], ['kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client-kubelet', 'beta.eks.amazonaws.com/app-serving']),
      r(['authorization.k8s.io'], ['subjectaccessreviews'], ['create']),
    ],
    roleRules: [r([''], ['configmaps'], READ, ['extension-apiserver-authentication'])],
  },
  {
    name: 'eks:fargate-manager',
    clusterRules: [
      r([''], ['nodes', 'nodes/status'], ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']),
      r([''], ['pods', 'pods/status'], ['get', 'list', 'watch', 'update', 'patch', 'delete']),
      r([''], ['events'], ['create', 'patch', 'update']),
    ],
    roleRules: [r(['coordination.k8s.io'], ['leases'], ['get', 'create', 'update', 'patch'])],
  },
  {
    name: 'eks:pod-identity-mutating-webhook',
    clusterRules: [r([''], ['serviceaccounts'], READ)],
  },
  {
    name: 'eks:k8s-metrics',
    clusterRules: [r([''], ['nodes', 'pods'], ['list']), r(['apps'], ['deployments', 'daemonsets', 'statefulsets'], ['list']), { nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    roleRules: [r([''], ['configmaps'], ['get'], ['eks-certificates-controller'])],
  },
  {
    name: 'eks:cluster-event-watcher',
    clusterRules: [r([''], ['events'], READ), r(['events.k8s.io'], ['events'], READ)],
  },
  { name: 'eks:nodewatcher', clusterRules: [r([''], ['nodes'], READ)] },
  { name: 'eks:az-poller', clusterRules: [r([''], ['nodes'], READ)] },
  { name: 'eks:tagging-controller', clusterRules: [r([''], ['nodes'], READ)] },
  {
    name: 'eks:cloud-controller-manager',
    clusterRules: [
      r([''], ['nodes', 'nodes/status'], ['get', 'list', 'watch', 'update', 'patch', 'delete']),
      r([''], ['services', 'services/status'], ['get', 'list', 'watch', 'update', 'patch']),
      r([''], ['events'], ['create', 'patch', 'update']),
      r([''], ['serviceaccounts'], ['create', 'get']),
      r(['coordination.k8s.io'], ['leases'], ['get', 'create', 'update']),
    ],
  },
  {
    name: 'eks:node-bootstrapper',
    clusterRules: [r(['certificates.k8s.io'], ['certificatesigningrequests/selfnodeserver'], ['create'])],
    subjects: [
      { kind: 'Group', name: 'system:bootstrappers' },
      { kind: 'Group', name: 'system:nodes' },
    ],
  },
  {
    name: 'eks:authenticator',
    roleRules: [r([''], ['configmaps'], READ, ['aws-auth'])],
  },
];

function subjectsOf(c: Component) {
  return (c.subjects ?? [{ kind: 'User', name: c.name }]).map((s) => (s.kind === 'ServiceAccount' ? s : { apiGroup: RBAC, ...s }));
}

/** The eks:* ClusterRoles and their ClusterRoleBindings. */
export function eksClusterRbac(): { clusterRoles: KObject[]; clusterRoleBindings: KObject[] } {
  const with_ = COMPONENTS.filter((c) => c.clusterRules);
  return {
    clusterRoles: with_.map((c) => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: meta(c.name), rules: c.clusterRules })),
    clusterRoleBindings: with_.map((c) => ({ apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding', metadata: meta(c.name), roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: c.name }, subjects: subjectsOf(c) })),
  };
}

/** The eks:* Roles and RoleBindings of kube-system. */
export function eksKubeSystemRbac(): { roles: KObject[]; roleBindings: KObject[] } {
  const with_ = COMPONENTS.filter((c) => c.roleRules);
  return {
    roles: with_.map((c) => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: meta(c.name, 'kube-system'), rules: c.roleRules })),
    roleBindings: with_.map((c) => ({ apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: meta(c.name, 'kube-system'), roleRef: { apiGroup: RBAC, kind: 'Role', name: c.name }, subjects: subjectsOf(c) })),
  };
}
