/**
 * Authentication end to end, with the real aws CLI, kubectl and boto3
 * against one in-process localeks (instant timing profile):
 *  - each cluster's OIDC issuer (https, on the Kubernetes endpoint) serves its
 *    discovery document and JWKS, and IAM accepts it as an OIDC provider;
 *  - IRSA: a token from the TokenRequest API (`kubectl create token
 *    --audience sts.amazonaws.com`) is exchanged with boto3's
 *    assume_role_with_web_identity; forged and other-cluster tokens are refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, awsCliEnv, runAws } from '../helpers/aws-cli.ts';
import { runBoto3 } from '../helpers/boto3.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureSigningKey } from '../../src/kube/authn/signing-keys.ts';
import { issueServiceAccountToken } from '../../src/kube/authn/service-account-tokens.ts';
import { clusterInfoOf } from '../../src/aws/eks/shared.ts';

let srv: TestServer;
let ep: string;
const tmp = mkdtempSync(join(tmpdir(), 'auth-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);

function httpsGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: srv.server.tls.caCertPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function createCluster(name: string, version?: string): Promise<any> {
  await aws('eks', 'create-cluster', '--name', name, '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2', ...(version ? ['--kubernetes-version', version] : []));
  return (await aws('eks', 'describe-cluster', '--name', name)).cluster;
}

async function kubeconfigFor(name: string): Promise<string> {
  const kc = join(tmp, `${name}.kubeconfig`);
  const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', name, '--kubeconfig', kc]);
  assert.equal(u.code, 0, u.stderr);
  return kc;
}

function kubectl(kc: string, args: string[], input?: string, creds?: { accessKeyId: string; secretAccessKey: string }) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(creds), input });
}

/** A bearer token from `aws eks get-token` (what kubectl's exec plugin runs). */
async function eksToken(cluster: string): Promise<string> {
  return (await aws('eks', 'get-token', '--cluster-name', cluster)).status.token;
}

/** A request to a cluster's Kubernetes API over HTTPS (verified against the instance CA). */
function kubeRequest(cluster: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    const req = request(`${srv.kubeEndpoint}/clusters/${cluster}${path}`, { method, ca: srv.server.tls.caCertPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A token from the TokenRequest API (this kubectl's `create token` sends protobuf, which localeks does not read). */
async function requestToken(cluster: string, sa: string, audience: string): Promise<string> {
  const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [audience], expirationSeconds: 3600 } };
  const r = await kubeRequest(cluster, 'POST', `/api/v1/namespaces/default/serviceaccounts/${sa}/token`, await eksToken(cluster), body);
  assert.equal(r.status, 201, r.body);
  return JSON.parse(r.body).status.token;
}

const serviceAccount = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });

