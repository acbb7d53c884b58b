/**
 * bench:sim — the simulated data plane at scale, through the public APIs of
 * a `localeks serve` child process (fast timing profile), as a user's
 * tooling would drive it: EC2/IAM/EKS with the aws CLI for the one-off
 * set-up, then EKS (signed rest-json) and the cluster's Kubernetes API
 * (HTTPS, an EKS token) for everything measured.
 *
 *   1. throughput: a cluster with --tp-nodes m5.xlarge nodes; a Deployment of
 *      --tp-pods replicas; pods scheduled per second and Running per second
 *      (from creation of the Deployment to the last pod bound / Running);
 *   2. scale: one cluster grown to --nodes nodes (node groups of at most
 *      500) and --pods pods (Deployments of 5,000): time to all nodes Ready,
 *      time to all pods Running, the server's peak RSS, and the p99 latency
 *      of Kubernetes API calls (get a ConfigMap, list 500 nodes) made while
 *      it grows;
 *   3. idle: a fresh server with --idle clusters of 3 t3.medium nodes each;
 *      RSS once every node is Ready and the server has settled.
 *
 * Targets (issue 8): >= 1,000 pods/s; 5,000 nodes and 150,000 pods under
 * 8 GB with API p99 under 1 s; 100 idle 3-node clusters under 1 GB.
 * There is no peer to compare with here (moto has no data plane).
 *
 * Each pods phase also prints the server's CPU time and store writes per
 * pod (judge changes by those on a busy machine). The throughput phase polls
 * its pending pods with an unpaginated list (served from the watch cache)
 * since ccbbaa7; the paginated list it used before was read from the store
 * and decoded every pod at each 100 ms poll, which the server's figures
 * then included. The workloads are unchanged.
 *
 * Usage: npm run bench:sim [-- --phases throughput,scale,idle --tp-nodes 100
 *   --tp-pods 5000 --nodes 5000 --pods 150000 --idle 100 --store sqlite]
 * Smaller runs: --nodes 500 --pods 15000 --idle 20. BENCH_CPU_PROF=<dir> writes
 * a CPU profile of the server; BENCH_HEAP_SNAPSHOT=<dir> a heap snapshot of it
 * once the scale phase's pods are Running.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEksToken } from '../src/kube/authn/eks-token.ts';
import { EksClient } from './lib/eks-client.ts';
import { arg, startChild, stopChild } from './lib/harness.ts';

const PHASES = new Set(arg('phases', 'throughput,scale,idle').split(','));
const TP_NODES = Number(arg('tp-nodes', '100'));
const TP_PODS = Number(arg('tp-pods', '5000'));
const NODES = Number(arg('nodes', '5000'));
const PODS = Number(arg('pods', '150000'));
const IDLE = Number(arg('idle', '100'));
const STORE = arg('store', 'sqlite');
const REGION = 'us-east-1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmtMs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`);
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

function pct(a: number[], p: number): number {
  if (!a.length) return NaN;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** VmRSS / VmHWM of a process in kB (Linux). */
function memOf(pid: number): { rss: number; hwm: number } {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  const n = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(t)?.[1] ?? 0);
  return { rss: n('VmRSS'), hwm: n('VmHWM') };
}

/** CPU time (user + system, ms) of a process so far (Linux /proc/<pid>/stat). */
function cpuMsOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** Keys written to the store so far (the server's localeks_store_writes_total). */
async function storeWrites(aws: string): Promise<number> {
  const text = await (await fetch(`${aws}/_localeks/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^localeks_store_writes_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** The server's CPU time and store writes, to print per pod over a phase. */
async function costMark(s: { child: ChildProcess; aws: string }): Promise<{ cpuMs: number; writes: number }> {
  return { cpuMs: cpuMsOf(s.child.pid!), writes: await storeWrites(s.aws) };
}

function costLine(from: { cpuMs: number; writes: number }, to: { cpuMs: number; writes: number }, pods: number): string {
  return `server CPU ${((to.cpuMs - from.cpuMs) / 1000).toFixed(1)} s = ${((to.cpuMs - from.cpuMs) / pods).toFixed(2)} ms per pod; store writes ${(to.writes - from.writes)} = ${((to.writes - from.writes) / pods).toFixed(1)} per pod`;
}

// ------------------------------------------------------------ AWS clients

function awsCli(endpoint: string, args: string[]): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(
      'aws',
      ['--endpoint-url', endpoint, '--region', REGION, '--output', 'json', ...args],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_PAGER: '' }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`aws ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim() ? JSON.parse(stdout) : {})),
    );
  });
}

