import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { behaviorWithDefaults, cpuSampleUnready, normalizeWithBehavior, resourceReplicas, scaleDownLimit, scaleUpLimit, type PodSample } from './hpa-controller.ts';

const pods = (n: number, usage: number | undefined, request = 100, ready = true): PodSample[] =>
  Array.from({ length: n }, (_, i) => ({ name: `p${i}-${usage}`, ready, pending: false, usage, request }));

describe('HPA replica calculation (replica_calculator.go)', () => {
  it('scales by the usage ratio over ready pods, within a 0.1 tolerance', () => {
    assert.deepEqual(resourceReplicas(4, pods(4, 100), 'cpu', { utilization: 50 }), { replicas: 8, utilization: 100, average: 100 });
    assert.equal(resourceReplicas(4, pods(4, 54), 'cpu', { utilization: 50 }).replicas, 4, '1.08 is within tolerance');
    assert.equal(resourceReplicas(4, pods(4, 56), 'cpu', { utilization: 50 }).replicas, 5, 'ceil(1.12 * 4)');
    assert.equal(resourceReplicas(10, pods(10, 10), 'cpu', { utilization: 50 }).replicas, 2);
    assert.equal(resourceReplicas(3, pods(3, 300 * 2 ** 20, 1), 'memory', { average: 100 * 2 ** 20 }).replicas, 9);
  });

  it('missing pods count as 100% of request when scaling down and 0 when scaling up', () => {
    // 2 pods at 10%, 2 pods missing: down ratio (10+10+100+100)/400 = 55% of 50 -> within? 1.1 -> tolerance: current.
    assert.equal(resourceReplicas(4, [...pods(2, 10), ...pods(2, undefined)], 'cpu', { utilization: 50 }).replicas, 4);
    // 2 pods at 200%, 2 missing: up with missing at 0: (200+200)/400 = 100% -> ratio 2 -> ceil(2*4) = 8.
    assert.equal(resourceReplicas(4, [...pods(2, 200), ...pods(2, undefined)], 'cpu', { utilization: 50 }).replicas, 8);
    // Unready cpu pods count 0 when scaling up.
    assert.equal(resourceReplicas(4, [...pods(2, 100), ...pods(2, 100, 100, false)], 'cpu', { utilization: 50 }).replicas, 4, '(100+100+0+0)/400 = 50% -> no change');
  });

  it('fails like upstream without pods, metrics or requests', () => {
    assert.throws(() => resourceReplicas(1, [], 'cpu', { utilization: 50 }), /no pods returned by selector while calculating replica count/);
    assert.throws(() => resourceReplicas(1, [{ name: 'p', ready: true, pending: false, usage: 100 }], 'cpu', { utilization: 50 }), /missing request for cpu/);
    assert.throws(() => resourceReplicas(1, pods(1, undefined), 'cpu', { utilization: 50 }), /did not receive metrics/);
  });
});

describe('HPA behavior (normalizeDesiredReplicasWithBehaviors)', () => {
  const now = 1_000_000;
  const base = { min: 1, max: 10, behavior: behaviorWithDefaults(undefined), upEvents: [], downEvents: [], nowMs: now };

  it('limits scale-up by the default policies (4 pods or 100% per 15 s) and by maxReplicas', () => {
    assert.deepEqual(normalizeWithBehavior({ ...base, current: 1, desired: 10, recommendations: [] }), { replicas: 5, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate', stabilized: false });
    assert.equal(normalizeWithBehavior({ ...base, current: 8, desired: 20, recommendations: [] }).reason, 'TooManyReplicas');
    assert.equal(normalizeWithBehavior({ ...base, current: 8, desired: 20, recommendations: [] }).replicas, 10);
    assert.equal(normalizeWithBehavior({ ...base, current: 3, desired: 5, recommendations: [] }).reason, 'DesiredWithinRange');
  });

  it('holds scale-down for the 300 s stabilization window', () => {
    const recs = [{ atMs: now - 100_000, replicas: 8 }];
    const n = normalizeWithBehavior({ ...base, current: 8, desired: 2, recommendations: recs });
    assert.equal(n.replicas, 8);
    assert.equal(n.stabilized, true);
    assert.equal(recs.length, 2, 'the recommendation is remembered');
    const later = normalizeWithBehavior({ ...base, current: 8, desired: 2, recommendations: [{ atMs: now - 301_000, replicas: 8 }] });
    assert.equal(later.replicas, 2);
    assert.equal(normalizeWithBehavior({ ...base, min: 3, current: 8, desired: 2, recommendations: [] }).reason, 'TooFewReplicas');
  });

  it('policy limits count the scale events of the period', () => {
    const rules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }] };
    assert.equal(scaleUpLimit(10, [{ atMs: now - 30_000, change: 2 }], [], rules, now), 10, 'already added 2 in the period');
    assert.equal(scaleUpLimit(10, [{ atMs: now - 61_000, change: 2 }], [], rules, now), 12);
    assert.equal(scaleDownLimit(10, [], [], { ...rules, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }, now), 5);
    assert.equal(scaleDownLimit(10, [], [], { ...rules, selectPolicy: 'Disabled' }, now), 10);
    assert.equal(scaleUpLimit(4, [], [], { ...rules, selectPolicy: 'Min', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 50, periodSeconds: 15 }] }, now), 6);
  });

  it('ignores cpu samples of pods just started until they have been Ready for a metrics window', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const pod = (readyAt: number, status = 'True') => ({ status: { startTime: new Date(start).toISOString(), conditions: [{ type: 'Ready', status, lastTransitionTime: new Date(readyAt).toISOString() }] } });
    assert.equal(cpuSampleUnready(pod(start + 5_000), start + 20_000), true, 'ready 15 s ago: no whole window since');
    assert.equal(cpuSampleUnready(pod(start + 5_000), start + 40_000), false);
    assert.equal(cpuSampleUnready(pod(start + 5_000, 'False'), start + 40_000), true);
    assert.equal(cpuSampleUnready(pod(start + 10_000, 'False'), start + 600_000), true, 'never ready');
    assert.equal(cpuSampleUnready(pod(start + 400_000, 'False'), start + 600_000), false, 'was ready, went unready later: counted');
    assert.equal(cpuSampleUnready({ status: {} }, start), true);
  });
});