let cluster: any;
let kc: string;
before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  ep = srv.awsEndpoint;
  cluster = await createCluster('auth');
  assert.equal(cluster.status, 'ACTIVE');
  kc = await kubeconfigFor('auth');
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('authentication: OIDC issuer and IRSA', () => {

  it('serves each cluster\'s OIDC discovery document and JWKS at its https issuer', async () => {
    const issuer: string = cluster.identity.oidc.issuer;
    assert.match(issuer, /^https:\/\/127\.0\.0\.1:\d+\/oidc\/us-east-1\/id\/[0-9A-F]{32}$/);
    assert.ok(issuer.startsWith(srv.kubeEndpoint));
    const d = await httpsGet(`${issuer}/.well-known/openid-configuration`);
    assert.equal(d.status, 200, d.body);
    const doc = JSON.parse(d.body);
    assert.equal(doc.issuer, issuer);
    assert.equal(doc.jwks_uri, `${issuer}/keys`);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
    const k = await httpsGet(doc.jwks_uri);
    assert.equal(k.status, 200);
    const keys = JSON.parse(k.body).keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0].kty, 'RSA');
    assert.equal(keys[0].d, undefined, 'no private part');
    const unknown = await httpsGet(`${srv.kubeEndpoint}/oidc/us-east-1/id/0123456789ABCDEF0123456789ABCDEF/keys`);
    assert.equal(unknown.status, 404);
  });

  it('IRSA: a TokenRequest token is exchanged with boto3 for the role trusting the cluster\'s OIDC provider', async () => {
    const issuer: string = cluster.identity.oidc.issuer;
    const providerId = issuer.replace(/^https:\/\//, '');
    const p = await aws('iam', 'create-open-id-connect-provider', '--url', issuer, '--client-id-list', 'sts.amazonaws.com');
    const trust = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: p.OpenIDConnectProviderArn },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringEquals: { [`${providerId}:sub`]: 'system:serviceaccount:default:app', [`${providerId}:aud`]: 'sts.amazonaws.com' } },
        },
      ],
    };
    await aws('iam', 'create-role', '--role-name', 'irsa-app', '--assume-role-policy-document', JSON.stringify(trust));
    const sa = await kubectl(kc, ['create', '-f', '-'], serviceAccount('app'));
    assert.equal(sa.code, 0, sa.stderr);
    const token = await requestToken('auth', 'app', 'sts.amazonaws.com');

    const exchange = (tok: string) =>
      runBoto3(
        ep,
        `
sts = client('sts')
r = sts.assume_role_with_web_identity(RoleArn='arn:aws:iam::000000000000:role/irsa-app', RoleSessionName='pod', WebIdentityToken=${JSON.stringify(tok)})
c = r['Credentials']
who = session.client('sts', endpoint_url=_endpoint, config=_cfg, aws_access_key_id=c['AccessKeyId'], aws_secret_access_key=c['SecretAccessKey'], aws_session_token=c['SessionToken']).get_caller_identity()
result = {'sub': r['SubjectFromWebIdentityToken'], 'arn': who['Arn']}
`,
      );
    const ok = await exchange(token);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.sub, 'system:serviceaccount:default:app');
    assert.equal(ok.json.arn, 'arn:aws:sts::000000000000:assumed-role/irsa-app/pod');

    // A token whose claims were edited after signing is refused.
    const [h, payload, sig] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    claims.exp += 3600;
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    const bad = await exchange(tampered);
    assert.equal(bad.error?.Code, 'InvalidIdentityToken', bad.stderr);

    // A token claiming this cluster's issuer but signed with another cluster's key is refused.
    const other = await createCluster('auth-other');
    const uid = clusterInfoOf(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, other.name)!.uid;
    const forged = await issueServiceAccountToken(await ensureSigningKey(srv.server.backend, uid), {
      issuer,
      audiences: ['sts.amazonaws.com'],
      namespace: 'default',
      serviceAccount: { name: 'app', uid: 'x' },
      expirationSeconds: 3600,
      now: new Date(srv.server.clock.nowMs()),
    });
    const refused = await exchange(forged.token);
    assert.equal(refused.error?.Code, 'InvalidIdentityToken', refused.stderr);
    assert.match(refused.error!.Message, /could not be validated/);

    // Another service account does not match the trust policy's :sub condition.
    assert.equal((await kubectl(kc, ['create', '-f', '-'], serviceAccount('intruder'))).code, 0);
    const denied = await exchange(await requestToken('auth', 'intruder', 'sts.amazonaws.com'));
    assert.equal(denied.error?.Code, 'AccessDenied', denied.stderr);
  });
});

