import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grantsFor, modeledAccessPolicies } from './access-policies.ts';
import { BindingIndex } from './rbac-index.ts';
import { aggregateRules, authorize, forbiddenMessage, rulesCover, type Attributes, type BindingLike, type RbacSource, type RoleLike, type UserInfo } from './rbac.ts';

function source(roles: RoleLike[], clusterRoles: RoleLike[], bindings: BindingLike[], clusterBindings: BindingLike[]): RbacSource {
  return {
    getRole: (ns, name) => roles.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
    getClusterRole: (name) => clusterRoles.find((r) => r.metadata.name === name),
    listClusterRoleBindings: () => clusterBindings,
    listRoleBindings: (ns) => bindings.filter((b) => b.metadata.namespace === ns),
  };
}

const src = source(
  [
    { metadata: { name: 'pod-reader', namespace: 'dev' }, rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/log'] }] },
    { metadata: { name: 'one-cm', namespace: 'dev' }, rules: [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }] },
  ],
  [
    { metadata: { name: 'cluster-admin' }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }] },
    { metadata: { name: 'scaler' }, rules: [{ verbs: ['update', 'patch'], apiGroups: ['apps'], resources: ['*/scale'] }] },
    { metadata: { name: 'health' }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez/*'] }] },
    { metadata: { name: 'view' }, rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: ['', 'apps'], resources: ['pods', 'deployments'] }] },
  ],
  [
    { metadata: { name: 'jane-reads', namespace: 'dev' }, subjects: [{ kind: 'User', name: 'jane' }], roleRef: { kind: 'Role', name: 'pod-reader' } },
    { metadata: { name: 'cm', namespace: 'dev' }, subjects: [{ kind: 'Group', name: 'cm-editors' }], roleRef: { kind: 'Role', name: 'one-cm' } },
    { metadata: { name: 'sa-scaler', namespace: 'dev' }, subjects: [{ kind: 'ServiceAccount', name: 'ci' }], roleRef: { kind: 'ClusterRole', name: 'scaler' } },
    { metadata: { name: 'dangling', namespace: 'dev' }, subjects: [{ kind: 'User', name: 'jane' }], roleRef: { kind: 'Role', name: 'missing' } },
  ],
  [
    { metadata: { name: 'masters' }, subjects: [{ kind: 'Group', name: 'system:masters' }], roleRef: { kind: 'ClusterRole', name: 'cluster-admin' } },
    { metadata: { name: 'health' }, subjects: [{ kind: 'Group', name: 'system:authenticated' }], roleRef: { kind: 'ClusterRole', name: 'health' } },
  ],
);

const jane: UserInfo = { name: 'jane', groups: ['system:authenticated'] };
const res = (verb: string, resource: string, extra: Partial<Attributes> = {}): Attributes => ({ verb, resourceRequest: true, apiGroup: '', resource, ...extra });

test('RBAC decisions (table)', () => {
  const cases: Array<[UserInfo, Attributes, boolean, string]> = [
    [jane, res('list', 'pods', { namespace: 'dev' }), true, 'role in namespace'],
    [jane, res('list', 'pods', { namespace: 'prod' }), false, 'role does not leak to other namespaces'],
    [jane, res('list', 'pods'), false, 'role does not grant cluster-wide list'],
    [jane, res('get', 'pods', { namespace: 'dev', subresource: 'log', name: 'p' }), true, 'subresource listed'],
    [jane, res('get', 'pods', { namespace: 'dev', subresource: 'exec', name: 'p' }), false, 'other subresource'],
    [jane, res('delete', 'pods', { namespace: 'dev', name: 'p' }), false, 'verb not granted'],
    [{ name: 'bob', groups: ['cm-editors'] }, res('get', 'configmaps', { namespace: 'dev', name: 'app-config' }), true, 'resourceNames hit'],
    [{ name: 'bob', groups: ['cm-editors'] }, res('get', 'configmaps', { namespace: 'dev', name: 'other' }), false, 'resourceNames miss'],
    [{ name: 'bob', groups: ['cm-editors'] }, res('list', 'configmaps', { namespace: 'dev' }), false, 'resourceNames never match list'],
    [{ name: 'system:serviceaccount:dev:ci', groups: [] }, res('patch', 'deployments', { apiGroup: 'apps', namespace: 'dev', subresource: 'scale', name: 'd' }), true, '*/scale for SA without namespace in subject'],
    [{ name: 'system:serviceaccount:prod:ci', groups: [] }, res('patch', 'deployments', { apiGroup: 'apps', namespace: 'dev', subresource: 'scale', name: 'd' }), false, 'SA of another namespace'],
    [{ name: 'system:serviceaccount:dev:ci', groups: [] }, res('patch', 'deployments', { apiGroup: 'apps', namespace: 'dev', name: 'd' }), false, '*/scale does not grant the main resource'],
    [{ name: 'root', groups: ['system:masters'] }, res('delete', 'nodes', { name: 'n' }), true, 'cluster-admin'],
    [{ name: 'root', groups: ['system:masters'] }, { verb: 'get', resourceRequest: false, path: '/metrics' }, true, 'cluster-admin non-resource'],
    [jane, { verb: 'get', resourceRequest: false, path: '/healthz' }, true, 'exact URL'],
    [jane, { verb: 'get', resourceRequest: false, path: '/livez/etcd' }, true, 'URL prefix wildcard'],
    [jane, { verb: 'get', resourceRequest: false, path: '/metrics' }, false, 'URL not granted'],
    [jane, { verb: 'post', resourceRequest: false, path: '/healthz' }, false, 'URL verb'],
    [jane, res('list', 'pods', { namespace: 'dev', apiGroup: 'apps' }), false, 'apiGroup must match: pods in apps is another resource'],
    [jane, res('get', 'configmaps', { namespace: 'dev', name: 'app-config' }), false, 'a dangling roleRef grants nothing'],
    [{ name: 'jane', groups: [] }, { verb: 'get', resourceRequest: false, path: '/healthz' }, false, 'groups are not implied: no system:authenticated, no binding'],
    [{ name: 'system:serviceaccount:dev:ci', groups: [] }, res('update', 'statefulsets', { apiGroup: 'apps', namespace: 'dev', subresource: 'scale', name: 's' }), true, '*/scale matches every resource\'s scale'],
    [{ name: 'system:serviceaccount:dev:ci', groups: [] }, res('update', 'deployments', { apiGroup: 'apps', namespace: 'prod', subresource: 'scale', name: 'd' }), false, 'RoleBinding to a ClusterRole grants in its namespace only'],
    [{ name: 'root', groups: ['system:masters'] }, res('escalate', 'clusterroles', { apiGroup: 'rbac.authorization.k8s.io', name: 'x' }), true, '* verbs include escalate/bind/impersonate'],
    [{ name: 'Jane', groups: ['system:authenticated'] }, res('list', 'pods', { namespace: 'dev' }), false, 'user names are case-sensitive'],
    [{ name: 'bob', groups: ['CM-EDITORS'] }, res('get', 'configmaps', { namespace: 'dev', name: 'app-config' }), false, 'group names are case-sensitive'],
  ];
  for (const [user, attrs, want, why] of cases) assert.equal(authorize(src, user, attrs).allowed, want, why);
  // The same decisions through the by-subject binding index the server uses.
  const cluster = src.listClusterRoleBindings();
  const byNs = new Map<string, BindingLike[]>();
  const ix = new BindingIndex<BindingLike>(
    (ns) => {
      if (ns === '') return cluster;
      if (!byNs.has(ns)) byNs.set(ns, src.listRoleBindings(ns));
      return byNs.get(ns)!;
    },
    (b) => b,
  );
  const indexed: RbacSource = { ...src, clusterRoleBindingsFor: (u) => ix.clusterRoleBindingsFor(u), roleBindingsFor: (u, ns) => ix.roleBindingsFor(u, ns) };
  for (const [user, attrs, want, why] of cases) assert.equal(authorize(indexed, user, attrs).allowed, want, `indexed: ${why}`);
});

