/**
 * metrics.k8s.io and the HorizontalPodAutoscaler end to end with the aws CLI
 * and kubectl (2 m5.large):
 *  - `kubectl top pods` / `kubectl top nodes` show the modelled usage
 *    (sim.localeks.io/cpu-usage, memory-usage);
 *  - `kubectl autoscale` makes an HPA that scales a Deployment up within the
 *    default scale-up policy, then to maxReplicas (ScalingLimited
 *    TooManyReplicas), and down only after the 300 s stabilization window
 *    (ScaleDownStabilized), on the simulated clock;
 *  - status currentMetrics / conditions as `kubectl get hpa` and describe read them;
 *  - a missing target gives AbleToScale False FailedGetScale.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

async function create(body: string): Promise<void> {
  const r = await dp.kubectl(['create', '-f', '-'], body);
  assert.equal(r.code, 0, r.stderr);
}

const cond = (h: any, type: string) => (h.status?.conditions ?? []).find((c: any) => c.type === type);
const readyPods = async (app: string) => (await dp.kubectlJson(['get', 'pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');

before(async () => {
  dp = await startDataPlaneCluster({ name: 'hpa', cidr: '10.73', nodes: 2 });
  await create(JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, annotations: { 'sim.localeks.io/cpu-usage': '100%', 'sim.localeks.io/memory-usage': '64Mi' } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
      },
    },
  }));
  const r = await dp.kubectl(['rollout', 'status', 'deploy/web', '--timeout=60s']);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await dp?.stop();
});

describe('workloads: metrics.k8s.io and HorizontalPodAutoscaler with kubectl', () => {
  it('kubectl top pods and nodes show the modelled usage', async () => {
    const pods = await dp.kubectl(['top', 'pods', '-l', 'app=web', '--no-headers']);
    assert.equal(pods.code, 0, pods.stderr);
    const lines = pods.stdout.trim().split('\n');
    assert.equal(lines.length, 2, pods.stdout);
    for (const l of lines) assert.match(l, /^web-\S+\s+100m\s+64Mi\s*$/);
    const nodes = await dp.kubectl(['top', 'nodes', '--no-headers']);
    assert.equal(nodes.code, 0, nodes.stderr);
    const rows = nodes.stdout.trim().split('\n');
    assert.equal(rows.length, 2, nodes.stdout);
    for (const l of rows) assert.match(l, /^ip-\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/);
    const raw = await dp.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope']);
    assert.notEqual(raw.code, 0);
    assert.match(raw.stderr, /NotFound/);
  });

  it('kubectl autoscale scales up within the policies, then to maxReplicas, and down after the stabilization window', async () => {
    const a = await dp.kubectl(['autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=2', '--max=6']);
    assert.equal(a.code, 0, a.stderr);
    // 100% against a 50% target: 2 -> 4 (ratio 2), then 4 -> 8 capped at 6.
    // cpu samples count once pods have been Ready for a metrics window (cpu initialization period): let simulated time pass.
    const first = await waitFor(async () => {
      await dp.advance(15);
      const h = await dp.kubectlJson(['get', 'hpa', 'web']);
      return h.status?.desiredReplicas === 4 ? h : undefined;
    }, { what: 'desired 4', intervalMs: 500 });
    assert.equal(cond(first, 'AbleToScale').reason, 'SucceededRescale');
    assert.equal(cond(first, 'AbleToScale').message, 'the HPA controller was able to update the target scale to 4');
    assert.equal(cond(first, 'ScalingActive').reason, 'ValidMetricFound');
    assert.equal(cond(first, 'ScalingActive').message, 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)');
    assert.deepEqual(first.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 100, averageValue: '100m' } } }]);
    assert.equal((await dp.kubectlJson(['get', 'deploy', 'web'])).spec.replicas, 4);
    await waitFor(async () => (await readyPods('web')).length === 4, { what: '4 pods running' });
    const capped = await waitFor(async () => {
      await dp.advance(15);
      const h = await dp.kubectlJson(['get', 'hpa', 'web']);
      return h.status?.desiredReplicas === 6 ? h : undefined;
    }, { what: 'desired 6', intervalMs: 500 });
    assert.equal(cond(capped, 'ScalingLimited').status, 'True');
    assert.equal(cond(capped, 'ScalingLimited').reason, 'TooManyReplicas');
    assert.equal(cond(capped, 'ScalingLimited').message, 'the desired replica count is more than the maximum replica count');
    assert.ok(capped.status.lastScaleTime);
    const table = await dp.kubectl(['get', 'hpa', 'web']);
    assert.match(table.stdout, /web\s+Deployment\/web\s+cpu: \d+%\/50%\s+2\s+6\s+\d/, table.stdout);
    const ev = await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=SuccessfulRescale']);
    assert.ok(ev.items.some((e: any) => e.message === 'New size: 4; reason: cpu resource utilization (percentage of request) above target'), JSON.stringify(ev.items.map((e: any) => e.message)));

    // Load drops to 10%: the recommendation (2) waits for the 300 s window.
    await waitFor(async () => (await readyPods('web')).length === 6, { what: '6 pods running' });
    const an = await dp.kubectl(['annotate', 'pods', '-l', 'app=web', 'sim.localeks.io/cpu-usage=10%', '--overwrite']);
    assert.equal(an.code, 0, an.stderr);
    const held = await waitFor(async () => {
      await dp.advance(15);
      const h = await dp.kubectlJson(['get', 'hpa', 'web']);
      return cond(h, 'AbleToScale')?.reason === 'ScaleDownStabilized' ? h : undefined;
    }, { what: 'ScaleDownStabilized', intervalMs: 500 });
    assert.equal(held.status.desiredReplicas, 6);
    assert.equal(cond(held, 'AbleToScale').message, 'recent recommendations were higher than current one, applying the highest recent recommendation');
    await dp.advance(300);
    const down = await waitFor(async () => {
      await dp.advance(15);
      const h = await dp.kubectlJson(['get', 'hpa', 'web']);
      return h.status?.desiredReplicas === 2 ? h : undefined;
    }, { what: 'scaled down to 2', intervalMs: 500 });
    assert.equal(cond(down, 'ScalingLimited').reason, 'DesiredWithinRange');
    assert.equal((await dp.kubectlJson(['get', 'deploy', 'web'])).spec.replicas, 2);
  });

  it('an HPA whose target does not exist reports FailedGetScale', async () => {
    await create(JSON.stringify({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'ghost' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ghost' }, minReplicas: 1, maxReplicas: 3, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] },
    }));
    const h = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'hpa', 'ghost']);
      return cond(o, 'AbleToScale') ? o : undefined;
    }, { what: 'ghost conditions' });
    assert.equal(cond(h, 'AbleToScale').status, 'False');
    assert.equal(cond(h, 'AbleToScale').reason, 'FailedGetScale');
    assert.equal(cond(h, 'AbleToScale').message, 'the HPA controller was unable to get the target\'s current scale: deployments.apps "ghost" not found');
  });
});