describe('authentication: requests to the Kubernetes API', () => {
  const whoami = async (token: string | undefined) =>
    kubeRequest('auth', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

  it('kubectl with the kubeconfig of aws eks update-kubeconfig is the cluster creator (CONFIG_MAP mode: kubernetes-admin)', async () => {
    const r = await kubectl(kc, ['get', 'namespaces', '-o', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^namespace\/kube-system$/m);
    const w = await whoami(await eksToken('auth'));
    assert.equal(w.status, 201, w.body);
    const info = JSON.parse(w.body).status.userInfo;
    assert.equal(info.username, 'kubernetes-admin');
    assert.deepEqual(info.groups, ['system:masters', 'system:authenticated']);
    assert.deepEqual(info.extra.arn, ['arn:aws:iam::000000000000:root']);
  });

  it('answers 401 Unauthorized without credentials, except the public paths', async () => {
    for (const path of ['/api/v1/namespaces', '/api', '/apis/apps/v1/namespaces/default/deployments']) {
      const r = await kubeRequest('auth', 'GET', path, undefined);
      assert.equal(r.status, 401, path);
      assert.deepEqual(JSON.parse(r.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const r = await kubeRequest('auth', 'GET', path, undefined);
      assert.equal(r.status, 200, `${path}: ${r.body}`);
    }
    // From 1.32 EKS restricts anonymous requests to the health paths; before, /version was public too.
    assert.ok(Number(cluster.version.split('.')[1]) >= 32, cluster.version);
    assert.equal((await kubeRequest('auth', 'GET', '/version', undefined)).status, 401);
    await createCluster('auth-131', '1.31');
    const v = await kubeRequest('auth-131', 'GET', '/version', undefined);
    assert.equal(v.status, 200, v.body);
    assert.match(JSON.parse(v.body).gitVersion, /^v1\.31\./);
    assert.equal((await kubeRequest('auth-131', 'GET', '/api', undefined)).status, 401);
    // Anonymous requests are then authorized as upstream: system:public-info-viewer names exact paths only.
    const sub = await kubeRequest('auth', 'GET', '/readyz/ping', undefined);
    assert.equal(sub.status, 403, sub.body);
    assert.equal(JSON.parse(sub.body).message, 'forbidden: User "system:anonymous" cannot get path "/readyz/ping"');
    // A bad credential is refused even on a public path.
    assert.equal((await kubeRequest('auth', 'GET', '/version', 'not-a-token')).status, 401);
  });

  it('refuses forged, truncated, other-cluster and wrong-audience tokens, without echoing them', async () => {
    const good = await eksToken('auth');
    const url = Buffer.from(good.slice('k8s-aws-v1.'.length), 'base64url').toString();
    const forgedUrl = url.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    assert.notEqual(forgedUrl, url);
    const bad = [
      `k8s-aws-v1.${Buffer.from(forgedUrl).toString('base64url')}`,
      good.slice(0, 40),
      'k8s-aws-v1.!!!not-base64!!!',
      await eksToken('auth-other'),
      await requestToken('auth', 'app', 'sts.amazonaws.com'),
    ];
    for (const token of bad) {
      const r = await kubeRequest('auth', 'GET', '/api/v1/namespaces', token);
      assert.equal(r.status, 401, r.body);
      assert.equal(JSON.parse(r.body).message, 'Unauthorized');
      assert.ok(!r.body.includes(token.slice(12, 40)));
    }
  });

  it('authenticates service account tokens of the cluster (TokenRequest default audience)', async () => {
    const token = await requestToken('auth', 'app', 'https://kubernetes.default.svc');
    const w = await whoami(token);
    assert.equal(w.status, 201, w.body);
    const info = JSON.parse(w.body).status.userInfo;
    assert.equal(info.username, 'system:serviceaccount:default:app');
    assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    // Once the service account is deleted, its tokens stop working.
    const t2 = await requestToken('auth', 'intruder', 'https://kubernetes.default.svc');
    assert.equal((await whoami(t2)).status, 201);
    const d = await kubeRequest('auth', 'DELETE', '/api/v1/namespaces/default/serviceaccounts/intruder', await eksToken('auth'));
    assert.equal(d.status, 200, d.body);
    assert.equal((await whoami(t2)).status, 401);
  });
});

describe('authorization: RBAC and kubectl auth can-i', () => {
  it('an IAM user mapped by aws-auth gets 403 until a RoleBinding grants it; can-i and whoami answer for it', async () => {
    await aws('iam', 'create-user', '--user-name', 'dev');
    const key = (await aws('iam', 'create-access-key', '--user-name', 'dev')).AccessKey;
    const creds = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const awsAuth = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapUsers: '- userarn: arn:aws:iam::000000000000:user/dev\n  username: dev\n  groups: []\n' },
    };
    const c = await kubectl(kc, ['apply', '-f', '-'], JSON.stringify(awsAuth));
    assert.equal(c.code, 0, c.stderr);

    const denied = await kubectl(kc, ['get', 'pods', '-n', 'default'], undefined, creds);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Error from server \(Forbidden\): pods is forbidden: User "dev" cannot list resource "pods" in API group "" in the namespace "default"/);
    // kubectl auth can-i / whoami send protobuf, which localeks does not read yet: the same reviews in JSON.
    const devToken = async () => (await awsJson(ep, ['eks', 'get-token', '--cluster-name', 'auth'], creds)).status.token as string;
    const canI = async (token: string, verb: string, resource: string, namespace?: string) => {
      const r = await kubeRequest('auth', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, resource, ...(namespace ? { namespace } : {}) } },
      });
      assert.equal(r.status, 201, r.body);
      return JSON.parse(r.body).status.allowed as boolean;
    };
    assert.equal(await canI(await devToken(), 'list', 'pods', 'default'), false);
    const who = await kubeRequest('auth', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', await devToken(), { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(who.status, 201, who.body);
    assert.equal(JSON.parse(who.body).status.userInfo.username, 'dev');

    const rb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'dev-view', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dev' }] };
    assert.equal((await kubectl(kc, ['apply', '-f', '-'], JSON.stringify(rb))).code, 0);
    const allowed = await kubectl(kc, ['get', 'pods', '-n', 'default'], undefined, creds);
    assert.equal(allowed.code, 0, allowed.stderr);
    const t = await devToken();
    assert.equal(await canI(t, 'list', 'pods', 'default'), true);
    assert.equal(await canI(t, 'delete', 'pods', 'default'), false);
    assert.equal(await canI(t, 'list', 'pods', 'kube-system'), false);
    // The cluster creator (system:masters) may do anything.
    assert.equal(await canI(await eksToken('auth'), 'delete', 'nodes'), true);
  });
});

