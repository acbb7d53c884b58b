/**
 * DaemonSets end to end with kubectl against one in-process localeks (fast
 * timing profile), on a cluster without the default add-ons and a node group
 * of 3 m5.large:
 *  - one pod per eligible node: nodeSelector, an untolerated NoSchedule
 *    taint, a toleration; cordoned nodes keep their daemon pods;
 *    SuccessfulCreate events;
 *  - RollingUpdate with `kubectl set image` and `kubectl rollout status`,
 *    history and `kubectl rollout undo`;
 *  - OnDelete replaces only deleted pods.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'workloads-core-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);
let nodes: string[] = [];

async function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

async function kubectlJson(args: string[]): Promise<any> {
  const r = await kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function advance(seconds: number): Promise<void> {
  const r = await fetch(`${ep}/_localeks/clock/advance?seconds=${seconds}`, { method: 'POST' });
  assert.equal(r.status, 200);
}

const daemonSet = (name: string, spec: Record<string, any> = {}, podSpec: Record<string, any> = {}) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'agent', image: 'agent:1' }], ...podSpec } },
      ...spec,
    },
  });

const livePods = async (app: string) => (await kubectlJson(['get', 'pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp);

describe('DaemonSets with kubectl', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true });
    ep = srv.awsEndpoint;
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.71.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    const subnets: string[] = [];
    for (const [i, az] of azs.entries()) subnets.push((await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.71.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'wc-cluster', '--assume-role-policy-document', trust)).Role.Arn;
    const nodeRole = (await aws('iam', 'create-role', '--role-name', 'wc-node', '--assume-role-policy-document', trust)).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'wc', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`, '--no-bootstrap-self-managed-addons');
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'wc')).cluster.status === 'ACTIVE', { what: 'cluster ACTIVE' });
    await aws(
      'eks', 'create-nodegroup', '--cluster-name', 'wc', '--nodegroup-name', 'workers', '--node-role', nodeRole, '--subnets', ...subnets,
      '--scaling-config', 'minSize=1,maxSize=5,desiredSize=3', '--instance-types', 'm5.large',
    );
    await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', 'wc', '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: 'node group ACTIVE' });
    kc = join(tmp, 'kubeconfig');
    const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'wc', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
    nodes = await waitFor(async () => {
      const l = (await kubectlJson(['get', 'nodes'])).items.map((n: any) => n.metadata.name).sort();
      return l.length === 3 ? l : undefined;
    }, { what: '3 nodes', timeoutMs: 60_000 });
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('one pod per eligible node: nodeSelector, taints and tolerations; cordoned nodes keep theirs', async () => {
    assert.equal((await kubectl(['label', 'node', nodes[0]!, 'role=edge'])).code, 0);
    assert.equal((await kubectl(['taint', 'node', nodes[2]!, 'dedicated=gpu:NoSchedule'])).code, 0);
    for (const m of [daemonSet('agent'), daemonSet('edge', {}, { nodeSelector: { role: 'edge' } }), daemonSet('tolerant', {}, { tolerations: [{ key: 'dedicated', operator: 'Exists' }] })]) {
      const r = await kubectl(['create', '-f', '-'], m);
      assert.equal(r.code, 0, r.stderr);
    }
    const want: Record<string, string[]> = { agent: [nodes[0]!, nodes[1]!], edge: [nodes[0]!], tolerant: nodes };
    for (const [name, on] of Object.entries(want)) {
      const ds = await waitFor(async () => {
        const d = await kubectlJson(['get', 'ds', name]);
        return d.status.numberReady === on.length && d.status.desiredNumberScheduled === on.length ? d : undefined;
      }, { what: `ds ${name} ready on ${on.length} nodes` });
      assert.equal(ds.status.currentNumberScheduled, on.length);
      assert.equal(ds.status.updatedNumberScheduled, on.length);
      assert.equal(ds.status.numberMisscheduled, 0);
      const pods = await livePods(name);
      assert.deepEqual(pods.map((p: any) => p.spec.nodeName).sort(), on);
      for (const p of pods) {
        assert.equal(p.metadata.ownerReferences[0].kind, 'DaemonSet');
        assert.ok(p.metadata.labels['controller-revision-hash']);
        assert.ok(p.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unschedulable' && t.effect === 'NoSchedule'));
      }
    }
    const ev = await waitFor(async () => (await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=agent,reason=SuccessfulCreate'])).items[0], { what: 'SuccessfulCreate event' });
    assert.match(ev.message, /^Created pod: agent-[a-z0-9]{5}$/);
    assert.equal(ev.source.component, 'daemonset-controller');
    assert.equal((await kubectl(['cordon', nodes[1]!])).code, 0);
    const r = await kubectl(['rollout', 'status', 'ds/agent', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await livePods('agent')).length, 2);
    assert.equal((await kubectl(['uncordon', nodes[1]!])).code, 0);
    // Removing the label takes the edge pod away.
    assert.equal((await kubectl(['label', 'node', nodes[0]!, 'role-'])).code, 0);
    await waitFor(async () => {
      await advance(2);
      return (await livePods('edge')).length === 0;
    }, { what: 'edge pod removed' });
  });

  it('RollingUpdate: set image, rollout status, history and undo', async () => {
    const r = await kubectl(['set', 'image', 'ds/tolerant', 'agent=agent:2']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => {
      await advance(2);
      const d = await kubectlJson(['get', 'ds', 'tolerant']);
      return d.status.observedGeneration === d.metadata.generation && d.status.updatedNumberScheduled === 3 && d.status.numberAvailable === 3;
    }, { what: 'tolerant rolled out', timeoutMs: 60_000 });
    const st = await kubectl(['rollout', 'status', 'ds/tolerant', '--timeout=30s']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /daemon set "tolerant" successfully rolled out/);
    const pods = await livePods('tolerant');
    assert.deepEqual(pods.map((p: any) => p.spec.containers[0].image), ['agent:2', 'agent:2', 'agent:2']);
    const h = await kubectl(['rollout', 'history', 'ds/tolerant']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^1\s/m);
    assert.match(h.stdout, /^2\s/m);
    const u = await kubectl(['rollout', 'undo', 'ds/tolerant']);
    assert.equal(u.code, 0, u.stderr);
    await waitFor(async () => {
      await advance(2);
      const p = await livePods('tolerant');
      return p.length === 3 && p.every((x: any) => x.spec.containers[0].image === 'agent:1');
    }, { what: 'undo back to agent:1', timeoutMs: 60_000 });
    const revs = (await kubectlJson(['get', 'controllerrevisions', '-l', 'app=tolerant'])).items;
    assert.equal(Math.max(...revs.map((x: any) => x.revision)), 3);
  });

  it('OnDelete replaces only deleted pods', async () => {
    const c = await kubectl(['create', '-f', '-'], daemonSet('manual', { updateStrategy: { type: 'OnDelete' } }));
    assert.equal(c.code, 0, c.stderr);
    // Not on the tainted node: 2 pods.
    await waitFor(async () => (await kubectlJson(['get', 'ds', 'manual'])).status.numberReady === 2, { what: 'manual ready' });
    assert.equal((await kubectl(['set', 'image', 'ds/manual', 'agent=agent:2'])).code, 0);
    await waitFor(async () => {
      const d = await kubectlJson(['get', 'ds', 'manual']);
      return d.status.observedGeneration === d.metadata.generation;
    }, { what: 'manual observed' });
    await advance(5);
    const before = await livePods('manual');
    assert.deepEqual(before.map((p: any) => p.spec.containers[0].image), ['agent:1', 'agent:1']);
    assert.equal((await kubectlJson(['get', 'ds', 'manual'])).status.updatedNumberScheduled ?? 0, 0);
    assert.equal((await kubectl(['delete', 'pod', before[0].metadata.name, '--wait=false'])).code, 0);
    await waitFor(async () => {
      await advance(2);
      const p = await livePods('manual');
      return p.length === 2 && p.filter((x: any) => x.spec.containers[0].image === 'agent:2').length === 1;
    }, { what: 'one pod replaced with agent:2' });
  });
});
