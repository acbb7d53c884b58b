/**
 * The authentication result cache (kube/authn/auth-result-cache.ts) never
 * serves a stale identity: every input of a cached result, changed between
 * two requests with the same token, applies on the very next request. Each
 * case authenticates a token twice first (the second answer comes from the
 * cache), changes one input, then expects the new answer at once (no
 * polling, except for wall-clock expiry, which only time changes):
 *  - the aws-auth ConfigMap (edited, deleted);
 *  - the cluster's authentication mode and access entries (created, policy
 *    associated, deleted; last, as the mode ends as API);
 *  - the IAM access key (deactivated, reactivated, deleted), for EKS and
 *    localeks static tokens;
 *  - expiry: an EKS token 15 minutes after signing, a static token at exp
 *    (wall clock), an STS session and a service account token (simulated
 *    clock);
 *  - a service account token's service account (deleted, recreated with a
 *    new uid) and the pod it is bound to (deleted);
 *  - a legacy token's Secret (deleted).
 * The identity is read back with SelfSubjectReview (`kubectl auth whoami`)
 * over HTTPS; AWS calls go through localeks's AWS client.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createAwsClient, type AwsClient } from '../../src/aws/client/aws-client.ts';
import { createEksToken } from '../../src/kube/authn/eks-token.ts';
import { createStaticToken } from '../../src/kube/authn/static-token.ts';
import { issueLegacyServiceAccountToken } from '../../src/kube/authn/service-account-tokens.ts';
import { ensureSigningKey } from '../../src/kube/authn/signing-keys.ts';
import { clusterInfoOf } from '../../src/aws/eks/shared.ts';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let aws: AwsClient;
let clusterArn = '';
const ROOT = { accessKeyId: 'test', secretAccessKey: 'test' };
const admin = () => createEksToken({ clusterName: 'cache', region: 'us-east-1', ...ROOT });

function kube(method: string, path: string, token: string, body?: unknown, authorization = `Bearer ${token}`): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.kubeEndpoint}/clusters/cache${path}`, { method, ca: srv.server.tls.caCertPem, headers: { Authorization: authorization, 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function ok(method: string, path: string, body?: unknown): Promise<any> {
  const r = await kube(method, path, admin(), body);
  assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** whoami: the user a token authenticates as (undefined for 401), asked twice so that the second answer is the cached one. */
async function whoami(token: string): Promise<{ username: string; groups: string[]; extra?: Record<string, string[]> } | undefined> {
  let last: { username: string; groups: string[] } | undefined;
  for (let i = 0; i < 2; i++) {
    const r = await kube('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    if (r.status === 401) last = undefined;
    else {
      assert.equal(r.status, 201, JSON.stringify(r.body));
      last = r.body.status.userInfo;
    }
  }
  return last;
}

async function awsAuth(mapUsers: string | undefined): Promise<void> {
  const path = '/api/v1/namespaces/kube-system/configmaps/aws-auth';
  const cur = await kube('GET', path, admin());
  if (mapUsers === undefined) {
    if (cur.status === 200) await ok('DELETE', path);
    return;
  }
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapUsers } };
  if (cur.status === 200) await ok('PUT', path, { ...cm, metadata: { ...cm.metadata, resourceVersion: cur.body.metadata.resourceVersion } });
  else await ok('POST', '/api/v1/namespaces/kube-system/configmaps', cm);
}

const mapping = (user: string, username: string, group: string) => `- userarn: arn:aws:iam::000000000000:user/${user}\n  username: ${username}\n  groups: [${group}]\n`;

async function newUser(name: string): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  await aws.call('iam', 'CreateUser', { UserName: name });
  const k = (await aws.call('iam', 'CreateAccessKey', { UserName: name })).AccessKey;
  return { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey };
}

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false }, { dataPlane: false });
  aws = createAwsClient({ endpoint: srv.awsEndpoint, region: 'us-east-1', credentials: ROOT });
  const c = await aws.call('eks', 'CreateCluster', { name: 'cache', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } });
  clusterArn = c.cluster.arn;
  await waitFor(async () => (await aws.call('eks', 'DescribeCluster', { name: 'cache' })).cluster.status === 'ACTIVE', { what: 'the cluster to be ACTIVE' });
});
after(async () => {
  await srv?.stop();
});

