import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerUsage, METRICS_RESOURCES, nodeMetrics, podMetrics, serveMetrics } from './metrics-api.ts';

const pod = (name: string, annotations: Record<string, string>, containers: any[], phase = 'Running', nodeName = 'n1') => ({
  metadata: { name, namespace: 'default', annotations, labels: { app: 'web' } },
  spec: { nodeName, containers },
  status: { phase },
});
const c = (name: string, cpu?: string, memory?: string) => ({ name, resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } });

describe('metrics.k8s.io usage model', () => {
  it('reads quantities and percentages of requests from the pod annotations', () => {
    const p = pod('a', { 'sim.localeks.io/cpu-usage': '80%', 'sim.localeks.io/memory-usage': '300Mi', 'sim.localeks.io/cpu-usage.side': '5m' }, []);
    assert.deepEqual(containerUsage(p, c('app', '500m', '1Gi')), { milliCpu: 400, bytes: 300 * 2 ** 20 });
    assert.deepEqual(containerUsage(p, c('side', '500m')), { milliCpu: 5, bytes: 300 * 2 ** 20 });
    assert.equal(containerUsage(pod('b', { 'sim.localeks.io/cpu-usage': '1.5' }, []), c('x')).milliCpu, 1500);
    assert.equal(containerUsage(pod('b', { 'sim.localeks.io/cpu-usage': '50%' }, []), c('x')).milliCpu, 0, 'a share of no request is 0');
    assert.deepEqual(containerUsage(pod('d', {}, []), c('x', '1', '200Mi')), { milliCpu: 1, bytes: 20 * 2 ** 20 });
    assert.deepEqual(containerUsage(pod('d', {}, []), c('x')), { milliCpu: 1, bytes: 4 * 2 ** 20 });
  });

  it('renders PodMetrics and NodeMetrics as metrics-server does', () => {
    const p = pod('a', { 'sim.localeks.io/cpu-usage': '250m', 'sim.localeks.io/memory-usage': '64Mi' }, [c('app')]);
    const now = Date.parse('2026-01-01T00:00:30.500Z');
    const pm = podMetrics(p, now) as any;
    assert.equal(pm.kind, 'PodMetrics');
    assert.equal(pm.apiVersion, 'metrics.k8s.io/v1beta1');
    assert.deepEqual(pm.containers, [{ name: 'app', usage: { cpu: '250000000n', memory: '65536Ki' } }]);
    assert.equal(pm.window, '15s');
    assert.equal(pm.timestamp, '2026-01-01T00:00:15Z');
    const nm = nodeMetrics({ metadata: { name: 'n1' } }, [p, pod('gone', {}, [c('x')], 'Succeeded')], now) as any;
    assert.deepEqual(nm.usage, { cpu: '290000000n', memory: `${64 * 1024 + 400 * 1024}Ki` });
  });

  it('serves get and list with label selectors and NotFound for pods that do not report', () => {
    const [nodesRes, podsRes] = METRICS_RESOURCES;
    const pods = [pod('a', {}, [c('app')]), pod('b', {}, [c('app')], 'Pending', ''), { ...pod('c', {}, [c('app')]), metadata: { name: 'c', namespace: 'default', labels: { app: 'db' } } }];
    const src = { pods: () => pods, nodes: () => [{ metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] };
    const list = serveMetrics(src, podsRes!, 'list', 'default', '', new URLSearchParams('labelSelector=app%3Dweb'), 0) as any;
    assert.equal(list.kind, 'PodMetricsList');
    assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['a']);
    assert.throws(() => serveMetrics(src, podsRes!, 'get', 'default', 'b', new URLSearchParams(), 0), (e: any) => e.status.code === 404 && e.status.message === 'podmetrics.metrics.k8s.io "b" not found');
    const nodes = serveMetrics(src, nodesRes!, 'list', '', '', new URLSearchParams(), 0) as any;
    assert.deepEqual(nodes.items.map((i: any) => i.metadata.name), ['n1']);
    assert.equal((serveMetrics(src, nodesRes!, 'get', '', 'n1', new URLSearchParams(), 0) as any).kind, 'NodeMetrics');
  });
});
