/**
 * Protobuf request bodies end to end: kubectl 1.32's typed-client commands
 * send `application/vnd.kubernetes.protobuf` (create deployment,
 * serviceaccount, token, priorityclass, secret, quota, cronjob, job --from,
 * auth can-i, auth whoami, drain's Eviction). One localeks (instant profile), one EKS cluster
 * made with the aws CLI, kubectl through `aws eks update-kubeconfig`, so the
 * requests pass authentication and RBAC as a user's would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { withStaticToken } from './kube-harness.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'kube-pb-e2e-'));

function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await ok(['get', ...args, '-o', 'json']));
}

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  const ep = srv.awsEndpoint;
  await awsJson(ep, ['eks', 'create-cluster', '--name', 'pb', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  kc = join(tmp, 'pb.kubeconfig');
  const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'pb', '--kubeconfig', kc]);
  assert.equal(u.code, 0, u.stderr);
  await withStaticToken(ep, kc, 'pb');
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('protobuf request bodies from kubectl', () => {
  it('create deployment: decoded, defaulted and validated as JSON would be', async () => {
    await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=3', '--port=8080']);
    const d = await getJson(['deployment', 'web']);
    assert.equal(d.spec.replicas, 3);
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'web' } });
    assert.equal(d.spec.strategy.type, 'RollingUpdate');
    assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(d.spec.revisionHistoryLimit, 10);
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.image, 'nginx:1.27');
    assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: 'TCP' }]);
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
    const mf = (await getJson(['deployment', 'web', '--show-managed-fields'])).metadata.managedFields;
    assert.equal(mf[0].manager, 'kubectl-create');
    // Zero replicas is kept (a pointer field), not defaulted to 1.
    await ok(['create', 'deployment', 'idle', '--image=nginx', '--replicas=0']);
    assert.equal((await getJson(['deployment', 'idle'])).spec.replicas, 0);
    // Validation errors come back as for JSON bodies.
    const bad = await kubectl(['create', 'deployment', 'Bad_Name', '--image=nginx']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
    const dup = await kubectl(['create', 'deployment', 'web', '--image=nginx']);
    assert.match(dup.stderr, /deployments.apps "web" already exists/);
  });

  it('create serviceaccount and token (TokenRequest with audiences and duration)', async () => {
    await ok(['create', 'serviceaccount', 'builder']);
    assert.equal((await getJson(['serviceaccount', 'builder'])).metadata.name, 'builder');
    const tok = (await ok(['create', 'token', 'builder', '--duration=2h', '--audience=sts.amazonaws.com'])).trim();
    const claims = JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString('utf8'));
    assert.equal(claims.sub, 'system:serviceaccount:default:builder');
    assert.deepEqual(claims.aud, ['sts.amazonaws.com']);
    assert.equal(claims.exp - claims.iat, 7200);
    const short = await kubectl(['create', 'token', 'builder', '--duration=1m']);
    assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
  });

  it('auth whoami and auth can-i (SelfSubjectReview, SelfSubjectAccessReview) answer for the caller', async () => {
    const who = JSON.parse(await ok(['auth', 'whoami', '-o', 'json']));
    assert.equal(who.kind, 'SelfSubjectReview');
    assert.ok(who.status.userInfo.groups.includes('system:authenticated'), JSON.stringify(who));
    assert.equal((await ok(['auth', 'can-i', 'create', 'deployments'])).trim(), 'yes');
    // Impersonating a user without bindings: the review's spec (decoded from protobuf) decides.
    const no = await kubectl(['auth', 'can-i', 'create', 'deployments', '--as=nobody']);
    assert.equal(no.stdout.trim(), 'no');
    const sa = await kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'default', '--as=system:serviceaccount:default:builder']);
    assert.equal(sa.stdout.trim(), 'no');
  });

  it('kubectl drain: cordon, then policy/v1 Eviction in protobuf with DeleteOptions', async () => {
    const node = await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Node\nmetadata: {name: drain-me}\n');
    assert.equal(node.code, 0, node.stderr);
    await ok(['run', 'victim', '--image=nginx', '--overrides={"spec":{"nodeName":"drain-me"}}']);
    const d = await kubectl(['drain', 'drain-me', '--force', '--grace-period=0', '--timeout=30s']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /pod\/victim evicted/);
    assert.equal((await kubectl(['get', 'pod', 'victim'])).code, 1);
    assert.equal(await ok(['get', 'node', 'drain-me', '-o', 'jsonpath={.spec.unschedulable}']), 'true');
  });

  it('well-known types: negative int32, bytes, Quantity, ownerReferences, nested templates', async () => {
    await ok(['create', 'priorityclass', 'low', '--value=-5', '--description=below default']);
    const pc = await getJson(['priorityclass', 'low']);
    assert.equal(pc.value, -5);
    assert.equal(pc.description, 'below default');
    assert.equal(pc.preemptionPolicy, 'PreemptLowerPriority');
    await ok(['create', 'secret', 'generic', 's1', '--from-literal=user=admin', '--from-literal=empty=']);
    const s = await getJson(['secret', 's1']);
    assert.equal(Buffer.from(s.data.user, 'base64').toString(), 'admin');
    assert.equal(s.data.empty, '');
    assert.equal(s.type, 'Opaque');
    await ok(['create', 'quota', 'q1', '--hard=cpu=1500m,memory=2Gi,pods=10']);
    assert.deepEqual((await getJson(['resourcequota', 'q1'])).spec.hard, { cpu: '1500m', memory: '2Gi', pods: '10' });
    await ok(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date']);
    const cj = await getJson(['cronjob', 'cj']);
    assert.equal(cj.spec.schedule, '*/5 * * * *');
    assert.deepEqual(cj.spec.jobTemplate.spec.template.spec.containers[0].command, ['date']);
    assert.equal(cj.spec.jobTemplate.spec.template.spec.restartPolicy, 'OnFailure');
    await ok(['create', 'job', 'manual', '--from=cronjob/cj']);
    const job = await getJson(['job', 'manual']);
    assert.equal(job.metadata.ownerReferences[0].kind, 'CronJob');
    assert.equal(job.metadata.ownerReferences[0].controller, true);
    assert.equal(job.metadata.ownerReferences[0].uid, cj.metadata.uid);
    assert.equal(job.metadata.annotations['cronjob.kubernetes.io/instantiate'], 'manual');
  });
});
