import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../kube/api/types.ts';
import { daemonPodSpec, daemonSetHash, nodeShouldRunDaemonPod, planDaemonSet, targetNodeName, REVISION_HASH_LABEL } from './daemonset-controller.ts';

const node = (name: string, extra: { labels?: Record<string, string>; taints?: any[] } = {}): KObject => ({
  metadata: { name, labels: { 'kubernetes.io/os': 'linux', ...(extra.labels ?? {}) } },
  spec: extra.taints ? { taints: extra.taints } : {},
});

const ds = (spec: Record<string, any> = {}, generation = 1): KObject => ({
  metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-uid', generation },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'a:1' }] } }, ...spec },
});

let seq = 0;
const pod = (d: KObject, nodeName: string, opts: { ready?: boolean; hash?: string; deleting?: boolean } = {}): KObject => ({
  metadata: { name: `agent-${++seq}`, uid: `p${seq}`, creationTimestamp: `2026-01-01T00:00:${String(seq).padStart(2, '0')}Z`, labels: { app: 'agent', [REVISION_HASH_LABEL]: opts.hash ?? daemonSetHash(d) }, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}) },
  spec: { nodeName },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
});

test('eligibility: nodeSelector, taints (NoSchedule vs NoExecute), tolerations added for daemon pods, never Fargate', () => {
  const t = ds().spec.template;
  assert.deepEqual(nodeShouldRunDaemonPod(node('a'), t), { shouldRun: true, shouldContinueRunning: true });
  assert.equal(nodeShouldRunDaemonPod(node('f', { labels: { 'eks.amazonaws.com/compute-type': 'fargate' } }), t).shouldRun, false);
  assert.deepEqual(nodeShouldRunDaemonPod(node('b', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), t), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('c', { taints: [{ key: 'dedicated', effect: 'NoExecute' }] }), t), { shouldRun: false, shouldContinueRunning: false });
  // Daemon pods tolerate cordoned and not-ready nodes.
  assert.equal(nodeShouldRunDaemonPod(node('d', { taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), t).shouldRun, true);
  const sel = { ...t, spec: { ...t.spec, nodeSelector: { role: 'edge' } } };
  assert.equal(nodeShouldRunDaemonPod(node('e'), sel).shouldRun, false);
  assert.equal(nodeShouldRunDaemonPod(node('e', { labels: { role: 'edge' } }), sel).shouldRun, true);
  const tol = { ...t, spec: { ...t.spec, tolerations: [{ operator: 'Exists' }] } };
  assert.equal(nodeShouldRunDaemonPod(node('c', { taints: [{ key: 'dedicated', effect: 'NoExecute' }] }), tol).shouldRun, true);
});

test('daemon pods are pinned to their node with matchFields metadata.name', () => {
  const spec = daemonPodSpec(ds().spec.template, 'ip-10-0-1-5.ec2.internal');
  assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['ip-10-0-1-5.ec2.internal'] }] }]);
  assert.ok(spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unschedulable'));
  assert.equal(targetNodeName({ spec }), 'ip-10-0-1-5.ec2.internal');
});

test('one pod per eligible node; pods of ineligible or gone nodes are deleted; status counts', () => {
  const d = ds();
  const nodes = [node('a'), node('b'), node('c', { taints: [{ key: 'x', effect: 'NoExecute' }] })];
  const pa = pod(d, 'a');
  const pc = pod(d, 'c');
  const pz = pod(d, 'gone');
  const plan = planDaemonSet(d, nodes, [pa, pc, pz], Date.parse('2026-01-01T01:00:00Z'));
  assert.deepEqual(plan.create, ['b']);
  assert.deepEqual(plan.delete.map((p) => p.metadata!.name).sort(), [pc.metadata!.name, pz.metadata!.name].sort());
  assert.equal(plan.status.desiredNumberScheduled, 2);
  assert.equal(plan.status.currentNumberScheduled, 1);
  assert.equal(plan.status.numberMisscheduled, 1);
  assert.equal(plan.status.numberReady, 1);
  assert.equal(plan.status.numberAvailable, 1);
  assert.equal(plan.status.updatedNumberScheduled, 1);
  assert.equal(plan.status.numberUnavailable, 1);
});

test('RollingUpdate with maxUnavailable 1 replaces one old pod at a time', () => {
  const d = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } }, 2);
  const nodes = [node('a'), node('b'), node('c')];
  const olds = nodes.map((n) => pod(d, n.metadata!.name!, { hash: 'old' }));
  const plan = planDaemonSet(d, nodes, olds, Date.now());
  assert.equal(plan.delete.length, 1);
  assert.deepEqual(plan.create, []);
  assert.equal(plan.status.updatedNumberScheduled, 0);
  // One node mid-replacement (old pod terminating): nothing more is deleted.
  const mid = [{ ...olds[0]!, metadata: { ...olds[0]!.metadata, deletionTimestamp: 'x' } }, olds[1]!, olds[2]!];
  const plan2 = planDaemonSet(d, nodes, mid, Date.now());
  assert.equal(plan2.delete.length, 0);
  // A new pod not yet ready counts against maxUnavailable.
  const plan3 = planDaemonSet(d, nodes, [pod(d, 'a', { ready: false }), olds[1]!, olds[2]!], Date.now());
  assert.equal(plan3.delete.length, 0);
  const plan4 = planDaemonSet(d, nodes, [pod(d, 'a'), olds[1]!, olds[2]!], Date.now());
  assert.equal(plan4.delete.length, 1);
  assert.equal(plan4.status.updatedNumberScheduled, 1);
});

test('RollingUpdate with maxSurge starts the new pod beside the old one, deletes the old once the new is available', () => {
  const d = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }, 2);
  const nodes = [node('a'), node('b')];
  const olds = nodes.map((n) => pod(d, n.metadata!.name!, { hash: 'old' }));
  const p1 = planDaemonSet(d, nodes, olds, Date.now());
  assert.deepEqual(p1.create, ['a']);
  assert.equal(p1.delete.length, 0);
  const p2 = planDaemonSet(d, nodes, [...olds, pod(d, 'a', { ready: false })], Date.now());
  assert.deepEqual(p2.create, []);
  assert.equal(p2.delete.length, 0);
  const p3 = planDaemonSet(d, nodes, [...olds, pod(d, 'a')], Date.now());
  assert.deepEqual(p3.delete.map((p) => p.metadata!.name), [olds[0]!.metadata!.name]);
});

test('OnDelete never replaces running old pods', () => {
  const d = ds({ updateStrategy: { type: 'OnDelete' } }, 2);
  const nodes = [node('a')];
  const plan = planDaemonSet(d, nodes, [pod(d, 'a', { hash: 'old' })], Date.now());
  assert.equal(plan.delete.length, 0);
  assert.equal(plan.status.updatedNumberScheduled, 0);
});