describe('authorization: impersonation (kubectl --as)', () => {
  it('an admin acts as dev with dev\'s permissions; dev may not impersonate', async () => {
    // dev (aws-auth mapUsers) has the view ClusterRole in default from the test above.
    const ok = await kubectl(kc, ['get', 'pods', '-n', 'default', '--as', 'dev']);
    assert.equal(ok.code, 0, ok.stderr);
    const no = await kubectl(kc, ['get', 'pods', '-n', 'kube-system', '--as', 'dev']);
    assert.match(no.stderr, /pods is forbidden: User "dev" cannot list resource "pods" in API group "" in the namespace "kube-system"/);
    const key = (await aws('iam', 'create-access-key', '--user-name', 'dev')).AccessKey;
    const creds = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const esc = await kubectl(kc, ['get', 'pods', '-n', 'kube-system', '--as', 'kubernetes-admin', '--as-group', 'system:masters'], undefined, creds);
    assert.notEqual(esc.code, 0);
    assert.match(esc.stderr, /users "kubernetes-admin" is forbidden: User "dev" cannot impersonate resource "users" in API group "" at the cluster scope/);
  });
});

describe('admission webhooks see the requesting user', () => {
  it('AdmissionReview.request.userInfo is the authenticated (here impersonated) user, on create and delete', async () => {
    const seen: Array<{ operation: string; userInfo: any }> = [];
    const hook = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const review = JSON.parse(body);
        seen.push({ operation: review.request.operation, userInfo: review.request.userInfo });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true } }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const port = (hook.address() as AddressInfo).port;
      const cfg = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'who' },
        webhooks: [{
          name: 'who.example.com', sideEffects: 'None', admissionReviewVersions: ['v1'], clientConfig: { url: `http://127.0.0.1:${port}/` },
          rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'DELETE'], resources: ['configmaps'] }],
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } },
        }],
      };
      const c = await kubectl(kc, ['apply', '-f', '-'], JSON.stringify(cfg));
      assert.equal(c.code, 0, c.stderr);
      const made = await kubectl(kc, ['create', 'configmap', 'who-cm', '-n', 'default', '--as', 'jane', '--as-group', 'system:masters']);
      assert.equal(made.code, 0, made.stderr);
      const gone = await kubectl(kc, ['delete', 'configmap', 'who-cm', '-n', 'default']);
      assert.equal(gone.code, 0, gone.stderr);
      assert.deepEqual(seen.map((x) => x.operation), ['CREATE', 'DELETE']);
      assert.equal(seen[0]!.userInfo.username, 'jane');
      assert.deepEqual(seen[0]!.userInfo.groups, ['system:masters', 'system:authenticated']);
      assert.equal(seen[1]!.userInfo.username, 'kubernetes-admin');
      assert.ok(seen[1]!.userInfo.extra?.arn, JSON.stringify(seen[1]!.userInfo));
    } finally {
      await kubectl(kc, ['delete', 'validatingwebhookconfiguration', 'who']);
      hook.close();
    }
  });
});

