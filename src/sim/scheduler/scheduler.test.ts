import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../kube/api/types.ts';
import { nodeInfo, numFeasibleNodesToFind, podRequests, schedule, tolerates } from './scheduler.ts';

function node(name: string, zone: string, extra: Partial<{ cpu: string; memory: string; pods: string; taints: any[]; unschedulable: boolean; labels: Record<string, string> }> = {}): KObject {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) } },
    spec: { taints: extra.taints, unschedulable: extra.unschedulable },
    status: { allocatable: { cpu: extra.cpu ?? '1930m', memory: extra.memory ?? '7134Mi', pods: extra.pods ?? '29', 'ephemeral-storage': '18Gi' } },
  };
}

function pod(name: string, spec: Record<string, any> = {}, labels: Record<string, string> = {}): KObject {
  return { metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], ...spec } };
}

const cpuHog = (cpu: string) => ({ containers: [{ name: 'c', resources: { requests: { cpu } } }] });

test('requests: containers summed, init containers maxed, overhead added', () => {
  const r = podRequests({
    spec: {
      containers: [{ resources: { requests: { cpu: '250m', memory: '1Gi' } } }, { resources: { requests: { cpu: '0.25' } } }],
      initContainers: [{ resources: { requests: { cpu: '2', memory: '64Mi' } } }],
      overhead: { cpu: '10m' },
    },
  });
  assert.equal(r.milliCpu, 2010);
  assert.equal(r.memory, 2 ** 30);
});

test('fits on the least allocated node; Insufficient cpu message as upstream prints it', () => {
  const nodes = [nodeInfo(node('a', 'z1'), [pod('x', cpuHog('1'))]), nodeInfo(node('b', 'z2'), [])];
  const ok = schedule(pod('p'), nodes);
  assert.deepEqual(ok, { nodeName: 'b', feasibleNodes: 2, evaluatedNodes: 2 });
  const big = schedule(pod('big', cpuHog('4')), nodes);
  assert.ok('error' in big);
  assert.equal(big.error, '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
});

test('taints, cordons, selectors and max pods, reasons histogram sorted', () => {
  const nodes = [
    nodeInfo(node('a', 'z1', { taints: [{ key: 'monitoring', value: 'true', effect: 'NoSchedule' }] }), []),
    nodeInfo(node('b', 'z1', { unschedulable: true }), []),
    nodeInfo(node('c', 'z2', { pods: '1' }), [pod('full')]),
  ];
  const r = schedule(pod('p'), nodes);
  assert.ok('error' in r);
  assert.equal(
    r.error,
    "0/3 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint {monitoring: true}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
  );
  const tolerant = schedule(pod('t', { tolerations: [{ key: 'monitoring', operator: 'Equal', value: 'true', effect: 'NoSchedule' }] }), nodes);
  assert.deepEqual(tolerant, { nodeName: 'a', feasibleNodes: 1, evaluatedNodes: 3 });
  // Each node reports only its first failing filter: the cordon and the taint come before the selector.
  const sel = schedule(pod('s', { nodeSelector: { 'topology.kubernetes.io/zone': 'z9' } }), nodes);
  assert.ok('error' in sel && sel.error.startsWith("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {monitoring: true}, 1 node(s) were unschedulable."), 'error' in sel ? sel.error : '');
});

test('tolerations: Exists with empty key tolerates everything; effect must match', () => {
  assert.equal(tolerates({ operator: 'Exists' }, { key: 'k', effect: 'NoSchedule' }), true);
  assert.equal(tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, { key: 'k', effect: 'NoSchedule' }), false);
  assert.equal(tolerates({ key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoSchedule' }), true);
});

test('required anti-affinity spreads replicas one per zone, then nothing fits', () => {
  const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app: 'web' } } }] } } };
  const placed: Record<string, KObject[]> = { a: [], b: [], c: [] };
  const zones: Record<string, string> = { a: 'z1', b: 'z1', c: 'z2' };
  const results: string[] = [];
  for (let i = 0; i < 3; i++) {
    const infos = Object.keys(placed).map((n) => nodeInfo(node(n, zones[n]!), placed[n]!));
    const r = schedule(pod(`web-${i}`, anti, { app: 'web' }), infos);
    if ('nodeName' in r) {
      placed[r.nodeName]!.push(pod(`web-${i}`, anti, { app: 'web' }));
      results.push(zones[r.nodeName]!);
    } else results.push(r.error);
  }
  assert.deepEqual(results.slice(0, 2).sort(), ['z1', 'z2']);
  assert.match(results[2]!, /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\./);
});

test('topology spread DoNotSchedule keeps skew within maxSkew', () => {
  const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'api' } } }] };
  const nodes = [nodeInfo(node('a', 'z1'), [pod('a1', {}, { app: 'api' }), pod('a2', {}, { app: 'api' })]), nodeInfo(node('b', 'z2'), [pod('b1', {}, { app: 'api' })])];
  const r = schedule(pod('new', spread, { app: 'api' }), nodes);
  assert.deepEqual(r, { nodeName: 'b', feasibleNodes: 1, evaluatedNodes: 2 });
});

test('host ports conflict; no nodes at all', () => {
  const hp = { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] };
  const nodes = [nodeInfo(node('a', 'z1'), [pod('x', hp)])];
  const r = schedule(pod('y', hp), nodes);
  assert.ok('error' in r && r.error.startsWith("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."));
  const none = schedule(pod('z'), []);
  assert.ok('error' in none && none.error === 'no nodes available to schedule pods');
});

test('kube-scheduler numFeasibleNodesToFind: every node below 100, then an adaptive share of at least 100', () => {
  assert.equal(numFeasibleNodesToFind(3), 3);
  assert.equal(numFeasibleNodesToFind(99), 99);
  assert.equal(numFeasibleNodesToFind(100), 100);
  assert.equal(numFeasibleNodesToFind(1000), 420); // 50 - 8 = 42%
  assert.equal(numFeasibleNodesToFind(5000), 500); // 50 - 40 = 10%
  assert.equal(numFeasibleNodesToFind(10000), 500); // at least 5%
});

test('a large cluster: filtering stops at numFeasibleNodesToFind, from the given start; a FitError still counts every node', () => {
  const mk = (i: number): KObject => ({ metadata: { name: `n-${String(i).padStart(3, '0')}`, labels: {} }, status: { allocatable: { cpu: '2', memory: '8Gi', pods: '29' } } });
  const infos = Array.from({ length: 300 }, (_, i) => nodeInfo(mk(i), []));
  const fits = schedule({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } }, infos, 250);
  assert.ok('nodeName' in fits);
  assert.equal(fits.evaluatedNodes, numFeasibleNodesToFind(300));
  // Evaluated from index 250 round the end: n-250..n-299 then n-000..; ties go to the first name among those.
  assert.equal(fits.nodeName, 'n-000');
  const big = schedule({ metadata: { name: 'q', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '64' } } }] } }, infos, 17);
  assert.ok('error' in big);
  assert.equal(big.evaluatedNodes, 300);
  assert.match(big.error, /^0\/300 nodes are available: 300 Insufficient cpu\./);
});
