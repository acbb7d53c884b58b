/**
 * Managed node group updates replace nodes as EKS does (seed 004: "the big
 * big bonus of managed node groups is the rolling upgrade process ... it
 * might fail in case you have pods with pod disruption budgets blocking the
 * eviction process"), through the aws CLI and kubectl:
 *
 * - nodes run the kubelet of their node group's version, not the control plane's;
 * - update-nodegroup-version launches new nodes with the new kubelet,
 *   cordons the old ones, moves the pods (evictions), terminates the old
 *   instances, and the update ends Successful with the group at its size;
 * - a PodDisruptionBudget that allows no disruption fails the update with
 *   PodEvictionFailure naming the node, rolls the group back (old nodes
 *   schedulable, still on the old kubelet) and `--force` then goes through.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DataPlaneCluster, startDataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;
let clusterVersion: string;
let oldVersion: string;

const minor = (v: string) => Number(v.split('.')[1]);
const kubelets = async () => {
  const l = await dp.kubectlJson(['get', 'nodes', '-l', 'eks.amazonaws.com/nodegroup=workers']);
  return l.items.map((n: any) => ({ name: n.metadata.name as string, kubelet: n.status.nodeInfo.kubeletVersion as string, unschedulable: !!n.spec.unschedulable, ready: n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True') }));
};
const nodegroup = async () => (await dp.aws('eks', 'describe-nodegroup', '--cluster-name', 'roll', '--nodegroup-name', 'workers')).nodegroup;
const update = async (id: string) => (await dp.aws('eks', 'describe-update', '--name', 'roll', '--nodegroup-name', 'workers', '--update-id', id)).update;

before(async () => {
  dp = await startDataPlaneCluster({ name: 'roll', cidr: '10.77', nodes: 2, noNodegroup: true });
  clusterVersion = (await dp.aws('eks', 'describe-cluster', '--name', 'roll')).cluster.version;
  oldVersion = `1.${minor(clusterVersion) - 1}`;
  await dp.aws(
    'eks', 'create-nodegroup', '--cluster-name', 'roll', '--nodegroup-name', 'workers', '--node-role', dp.nodeRoleArn, '--subnets', ...dp.subnets,
    '--scaling-config', 'minSize=1,maxSize=4,desiredSize=2', '--instance-types', 'm5.large', '--kubernetes-version', oldVersion,
  );
  await waitFor(async () => (await nodegroup()).status === 'ACTIVE', { what: 'node group ACTIVE' });
  await waitFor(async () => (await kubelets()).filter((n: any) => n.ready).length === 2, { what: '2 Ready nodes' });
  const apply = await dp.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  }));
  assert.equal(apply.code, 0, apply.stderr);
  await waitFor(async () => (await dp.kubectlJson(['get', 'deployment', 'web'])).status?.readyReplicas === 2, { what: 'web ready' });
});

after(() => dp?.stop());

test('a PodDisruptionBudget that allows no disruption fails the update with PodEvictionFailure and the group rolls back', async () => {
  const before = await kubelets();
  assert.ok(before.every((n: any) => n.kubelet.startsWith(`v${oldVersion}.`)), JSON.stringify(before));
  const pdb = await dp.kubectl(['create', 'pdb', 'web', '--selector=app=web', '--min-available=2']);
  assert.equal(pdb.code, 0, pdb.stderr);
  await waitFor(async () => (await dp.kubectlJson(['get', 'pdb', 'web'])).status?.currentHealthy === 2, { what: 'PDB status' });
  const { update: u } = await dp.aws('eks', 'update-nodegroup-version', '--cluster-name', 'roll', '--nodegroup-name', 'workers');
  // The old nodes are cordoned once the new ones are Ready.
  await waitFor(async () => (await kubelets()).some((n: any) => n.unschedulable), { what: 'an old node cordoned' });
  assert.equal((await nodegroup()).status, 'UPDATING');
  // The eviction timeout (15 minutes on EKS) is simulated time: jump past it.
  await dp.advance(20 * 60);
  await waitFor(async () => (await update(u.id)).status === 'Failed', { what: 'update Failed', timeoutMs: 30_000 });
  const failed = await update(u.id);
  assert.equal(failed.errors[0].errorCode, 'PodEvictionFailure');
  assert.match(failed.errors[0].errorMessage, /Reached max retries while trying to evict pods from nodes in node group workers/);
  assert.ok(before.some((n: any) => n.name === failed.errors[0].resourceIds[0]), `names an old node: ${failed.errors[0].resourceIds}`);
  const ng = await nodegroup();
  assert.equal(ng.status, 'ACTIVE');
  assert.equal(ng.version, oldVersion, 'a failed update leaves the version');
  // Rolled back: the old nodes schedulable again; the group shrinks back to 2 nodes.
  await waitFor(async () => {
    const now = await kubelets();
    return now.length === 2 && now.every((n: any) => !n.unschedulable && n.kubelet.startsWith(`v${oldVersion}.`));
  }, { what: 'old nodes back, schedulable', timeoutMs: 30_000 });
  const del = await dp.kubectl(['delete', 'pdb', 'web']);
  assert.equal(del.code, 0, del.stderr);
});

test('update-nodegroup-version replaces every node with one on the new kubelet and moves the pods, one disruption at a time', async () => {
  const old = new Set((await kubelets()).map((n: any) => n.name));
  const pdb = await dp.kubectl(['create', 'pdb', 'web-one', '--selector=app=web', '--min-available=1']);
  assert.equal(pdb.code, 0, pdb.stderr);
  const { update: u } = await dp.aws('eks', 'update-nodegroup-version', '--cluster-name', 'roll', '--nodegroup-name', 'workers');
  assert.equal(u.type, 'VersionUpdate');
  await waitFor(async () => (await update(u.id)).status !== 'InProgress', { what: 'update finished', timeoutMs: 60_000 });
  assert.equal((await update(u.id)).status, 'Successful');
  const ng = await nodegroup();
  assert.equal(ng.version, clusterVersion);
  assert.equal(ng.scalingConfig.desiredSize, 2);
  await waitFor(async () => {
    const now = await kubelets();
    return now.length === 2 && now.every((n: any) => n.ready && !old.has(n.name) && n.kubelet.startsWith(`v${clusterVersion}.`));
  }, { what: '2 new nodes on the new kubelet', timeoutMs: 30_000 });
  const asg = (await dp.aws('autoscaling', 'describe-auto-scaling-groups')).AutoScalingGroups.find((g: any) => g.AutoScalingGroupName === ng.resources.autoScalingGroups[0].name);
  assert.equal(asg.DesiredCapacity, 2, 'scaled back down');
  assert.equal(asg.MaxSize, 4);
  await waitFor(async () => {
    const pods = (await dp.kubectlJson(['get', 'pods', '-l', 'app=web'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    return pods.length === 2 && pods.every((p: any) => p.status.phase === 'Running' && !old.has(p.spec.nodeName));
  }, { what: 'web pods running on the new nodes', timeoutMs: 30_000 });
});
