/**
 * Kubernetes registry write-path benchmark (npm run bench:kube-registry [pods]):
 * the writes one simulated pod costs (create, bind, three kubelet status
 * writes, four Events), made in process on ClusterRegistry over the memory
 * store, without HTTP. Prints CPU per write and heap per pod: with the watch
 * history buffered, after the history window, and the memory store's share.
 * `--watch` adds a watcher of pods and events that serializes every event as
 * the API server's watch does (kubectl, informers over HTTP).
 */
import { fork } from 'node:child_process';
import { MemoryBackend } from '../src/store/memory/memory-backend.ts';
import { SimClock } from '../src/sim/clock.ts';
import { Scheme } from '../src/kube/api/scheme.ts';
import type { ClusterInfo } from '../src/kube/types.ts';
import { bootstrapCluster } from '../src/kube/apiserver/bootstrap.ts';
import { ClusterRegistry } from '../src/kube/apiserver/registry/generic-store.ts';
import { encodedLine } from '../src/kube/apiserver/registry/watch-cache.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  // Heap figures need a full collection: run again with --expose-gc.
  const child = fork(new URL(import.meta.url).pathname, process.argv.slice(2), { execArgv: ['--expose-gc', '--import', 'tsx'], stdio: 'inherit' });
  child.on('exit', (c) => process.exit(c ?? 1));
} else {
  const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 3000);
  const watch = process.argv.includes('--watch');
  const cluster: ClusterInfo = {
    uid: 'bench', name: 'bench', endpointId: 'bench', accountId: '000000000000', region: 'us-east-1', kubernetesVersion: '1.31',
    platformVersion: 'eks.12', status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: new Date().toISOString(),
  };
  const backend = new MemoryBackend();
  const scheme = new Scheme();
  const reg = new ClusterRegistry({ backend, clock: new SimClock(), cluster, scheme });
  await bootstrapCluster(backend, cluster);
  await reg.cache.ready();
  const pods = scheme.preferred('', 'pods')!;
  const events = scheme.preferred('', 'events')!;
  if (watch) {
    for (const resource of ['pods', 'events']) {
      reg.cache.addWatcher({
        resource, namespace: '', onClose() {},
        onEvents(evs) {
          for (const e of evs) Buffer.from(((e.lines ??= {})[e.type] ??= encodedLine(e, e.type)), 'utf8');
        },
      });
    }
  }
  const heap = async (): Promise<number> => {
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      gc();
    }
    return process.memoryUsage().heapUsed;
  };
  const h0 = await heap();
  const c0 = process.cpuUsage();
  let writes = 0;
  for (let i = 0; i < N; i++) {
    const name = `p-${i}`;
    await reg.create(pods, 'default', {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name, labels: { app: 'web', 'pod-template-hash': 'abc123' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: '7d0a5c1e-1111-2222-3333-444455556666', controller: true, blockOwnerDeletion: true }] },
      spec: { containers: [{ name: 'c', image: 'nginx:1.25', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
    }, { fieldManager: 'kube-controller-manager' });
    await reg.guaranteedUpdate(pods, 'default', name, (cur) => {
      cur!.spec.nodeName = 'node-1';
      return cur!;
    }, { fieldManager: 'kube-scheduler' });
    writes += 2;
    for (const [phase, ready] of [['Pending', 'False'], ['Running', 'False'], ['Running', 'True']] as const) {
      await reg.guaranteedUpdate(pods, 'default', name, (cur) => {
        cur!.status = {
          phase, hostIP: '10.0.0.1', podIP: '10.0.1.2', startTime: '2026-01-01T00:00:00Z', qosClass: 'Burstable',
          conditions: [{ type: 'Ready', status: ready, lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' }],
          containerStatuses: [{ name: 'c', image: 'nginx:1.25', imageID: 'docker.io/library/nginx@sha256:abc', ready: ready === 'True', restartCount: 0, started: phase === 'Running', state: phase === 'Running' ? { running: { startedAt: '2026-01-01T00:00:00Z' } } : { waiting: { reason: 'ContainerCreating' } } }],
        };
        return cur!;
      }, { fieldManager: 'kubelet', subresource: 'status' });
      writes++;
    }
    for (const reason of ['Scheduled', 'Pulled', 'Created', 'Started']) {
      await reg.create(events, 'default', {
        apiVersion: 'v1', kind: 'Event', metadata: { name: `${name}.${reason.toLowerCase()}` },
        involvedObject: { kind: 'Pod', namespace: 'default', name, uid: 'x', apiVersion: 'v1', resourceVersion: '1' },
        reason, message: `${reason} container c`, source: { component: 'kubelet', host: 'node-1' }, firstTimestamp: '2026-01-01T00:00:00Z',
        lastTimestamp: '2026-01-01T00:00:00Z', count: 1, type: 'Normal', reportingComponent: 'kubelet', reportingInstance: 'node-1',
      }, { fieldManager: 'kubelet' });
      writes++;
    }
  }
  await reg.fresh();
  const c = process.cpuUsage(c0);
  const h1 = await heap();
  reg.cache.trim(Date.now() + 10 * 60_000);
  const h2 = await heap();
  reg.cache.close();
  (reg as { cache: unknown }).cache = undefined;
  const h3 = await heap();
  const kb = (b: number) => `${(b / N / 1024).toFixed(1)} KB`;
  console.log(`kube registry write path (memory store, ${N} pods x ${writes / N} writes${watch ? ', serializing watcher' : ''}, node ${process.version})`);
  console.log(`  CPU ${((c.user + c.system) / writes).toFixed(0)} µs/write`);
  console.log(`  heap per pod: ${kb(h1 - h0)} with the watch history, ${kb(h2 - h0)} after the history window, of which the memory store ${kb(h3 - h0)}`);
  process.exit(0);
}
