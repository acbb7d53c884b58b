/**
 * Deprecated group-versions, end to end with kubectl and the aws CLI: a 1.31
 * cluster serves flowcontrol.apiserver.k8s.io/v1beta3 (removed upstream in
 * 1.32) with upstream's `Warning: 299` deprecation header, reads and writes
 * the same objects as v1, and reports the use to EKS upgrade insights
 * ("Deprecated APIs removed in Kubernetes v1.32" lists the API and the
 * kubectl user agent); a 1.32 cluster does not serve it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { withStaticToken } from './kube-harness.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const tmp = mkdtempSync(join(tmpdir(), 'kube-deprecated-e2e-'));

async function clusterWithKubeconfig(name: string, version: string): Promise<string> {
  await awsJson(ep, ['eks', 'create-cluster', '--name', name, '--kubernetes-version', version, '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
  const kc = join(tmp, `${name}.kubeconfig`);
  const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', name, '--kubeconfig', kc]);
  assert.equal(u.code, 0, u.stderr);
  await withStaticToken(ep, kc, name);
  return kc;
}

function kubectl(kc: string, args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

before(async () => {
  srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  ep = srv.awsEndpoint;
});
after(async () => {
  await srv?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const FLOW_SCHEMA = `apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: {name: ci-jobs}
spec:
  priorityLevelConfiguration: {name: workload-low}
  matchingPrecedence: 5000
  rules:
  - subjects: [{kind: Group, group: {name: ci}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"]}]
`;

describe('deprecated APIs', () => {
  it('1.31 serves flowcontrol v1beta3 with the deprecation warning, and EKS insights report its use', async () => {
    const kc = await clusterWithKubeconfig('dep131', '1.31');
    const versions = await kubectl(kc, ['api-versions']);
    assert.match(versions.stdout, /^flowcontrol\.apiserver\.k8s\.io\/v1beta3$/m);
    const created = await kubectl(kc, ['apply', '-f', '-'], FLOW_SCHEMA);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /Warning: flowcontrol\.apiserver\.k8s\.io\/v1beta3 FlowSchema is deprecated in v1\.29\+, unavailable in v1\.32\+; use flowcontrol\.apiserver\.k8s\.io\/v1 FlowSchema/);
    // One object, served in both versions.
    const v1 = await kubectl(kc, ['get', 'flowschemas.v1.flowcontrol.apiserver.k8s.io', 'ci-jobs', '-o', 'json']);
    assert.equal(v1.code, 0, v1.stderr);
    assert.equal(JSON.parse(v1.stdout).apiVersion, 'flowcontrol.apiserver.k8s.io/v1');
    assert.equal(JSON.parse(v1.stdout).spec.matchingPrecedence, 5000);
    assert.doesNotMatch(v1.stderr, /deprecated/);
    const beta = await kubectl(kc, ['get', 'flowschemas.v1beta3.flowcontrol.apiserver.k8s.io', 'ci-jobs', '-o', 'json']);
    assert.equal(JSON.parse(beta.stdout).apiVersion, 'flowcontrol.apiserver.k8s.io/v1beta3');
    assert.match(beta.stderr, /is deprecated in v1\.29\+/);

    const insight = await waitFor(async () => {
      const list = await awsJson(ep, ['eks', 'list-insights', '--cluster-name', 'dep131']);
      const i = list.insights.find((x: any) => x.name === 'Deprecated APIs removed in Kubernetes v1.32');
      if (!i) return undefined;
      const d = (await awsJson(ep, ['eks', 'describe-insight', '--cluster-name', 'dep131', '--id', i.id])).insight;
      return d.categorySpecificSummary?.deprecationDetails?.length ? d : undefined;
    }, { timeoutMs: 20000, what: "the deprecated API insight" });
    assert.equal(insight.insightStatus.status, 'ERROR');
    const detail = insight.categorySpecificSummary.deprecationDetails.find((x: any) => x.usage === '/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas');
    assert.ok(detail, JSON.stringify(insight.categorySpecificSummary));
    assert.equal(detail.replacedWith, 'flowcontrol.apiserver.k8s.io/v1/flowschemas');
    assert.equal(detail.stopServingVersion, '1.32');
    assert.equal(detail.startServingReplacementVersion, '1.29');
    const stat = detail.clientStats.find((c: any) => /^kubectl\//.test(c.userAgent));
    assert.ok(stat && stat.numberOfRequestsLast30Days >= 2, JSON.stringify(detail.clientStats));
  });

  it('1.32 no longer serves flowcontrol v1beta3', async () => {
    const kc = await clusterWithKubeconfig('dep132', '1.32');
    const versions = await kubectl(kc, ['api-versions']);
    assert.doesNotMatch(versions.stdout, /flowcontrol\.apiserver\.k8s\.io\/v1beta3/);
    assert.match(versions.stdout, /^flowcontrol\.apiserver\.k8s\.io\/v1$/m);
    const raw = await kubectl(kc, ['get', '--raw', '/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /NotFound|not found/i);
  });
});