describe('authentication result cache: every input applies on the next request', () => {
  it('other spellings of the Authorization header authenticate the same token (cached or not); other schemes do not', async () => {
    const token = admin();
    const review = (authorization: string) => kube('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, authorization);
    for (const authorization of [`Bearer ${token}`, `bearer ${token}`, `Bearer ${token} `, `BEARER  ${token}`, `Bearer ${token}`]) {
      const r = await review(authorization);
      assert.equal(r.status, 201, authorization.slice(0, 12));
      assert.equal(r.body.status.userInfo.username, 'kubernetes-admin');
    }
    for (const authorization of [`Basic ${token}`, `Bearer ${token} extra`, `Bearer${token}`]) assert.equal((await review(authorization)).status, 401, authorization.slice(0, 12));
  });

  it('aws-auth edits and deletion (EKS and static tokens)', async () => {
    const dev = await newUser('cache-dev');
    const eks = createEksToken({ clusterName: 'cache', region: 'us-east-1', ...dev });
    const stat = createStaticToken({ clusterArn, ...dev }).token;
    assert.equal(await whoami(eks), undefined, 'unmapped');
    await awsAuth(mapping('cache-dev', 'dev-one', 'devs'));
    for (const t of [eks, stat]) assert.equal((await whoami(t))?.username, 'dev-one');
    await awsAuth(mapping('cache-dev', 'dev-two', 'devs'));
    for (const t of [eks, stat]) assert.equal((await whoami(t))?.username, 'dev-two');
    await awsAuth(undefined);
    for (const t of [eks, stat]) assert.equal(await whoami(t), undefined, 'aws-auth deleted');
  });

  it('the IAM access key: deactivated, reactivated, deleted', async () => {
    const dev = await newUser('cache-key');
    await awsAuth(mapping('cache-key', 'key-user', 'devs'));
    const eks = createEksToken({ clusterName: 'cache', region: 'us-east-1', ...dev });
    const stat = createStaticToken({ clusterArn, ...dev }).token;
    for (const t of [eks, stat]) assert.equal((await whoami(t))?.username, 'key-user');
    await aws.call('iam', 'UpdateAccessKey', { UserName: 'cache-key', AccessKeyId: dev.accessKeyId, Status: 'Inactive' });
    for (const t of [eks, stat]) assert.equal(await whoami(t), undefined, 'key inactive');
    await aws.call('iam', 'UpdateAccessKey', { UserName: 'cache-key', AccessKeyId: dev.accessKeyId, Status: 'Active' });
    for (const t of [eks, stat]) assert.equal((await whoami(t))?.username, 'key-user');
    await aws.call('iam', 'DeleteAccessKey', { UserName: 'cache-key', AccessKeyId: dev.accessKeyId });
    // Without IAM enforcement an unknown key acts as the default account's root (here the cluster creator): no longer the mapped user.
    for (const t of [eks, stat]) assert.notEqual((await whoami(t))?.username, 'key-user', 'key deleted');
    await awsAuth(undefined);
  });

  it('expiry: EKS and static tokens on the wall clock, STS sessions on the simulated clock', async () => {
    // Signed 15 minutes minus 1.5 s ago: good now, expired within seconds.
    const eks = createEksToken({ clusterName: 'cache', region: 'us-east-1', ...ROOT, now: new Date(Date.now() - 15 * 60_000 + 1500) });
    assert.ok(await whoami(eks));
    await waitFor(async () => (await whoami(eks)) === undefined, { timeoutMs: 10_000, what: 'the EKS token to expire' });
    const stat = createStaticToken({ clusterArn, ...ROOT, lifetimeSeconds: 2 }).token;
    assert.ok(await whoami(stat));
    await waitFor(async () => (await whoami(stat)) === undefined, { timeoutMs: 10_000, what: 'the static token to expire' });

    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] });
    await aws.call('iam', 'CreateRole', { RoleName: 'cache-role', AssumeRolePolicyDocument: trust });
    const creds = (await aws.call('sts', 'AssumeRole', { RoleArn: 'arn:aws:iam::000000000000:role/cache-role', RoleSessionName: 's1', DurationSeconds: 900 })).Credentials;
    await awsAuth(undefined);
    await kube('POST', '/api/v1/namespaces/kube-system/configmaps', admin(), {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapRoles: '- rolearn: arn:aws:iam::000000000000:role/cache-role\n  username: role-{{SessionName}}\n  groups: [devs]\n' },
    });
    const session = createEksToken({ clusterName: 'cache', region: 'us-east-1', accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken });
    assert.equal((await whoami(session))?.username, 'role-s1');
    srv.server.clock.advance(901_000);
    assert.equal(await whoami(session), undefined, 'session expired');
    await awsAuth(undefined);
  });

  it('service account tokens: expiry, the service account and the bound pod', async () => {
    await ok('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cache-sa' } });
    const tokenFor = async (spec: Record<string, unknown>) =>
      (await ok('POST', '/api/v1/namespaces/default/serviceaccounts/cache-sa/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], ...spec } })).status.token as string;

    const short = await tokenFor({ expirationSeconds: 600 });
    assert.equal((await whoami(short))?.username, 'system:serviceaccount:default:cache-sa');
    srv.server.clock.advance(601_000);
    assert.equal(await whoami(short), undefined, 'expired on the simulated clock');

    const pod = await ok('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cache-pod' }, spec: { serviceAccountName: 'cache-sa', containers: [{ name: 'c', image: 'busybox' }] } });
    const bound = await tokenFor({ expirationSeconds: 3600, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'cache-pod', uid: pod.metadata.uid } });
    const plain = await tokenFor({ expirationSeconds: 3600 });
    const u = await whoami(bound);
    assert.deepEqual(u?.extra?.['authentication.kubernetes.io/pod-name'], ['cache-pod']);
    await ok('DELETE', '/api/v1/namespaces/default/pods/cache-pod?gracePeriodSeconds=0');
    await waitFor(async () => (await kube('GET', '/api/v1/namespaces/default/pods/cache-pod', admin())).status === 404, { what: 'the pod to be gone' });
    assert.equal(await whoami(bound), undefined, 'bound pod deleted');
    assert.ok(await whoami(plain), 'a token not bound to the pod still works');

    await ok('DELETE', '/api/v1/namespaces/default/serviceaccounts/cache-sa');
    assert.equal(await whoami(plain), undefined, 'service account deleted');
    await ok('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cache-sa' } });
    assert.equal(await whoami(plain), undefined, 'a new service account of the same name has another uid');
  });
  it('legacy service account tokens: the Secret holding the token', async () => {
    const sa = await ok('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cache-legacy' } });
    const uid = clusterInfoOf(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, 'cache')!.uid;
    // What the tokens controller puts in a requested kubernetes.io/service-account-token Secret.
    const token = await issueLegacyServiceAccountToken(await ensureSigningKey(srv.server.backend, uid), { namespace: 'default', secretName: 'cache-legacy-token', serviceAccountName: 'cache-legacy', serviceAccountUid: sa.metadata.uid });
    await ok('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: { name: 'cache-legacy-token', annotations: { 'kubernetes.io/service-account.name': 'cache-legacy', 'kubernetes.io/service-account.uid': sa.metadata.uid } },
      data: { token: Buffer.from(token).toString('base64') },
    });
    assert.equal((await whoami(token))?.username, 'system:serviceaccount:default:cache-legacy');
    await ok('DELETE', '/api/v1/namespaces/default/secrets/cache-legacy-token');
    assert.equal(await whoami(token), undefined, 'Secret deleted');
  });

  it('authentication mode and access entries', async () => {
    const dev = await newUser('cache-entry');
    const eks = createEksToken({ clusterName: 'cache', region: 'us-east-1', ...dev });
    await awsAuth(mapping('cache-entry', 'from-aws-auth', 'devs'));
    assert.equal((await whoami(eks))?.username, 'from-aws-auth');
    await aws.call('eks', 'UpdateClusterConfig', { name: 'cache', accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' } });
    await waitFor(async () => (await aws.call('eks', 'DescribeCluster', { name: 'cache' })).cluster.accessConfig.authenticationMode === 'API_AND_CONFIG_MAP', { what: 'the authentication mode to change' });
    assert.equal((await whoami(eks))?.username, 'from-aws-auth', 'no access entry yet');
    const principalArn = 'arn:aws:iam::000000000000:user/cache-entry';
    await aws.call('eks', 'CreateAccessEntry', { clusterName: 'cache', principalArn, username: 'from-entry', kubernetesGroups: ['entry-group'] });
    const u = await whoami(eks);
    assert.equal(u?.username, 'from-entry');
    assert.ok(u?.groups.includes('entry-group'));
    // An associated policy changes what the user may do: reading secrets needs it.
    assert.equal((await kube('GET', '/api/v1/namespaces/default/secrets', eks)).status, 403);
    await aws.call('eks', 'AssociateAccessPolicy', { clusterName: 'cache', principalArn, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } });
    assert.equal((await kube('GET', '/api/v1/namespaces/default/secrets', eks)).status, 200);
    await aws.call('eks', 'DeleteAccessEntry', { clusterName: 'cache', principalArn });
    assert.equal((await whoami(eks))?.username, 'from-aws-auth', 'back to aws-auth');
    assert.equal((await kube('GET', '/api/v1/namespaces/default/secrets', eks)).status, 403);
    await aws.call('eks', 'UpdateClusterConfig', { name: 'cache', accessConfig: { authenticationMode: 'API' } });
    await waitFor(async () => (await aws.call('eks', 'DescribeCluster', { name: 'cache' })).cluster.accessConfig.authenticationMode === 'API', { what: 'the authentication mode to change' });
    assert.equal(await whoami(eks), undefined, 'aws-auth no longer counts');
    await awsAuth(undefined);
  });
});