/** The cluster's Kubernetes API over HTTPS with an EKS token (renewed before its 15 minutes run out). */
class Kube {
  private readonly agent = new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });
  private token = '';
  private tokenAt = 0;
  constructor(
    private readonly base: URL,
    private readonly cluster: string,
  ) {}
  private auth(): string {
    if (Date.now() - this.tokenAt > 5 * 60_000) {
      this.token = createEksToken({ clusterName: this.cluster, region: REGION, accessKeyId: 'test', secretAccessKey: 'test' });
      this.tokenAt = Date.now();
    }
    return this.token;
  }
  async call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, body, contentType);
      } catch (e) {
        // A keep-alive socket the server closed as we reused it: retry reads.
        if (method !== 'GET' || attempt >= 2 || (e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
      }
    }
  }
  private once(method: string, path: string, body: unknown, contentType: string): Promise<{ status: number; body: any }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.auth()}`, accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = https.request(
        { agent: this.agent, host: this.base.hostname, port: this.base.port, method, path: `/clusters/${this.cluster}${path}`, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any = text;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              /* keep text */
            }
            resolve({ status: res.statusCode ?? 0, body: json });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }
  async ok(method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
    const r = await this.call(method, path, body, contentType);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body).slice(0, 500)}`);
    return r.body;
  }
  /** Counts objects of a list path page by page (limit 500), with a per-item predicate. */
  async count(path: string, pred: (o: any) => boolean = () => true): Promise<{ total: number; matching: number }> {
    let cont = '';
    let total = 0;
    let matching = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.ok('GET', `${path}${sep}limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      for (const o of page.items) {
        total++;
        if (pred(o)) matching++;
      }
      cont = page.metadata?.continue ?? '';
    } while (cont);
    return { total, matching };
  }
  close(): void {
    this.agent.destroy();
  }
}

const isReadyNode = (n: any) => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

// ------------------------------------------------------------ server and set-up

interface Server {
  child: ChildProcess;
  aws: string;
  kube: URL;
  dir: string;
}

async function startServer(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sim-'));
  const { child, endpoint } = await startChild(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
      ...(process.env.BENCH_HEAP_SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.BENCH_HEAP_SNAPSHOT}`] : []),
      join(ROOT, 'bin/localeks'), 'serve', '--aws-port', '0', '--kube-port', '0', '--store', STORE, '--data-dir', dir, '--log-level', 'warn'],
    /localeks ready: aws (\S+) kubernetes (\S+)/,
    (m) => `${m[1]} ${m[2]}`,
    { NODE_OPTIONS: '--max-old-space-size=12288' },
  );
  const [aws, kube] = endpoint.split(' ');
  return { child, aws: aws!, kube: new URL(kube!), dir };
}

/** BENCH_HEAP_SNAPSHOT=<dir>: the server writes a heap snapshot there (SIGUSR2), awaited. */
async function heapSnapshot(s: Server): Promise<void> {
  const dir = process.env.BENCH_HEAP_SNAPSHOT!;
  const before = new Set(readdirSync(dir));
  process.kill(s.child.pid!, 'SIGUSR2');
  let last = -1;
  for (;;) {
    await sleep(2000);
    const f = readdirSync(dir).find((x) => !before.has(x) && x.endsWith('.heapsnapshot'));
    if (!f) continue;
    const size = statSync(join(dir, f)).size;
    if (size === last && size > 0) {
      console.log(`  heap snapshot ${join(dir, f)} (${mb(size / 1024)})`);
      return;
    }
    last = size;
  }
}

