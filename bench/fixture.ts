/**
 * bench:fixture — how fast localeks gives a test suite a clean or known state:
 *
 *   1. start to usable: startLocaleks({ timingProfile: 'instant' }), then
 *      CreateCluster (ACTIVE in the response) and GET /api/v1/namespaces
 *      answering 200 on its Kubernetes API                 (target < 1 s)
 *   2. the fixture: 5 clusters x 500 ConfigMaps (made through the clusters'
 *      Kubernetes HTTPS APIs, EKS bearer tokens), untimed
 *   3. snapshot save of the whole state
 *   4. restore after a reset (every key rewritten) and after a small change
 *      (one ConfigMap per cluster deleted)                 (target < 500 ms)
 *   5. reset of everything                                 (target < 50 ms)
 *   6. a velero-style backup of one cluster's ConfigMaps and its restore
 *      into another cluster under a new namespace (no peer to compare)
 *
 * Every operation goes through the public HTTP admin endpoints; each is run
 * several times, the median and best printed, with the median CPU time of
 * the process (client and in-process server: what a loaded machine inflates
 * least). Each restore is checked (a
 * deleted ConfigMap reads back through the Kubernetes API). Where
 * moto_server is installed, its reset (POST /moto-api/reset) with 5 EKS
 * clusters is printed for comparison (moto has no snapshots or Kubernetes).
 *
 * Usage: npm run bench:fixture [-- --clusters 5 --objects 500 --rounds 5 --store memory|sqlite]
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { eksToken, type Localeks, startLocaleks } from '../src/index.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const CLUSTERS = Number(arg('clusters', '5'));
const OBJECTS = Number(arg('objects', '500'));
const ROUNDS = Number(arg('rounds', '5'));
const STORE = arg('store', 'memory') as 'memory' | 'sqlite';
const CONCURRENCY = 16;
const ROLE = 'arn:aws:iam::000000000000:role/eks';

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function kube(lx: Localeks, cluster: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const token = eksToken({ clusterName: cluster, region: lx.region, ...lx.credentials });
  return new Promise((resolve, reject) => {
    const req = request(`${lx.kubeEndpoint}/clusters/${cluster}${path}`, { method, agent, ca: lx.caCertPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function admin(lx: Localeks, method: string, path: string, input?: unknown): Promise<any> {
  const r = await fetch(lx.awsEndpoint + path, { method, body: input === undefined ? undefined : JSON.stringify(input) });
  const body = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(body)}`);
  return body;
}

/** CPU milliseconds (user + system) of this process, client and in-process server, per timed() call, by label. */
const cpu = new Map<string, number[]>();

async function timed<T>(fn: () => Promise<T>, label?: string): Promise<[number, T]> {
  const t = performance.now();
  const c = process.cpuUsage();
  const v = await fn();
  const ms = performance.now() - t;
  if (label) {
    const u = process.cpuUsage(c);
    cpu.set(label, [...(cpu.get(label) ?? []), (u.user + u.system) / 1000]);
  }
  return [ms, v];
}

