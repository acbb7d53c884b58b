/**
 * `localeks kubeconfig` end to end: the real bin/localeks against an
 * in-process server, then kubectl with the file it wrote.
 *  - the entry is the one `aws eks update-kubeconfig --dry-run` writes (the
 *    aws CLI v1 compared field by field), merged into an existing file,
 *    current-context set, mode 0600, and kubectl runs its exec plugin;
 *  - --static-token: kubectl works on a PATH without the aws CLI; the token
 *    is bound to the IAM principal (its mapping, its access key's status),
 *    to the cluster and to its expiry; tampered tokens get 401.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { awsJson, awsCliEnv, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createStaticToken } from '../../src/kube/authn/static-token.ts';

let srv: TestServer;
let ep: string;
const tmp = mkdtempSync(join(tmpdir(), 'auth-kubeconfig-'));
const aws = (...args: string[]) => awsJson(ep, args);
/** A PATH with kubectl and node only: no aws CLI. */
const noAwsBin = join(tmp, 'bin');

async function which(cmd: string): Promise<string> {
  const r = await runProcess('sh', ['-c', `command -v ${cmd}`]);
  assert.equal(r.code, 0, `${cmd} not found`);
  return r.stdout.trim();
}

function localeks(args: string[], env: Record<string, string> = {}) {
  const base: NodeJS.ProcessEnv = { PATH: noAwsBin, HOME: join(tmp, 'home'), LANG: 'C.UTF-8', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  return runProcess(join(process.cwd(), 'bin/localeks'), args, { env: { ...base, ...env } });
}

function kubectl(kc: string, args: string[], opts: { noAws?: boolean; creds?: { accessKeyId: string; secretAccessKey: string } } = {}) {
  const env = opts.noAws ? { PATH: noAwsBin, HOME: join(tmp, 'home') } : awsCliEnv(opts.creds);
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env });
}