async function stopServer(s: Server): Promise<void> {
  await stopChild(s.child);
  rmSync(s.dir, { recursive: true, force: true });
}

interface Net {
  subnets: string[];
  clusterRole: string;
  nodeRole: string;
}

/** A VPC with up to five /16 blocks, one /16 subnet per block over two AZs, and the two IAM roles. */
async function network(s: Server, blocks: number): Promise<Net> {
  const vpc = (await awsCli(s.aws, ['ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16'])).Vpc.VpcId;
  for (let b = 1; b < blocks; b++) await awsCli(s.aws, ['ec2', 'associate-vpc-cidr-block', '--vpc-id', vpc, '--cidr-block', `10.${b}.0.0/16`]);
  // EKS refuses us-east-1e for control planes (as the real service does).
  const azs = (await awsCli(s.aws, ['ec2', 'describe-availability-zones'])).AvailabilityZones.map((z: any) => z.ZoneName).filter((z: string) => z !== 'us-east-1e');
  const subnets: string[] = [];
  for (let b = 0; b < Math.max(2, blocks); b++) {
    const cidr = blocks >= 2 ? `10.${b}.0.0/16` : `10.0.${b * 128}.0/17`;
    // One AZ per /16 block: Auto Scaling balances instances over AZs, so two AZs over five blocks gave the
    // AZ with two subnets 1,250 nodes per subnet, more than a /16 holds at 60 addresses a node.
    const az = blocks >= 2 ? azs[b % azs.length] : azs[b % 2];
    subnets.push((await awsCli(s.aws, ['ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', cidr, '--availability-zone', az])).Subnet.SubnetId);
  }
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
  const clusterRole = (await awsCli(s.aws, ['iam', 'create-role', '--role-name', 'bench-cluster', '--assume-role-policy-document', trust])).Role.Arn;
  const nodeRole = (await awsCli(s.aws, ['iam', 'create-role', '--role-name', 'bench-node', '--assume-role-policy-document', trust])).Role.Arn;
  return { subnets, clusterRole, nodeRole };
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number, intervalMs = 500): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

async function createCluster(eks: EksClient, net: Net, name: string): Promise<void> {
  await eks.ok('POST', '/clusters', { name, roleArn: net.clusterRole, resourcesVpcConfig: { subnetIds: net.subnets } });
}

async function clusterActive(eks: EksClient, name: string): Promise<boolean> {
  return (await eks.ok('GET', `/clusters/${name}`)).cluster.status === 'ACTIVE';
}

async function createNodegroup(eks: EksClient, net: Net, cluster: string, name: string, size: number, type: string): Promise<void> {
  await eks.ok('POST', `/clusters/${cluster}/node-groups`, {
    nodegroupName: name,
    nodeRole: net.nodeRole,
    subnets: net.subnets,
    instanceTypes: [type],
    scalingConfig: { minSize: 0, maxSize: Math.max(size, 1), desiredSize: size },
  });
}

function deployment(name: string, replicas: number): unknown {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27' }] } },
    },
  };
}

async function deploymentsReady(kube: Kube, names: string[]): Promise<number> {
  let ready = 0;
  for (const n of names) ready += (await kube.ok('GET', `/apis/apps/v1/namespaces/default/deployments/${n}`)).status?.readyReplicas ?? 0;
  return ready;
}

// ------------------------------------------------------------ phases

