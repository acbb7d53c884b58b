/**
 * The EKS pod identity webhook and EKS Pod Identity end to end, with kubectl,
 * the aws CLI and boto3 against one in-process localeks:
 *  - IRSA: a pod created with kubectl whose service account carries
 *    eks.amazonaws.com/role-arn shows AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE,
 *    AWS_STS_REGIONAL_ENDPOINTS, AWS_REGION/AWS_DEFAULT_REGION and the
 *    projected aws-iam-token volume (audience and expiry annotations
 *    honoured, sts-regional-endpoints "false" honoured, skip-containers);
 *  - Pod Identity: with an association (aws eks create-pod-identity-association)
 *    the pod gets AWS_CONTAINER_CREDENTIALS_FULL_URI, the token file and the
 *    eks-pod-identity-token volume; a pod-bound TokenRequest token with the
 *    pods.eks.amazonaws.com audience is exchanged with boto3's eks-auth
 *    client, and GetCallerIdentity with the credentials is the role; wrong
 *    audience, forged tokens, unassociated accounts and untrusting roles are
 *    refused, and so is the token of a pod that no longer exists; the
 *    sessions carry EKS's six session tags (trust policies must allow
 *    sts:TagSession and may test aws:RequestTag/*) unless the association
 *    disables them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, awsCliEnv } from '../helpers/aws-cli.ts';
import { runBoto3 } from '../helpers/boto3.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, waitFor, type TestServer } from '../helpers/server.ts';
import { writeClusterKubeconfig } from '../../src/cli/kubeconfig.ts';
import { sessionTagsOf } from '../../src/aws/sts/shared.ts';

let srv: TestServer;
let ep: string;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'auth-pod-identity-'));
const aws = (...args: string[]) => awsJson(ep, args);

function kubectl(args: string[], input?: unknown) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input: input === undefined ? undefined : JSON.stringify(input) });
}
async function apply(obj: unknown) {
  const r = await kubectl(['apply', '--validate=false', '-f', '-'], obj);
  assert.equal(r.code, 0, r.stderr);
}
async function getPod(name: string): Promise<any> {
  const r = await kubectl(['get', 'pod', name, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const sa = (name: string, annotations: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'default', annotations } });
const pod = (name: string, saName: string, extra: { annotations?: Record<string, string>; containers?: any[] } = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', ...(extra.annotations ? { annotations: extra.annotations } : {}) },
  spec: { serviceAccountName: saName, containers: extra.containers ?? [{ name: 'app', image: 'public.ecr.aws/docker/library/busybox:latest' }] },
});
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value]));

async function tokenFor(saName: string, audience: string, podName?: string): Promise<string> {
  const spec: any = { audiences: [audience], expirationSeconds: 3600 };
  if (podName) {
    const p = await getPod(podName);
    spec.boundObjectRef = { kind: 'Pod', apiVersion: 'v1', name: podName, uid: p.metadata.uid };
  }
  const r = await kubectl(['create', '--raw', `/clusters/pi/api/v1/namespaces/default/serviceaccounts/${saName}/token`, '-f', '-'], { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).status.token;
}

const exchange = (token: string, cluster = 'pi') =>
  runBoto3(
    ep,
    `
r = client('eks-auth').assume_role_for_pod_identity(clusterName=${JSON.stringify(cluster)}, token=${JSON.stringify(token)})
c = r['credentials']
who = session.client('sts', endpoint_url=_endpoint, config=_cfg, aws_access_key_id=c['accessKeyId'], aws_secret_access_key=c['secretAccessKey'], aws_session_token=c['sessionToken']).get_caller_identity()
result = {'r': r, 'arn': who['Arn']}
`,
  );

const podsTrust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }] });
const ec2Trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  ep = srv.awsEndpoint;
  await aws('eks', 'create-cluster', '--name', 'pi', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2');
  kc = join(tmp, 'kubeconfig');
  await writeClusterKubeconfig({ endpoint: ep, clusterName: 'pi', region: 'us-east-1', kubeconfig: kc, staticToken: {}, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('IRSA: the pod identity webhook', () => {
  it('injects the role, token file, regional STS and region, and the aws-iam-token volume', async () => {
    await apply(sa('irsa', { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::000000000000:role/irsa-app' }));
    await apply(pod('irsa-pod', 'irsa', { containers: [{ name: 'app', image: 'busybox' }, { name: 'sidecar', image: 'busybox', env: [{ name: 'AWS_REGION', value: 'eu-west-1' }] }] }));
    const p = await getPod('irsa-pod');
    const [app, sidecar] = p.spec.containers;
    assert.deepEqual(
      app.env.map((e: any) => e.name),
      ['AWS_STS_REGIONAL_ENDPOINTS', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_ROLE_ARN', 'AWS_WEB_IDENTITY_TOKEN_FILE'],
    );
    assert.deepEqual(envOf(app), {
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_ROLE_ARN: 'arn:aws:iam::000000000000:role/irsa-app',
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    });
    assert.equal(envOf(sidecar).AWS_REGION, 'eu-west-1', 'a variable the container sets is kept');
    assert.ok(app.volumeMounts.some((m: any) => m.name === 'aws-iam-token' && m.mountPath === '/var/run/secrets/eks.amazonaws.com/serviceaccount' && m.readOnly === true));
    const vol = p.spec.volumes.find((v: any) => v.name === 'aws-iam-token');
    assert.deepEqual(vol.projected.sources, [{ serviceAccountToken: { audience: 'sts.amazonaws.com', expirationSeconds: 86400, path: 'token' } }]);
    assert.equal(vol.projected.defaultMode, 420);
  });

  it('honours the audience, token-expiration, sts-regional-endpoints and skip-containers annotations', async () => {
    await apply(
      sa('irsa2', {
        'eks.amazonaws.com/role-arn': 'arn:aws:iam::000000000000:role/other',
        'eks.amazonaws.com/audience': 'my-audience',
        'eks.amazonaws.com/sts-regional-endpoints': 'false',
        'eks.amazonaws.com/token-expiration': '7200',
      }),
    );
    await apply(pod('irsa-pod2', 'irsa2', { annotations: { 'eks.amazonaws.com/skip-containers': 'skipme' }, containers: [{ name: 'app', image: 'busybox' }, { name: 'skipme', image: 'busybox' }] }));
    const p = await getPod('irsa-pod2');
    const [app, skipped] = p.spec.containers;
    assert.equal(envOf(app).AWS_STS_REGIONAL_ENDPOINTS, undefined);
    assert.equal(envOf(app).AWS_ROLE_ARN, 'arn:aws:iam::000000000000:role/other');
    assert.equal(skipped.env, undefined);
    assert.ok(!(skipped.volumeMounts ?? []).some((m: any) => m.name === 'aws-iam-token'));
    const vol = p.spec.volumes.find((v: any) => v.name === 'aws-iam-token');
    assert.deepEqual(vol.projected.sources[0].serviceAccountToken, { audience: 'my-audience', expirationSeconds: 7200, path: 'token' });
    // A pod of an account without the annotation is left alone.
    await apply(pod('plain', 'default'));
    const plain = await getPod('plain');
    assert.equal(plain.spec.containers[0].env, undefined);
    assert.ok(!plain.spec.volumes.some((v: any) => v.name === 'aws-iam-token' || v.name === 'eks-pod-identity-token'));
  });
});

describe('EKS Pod Identity', () => {
  it('injects the container credentials environment and volume; boto3 exchanges the token for the role', async () => {
    await aws('iam', 'create-role', '--role-name', 'pod-role', '--assume-role-policy-document', podsTrust);
    const assoc = (await aws('eks', 'create-pod-identity-association', '--cluster-name', 'pi', '--namespace', 'default', '--service-account', 'app', '--role-arn', 'arn:aws:iam::000000000000:role/pod-role')).association;
    // The association wins over an IRSA annotation on the same account.
    await apply(sa('app', { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::000000000000:role/irsa-app' }));
    await apply(pod('app-pod', 'app'));
    const p = await getPod('app-pod');
    const c = p.spec.containers[0];
    assert.deepEqual(envOf(c), {
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_REGION: 'us-east-1',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
    });
    assert.ok(c.volumeMounts.some((m: any) => m.name === 'eks-pod-identity-token' && m.mountPath === '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount' && m.readOnly));
    const vol = p.spec.volumes.find((v: any) => v.name === 'eks-pod-identity-token');
    assert.deepEqual(vol.projected.sources, [{ serviceAccountToken: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86400, path: 'eks-pod-identity-token' } }]);
    assert.ok(!p.spec.volumes.some((v: any) => v.name === 'aws-iam-token'));

    const token = await tokenFor('app', 'pods.eks.amazonaws.com', 'app-pod');
    const r = await exchange(token);
    assert.equal(r.code, 0, r.stderr + JSON.stringify(r.error));
    assert.deepEqual(r.json.r.subject, { namespace: 'default', serviceAccount: 'app' });
    assert.equal(r.json.r.audience, 'pods.eks.amazonaws.com');
    assert.deepEqual(r.json.r.podIdentityAssociation, { associationArn: assoc.associationArn, associationId: assoc.associationId });
    assert.match(r.json.r.assumedRoleUser.arn, /^arn:aws:sts::000000000000:assumed-role\/pod-role\/eks-pi-app-pod-[0-9a-f-]+$/);
    assert.match(r.json.r.assumedRoleUser.assumeRoleId, /^AROA[A-Z0-9]+:eks-pi-app-pod-/);
    assert.match(r.json.r.credentials.accessKeyId, /^ASIA/);
    assert.equal(r.json.arn, r.json.r.assumedRoleUser.arn, 'GetCallerIdentity with the credentials is the role session');

    // EKS reviews the token with the cluster's API server: once its pod is gone, the token is refused.
    await apply(pod('gone-pod', 'app'));
    const bound = await tokenFor('app', 'pods.eks.amazonaws.com', 'gone-pod');
    assert.equal((await exchange(bound)).code, 0);
    assert.equal((await kubectl(['delete', 'pod', 'gone-pod', '--grace-period=0', '--force', '--wait=false'])).code, 0);
    await waitFor(async () => (await kubectl(['get', 'pod', 'gone-pod'])).code !== 0, { what: 'the pod to be gone' });
    const refused = await exchange(bound);
    assert.equal(refused.error?.Code, 'InvalidTokenException');
    assert.equal(refused.error?.HTTPStatusCode, 400);
  });

  it('session tags: the six EKS tags on the session, sts:TagSession and aws:RequestTag conditions in the trust policy, disableSessionTags', async () => {
    const trust = (actions: string[], namespace?: string) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: actions, ...(namespace ? { Condition: { StringEquals: { 'aws:RequestTag/kubernetes-namespace': namespace } } } : {}) }] });
    await aws('iam', 'create-role', '--role-name', 'tag-role', '--assume-role-policy-document', trust(['sts:AssumeRole', 'sts:TagSession'], 'default'));
    const assoc = (await aws('eks', 'create-pod-identity-association', '--cluster-name', 'pi', '--namespace', 'default', '--service-account', 'tagged', '--role-arn', 'arn:aws:iam::000000000000:role/tag-role')).association;
    await apply(sa('tagged'));
    await apply(pod('tagged-pod', 'tagged'));
    const p = await getPod('tagged-pod');
    const token = await tokenFor('tagged', 'pods.eks.amazonaws.com', 'tagged-pod');
    const r = await exchange(token);
    assert.equal(r.code, 0, r.stderr + JSON.stringify(r.error));
    const cluster = (await aws('eks', 'describe-cluster', '--name', 'pi')).cluster;
    assert.deepEqual(sessionTagsOf(srv.server.deps, r.json.r.credentials.accessKeyId), {
      'eks-cluster-arn': cluster.arn,
      'eks-cluster-name': 'pi',
      'kubernetes-namespace': 'default',
      'kubernetes-service-account': 'tagged',
      'kubernetes-pod-name': 'tagged-pod',
      'kubernetes-pod-uid': p.metadata.uid,
    });
    // A condition on another namespace's tag refuses it.
    await aws('iam', 'update-assume-role-policy', '--role-name', 'tag-role', '--policy-document', trust(['sts:AssumeRole', 'sts:TagSession'], 'prod'));
    assert.equal((await exchange(token)).error?.Code, 'AccessDeniedException');
    // Without sts:TagSession the tagged session is refused, unless the association disables session tags.
    await aws('iam', 'update-assume-role-policy', '--role-name', 'tag-role', '--policy-document', trust(['sts:AssumeRole']));
    const noTag = await exchange(token);
    assert.equal(noTag.error?.Code, 'AccessDeniedException');
    assert.match(noTag.error!.Message, /sts:TagSession/);
    await aws('eks', 'update-pod-identity-association', '--cluster-name', 'pi', '--association-id', assoc.associationId, '--disable-session-tags');
    const untagged = await exchange(token);
    assert.equal(untagged.code, 0, untagged.stderr + JSON.stringify(untagged.error));
    assert.equal(sessionTagsOf(srv.server.deps, untagged.json.r.credentials.accessKeyId), undefined);
  });

  it('cross-account target roles: the association\'s role assumes the target role with the association\'s external id', async () => {
    await aws('iam', 'create-role', '--role-name', 'hop-role', '--assume-role-policy-document', podsTrust);
    const assoc = (await aws('eks', 'create-pod-identity-association', '--cluster-name', 'pi', '--namespace', 'default', '--service-account', 'hopper', '--role-arn', 'arn:aws:iam::000000000000:role/hop-role', '--target-role-arn', 'arn:aws:iam::000000000000:role/target-role')).association;
    assert.match(assoc.externalId, /^[0-9a-f-]{36}$/);
    const trustHop = (externalId: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/hop-role' }, Action: ['sts:AssumeRole', 'sts:TagSession'], Condition: { StringEquals: { 'sts:ExternalId': externalId } } }] });
    await aws('iam', 'create-role', '--role-name', 'target-role', '--assume-role-policy-document', trustHop('not-the-external-id'));
    await apply(sa('hopper'));
    const token = await tokenFor('hopper', 'pods.eks.amazonaws.com');
    const denied = await exchange(token);
    assert.equal(denied.error?.Code, 'AccessDeniedException');
    await aws('iam', 'update-assume-role-policy', '--role-name', 'target-role', '--policy-document', trustHop(assoc.externalId));
    const ok = await exchange(token);
    assert.equal(ok.code, 0, ok.stderr + JSON.stringify(ok.error));
    assert.match(ok.json.arn, /^arn:aws:sts::000000000000:assumed-role\/target-role\/eks-pi-/);
  });

  it('refuses a wrong audience, a forged or foreign token, an unassociated account and a role that does not trust pods.eks.amazonaws.com', async () => {
    const stsToken = await tokenFor('app', 'sts.amazonaws.com');
    const wrongAud = await exchange(stsToken);
    assert.equal(wrongAud.error?.Code, 'InvalidTokenException');
    assert.equal(wrongAud.error?.HTTPStatusCode, 400);
    const good = await tokenFor('app', 'pods.eks.amazonaws.com');
    const [h, b] = good.split('.');
    const forged = await exchange(`${h}.${b}.${'A'.repeat(342)}`);
    assert.equal(forged.error?.Code, 'InvalidTokenException');
    // Not even JWT-shaped: refused by the model's JwtToken pattern before the operation runs.
    assert.equal((await exchange('not-a-jwt')).error?.HTTPStatusCode, 400);
    const noCluster = await exchange(good, 'nope');
    assert.equal(noCluster.error?.Code, 'ResourceNotFoundException');
    assert.equal(noCluster.error?.HTTPStatusCode, 404);
    await apply(sa('lonely'));
    const unassociated = await exchange(await tokenFor('lonely', 'pods.eks.amazonaws.com'));
    assert.equal(unassociated.error?.Code, 'AccessDeniedException');
    await aws('iam', 'create-role', '--role-name', 'ec2-only', '--assume-role-policy-document', ec2Trust);
    await aws('eks', 'create-pod-identity-association', '--cluster-name', 'pi', '--namespace', 'default', '--service-account', 'untrusted', '--role-arn', 'arn:aws:iam::000000000000:role/ec2-only');
    await apply(sa('untrusted'));
    const untrusted = await exchange(await tokenFor('untrusted', 'pods.eks.amazonaws.com'));
    assert.equal(untrusted.error?.Code, 'AccessDeniedException');
    assert.ok(!untrusted.error!.Message.includes('eyJ'), 'no token in the message');
  });
});
