import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kubeReservedMilliCpu, nodeResources } from './node-resources.ts';
import { containerCreatingStatus, imageId, parseDuration, programOutcome, qosClass, readinessDelayMs, runningStatus, terminatedStatus } from './pod-status.ts';

test('EKS AMI kube-reserved CPU and allocatable (m5.large: 1930m, 29 pods)', () => {
  assert.equal(kubeReservedMilliCpu(2), 70);
  assert.equal(kubeReservedMilliCpu(4), 80);
  assert.equal(kubeReservedMilliCpu(8), 90);
  const r = nodeResources({ vcpus: 2, memoryMiB: 8192, maxPods: 29, diskGiB: 20 });
  assert.equal(r.allocatable.cpu, '1930m');
  assert.equal(r.allocatable.pods, '29');
  assert.equal(r.capacity.cpu, '2');
  const memKi = Number(r.allocatable.memory!.replace('Ki', ''));
  assert.ok(memKi > 7000 * 1024 && memKi < 7300 * 1024, `m5.large allocatable memory ${memKi}Ki`);
});

test('durations and program outcome annotations', () => {
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('10'), 10_000);
  assert.equal(parseDuration('soon'), undefined);
  assert.deepEqual(programOutcome({ metadata: { annotations: { 'sim.localeks.io/duration': '5s', 'sim.localeks.io/exit-code': '3' } } }), { afterMs: 5000, exitCode: 3 });
  assert.equal(programOutcome({ metadata: {} }), undefined);
});

test('statuses are shaped as a kubelet writes them', () => {
  const pod = {
    metadata: { uid: 'u1', name: 'p' },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27', readinessProbe: { initialDelaySeconds: 5 }, resources: { requests: { cpu: '1' }, limits: { cpu: '1', memory: '1Gi' } } }] },
  };
  const net = { hostIP: '10.0.1.5', podIP: '10.0.1.77' };
  const creating = containerCreatingStatus(pod, { hostIP: net.hostIP }, '2026-01-01T00:00:00Z') as any;
  assert.equal(creating.phase, 'Pending');
  assert.equal(creating.containerStatuses[0].state.waiting.reason, 'ContainerCreating');
  const running = runningStatus(pod, net, '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z', false) as any;
  assert.equal(running.phase, 'Running');
  assert.equal(running.podIP, '10.0.1.77');
  assert.equal(running.conditions.find((c: any) => c.type === 'Ready').status, 'False');
  assert.match(running.containerStatuses[0].imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
  assert.equal(readinessDelayMs(pod), 5000);
  assert.equal(qosClass(pod), 'Guaranteed', 'requests default to limits');
  assert.equal(qosClass({ spec: { containers: [{ resources: { requests: { cpu: '1' } } }] } }), 'Burstable');
  assert.equal(qosClass({ spec: { containers: [{}] } }), 'BestEffort');
  const done = terminatedStatus(pod, net, '2026-01-01T00:00:01Z', '2026-01-01T00:00:09Z', 1) as any;
  assert.equal(done.phase, 'Failed');
  assert.equal(done.containerStatuses[0].state.terminated.reason, 'Error');
  assert.equal(imageId('public.ecr.aws/eks/coredns:v1.11.3'), imageId('public.ecr.aws/eks/coredns:v1.11.3'));
  assert.match(imageId('602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.19.2'), /^602401143452\.dkr\.ecr\.us-west-2\.amazonaws\.com\/amazon-k8s-cni@sha256:/);
});
