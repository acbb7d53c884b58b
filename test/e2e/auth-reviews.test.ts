/**
 * TokenReview and SubjectAccessReview end to end with kubectl (`kubectl
 * create -f - -o json`, JSON on the wire) against one in-process localeks:
 *  - an EKS token from `aws eks get-token` reviews as its mapped user for
 *    the API server's audience only;
 *  - a TokenRequest token with audience "vault" reviews for ["vault"] (the
 *    answer's audiences), not for the API server's audience; a token of a
 *    deleted service account and garbage are not authenticated; an empty
 *    token is 400 with upstream's message;
 *  - SubjectAccessReview / LocalSubjectAccessReview answer for the named user
 *    with RBAC; a spec without user or groups is 422.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, awsCliEnv } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.ts';
import { writeClusterKubeconfig } from '../../src/cli/kubeconfig.ts';

let srv: TestServer;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'auth-reviews-'));

function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

async function create(obj: unknown): Promise<{ code: number; json: any; stderr: string }> {
  const r = await kubectl(['create', '--validate=false', '-f', '-', '-o', 'json'], JSON.stringify(obj));
  return { code: r.code, json: r.code === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}

const tokenReview = (token: string, audiences?: string[]) => create({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } });

async function requestToken(sa: string, audience: string): Promise<string> {
  const out = await kubectl(['create', '--raw', `/clusters/rv/api/v1/namespaces/default/serviceaccounts/${sa}/token`, '-f', '-'], JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: [audience], expirationSeconds: 3600 } }));
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).status.token;
}

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  await awsJson(srv.awsEndpoint, ['eks', 'create-cluster', '--name', 'rv', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  kc = join(tmp, 'kubeconfig');
  await writeClusterKubeconfig({ endpoint: srv.awsEndpoint, clusterName: 'rv', region: 'us-east-1', kubeconfig: kc, staticToken: {}, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('TokenReview', () => {
  it('reviews an EKS token as its mapped user, for the API server audience only', async () => {
    const token = (await awsJson(srv.awsEndpoint, ['eks', 'get-token', '--cluster-name', 'rv'])).status.token;
    const r = await tokenReview(token);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.kind, 'TokenReview');
    assert.equal(r.json.status.authenticated, true);
    assert.equal(r.json.status.user.username, 'kubernetes-admin');
    assert.ok(r.json.status.user.groups.includes('system:masters'));
    assert.deepEqual(r.json.status.user.extra.arn, ['arn:aws:iam::000000000000:root']);
    assert.deepEqual(r.json.status.audiences, ['https://kubernetes.default.svc']);
    const other = await tokenReview(token, ['vault']);
    assert.equal(other.json.status.authenticated, false);
    assert.match(other.json.status.error, /is invalid for the target audiences \["vault"\]/);
    assert.ok(!other.json.status.error.includes(token.slice(11, 40)), 'the token is not echoed');
  });

  it('reviews service account tokens with their audiences; deleted accounts and garbage are refused; empty is 400', async () => {
    assert.equal((await kubectl(['create', 'serviceaccount', 'reviewer'])).code, 0);
    const token = await requestToken('reviewer', 'vault');
    const ok = await tokenReview(token, ['vault', 'other']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.status.authenticated, true);
    assert.equal(ok.json.status.user.username, 'system:serviceaccount:default:reviewer');
    assert.deepEqual(ok.json.status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.match(ok.json.status.user.uid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(ok.json.status.audiences, ['vault']);
    const defaultAud = await tokenReview(token);
    assert.equal(defaultAud.json.status.authenticated, false);
    assert.match(defaultAud.json.status.error, /token audiences \["vault"\] is invalid for the target audiences \["https:\/\/kubernetes.default.svc"/);
    for (const bad of ['garbage', 'a.b.c', token.slice(0, -4) + 'AAAA']) {
      const r = await tokenReview(bad, ['vault']);
      assert.equal(r.json.status.authenticated, false, bad);
      assert.deepEqual(r.json.status.user, {});
    }
    assert.equal((await kubectl(['delete', 'serviceaccount', 'reviewer'])).code, 0);
    assert.equal((await tokenReview(token, ['vault'])).json.status.authenticated, false);
    const empty = await tokenReview('');
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /token is required for TokenReview in authentication/);
  });
});

describe('SubjectAccessReview', () => {
  it('answers for the named user and groups with RBAC', async () => {
    const sar = (spec: unknown) => create({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec });
    const no = await sar({ user: 'alice', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } });
    assert.equal(no.code, 0, no.stderr);
    assert.equal(no.json.status.allowed, false);
    const yes = await sar({ user: 'alice', groups: ['system:masters'], resourceAttributes: { verb: 'delete', resource: 'nodes' } });
    assert.equal(yes.json.status.allowed, true);
    assert.equal((await kubectl(['create', 'rolebinding', 'alice-view', '--clusterrole', 'view', '--user', 'alice', '-n', 'default'])).code, 0);
    const local = await kubectl(['create', '--validate=false', '-n', 'default', '-f', '-', '-o', 'json'], JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: 'default' }, spec: { user: 'alice', resourceAttributes: { verb: 'list', resource: 'pods', namespace: 'default' } } }));
    assert.equal(local.code, 0, local.stderr);
    assert.equal(JSON.parse(local.stdout).status.allowed, true);
    // A review names groups explicitly: system:authenticated is not implied.
    assert.equal((await sar({ user: 'alice', nonResourceAttributes: { verb: 'get', path: '/healthz' } })).json.status.allowed, false);
    assert.equal((await sar({ user: 'alice', groups: ['system:authenticated'], nonResourceAttributes: { verb: 'get', path: '/healthz' } })).json.status.allowed, true);
    const invalid = await sar({ resourceAttributes: { verb: 'list', resource: 'pods' } });
    assert.notEqual(invalid.code, 0);
    assert.match(invalid.stderr, /SubjectAccessReview "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified/);
  });
});

describe('the eks:* roles EKS creates', () => {
  it('exist with their bindings, and grant their components what they need only', async () => {
    const crs = await kubectl(['get', 'clusterroles', '-o', 'name']);
    assert.equal(crs.code, 0, crs.stderr);
    for (const n of ['eks:addon-manager', 'eks:node-manager', 'eks:certificate-controller', 'eks:fargate-manager', 'eks:pod-identity-mutating-webhook', 'eks:node-bootstrapper']) {
      assert.ok(crs.stdout.includes(`clusterrole.rbac.authorization.k8s.io/${n}\n`), n);
    }
    const rbs = await kubectl(['get', 'rolebindings', '-n', 'kube-system', '-o', 'name']);
    assert.ok(rbs.stdout.includes('rolebinding.rbac.authorization.k8s.io/eks:authenticator\n'), rbs.stdout);
    const sar = async (user: string, ra: Record<string, string>) =>
      (await create({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user, groups: ['system:authenticated'], resourceAttributes: ra } })).json.status.allowed as boolean;
    assert.equal(await sar('eks:node-manager', { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: 'default' }), true);
    assert.equal(await sar('eks:node-manager', { verb: 'delete', resource: 'nodes' }), true);
    assert.equal(await sar('eks:node-manager', { verb: 'get', resource: 'secrets', namespace: 'default' }), false);
    assert.equal(await sar('eks:pod-identity-mutating-webhook', { verb: 'list', resource: 'serviceaccounts' }), true);
    assert.equal(await sar('eks:pod-identity-mutating-webhook', { verb: 'create', resource: 'pods', namespace: 'default' }), false);
    assert.equal(await sar('eks:authenticator', { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'aws-auth' }), true);
    assert.equal(await sar('eks:authenticator', { verb: 'get', resource: 'configmaps', namespace: 'kube-system', name: 'other' }), false);
    assert.equal(await sar('someone', { verb: 'delete', resource: 'nodes' }), false);
  });
});

describe('kubectl auth and create token (protobuf requests)', () => {
  it('whoami, can-i (also --as and --list) and create token answer as the reviews do', async () => {
    const who = await kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const ui = JSON.parse(who.stdout).status.userInfo;
    assert.equal(ui.username, 'kubernetes-admin');
    assert.deepEqual(ui.extra.arn, ['arn:aws:iam::000000000000:root']);
    assert.equal((await kubectl(['auth', 'can-i', 'delete', 'nodes'])).stdout.trim(), 'yes');
    const no = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'default', '--as', 'alice']);
    assert.equal(no.code, 1);
    assert.equal(no.stdout.trim(), 'no');
    assert.equal((await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'default', '--as', 'alice'])).stdout.trim(), 'yes', 'alice-view from the SubjectAccessReview test');
    const list = await kubectl(['auth', 'can-i', '--list', '-n', 'default', '--as', 'alice']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.equal((await kubectl(['create', 'serviceaccount', 'tokened'])).code, 0);
    const tok = await kubectl(['create', 'token', 'tokened', '--audience', 'vault', '--duration', '1h']);
    assert.equal(tok.code, 0, tok.stderr);
    const r = await tokenReview(tok.stdout.trim(), ['vault']);
    assert.equal(r.json.status.user.username, 'system:serviceaccount:default:tokened');
  });
});

describe('legacy service account token Secrets (only when requested)', () => {
  it('the tokens controller fills a requested Secret; its token authenticates while the Secret holds it', async () => {
    assert.equal((await kubectl(['create', 'serviceaccount', 'legacy'])).code, 0);
    const secret = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token', metadata: { name: 'legacy-token', annotations: { 'kubernetes.io/service-account.name': 'legacy' } } };
    const c = await kubectl(['apply', '--validate=false', '-f', '-'], JSON.stringify(secret));
    assert.equal(c.code, 0, c.stderr);
    const filled = await waitFor(
      async () => {
        const g = await kubectl(['get', 'secret', 'legacy-token', '-o', 'json']);
        const o = g.code === 0 ? JSON.parse(g.stdout) : undefined;
        return o?.data?.token ? o : undefined;
      },
      { what: 'the legacy token Secret to be filled' },
    );
    const sa = JSON.parse((await kubectl(['get', 'serviceaccount', 'legacy', '-o', 'json'])).stdout);
    assert.equal(filled.metadata.annotations['kubernetes.io/service-account.uid'], sa.metadata.uid);
    assert.equal(Buffer.from(filled.data.namespace, 'base64').toString(), 'default');
    assert.match(Buffer.from(filled.data['ca.crt'], 'base64').toString(), /BEGIN CERTIFICATE/);
    const token = Buffer.from(filled.data.token, 'base64').toString();
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.iss, 'kubernetes/serviceaccount');
    assert.equal(claims.exp, undefined, 'legacy tokens do not expire');
    const r = await tokenReview(token);
    assert.equal(r.json.status.authenticated, true, JSON.stringify(r.json.status));
    assert.equal(r.json.status.user.username, 'system:serviceaccount:default:legacy');
    assert.equal((await tokenReview(token, ['vault'])).json.status.authenticated, false, 'good for the API server audience only');
    // Deleting the Secret revokes the token.
    assert.equal((await kubectl(['delete', 'secret', 'legacy-token'])).code, 0);
    assert.equal((await tokenReview(token)).json.status.authenticated, false);
    // A Secret naming a service account that does not exist is deleted by the controller.
    const orphan = { ...secret, metadata: { name: 'orphan-token', annotations: { 'kubernetes.io/service-account.name': 'nobody' } } };
    assert.equal((await kubectl(['apply', '--validate=false', '-f', '-'], JSON.stringify(orphan))).code, 0);
    await waitFor(async () => (await kubectl(['get', 'secret', 'orphan-token'])).code !== 0, { what: 'the orphan token Secret to be deleted' });
  });
});

describe('service account issuer discovery on the API server', () => {
  it('serves the OIDC discovery document and JWKS to service accounts and admins, not to others', async () => {
    const cluster = (await awsJson(srv.awsEndpoint, ['eks', 'describe-cluster', '--name', 'rv'])).cluster;
    const d = await kubectl(['get', '--raw', '/clusters/rv/.well-known/openid-configuration']);
    assert.equal(d.code, 0, d.stderr);
    const doc = JSON.parse(d.stdout);
    assert.equal(doc.issuer, cluster.identity.oidc.issuer);
    assert.equal(doc.jwks_uri, `${srv.kubeEndpoint}/clusters/rv/openid/v1/jwks`);
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['RS256']);
    assert.equal((await kubectl(['create', 'serviceaccount', 'discoverer'])).code, 0);
    const tok = (await kubectl(['create', 'token', 'discoverer'])).stdout.trim();
    const k = await kubectl(['get', '--raw', '/clusters/rv/openid/v1/jwks', '--token', tok]);
    assert.equal(k.code, 0, k.stderr);
    const keys = JSON.parse(k.stdout).keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0].d, undefined, 'public keys only');
    const no = await kubectl(['get', '--raw', '/clusters/rv/openid/v1/jwks', '--as', 'nobody']);
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /forbidden: User "nobody" cannot get path "\/openid\/v1\/jwks"/);
  });
});