test('forbidden messages match upstream', () => {
  assert.equal(forbiddenMessage(jane, res('list', 'pods', { namespace: 'prod' })), 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "prod"');
  assert.equal(
    forbiddenMessage(jane, res('get', 'deployments', { apiGroup: 'apps', name: 'web', subresource: 'scale' })),
    'deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments/scale" in API group "apps" at the cluster scope',
  );
  assert.equal(forbiddenMessage(jane, { verb: 'get', resourceRequest: false, path: '/metrics' }), 'forbidden: User "jane" cannot get path "/metrics"');
});

test('escalation check: rulesCover', () => {
  const owner = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'configmaps'] }, { verbs: ['*'], apiGroups: ['apps'], resources: ['*/scale'] }];
  assert.equal(rulesCover(owner, [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['x'] }]).covered, true);
  assert.equal(rulesCover(owner, [{ verbs: ['update'], apiGroups: ['apps'], resources: ['deployments/scale'] }]).covered, true);
  const r = rulesCover(owner, [{ verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'] }]);
  assert.equal(r.covered, false);
  assert.deepEqual(r.missing, [{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]);
  assert.equal(rulesCover(owner, [{ verbs: ['get'], apiGroups: ['*'], resources: ['pods'] }]).covered, false, 'wildcard requires wildcard');
});

test('aggregated ClusterRoles collect matching roles', () => {
  const roles: Array<RoleLike & { metadata: { name: string; labels?: Record<string, string> } }> = [
    { metadata: { name: 'crd-view', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }, rules: [{ verbs: ['get'], apiGroups: ['x.io'], resources: ['widgets'] }] },
    { metadata: { name: 'unrelated', labels: {} as Record<string, string> }, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] },
  ];
  const rules = aggregateRules([{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } }], roles, 'view');
  assert.deepEqual(rules, [{ verbs: ['get'], apiGroups: ['x.io'], resources: ['widgets'] }]);
});

