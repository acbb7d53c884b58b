/**
 * Managed node group scale-in drains nodes before their instances terminate,
 * as EKS does through the Auto Scaling group's Terminate-LC-Hook, with the
 * aws CLI and kubectl:
 *
 * - the node group's Auto Scaling group carries EKS's termination hook;
 * - `aws eks update-nodegroup-config` lowering desiredSize holds the victim
 *   instance in Terminating:Wait, cordons its node and evicts its pods; a
 *   PodDisruptionBudget that allows nothing keeps the pod there until the
 *   drain timeout (simulated time, skipped ahead), then the instance goes
 *   with it;
 * - without a blocking budget the pods leave gracefully (the instance waits
 *   while the pod is Terminating) before the instance is terminated;
 * - deleting the node group drains its nodes the same way, and the group
 *   goes once its last instance is gone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DataPlaneCluster, startDataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { runAws } from '../helpers/aws-cli.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;
let asg: string;

const group = async () => (await dp.aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', asg)).AutoScalingGroups[0];
const nodes = async () => (await dp.kubectlJson(['get', 'nodes'])).items as any[];
const instanceOf = (n: any) => /\/(i-[0-9a-f]+)$/.exec(n.spec.providerID)![1];
const webPods = async () => (await dp.kubectlJson(['get', 'pods', '-l', 'app=web'])).items as any[];
const scaleTo = (n: number) => dp.aws('eks', 'update-nodegroup-config', '--cluster-name', 'shrink', '--nodegroup-name', 'workers', '--scaling-config', `minSize=0,maxSize=10,desiredSize=${n}`);
const instanceState = async (id: string) => (await dp.aws('ec2', 'describe-instances', '--instance-ids', id)).Reservations[0].Instances[0].State.Name;

/** The instance held by the termination hook, with its node. */
async function waiting(): Promise<{ id: string; node: any } | undefined> {
  const i = (await group()).Instances.find((x: any) => x.LifecycleState === 'Terminating:Wait');
  if (!i) return undefined;
  const node = (await nodes()).find((n) => instanceOf(n) === i.InstanceId);
  return node ? { id: i.InstanceId, node } : undefined;
}

before(async () => {
  dp = await startDataPlaneCluster({ name: 'shrink', cidr: '10.78', nodes: 3 });
  asg = (await dp.aws('eks', 'describe-nodegroup', '--cluster-name', 'shrink', '--nodegroup-name', 'workers')).nodegroup.resources.autoScalingGroups[0].name;
  // One web pod per node (required anti-affinity); each takes 10 s to stop (less than the 15 s drain timeout).
  const r = await dp.kubectl(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { 'sim.localeks.io/stop-duration': '10s' } },
        spec: {
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } },
          containers: [{ name: 'web', image: 'nginx' }],
        },
      },
    },
  }));
  assert.equal(r.code, 0, r.stderr);
  await waitFor(async () => (await dp.kubectlJson(['get', 'deployment', 'web'])).status?.readyReplicas === 3, { what: 'web ready on 3 nodes' });
});

after(() => dp?.stop());

test('the node group\'s Auto Scaling group carries EKS\'s termination lifecycle hook', async () => {
  const hooks = (await dp.aws('autoscaling', 'describe-lifecycle-hooks', '--auto-scaling-group-name', asg)).LifecycleHooks;
  assert.deepEqual(hooks.map((h: any) => [h.LifecycleHookName, h.LifecycleTransition, h.HeartbeatTimeout, h.DefaultResult]), [['Terminate-LC-Hook', 'autoscaling:EC2_INSTANCE_TERMINATING', 1800, 'CONTINUE']]);
});

test('a PodDisruptionBudget holds the drain of a scale-in until the drain timeout, then the instance goes', async () => {
  const pdb = await dp.kubectl(['create', 'pdb', 'web', '--selector=app=web', '--min-available=3']);
  assert.equal(pdb.code, 0, pdb.stderr);
  await waitFor(async () => (await dp.kubectlJson(['get', 'pdb', 'web'])).status?.currentHealthy === 3, { what: 'PDB status' });
  await scaleTo(2);
  const w = (await waitFor(async () => {
    const x = await waiting();
    return x?.node.spec.unschedulable ? x : undefined;
  }, { what: 'an instance in Terminating:Wait with its node cordoned', timeoutMs: 30_000 }))!;
  // The eviction is refused: the pod stays on the cordoned node, the instance runs.
  const held = (await webPods()).find((p) => p.spec.nodeName === w.node.metadata.name);
  assert.ok(held && !held.metadata.deletionTimestamp, 'the web pod is not evicted');
  assert.equal(await instanceState(w.id), 'running');
  assert.equal((await group()).Instances.find((x: any) => x.InstanceId === w.id).LifecycleState, 'Terminating:Wait');
  // The drain timeout is simulated time: jump past it.
  await dp.advance(60);
  await waitFor(async () => (await nodes()).length === 2 && !(await nodes()).some((n) => n.metadata.name === w.node.metadata.name), { what: 'the node gone', timeoutMs: 30_000 });
  assert.match(await instanceState(w.id), /^(shutting-down|terminated)$/);
  const del = await dp.kubectl(['delete', 'pdb', 'web']);
  assert.equal(del.code, 0, del.stderr);
});

test('without a blocking budget the node\'s pods leave gracefully before its instance terminates', async () => {
  await waitFor(async () => (await webPods()).filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp).length === 2, { what: '2 web pods running' });
  await scaleTo(1);
  // The evicted pod takes 10 s to stop; meanwhile the instance waits in Terminating:Wait.
  const w = (await waitFor(async () => {
    const x = await waiting();
    if (!x?.node.spec.unschedulable) return undefined;
    const p = (await webPods()).find((q) => q.spec.nodeName === x.node.metadata.name);
    return p?.metadata.deletionTimestamp ? x : undefined;
  }, { what: 'the node cordoned, its pod Terminating, the instance held', timeoutMs: 30_000 }))!;
  assert.equal(await instanceState(w.id), 'running');
  await waitFor(async () => (await nodes()).length === 1, { what: 'one node left', timeoutMs: 30_000 });
  assert.match(await instanceState(w.id), /^(shutting-down|terminated)$/);
  const g = await group();
  assert.equal(g.DesiredCapacity, 1);
});

test('deleting the node group drains its last node before the instance terminates, then the group goes', async () => {
  await dp.aws('eks', 'delete-nodegroup', '--cluster-name', 'shrink', '--nodegroup-name', 'workers');
  const w = (await waitFor(async () => {
    const x = await waiting();
    if (!x?.node.spec.unschedulable) return undefined;
    const p = (await webPods()).find((q) => q.spec.nodeName === x.node.metadata.name);
    return p?.metadata.deletionTimestamp ? x : undefined;
  }, { what: 'the last node cordoned, its pod Terminating, the instance held', timeoutMs: 30_000 }))!;
  assert.equal(await instanceState(w.id), 'running');
  assert.equal((await dp.aws('eks', 'describe-nodegroup', '--cluster-name', 'shrink', '--nodegroup-name', 'workers')).nodegroup.status, 'DELETING');
  await waitFor(async () => {
    const r = await runAws(dp.ep, ['eks', 'describe-nodegroup', '--cluster-name', 'shrink', '--nodegroup-name', 'workers']);
    return r.code !== 0 && /ResourceNotFoundException/.test(r.stderr);
  }, { what: 'node group deleted', timeoutMs: 60_000 });
  assert.equal((await nodes()).length, 0);
  assert.match(await instanceState(w.id), /^(shutting-down|terminated)$/);
});
