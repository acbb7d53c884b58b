/**
 * ValidatingAdmissionPolicy's `authorizer` end to end: a policy allows a
 * ConfigMap field only to users who may read Secrets in its namespace, asked
 * of the requesting user's RBAC (and EKS access policies). kubectl acts as
 * "dev" through `--as` and as the cluster admin (an IAM principal's static
 * token).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { writeClusterKubeconfig } from '../../src/cli/kubeconfig.ts';

let srv: TestServer;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'vap-authz-'));

function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const cm = (name: string, data: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: team}\ndata: {${data}}\n`;

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  await awsJson(srv.awsEndpoint, ['eks', 'create-cluster', '--name', 'vapz', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  kc = join(tmp, 'kubeconfig');
  await writeClusterKubeconfig({ endpoint: srv.awsEndpoint, clusterName: 'vapz', region: 'us-east-1', kubeconfig: kc, staticToken: {}, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await ok(['create', 'namespace', 'team']);
  await ok(['create', 'role', 'cm-editor', '-n', 'team', '--verb=get,list,create,update,patch', '--resource=configmaps']);
  await ok(['create', 'rolebinding', 'dev-cm-editor', '-n', 'team', '--role=cm-editor', '--user=dev']);
  await ok(
    ['apply', '-f', '-'],
    `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: protected-config}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [configmaps]}
  validations:
  - expression: "!has(object.data) || !('protected' in object.data) || authorizer.group('').resource('secrets').namespace(object.metadata.namespace).check('get').allowed()"
    messageExpression: "'user ' + request.userInfo.username + ' may not set protected: cannot read secrets in ' + object.metadata.namespace"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: protected-config}
spec:
  policyName: protected-config
  validationActions: [Deny]
`,
  );
});

after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('ValidatingAdmissionPolicy authorizer', () => {
  it("checks the requesting user's permissions", async () => {
    await ok(['apply', '-f', '-', '--as', 'dev'], cm('plain', 'a: "1"'));
    const denied = await kubectl(['apply', '-f', '-', '--as', 'dev'], cm('guarded', 'protected: "yes"'));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Error from server \(Forbidden\)[\s\S]*configmaps "guarded" is forbidden: ValidatingAdmissionPolicy 'protected-config' with binding 'protected-config' denied request: user dev may not set protected: cannot read secrets in team/);
    assert.notEqual((await kubectl(['get', 'configmap', 'guarded', '-n', 'team'])).code, 0, 'nothing stored');
    // The cluster admin (EKS access policy) may; so may dev once it can read secrets there.
    await ok(['apply', '-f', '-'], cm('guarded', 'protected: "yes"'));
    await ok(['create', 'role', 'secret-reader', '-n', 'team', '--verb=get', '--resource=secrets']);
    await ok(['create', 'rolebinding', 'dev-secret-reader', '-n', 'team', '--role=secret-reader', '--user=dev']);
    await ok(['apply', '-f', '-', '--as', 'dev'], cm('guarded2', 'protected: "yes"'));
  });
});