async function throughput(): Promise<void> {
  const s = await startServer();
  const eks = new EksClient(s.aws, 16);
  try {
    const net = await network(s, 1);
    await createCluster(eks, net, 'tp');
    await waitUntil('cluster ACTIVE', () => clusterActive(eks, 'tp'), 60_000, 100);
    await createNodegroup(eks, net, 'tp', 'workers', TP_NODES, 'm5.xlarge');
    const kube = new Kube(s.kube, 'tp');
    await waitUntil(`${TP_NODES} nodes Ready`, async () => (await kube.count('/api/v1/nodes', isReadyNode)).matching >= TP_NODES, 300_000);
    const c0 = await costMark(s);
    const t0 = performance.now();
    await kube.ok('POST', '/apis/apps/v1/namespaces/default/deployments', deployment('tp', TP_PODS));
    let boundAt = 0;
    await waitUntil(`${TP_PODS} pods Running`, async () => {
      if (!boundAt) {
        const d = await kube.ok('GET', '/apis/apps/v1/namespaces/default/deployments/tp');
        if ((d.status?.replicas ?? 0) >= TP_PODS) {
          // Unpaginated: served from the watch cache (a paginated list would decode every pod from the store at each poll).
          const pending = await kube.ok('GET', '/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3D');
          if (pending.items.length === 0) boundAt = performance.now();
        }
      }
      return (await deploymentsReady(kube, ['tp'])) >= TP_PODS;
    }, 600_000, 100);
    const runAt = performance.now();
    const bound = boundAt || runAt;
    console.log(
      `throughput: ${TP_PODS} pods on ${TP_NODES} nodes: all bound in ${fmtMs(bound - t0)} (${((TP_PODS * 1000) / (bound - t0)).toFixed(0)} pods/s scheduled), ` +
        `all Running+Ready in ${fmtMs(runAt - t0)} (${((TP_PODS * 1000) / (runAt - t0)).toFixed(0)} pods/s)   target >= 1,000 pods/s`,
    );
    console.log(`  ${costLine(c0, await costMark(s), TP_PODS)}`);
    console.log(`  server RSS ${mb(memOf(s.child.pid!).rss)} (peak ${mb(memOf(s.child.pid!).hwm)})`);
    kube.close();
  } finally {
    eks.close();
    await stopServer(s);
  }
}