test('EKS access policies grant at cluster or namespace scope', () => {
  const u: UserInfo = { name: 'arn:aws:iam::1:role/dev', groups: [] };
  const view = grantsFor(src, [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', accessScope: { type: 'namespace', namespaces: ['team-a'] } }]);
  assert.equal(authorize(src, u, res('list', 'pods', { namespace: 'team-a' }), view).allowed, true);
  assert.equal(authorize(src, u, res('list', 'pods', { namespace: 'team-b' }), view).allowed, false);
  assert.equal(authorize(src, u, res('delete', 'pods', { namespace: 'team-a', name: 'p' }), view).allowed, false);
  const admin = grantsFor(src, [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } }]);
  assert.equal(authorize(src, u, res('delete', 'nodes', { name: 'n' }), admin).allowed, true);
  assert.equal(grantsFor(src, [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/Nope', accessScope: { type: 'cluster' } }]).length, 0);
});

test('every access policy ListAccessPolicies returns has Kubernetes permissions', () => {
  const modeled = new Set(modeledAccessPolicies());
  // The names ListAccessPolicies returns (aws/eks/access.ts).
  const listed = 'AIOpsAssistant ARCRegionSwitchScaling EKSAdmin EKSAdminView EKSAutoNode EKSBlockStorageCluster EKSBlockStorage EKSClusterAdmin EKSClusterInsights EKSComputeCluster EKSCompute EKSEdit EKSHybrid EKSLoadBalancingCluster EKSLoadBalancing EKSNetworkingCluster EKSNetworking EKSSecretReader EKSView EMRJob SagemakerHyperpodCluster SagemakerHyperpodController SagemakerHyperpodSystemNamespace';
  for (const n of listed.split(' ')) assert.ok(modeled.has(`Amazon${n}Policy`), n);
  const u: UserInfo = { name: 'arn:aws:iam::1:role/x', groups: [] };
  const secrets = grantsFor(src, [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSSecretReaderPolicy', accessScope: { type: 'namespace', namespaces: ['ack'] } }]);
  assert.equal(authorize(src, u, res('get', 'secrets', { namespace: 'ack', name: 's' }), secrets).allowed, true);
  assert.equal(authorize(src, u, res('get', 'secrets', { namespace: 'other', name: 's' }), secrets).allowed, false);
  assert.equal(authorize(src, u, res('list', 'pods', { namespace: 'ack' }), secrets).allowed, false);
  const hybrid = grantsFor(src, [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSHybridPolicy', accessScope: { type: 'cluster' } }]);
  assert.equal(authorize(src, u, res('list', 'nodes'), hybrid).allowed, true);
  assert.equal(authorize(src, u, res('get', 'nodes', { name: 'n' }), hybrid).allowed, false, 'the guide grants list only');
});
