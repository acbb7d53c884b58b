/**
 * RBAC escalation prevention end to end with kubectl (acting as "dev"
 * through `--as`, an IAM principal's static token for the admin):
 *  - dev, allowed to manage Roles and RoleBindings in "team" and to read
 *    pods there, may create a Role with rules it holds but not one granting
 *    more (403 with upstream's message), unless it has `escalate`;
 *  - it may not bind the admin ClusterRole (403) until it has `bind` on it;
 *    binding a missing role is 404; an aggregationRule needs escalate;
 *  - rejected writes change nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, awsCliEnv } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { writeClusterKubeconfig } from '../../src/cli/kubeconfig.ts';

let srv: TestServer;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'auth-escalation-'));

function kubectl(args: string[], input?: unknown) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input: input === undefined ? undefined : JSON.stringify(input) });
}
const asDev = (obj: unknown) => kubectl(['apply', '--validate=false', '-f', '-', '--as', 'dev'], obj);
const asAdmin = (obj: unknown) => kubectl(['apply', '--validate=false', '-f', '-'], obj);
const rbac = 'rbac.authorization.k8s.io/v1';
const role = (name: string, rules: unknown[]) => ({ apiVersion: rbac, kind: 'Role', metadata: { name, namespace: 'team' }, rules });
const binding = (name: string, kind: string, roleName: string) => ({
  apiVersion: rbac,
  kind: 'RoleBinding',
  metadata: { name, namespace: 'team' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
  subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'someone' }],
});

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  await awsJson(srv.awsEndpoint, ['eks', 'create-cluster', '--name', 'esc', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  kc = join(tmp, 'kubeconfig');
  await writeClusterKubeconfig({ endpoint: srv.awsEndpoint, clusterName: 'esc', region: 'us-east-1', kubeconfig: kc, staticToken: {}, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  assert.equal((await kubectl(['create', 'namespace', 'team'])).code, 0);
  const r = await asAdmin(role('rbac-manager', [
    { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['get', 'list', 'create', 'update', 'patch'] },
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
  ]));
  assert.equal(r.code, 0, r.stderr);
  const b = await asAdmin({ ...binding('dev-rbac-manager', 'Role', 'rbac-manager'), subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }] });
  assert.equal(b.code, 0, b.stderr);
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('RBAC escalation prevention', () => {
  it('a Role may grant only what its creator holds, unless the creator has escalate', async () => {
    const held = await asDev(role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]));
    assert.equal(held.code, 0, held.stderr);
    const more = await asDev(role('pod-killer', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete', 'deletecollection'] }, { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] }]));
    assert.notEqual(more.code, 0);
    assert.ok(
      more.stderr.includes(
        'roles.rbac.authorization.k8s.io "pod-killer" is forbidden: user "dev" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete" "deletecollection"]}\n{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}',
      ),
      more.stderr,
    );
    assert.notEqual((await kubectl(['get', 'role', 'pod-killer', '-n', 'team'])).code, 0, 'nothing stored');
    // kubectl create role (a protobuf request) is checked the same way.
    const imperative = await kubectl(['create', 'role', 'secret-reader', '--verb=get', '--resource=secrets', '-n', 'team', '--as', 'dev']);
    assert.notEqual(imperative.code, 0);
    assert.match(imperative.stderr, /roles.rbac.authorization.k8s.io "secret-reader" is forbidden: user "dev" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["get"\]\}/);
    // Widening an existing Role by update is checked too.
    const widen = await asDev(role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'delete'] }]));
    assert.match(widen.stderr, /roles.rbac.authorization.k8s.io "pod-reader" is forbidden: user "dev" .* not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/);
    // With escalate on roles, the same Role is accepted.
    assert.equal((await asAdmin(role('escalator', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }]))).code, 0);
    assert.equal((await asAdmin({ ...binding('dev-escalator', 'Role', 'escalator'), subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }] })).code, 0);
    const esc = await asDev(role('pod-killer', [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]));
    assert.equal(esc.code, 0, esc.stderr);
  });

  it('a RoleBinding needs the referenced role\'s permissions or bind on it', async () => {
    const ok = await asDev(binding('someone-reads', 'Role', 'pod-reader'));
    assert.equal(ok.code, 0, ok.stderr);
    const admin = await asDev(binding('someone-admin', 'ClusterRole', 'admin'));
    assert.notEqual(admin.code, 0);
    assert.ok(admin.stderr.includes('rolebindings.rbac.authorization.k8s.io "someone-admin" is forbidden: user "dev" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["bindings"], Verbs:["get" "list" "watch"]}\n'), 'message head');
    assert.ok(admin.stderr.includes('\n{APIGroups:[""], Resources:["pods"], Verbs:["create" "delete" "deletecollection" "patch" "update" "watch"]}\n'), 'dev\'s own get/list on pods are not missing');
    assert.notEqual((await kubectl(['get', 'rolebinding', 'someone-admin', '-n', 'team'])).code, 0, 'nothing stored');
    const missing = await asDev(binding('someone-nothing', 'ClusterRole', 'no-such-role'));
    assert.match(missing.stderr, /clusterroles.rbac.authorization.k8s.io "no-such-role" not found/);
    // bind on the admin ClusterRole (by name) lets dev bind it in team.
    assert.equal((await asAdmin(role('binder', [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['bind'], resourceNames: ['admin'] }]))).code, 0);
    assert.equal((await asAdmin({ ...binding('dev-binder', 'Role', 'binder'), subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }] })).code, 0);
    const bound = await asDev(binding('someone-admin', 'ClusterRole', 'admin'));
    assert.equal(bound.code, 0, bound.stderr);
  });

  it('system:masters may grant anything; a ClusterRole aggregationRule needs escalate', async () => {
    assert.equal((await asAdmin({ apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'all' }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] })).code, 0);
    const crManager = { apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'cr-manager' }, rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'], verbs: ['create', 'get', 'patch'] }] };
    assert.equal((await asAdmin(crManager)).code, 0);
    assert.equal((await asAdmin({ apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name: 'dev-cr-manager' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cr-manager' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }] })).code, 0);
    const agg = await asDev({ apiVersion: rbac, kind: 'ClusterRole', metadata: { name: 'agg' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] }, rules: [] });
    assert.match(agg.stderr, /clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule/);
  });
});
