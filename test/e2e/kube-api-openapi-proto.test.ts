/**
 * /openapi/v2 as gnostic protobuf, end to end with kubectl 1.32: for a
 * `kind: List` manifest kubectl cannot use server-side field validation, so it
 * validates client-side against the v2 schema it fetches as protobuf
 * (`Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`).
 * One localeks (instant profile), one EKS cluster made with the aws CLI,
 * kubectl through `aws eks update-kubeconfig`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { withStaticToken } from './kube-harness.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'kube-oapb-e2e-'));

function kubectl(args: string[]) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv() });
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function manifest(name: string, extraSpec = ''): string {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(
    f,
    `apiVersion: v1
kind: List
items:
- apiVersion: policy/v1
  kind: PodDisruptionBudget
  metadata:
    name: ${name}-pdb
    namespace: default
  spec:
    minAvailable: 1${extraSpec}
    selector:
      matchLabels:
        app: ${name}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: ${name}-config
    namespace: default
  data:
    a: "1"
`,
  );
  return f;
}

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  const ep = srv.awsEndpoint;
  await awsJson(ep, ['eks', 'create-cluster', '--name', 'oapb', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  kc = join(tmp, 'oapb.kubeconfig');
  const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'oapb', '--kubeconfig', kc]);
  assert.equal(u.code, 0, u.stderr);
  await withStaticToken(ep, kc, 'oapb');
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('kubectl client-side validation against /openapi/v2 (protobuf)', () => {
  it('create -f and apply -f of a v1 List', async () => {
    const f = manifest('web');
    const created = await ok(['create', '-f', f]);
    assert.match(created, /poddisruptionbudget.policy\/web-pdb created/);
    assert.match(created, /configmap\/web-config created/);
    await ok(['apply', '-f', f]);
    const applied = await ok(['apply', '-f', manifest('api')]);
    assert.match(applied, /poddisruptionbudget.policy\/api-pdb created/);
    const pdb = JSON.parse(await ok(['get', 'pdb', 'api-pdb', '-o', 'json']));
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(pdb.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  });

  it('an unknown field in a List item is refused client-side, naming the field', async () => {
    const f = manifest('bad', '\n    bogusField: 3');
    for (const verb of ['create', 'apply']) {
      const r = await kubectl([verb, '-f', f]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /error validating data: ValidationError\(PodDisruptionBudget\.spec\): unknown field "bogusField" in io\.k8s\.api\.policy\.v1\.PodDisruptionBudgetSpec/);
    }
    const gone = await kubectl(['get', 'pdb', 'bad-pdb']);
    assert.notEqual(gone.code, 0);
  });

  it('get -o yaml of several kinds re-applies as a List (backup and restore)', async () => {
    await ok(['create', 'deployment', 'shop', '--image=nginx:1.27', '--replicas=2', '--port=80']);
    await ok(['expose', 'deployment', 'shop', '--port', '80']);
    const dump = join(tmp, 'backup.yaml');
    writeFileSync(dump, await ok(['get', 'deployment,service,configmap,poddisruptionbudget,serviceaccount', '-n', 'default', '-o', 'yaml']));
    const out = await ok(['apply', '-f', dump]);
    assert.match(out, /deployment.apps\/shop/);
    assert.match(out, /service\/shop/);
  });

  it('JSON is still served without the protobuf Accept', async () => {
    // --raw takes the whole request path: keep the kubeconfig server's path prefix.
    const server = /server: (\S+)/.exec(readFileSync(kc, 'utf8'))![1]!;
    const doc = JSON.parse(await ok(['get', '--raw', `${new URL(server).pathname.replace(/\/$/, '')}/openapi/v2`]));
    assert.equal(doc.swagger, '2.0');
    assert.deepEqual(doc.definitions['io.k8s.api.core.v1.ConfigMap']['x-kubernetes-group-version-kind'], [{ group: '', kind: 'ConfigMap', version: 'v1' }]);
  });
});