function kubeRequest(cluster: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${srv.kubeEndpoint}/clusters/${cluster}${path}`, { ca: srv.server.tls.caCertPem, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

let cluster: any;
before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  ep = srv.awsEndpoint;
  mkdirSync(noAwsBin, { recursive: true });
  symlinkSync(await which('kubectl'), join(noAwsBin, 'kubectl'));
  symlinkSync(process.execPath, join(noAwsBin, 'node'));
  for (const name of ['kc', 'other']) {
    await aws('eks', 'create-cluster', '--name', name, '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2');
  }
  cluster = (await aws('eks', 'describe-cluster', '--name', 'kc')).cluster;
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('localeks kubeconfig', () => {
  it('prints the entry aws eks update-kubeconfig writes, with AWS_ENDPOINT_URL for the exec plugin', async () => {
    const p = await localeks(['kubeconfig', '--cluster', 'kc', '--print', '--endpoint-url', ep]);
    assert.equal(p.code, 0, p.stderr);
    const ours = parse(p.stdout);
    const dry = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'kc', '--kubeconfig', join(tmp, 'dry'), '--dry-run'], { env: { KUBECONFIG: '' } });
    assert.equal(dry.code, 0, dry.stderr);
    const theirs = parse(dry.stdout);
    assert.deepEqual(ours.clusters, theirs.clusters);
    assert.deepEqual(ours.contexts, theirs.contexts);
    assert.equal(ours['current-context'], cluster.arn);
    assert.equal(ours.users[0].name, theirs.users[0].name);
    const { env, ...exec } = ours.users[0].user.exec;
    assert.deepEqual(exec, theirs.users[0].user.exec);
    assert.deepEqual(env, [{ name: 'AWS_ENDPOINT_URL', value: ep }]);
    assert.equal(ours.clusters[0].cluster.server, cluster.endpoint);
  });

  it('merges into the KUBECONFIG file, keeps other entries, sets current-context, 0600; kubectl runs aws eks get-token', async () => {
    const kc = join(tmp, 'merged');
    writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters:\n- name: keep\n  cluster:\n    server: https://example.invalid\ncontexts:\n- name: keep\n  context:\n    cluster: keep\n    user: keep\ncurrent-context: keep\nusers:\n- name: keep\n  user:\n    token: abc\n', { mode: 0o644 });
    const w = await localeks(['kubeconfig', '--cluster', 'kc'], { KUBECONFIG: kc, AWS_ENDPOINT_URL: ep });
    assert.equal(w.code, 0, w.stderr);
    assert.equal(w.stdout, `Added new context ${cluster.arn} in ${kc}\n`);
    assert.equal(statSync(kc).mode & 0o777, 0o600);
    const doc = parse(readFileSync(kc, 'utf8'));
    assert.deepEqual(doc.clusters.map((c: any) => c.name), ['keep', cluster.arn]);
    assert.deepEqual(doc.users.map((c: any) => c.name), ['keep', cluster.arn]);
    assert.equal(doc['current-context'], cluster.arn);
    const again = await localeks(['kubeconfig', '--cluster', 'kc', '--endpoint-url', ep], { KUBECONFIG: kc });
    assert.equal(again.stdout, `Updated context ${cluster.arn} in ${kc}\n`);
    assert.equal(parse(readFileSync(kc, 'utf8')).clusters.length, 2);
    const g = await kubectl(kc, ['get', 'namespace', 'kube-system', '-o', 'name']);
    assert.equal(g.code, 0, g.stderr);
    assert.equal(g.stdout.trim(), 'namespace/kube-system');
  });

  it('answers an unknown cluster and bad flags with the right exit codes', async () => {
    const missing = await localeks(['kubeconfig', '--cluster', 'nope', '--endpoint-url', ep, '--print']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^localeks: ResourceNotFoundException: No cluster found for name: nope\.\n$/);
    const ttl = await localeks(['kubeconfig', '--cluster', 'kc', '--endpoint-url', ep, '--static-token', '--token-ttl', '31d']);
    assert.equal(ttl.code, 2);
    assert.equal((await localeks(['kubeconfig', '--endpoint-url', ep])).code, 2);
  });
});

describe('localeks kubeconfig --static-token', () => {
  it('kubectl works without the aws CLI, as the principal that signed the token', async () => {
    const kc = join(tmp, 'static');
    const w = await localeks(['kubeconfig', '--cluster', 'kc', '--static-token', '--token-ttl', '2h', '--kubeconfig', kc, '--endpoint-url', ep]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /The static token expires at \d{4}-/);
    const token: string = parse(readFileSync(kc, 'utf8')).users[0].user.token;
    assert.match(token, /^localeks-v1\./);
    assert.notEqual((await runProcess('/bin/sh', ['-c', 'command -v aws'], { env: { PATH: noAwsBin } })).code, 0, 'no aws on this PATH');
    const g = await kubectl(kc, ['get', 'namespace', 'default', '-o', 'name'], { noAws: true });
    assert.equal(g.code, 0, g.stderr);
    const who = await kubeRequest('kc', '/version', token);
    assert.equal(who.status, 200);

    // Bound to the cluster: another cluster's API refuses it.
    assert.equal((await kubeRequest('other', '/api/v1/namespaces', token)).status, 401);
    // Tampered claims or signature: 401 with the plain Unauthorized Status.
    const [payload, sig] = token.slice('localeks-v1.'.length).split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forgedPayload = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 86400 })).toString('base64url');
    for (const bad of [`localeks-v1.${forgedPayload}.${sig}`, `localeks-v1.${payload}.${'0'.repeat(64)}`, `localeks-v1.${payload}`, 'localeks-v1.!!!.zz']) {
      const r = await kubeRequest('kc', '/api/v1/namespaces', bad);
      assert.equal(r.status, 401, r.body);
      assert.equal(JSON.parse(r.body).message, 'Unauthorized');
    }
    // Expired (signed properly, two hours ago with a one hour lifetime).
    const old = createStaticToken({ clusterArn: cluster.arn, accessKeyId: 'test', secretAccessKey: 'test', lifetimeSeconds: 3600, now: new Date(Date.now() - 7_200_000) });
    assert.equal((await kubeRequest('kc', '/api/v1/namespaces', old.token)).status, 401);
    const fresh = createStaticToken({ clusterArn: cluster.arn, accessKeyId: 'test', secretAccessKey: 'test', lifetimeSeconds: 3600 });
    assert.equal((await kubeRequest('kc', '/api/v1/namespaces', fresh.token)).status, 200);
  });

  it('an IAM user\'s token follows the user\'s mapping and stops when its access key is deactivated', async () => {
    await aws('iam', 'create-user', '--user-name', 'ci');
    const key = (await aws('iam', 'create-access-key', '--user-name', 'ci')).AccessKey;
    const kc = join(tmp, 'ci');
    const w = await localeks(['kubeconfig', '--cluster', 'kc', '--static-token', '--kubeconfig', kc, '--endpoint-url', ep], { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey });
    assert.equal(w.code, 0, w.stderr);
    const token: string = parse(readFileSync(kc, 'utf8')).users[0].user.token;
    // Not mapped yet: 401.
    assert.equal((await kubeRequest('kc', '/api/v1/namespaces', token)).status, 401);
    const admin = join(tmp, 'admin');
    assert.equal((await localeks(['kubeconfig', '--cluster', 'kc', '--static-token', '--kubeconfig', admin, '--endpoint-url', ep])).code, 0);
    const awsAuth = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapUsers: '- userarn: arn:aws:iam::000000000000:user/ci\n  username: ci-user\n  groups: [system:masters]\n' } };
    writeFileSync(join(tmp, 'aws-auth.json'), JSON.stringify(awsAuth));
    const a = await kubectl(admin, ['apply', '-f', join(tmp, 'aws-auth.json')], { noAws: true });
    assert.equal(a.code, 0, a.stderr);
    const ok = await kubectl(kc, ['get', 'namespaces', '-o', 'name'], { noAws: true });
    assert.equal(ok.code, 0, ok.stderr);
    const review = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${srv.kubeEndpoint}/clusters/kc/apis/authentication.k8s.io/v1/selfsubjectreviews`, { method: 'POST', ca: srv.server.tls.caCertPem, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
    });
    assert.equal(review.status, 201, review.body);
    const ui = JSON.parse(review.body).status.userInfo;
    assert.equal(ui.username, 'ci-user');
    assert.deepEqual(ui.extra.arn, ['arn:aws:iam::000000000000:user/ci']);

    // A malformed aws-auth is accepted with a warning, as EKS accepts it; the broken section is ignored, the rest still maps.
    assert.equal((await kubectl(admin, ['delete', 'configmap', 'aws-auth', '-n', 'kube-system'], { noAws: true })).code, 0);
    writeFileSync(join(tmp, 'aws-auth-bad.json'), JSON.stringify({ ...awsAuth, data: { ...awsAuth.data, mapRoles: '- rolearn: arn:aws:iam::000000000000:role/admins\n  groups: system:masters\n' } }));
    const bad = await kubectl(admin, ['create', '-f', join(tmp, 'aws-auth-bad.json')], { noAws: true });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /Warning: aws-auth ConfigMap: .*mapRoles/);
    assert.equal((await kubectl(kc, ['get', 'namespaces', '-o', 'name'], { noAws: true })).code, 0, 'mapUsers still maps ci');

    await aws('iam', 'update-access-key', '--user-name', 'ci', '--access-key-id', key.AccessKeyId, '--status', 'Inactive');
    const off = await kubectl(kc, ['get', 'namespaces'], { noAws: true });
    assert.notEqual(off.code, 0);
    assert.match(off.stderr, /You must be logged in to the server \(Unauthorized\)/);
  });

  it('--role-arn: kubectl runs aws eks get-token --role, which assumes the role at localeks; the role is mapped by aws-auth', async () => {
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] });
    await aws('iam', 'create-role', '--role-name', 'kc-admins', '--assume-role-policy-document', trust);
    const admin = join(tmp, 'admin-role');
    assert.equal((await localeks(['kubeconfig', '--cluster', 'kc', '--static-token', '--kubeconfig', admin, '--endpoint-url', ep])).code, 0);
    const awsAuth = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: '- rolearn: arn:aws:iam::000000000000:role/kc-admins\n  username: admin:{{SessionName}}\n  groups: [system:masters]\n' } };
    writeFileSync(join(tmp, 'aws-auth-role.json'), JSON.stringify(awsAuth));
    const a = await kubectl(admin, ['apply', '--validate=false', '-f', join(tmp, 'aws-auth-role.json')], { noAws: true });
    assert.equal(a.code, 0, a.stderr);
    const kc = join(tmp, 'role');
    const w = await localeks(['kubeconfig', '--cluster', 'kc', '--kubeconfig', kc, '--endpoint-url', ep, '--role-arn', 'arn:aws:iam::000000000000:role/kc-admins']);
    assert.equal(w.code, 0, w.stderr);
    assert.deepEqual(parse(readFileSync(kc, 'utf8')).users[0].user.exec.args.slice(-2), ['--role', 'arn:aws:iam::000000000000:role/kc-admins']);
    const who = await kubectl(kc, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(JSON.parse(who.stdout).status.userInfo.username, 'admin:EKSGetTokenAuth');
  });
});