describe('authorization: EKS access entries and access policies (authentication mode API)', () => {
  it('the creator is admin through AmazonEKSClusterAdminPolicy; a namespace-scoped AmazonEKSViewPolicy reads only there', async () => {
    await aws('eks', 'create-cluster', '--name', 'auth-api', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2', '--access-config', 'authenticationMode=API');
    const admin = (await aws('eks', 'get-token', '--cluster-name', 'auth-api')).status.token as string;
    const ns = await kubeRequest('auth-api', 'GET', '/api/v1/namespaces', admin);
    assert.equal(ns.status, 200, ns.body);

    await aws('iam', 'create-user', '--user-name', 'viewer');
    const key = (await aws('iam', 'create-access-key', '--user-name', 'viewer')).AccessKey;
    const creds = { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
    const viewerToken = async () => (await awsJson(ep, ['eks', 'get-token', '--cluster-name', 'auth-api'], creds)).status.token as string;
    // Not mapped yet: 401.
    assert.equal((await kubeRequest('auth-api', 'GET', '/api/v1/namespaces/default/pods', await viewerToken())).status, 401);

    const principal = 'arn:aws:iam::000000000000:user/viewer';
    await aws('eks', 'create-access-entry', '--cluster-name', 'auth-api', '--principal-arn', principal);
    await aws('eks', 'associate-access-policy', '--cluster-name', 'auth-api', '--principal-arn', principal, '--policy-arn', 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', '--access-scope', 'type=namespace,namespaces=default');
    const t = await viewerToken();
    assert.equal((await kubeRequest('auth-api', 'GET', '/api/v1/namespaces/default/pods', t)).status, 200);
    const other = await kubeRequest('auth-api', 'GET', '/api/v1/namespaces/kube-system/pods', t);
    assert.equal(other.status, 403, other.body);
    assert.equal(JSON.parse(other.body).message, `pods is forbidden: User "${principal}" cannot list resource "pods" in API group "" in the namespace "kube-system"`);
    const del = await kubeRequest('auth-api', 'DELETE', '/api/v1/namespaces/default/pods/x', t);
    assert.equal(del.status, 403, del.body);

    // Deleting the access entry takes the access away.
    await aws('eks', 'delete-access-entry', '--cluster-name', 'auth-api', '--principal-arn', principal);
    assert.equal((await kubeRequest('auth-api', 'GET', '/api/v1/namespaces/default/pods', await viewerToken())).status, 401);
  });
});
