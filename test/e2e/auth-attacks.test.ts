/**
 * The issue's "bad input and attacks" list that other auth tests do not
 * already cover, end to end with the aws CLI and HTTPS requests:
 *  - an EKS token presigned 16 minutes ago (valid signature) is expired: 401;
 *  - an assumed-role session mapped through an access entry loses access
 *    when the entry is deleted (401), and a session whose STS credentials
 *    expired (simulated clock) cannot be used even with a fresh token;
 *  - on a sqlite data dir, every file holding a secret (TLS keys, the store
 *    with IAM secrets and the clusters' signing keys) is 0600, the dir 0700,
 *    and no group/other-readable file contains a private key or an IAM secret.
 * (Forged, truncated, non-base64, other-cluster and wrong-audience tokens and
 * unmapped identities: auth.test.ts; static tokens: auth-kubeconfig.test.ts;
 * replay after expiry through the verification cache: authenticator.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEksToken } from '../../src/kube/authn/eks-token.ts';

let srv: TestServer;
let ep: string;
const dataDir = mkdtempSync(join(tmpdir(), 'auth-attacks-'));
const aws = (...args: string[]) => awsJson(ep, args);

function kubeRequest(cluster: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.kubeEndpoint}/clusters/${cluster}${path}`, { method, ca: srv.server.tls.caCertPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const trustAccount = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] });

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false, store: 'sqlite', dataDir });
  ep = srv.awsEndpoint;
  await aws('eks', 'create-cluster', '--name', 'atk', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2', '--access-config', 'authenticationMode=API');
});
after(async () => {
  await srv?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('attacks on cluster authentication', () => {
  it('an EKS token presigned 16 minutes ago is expired', async () => {
    const old = createEksToken({ clusterName: 'atk', region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test', now: new Date(Date.now() - 16 * 60_000) });
    const fresh = createEksToken({ clusterName: 'atk', region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' });
    assert.equal((await kubeRequest('atk', 'GET', '/api/v1/namespaces', fresh)).status, 200);
    const r = await kubeRequest('atk', 'GET', '/api/v1/namespaces', old);
    assert.equal(r.status, 401, r.body);
    assert.deepEqual(JSON.parse(r.body), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('a role session mapped through an access entry loses access when the entry is deleted; an expired session cannot sign in', async () => {
    await aws('iam', 'create-role', '--role-name', 'deployer', '--assume-role-policy-document', trustAccount);
    const roleArn = 'arn:aws:iam::000000000000:role/deployer';
    await aws('eks', 'create-access-entry', '--cluster-name', 'atk', '--principal-arn', roleArn);
    await aws('eks', 'associate-access-policy', '--cluster-name', 'atk', '--principal-arn', roleArn, '--policy-arn', 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', '--access-scope', 'type=cluster');
    const c = (await aws('sts', 'assume-role', '--role-arn', roleArn, '--role-session-name', 'ci-run', '--duration-seconds', '900')).Credentials;
    const creds = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    const token = async () => (await awsJson(ep, ['eks', 'get-token', '--cluster-name', 'atk'], creds)).status.token as string;
    const ok = await kubeRequest('atk', 'GET', '/api/v1/namespaces/default/pods', await token());
    assert.equal(ok.status, 200, ok.body);
    const who = await kubeRequest('atk', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', await token(), { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(JSON.parse(who.body).status.userInfo.username, 'arn:aws:sts::000000000000:assumed-role/deployer/ci-run');

    await aws('eks', 'delete-access-entry', '--cluster-name', 'atk', '--principal-arn', roleArn);
    const gone = await kubeRequest('atk', 'GET', '/api/v1/namespaces/default/pods', await token());
    assert.equal(gone.status, 401, gone.body);

    // Mapped again, then the session expires on the simulated clock: a freshly signed token is refused.
    await aws('eks', 'create-access-entry', '--cluster-name', 'atk', '--principal-arn', roleArn);
    await aws('eks', 'associate-access-policy', '--cluster-name', 'atk', '--principal-arn', roleArn, '--policy-arn', 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', '--access-scope', 'type=cluster');
    assert.equal((await kubeRequest('atk', 'GET', '/api/v1/namespaces/default/pods', await token())).status, 200);
    const adv = await fetch(`${ep}/_localeks/clock/advance?seconds=3600`, { method: 'POST' });
    assert.equal(adv.status, 200, await adv.text());
    const expired = await kubeRequest('atk', 'GET', '/api/v1/namespaces/default/pods', await token());
    assert.equal(expired.status, 401, expired.body);
    assert.ok(!expired.body.includes(c.SessionToken.slice(0, 20)));
  });

  it('secrets and signing keys stay in the data dir, readable by the owner only', async () => {
    // Make sure the cluster's signing key exists (a TokenRequest signs with it) and an IAM secret is stored.
    const admin = createEksToken({ clusterName: 'atk', region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' });
    const tr = await kubeRequest('atk', 'POST', '/api/v1/namespaces/default/serviceaccounts/default/token', admin, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['x'] } });
    assert.equal(tr.status, 201, tr.body);
    await aws('iam', 'create-user', '--user-name', 'secret-holder');
    const secret: string = (await aws('iam', 'create-access-key', '--user-name', 'secret-holder')).AccessKey.SecretAccessKey;
    assert.equal(statSync(dataDir).mode & 0o077, 0, 'data dir has no group/other permissions');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) {
          assert.equal(statSync(p).mode & 0o077, 0, `${p} is 0700`);
          walk(p);
        } else files.push(p);
      }
    };
    walk(dataDir);
    assert.ok(files.some((f) => f.endsWith('.key')), 'TLS keys are in the data dir');
    for (const f of files) {
      const mode = statSync(f).mode & 0o777;
      const text = readFileSync(f).toString('latin1');
      const secretish = /\.key$|\.db/.test(f) || text.includes('PRIVATE KEY') || text.includes(secret);
      if (secretish) assert.equal(mode & 0o077, 0, `${f} holds secrets and is mode ${mode.toString(8)}`);
    }
  });
});