async function scale(): Promise<void> {
  const s = await startServer();
  const eks = new EksClient(s.aws, 16);
  const probeLat: number[] = [];
  let probing = true;
  try {
    // Addresses the VPC CNI holds: with its default WARM_ENI_TARGET=1 an m5.xlarge running 30 pods keeps
    // all 4 ENIs (4 x 15 addresses), so size for nodes x 60 (NODES * 16 + PODS left 27,678 of 150,000
    // pods without an address: FailedCreatePodSandBox, as EKS would).
    const ipsNeeded = Math.max(NODES * 60, NODES * 16 + PODS);
    const blocks = Math.min(5, Math.max(2, Math.ceil(ipsNeeded / 60_000)));
    const net = await network(s, blocks);
    await createCluster(eks, net, 'big');
    await waitUntil('cluster ACTIVE', () => clusterActive(eks, 'big'), 60_000, 100);
    const kube = new Kube(s.kube, 'big');
    await kube.ok('POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'probe' }, data: { a: '1' } });
    // The API probe: one get and one list of 500 nodes, back to back, for the whole phase.
    const probe = (async () => {
      while (probing) {
        let t = performance.now();
        await kube.call('GET', '/api/v1/namespaces/default/configmaps/probe');
        probeLat.push(performance.now() - t);
        t = performance.now();
        await kube.call('GET', '/api/v1/nodes?limit=500');
        probeLat.push(performance.now() - t);
        await sleep(200);
      }
    })();
    const t0 = performance.now();
    const groups = Math.ceil(NODES / 500);
    for (let g = 0; g < groups; g++) await createNodegroup(eks, net, 'big', `ng-${g}`, Math.min(500, NODES - g * 500), 'm5.xlarge');
    let lastReport = 0;
    await waitUntil(`${NODES} nodes Ready`, async () => {
      const c = await kube.count('/api/v1/nodes', isReadyNode);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  ... ${c.matching}/${NODES} nodes Ready after ${fmtMs(performance.now() - t0)}, RSS ${mb(memOf(s.child.pid!).rss)}`);
      }
      return c.matching >= NODES;
    }, 3_600_000, 2000);
    const nodesAt = performance.now();
    console.log(`scale: ${NODES} nodes Ready in ${fmtMs(nodesAt - t0)}; RSS ${mb(memOf(s.child.pid!).rss)}`);
    const c0 = await costMark(s);
    const names: string[] = [];
    for (let i = 0; i * 5000 < PODS; i++) {
      const n = `app-${i}`;
      names.push(n);
      await kube.ok('POST', '/apis/apps/v1/namespaces/default/deployments', deployment(n, Math.min(5000, PODS - i * 5000)));
    }
    lastReport = 0;
    await waitUntil(`${PODS} pods Running`, async () => {
      const r = await deploymentsReady(kube, names);
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        console.log(`  ... ${r}/${PODS} pods Ready after ${fmtMs(performance.now() - nodesAt)}, RSS ${mb(memOf(s.child.pid!).rss)}, API p99 so far ${fmtMs(pct(probeLat, 99))}`);
      }
      return r >= PODS;
    }, 3_600_000, 2000);
    const podsAt = performance.now();
    const c1 = await costMark(s);
    if (process.env.BENCH_HEAP_SNAPSHOT) await heapSnapshot(s);
    probing = false;
    await probe;
    const m = memOf(s.child.pid!);
    console.log(
      `scale: ${PODS} pods Running in ${fmtMs(podsAt - nodesAt)} (${((PODS * 1000) / (podsAt - nodesAt)).toFixed(0)} pods/s); ` +
        `total ${fmtMs(podsAt - t0)}; RSS ${mb(m.rss)}, peak ${mb(m.hwm)} (target < 8 GB)`,
    );
    console.log(`  pods: ${costLine(c0, c1, PODS)}`);
    console.log(`  Kubernetes API while growing: ${probeLat.length} calls, p50 ${fmtMs(pct(probeLat, 50))}, p99 ${fmtMs(pct(probeLat, 99))} (target p99 < 1 s)`);
    kube.close();
  } finally {
    probing = false;
    eks.close();
    await stopServer(s);
  }
}

async function idle(): Promise<void> {
  const s = await startServer();
  const eks = new EksClient(s.aws, 16);
  try {
    const net = await network(s, 1);
    const base = memOf(s.child.pid!).rss;
    const t0 = performance.now();
    const names = Array.from({ length: IDLE }, (_, i) => `idle-${i}`);
    for (const n of names) await createCluster(eks, net, n);
    await waitUntil('clusters ACTIVE', async () => (await Promise.all(names.map((n) => clusterActive(eks, n)))).every(Boolean), 300_000, 500);
    for (const n of names) await createNodegroup(eks, net, n, 'ng', 3, 't3.medium');
    await waitUntil(`${IDLE * 3} nodes Ready`, async () => {
      let ready = 0;
      for (const n of names) {
        const k = new Kube(s.kube, n);
        ready += (await k.count('/api/v1/nodes', isReadyNode)).matching;
        k.close();
      }
      return ready >= IDLE * 3;
    }, 600_000, 2000);
    const readyAt = performance.now();
    await sleep(15_000); // settle: leases renew, nothing else should happen
    const m = memOf(s.child.pid!);
    console.log(
      `idle: ${IDLE} clusters x 3 nodes Ready in ${fmtMs(readyAt - t0)}; RSS after 15 s idle ${mb(m.rss)} (empty server ${mb(base)}; ` +
        `${(((m.rss - base) / 1024) / IDLE).toFixed(1)} MB per cluster; target < 1 GB)`,
    );
  } finally {
    eks.close();
    await stopServer(s);
  }
}

console.log(`bench:sim (store ${STORE}, node ${process.version}, server in a child process, fast timing profile)`);
if (PHASES.has('throughput')) await throughput();
if (PHASES.has('scale')) await scale();
if (PHASES.has('idle')) await idle();
process.exit(0);