/** The CPU time of a label, which a loaded machine inflates far less than wall time. */
function cpuOf(label: string): string {
  const s = [...(cpu.get(label) ?? [0])].sort((a, b) => a - b);
  return `(cpu median ${s[s.length >> 1]!.toFixed(1)} ms)`;
}

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[s.length >> 1]!.toFixed(1)} ms, best ${s[0]!.toFixed(1)} ms, worst ${s[s.length - 1]!.toFixed(1)} ms (${s.length} runs)`;
}

function verdict(xs: number[], target: number): string {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]! < target ? `OK (target < ${target} ms)` : `MISSED (target < ${target} ms)`;
}

async function startToUsable(): Promise<number> {
  const t = performance.now();
  const lx = await startLocaleks({ timingProfile: 'instant', referenceChecks: false, store: STORE });
  try {
    const eks = new EKSClient(lx.awsConfig);
    const r = await eks.send(new CreateClusterCommand({ name: 'first', roleArn: ROLE, resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }));
    if (r.cluster?.status !== 'ACTIVE') throw new Error(`cluster is ${r.cluster?.status}`);
    const ns = await kube(lx, 'first', 'GET', '/api/v1/namespaces');
    if (ns.status !== 200) throw new Error(`GET /api/v1/namespaces: ${ns.status} ${ns.text}`);
    const ms = performance.now() - t;
    eks.destroy();
    return ms;
  } finally {
    await lx.stop();
  }
}

async function pool<T>(items: T[], fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (i < items.length) await fn(items[i++]!);
  }));
}

async function motoReset(): Promise<number[] | undefined> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const moto = spawn('moto_server', ['-p', String(port), '-H', '127.0.0.1'], { stdio: 'ignore' });
  const failed = new Promise<undefined>((resolve) => moto.on('error', () => resolve(undefined)));
  const run = (async () => {
    const ep = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`${ep}/moto-api/`)).status < 500) break;
      } catch {}
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
    const eks = new EKSClient({ endpoint: ep, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const times: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let c = 0; c < CLUSTERS; c++) await eks.send(new CreateClusterCommand({ name: `c${c}`, roleArn: ROLE, resourcesVpcConfig: { subnetIds: ['subnet-1'] } }));
      const [ms] = await timed(async () => {
        const r = await fetch(`${ep}/moto-api/reset`, { method: 'POST' });
        await r.arrayBuffer();
      });
      times.push(ms);
    }
    eks.destroy();
    return times;
  })();
  try {
    return await Promise.race([run, failed]);
  } finally {
    moto.kill();
  }
}

async function main(): Promise<void> {
  console.log(`bench:fixture — ${CLUSTERS} clusters x ${OBJECTS} ConfigMaps, store ${STORE}, ${ROUNDS} rounds`);
  await startToUsable(); // warm-up (module loading, TLS)
  const usable: number[] = [];
  for (let i = 0; i < ROUNDS; i++) usable.push(await startToUsable());
  console.log(`start to usable cluster   ${stats(usable)}  ${verdict(usable, 1000)}`);

  const lx = await startLocaleks({ timingProfile: 'instant', referenceChecks: false, store: STORE });
  try {
    const eks = new EKSClient(lx.awsConfig);
    const names = Array.from({ length: CLUSTERS }, (_, i) => `fx-${i}`);
    const [fillMs] = await timed(async () => {
      for (const name of names) await eks.send(new CreateClusterCommand({ name, roleArn: ROLE, resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }));
      const jobs = names.flatMap((c) => Array.from({ length: OBJECTS }, (_, i) => ({ c, i })));
      await pool(jobs, async ({ c, i }) => {
        const r = await kube(lx, c, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { app: 'bench' } }, data: { index: String(i), payload: 'x'.repeat(200) } });
        if (r.status !== 201) throw new Error(`create cm-${i} in ${c}: ${r.status} ${r.text}`);
      });
    });
    console.log(`fixture built in ${(fillMs / 1000).toFixed(1)} s (untimed below)`);

    const saves: number[] = [];
    let keys = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const [ms, r] = await timed(() => admin(lx, 'POST', '/_localeks/snapshots/bench'), 'save');
      saves.push(ms);
      keys = r.keys;
    }
    console.log(`snapshot save (${keys} keys)  ${stats(saves)} ${cpuOf('save')}`);

    const fullRestores: number[] = [];
    const resets: number[] = [];
    const smallRestores: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [resetMs] = await timed(() => admin(lx, 'POST', '/_localeks/reset'), 'reset');
      resets.push(resetMs);
      const [restoreMs, r] = await timed(() => admin(lx, 'POST', '/_localeks/snapshots/bench/restore'), 'restore');
      fullRestores.push(restoreMs);
      if (r.changed < keys) throw new Error(`restore changed ${r.changed} keys, expected ${keys}`);
      for (const c of names) {
        const d = await kube(lx, c, 'DELETE', `/api/v1/namespaces/default/configmaps/cm-${i}`);
        if (d.status !== 200) throw new Error(`delete: ${d.status} ${d.text}`);
      }
      const [smallMs] = await timed(() => admin(lx, 'POST', '/_localeks/snapshots/bench/restore'), 'small');
      smallRestores.push(smallMs);
      const back = await kube(lx, names[0]!, 'GET', `/api/v1/namespaces/default/configmaps/cm-${i}`);
      if (back.status !== 200) throw new Error(`restored configmap not readable: ${back.status}`);
    }
    console.log(`reset (all ${keys} keys)     ${stats(resets)}  ${verdict(resets, 50)} ${cpuOf('reset')}`);
    console.log(`restore after reset      ${stats(fullRestores)}  ${verdict(fullRestores, 500)} ${cpuOf('restore')}`);
    console.log(`restore after ${CLUSTERS} deletes   ${stats(smallRestores)}  ${verdict(smallRestores, 500)} ${cpuOf('small')}`);

    // Velero-style backup of one cluster's default namespace, restored into another cluster
    // under a new namespace each round (every object created through the target's registry).
    const backups: number[] = [];
    const restores: number[] = [];
    let items = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const [bMs, b] = await timed(() => admin(lx, 'POST', `/_localeks/backups/bench-${i}`, { cluster: names[0], includeNamespaces: ['default'], includeResources: ['configmaps'] }), 'backup');
      backups.push(bMs);
      const [rMs, r] = await timed(() => admin(lx, 'POST', `/_localeks/backups/bench-${i}/restore`, { cluster: names[1 % names.length], namespaceMappings: { default: `copy-${i}` } }), 'backup-restore');
      restores.push(rMs);
      items = b.itemCount;
      if (r.created < OBJECTS) throw new Error(`backup restore created ${r.created} objects, expected at least ${OBJECTS}`);
    }
    console.log(`backup (${items} objects)     ${stats(backups)} ${cpuOf('backup')}`);
    console.log(`backup restore (new ns)  ${stats(restores)} ${cpuOf('backup-restore')}`);
    eks.destroy();
  } finally {
    await lx.stop();
    agent.destroy();
  }

  const moto = await motoReset();
  if (moto) console.log(`moto_server reset (${CLUSTERS} EKS clusters, no Kubernetes objects)  ${stats(moto)}`);
  else console.log('moto_server not available: no comparison');
}

await main();
