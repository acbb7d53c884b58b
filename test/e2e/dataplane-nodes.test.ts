/**
 * Node lifecycle end to end with the aws CLI and kubectl (3 m5.large):
 *  - the kubelet posts status heartbeats (Ready lastHeartbeatTime moves on
 *    the simulated clock);
 *  - a node whose kubelet stops goes Ready=Unknown after the 40 s grace
 *    period, gets the unreachable NoSchedule/NoExecute taints, its pods go
 *    not Ready and are evicted after their 300 s default tolerations (their
 *    ReplicaSet replaces them on other nodes); when the kubelet comes back
 *    the taints go;
 *  - a stopped EC2 instance makes its node NotReady with the shutdown taint;
 *  - kubectl cordon keeps new pods off a node; kubectl drain evicts through
 *    the eviction API honouring a PodDisruptionBudget.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

const ready = (n: any) => n.status.conditions.find((c: any) => c.type === 'Ready');
const taintKeys = (n: any) => (n.spec.taints ?? []).map((t: any) => `${t.key}:${t.effect}`).sort();

function deployment(name: string, replicas: number, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }], ...extra } } },
  });
}

async function livePods(app: string): Promise<any[]> {
  return (await dp.kubectlJson(['get', 'pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp);
}

describe('data plane: node lifecycle, taint evictions, cordon and drain', () => {
  before(async () => {
    dp = await startDataPlaneCluster({ name: 'nodes', cidr: '10.61', nodes: 3 });
  });
  after(() => dp?.stop());

  it('the kubelet posts status heartbeats on the simulated clock', async () => {
    const name = (await dp.kubectlJson(['get', 'nodes'])).items[0].metadata.name;
    const first = ready(await dp.kubectlJson(['get', 'node', name]));
    await dp.advance(301);
    const later = await waitFor(async () => {
      const r = ready(await dp.kubectlJson(['get', 'node', name]));
      return Date.parse(r.lastHeartbeatTime) > Date.parse(first.lastHeartbeatTime) ? r : undefined;
    }, { what: 'a newer heartbeat' });
    assert.equal(later.status, 'True');
    assert.equal(later.lastTransitionTime, first.lastTransitionTime);
  });

  it('a node whose kubelet stops goes Unknown, is tainted, and its pods are evicted after 300 s', async () => {
    assert.equal((await dp.kubectl(['create', '-f', '-'], deployment('web', 6))).code, 0);
    await waitFor(async () => (await dp.kubectlJson(['get', 'deploy', 'web'])).status.readyReplicas === 6, { what: '6 ready' });
    const pods = await livePods('web');
    const victim = pods[0].spec.nodeName;
    const onVictim = pods.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata.name);
    assert.ok(onVictim.length > 0);
    // DefaultTolerationSeconds gave every pod 300 s for not-ready and unreachable.
    assert.ok(pods[0].spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 300));
    assert.equal((await dp.kubectl(['annotate', 'node', victim, 'sim.localeks.io/kubelet=stopped'])).code, 0);
    await dp.advance(41);
    const node = await waitFor(async () => {
      const n = await dp.kubectlJson(['get', 'node', victim]);
      return ready(n).status === 'Unknown' && taintKeys(n).length === 2 ? n : undefined;
    }, { what: 'node Unknown and tainted' });
    assert.equal(ready(node).reason, 'NodeStatusUnknown');
    assert.equal(ready(node).message, 'Kubelet stopped posting node status.');
    assert.deepEqual(taintKeys(node), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.ok(node.spec.taints.find((t: any) => t.effect === 'NoExecute').timeAdded);
    const table = await dp.kubectl(['get', 'nodes']);
    assert.match(table.stdout, new RegExp(`${victim.replaceAll('.', '\\.')}\\s+NotReady`));
    // Its pods are marked not Ready, but stay until their toleration runs out.
    await waitFor(async () => {
      const l = (await dp.kubectlJson(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => onVictim.includes(p.metadata.name));
      return l.every((p: any) => p.status.conditions.find((c: any) => c.type === 'Ready').status === 'False' && !p.metadata.deletionTimestamp);
    }, { what: 'pods on the node not Ready' });
    await dp.advance(300);
    await waitFor(async () => {
      const l = (await dp.kubectlJson(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => onVictim.includes(p.metadata.name));
      return l.every((p: any) => p.metadata.deletionTimestamp);
    }, { what: 'pods on the node evicted' });
    const ev = (await dp.kubectlJson(['get', 'events', '--field-selector', `involvedObject.name=${onVictim[0]},reason=TaintManagerEviction`])).items[0];
    assert.equal(ev?.message, `Marking for deletion Pod default/${onVictim[0]}`);
    // Replacements run elsewhere: the tainted node takes no new pods.
    await waitFor(async () => (await livePods('web')).filter((p) => p.status.phase === 'Running').length === 6, { what: '6 replacements running' });
    for (const p of await livePods('web')) assert.notEqual(p.spec.nodeName, victim);
    // The kubelet comes back: Ready again, taints gone.
    assert.equal((await dp.kubectl(['annotate', 'node', victim, 'sim.localeks.io/kubelet-'])).code, 0);
    await waitFor(async () => {
      const n = await dp.kubectlJson(['get', 'node', victim]);
      return ready(n).status === 'True' && taintKeys(n).length === 0;
    }, { what: 'node Ready again' });
  });

  it('a stopped instance makes its node NotReady with the shutdown taint', async () => {
    const nodes = (await dp.kubectlJson(['get', 'nodes'])).items;
    const n = nodes[2];
    const id = n.spec.providerID.split('/').pop();
    await dp.aws('ec2', 'stop-instances', '--instance-ids', id);
    await waitFor(async () => (await dp.aws('ec2', 'describe-instances', '--instance-ids', id)).Reservations[0].Instances[0].State.Name === 'stopped', { what: 'instance stopped' });
    await dp.advance(41);
    const got = await waitFor(async () => {
      const x = await dp.kubectlJson(['get', 'node', n.metadata.name]);
      return ready(x).status === 'Unknown' && taintKeys(x).includes('node.cloudprovider.kubernetes.io/shutdown:NoSchedule') ? x : undefined;
    }, { what: 'stopped node NotReady' });
    assert.ok(taintKeys(got).includes('node.kubernetes.io/unreachable:NoExecute'));
    await dp.aws('ec2', 'start-instances', '--instance-ids', id);
    await waitFor(async () => {
      const x = await dp.kubectlJson(['get', 'node', n.metadata.name]);
      return ready(x).status === 'True' && taintKeys(x).length === 0;
    }, { what: 'node Ready after start', timeoutMs: 60_000 });
  });

  it('kubectl cordon keeps pods off a node; kubectl drain evicts honouring a PodDisruptionBudget', async () => {
    const nodes = (await dp.kubectlJson(['get', 'nodes'])).items.map((n: any) => n.metadata.name);
    const target = nodes[0];
    const c = await dp.kubectl(['cordon', target]);
    assert.equal(c.code, 0, c.stderr);
    const cordoned = await waitFor(async () => {
      const n = await dp.kubectlJson(['get', 'node', target]);
      return taintKeys(n).includes('node.kubernetes.io/unschedulable:NoSchedule') ? n : undefined;
    }, { what: 'unschedulable taint' });
    assert.equal(cordoned.spec.unschedulable, true);
    assert.match((await dp.kubectl(['get', 'nodes'])).stdout, /Ready,SchedulingDisabled/);
    const pin = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pinned' }, spec: { nodeSelector: { 'kubernetes.io/hostname': target }, containers: [{ name: 'c', image: 'nginx' }] } });
    assert.equal((await dp.kubectl(['create', '-f', '-'], pin)).code, 0);
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=pinned,reason=FailedScheduling'])).items[0], { what: 'FailedScheduling' });
    assert.match(ev.message, /node\(s\) were unschedulable/);
    assert.equal((await dp.kubectl(['delete', 'pod', 'pinned', '--grace-period=0', '--force'])).code, 0);
    assert.equal((await dp.kubectl(['uncordon', target])).code, 0);
    await waitFor(async () => taintKeys(await dp.kubectlJson(['get', 'node', target])).length === 0, { what: 'uncordoned' });

    // Drain: a 4-replica Deployment with a budget of minAvailable 3.
    assert.equal((await dp.kubectl(['create', '-f', '-'], deployment('db', 4, { terminationGracePeriodSeconds: 2 }))).code, 0);
    const pdb = JSON.stringify({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db' }, spec: { minAvailable: 3, selector: { matchLabels: { app: 'db' } } } });
    assert.equal((await dp.kubectl(['create', '-f', '-'], pdb)).code, 0);
    await waitFor(async () => (await dp.kubectlJson(['get', 'deploy', 'db'])).status.readyReplicas === 4, { what: 'db ready' });
    const drainNode = (await livePods('db')).map((p) => p.spec.nodeName).find((n, i, a) => a.indexOf(n) !== i) ?? (await livePods('db'))[0].spec.nodeName;
    const d = await dp.kubectl(['drain', drainNode, '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s']);
    if (d.code !== 0) {
      const diag = [JSON.stringify((await dp.kubectlJson(['get', 'pdb', 'db'])).status), (await dp.kubectl(['get', 'pods', '-o', 'wide'])).stdout, (await dp.kubectl(['get', 'nodes'])).stdout];
      assert.fail(`${d.stderr.slice(-2000)}\n${diag.join('\n')}`);
    }
    assert.match(d.stdout, /evicted/);
    assert.match(d.stdout, /drained/);
    const after = await livePods('db');
    assert.ok(after.every((p) => p.spec.nodeName !== drainNode));
    const n = await dp.kubectlJson(['get', 'node', drainNode]);
    assert.equal(n.spec.unschedulable, true);
  });
});
