/**
 * bench:eks — the same EKS workload against localeks and against
 * moto_server, through one client (EKS rest-json over keep-alive HTTP,
 * SigV4-signed by a lean signer), each server in its own process on
 * a free loopback port, alternating runs (localeks, moto, localeks, moto...):
 *
 *   1. create 50 clusters, then one managed node group per cluster, and
 *      wait until all are ACTIVE                                  (100 writes)
 *   2. 5,000 mixed reads at concurrency 16 (after 500 untimed warm-up reads): DescribeCluster,
 *      DescribeNodegroup, ListClusters (paged, maxResults 100)    (5,000 reads)
 *   3. delete every node group, wait, delete every cluster, wait  (100 writes)
 *
 * localeks runs with `--timing-profile instant --no-reference-checks` (moto
 * completes every transition at once and needs no VPC either), so both do
 * the same work; every response is checked. Before the timed phases, one
 * small untimed create/read/delete cycle and 500 reads warm both servers up. Prints ops/s per phase and
 * overall for each run, the best run of each, and the localeks/moto ratio
 * (target >= 10x).
 *
 * Set BENCH_CPU_PROF=<dir> to write a CPU profile of the localeks process.
 *
 * Usage: npm run bench:eks [-- --clusters 50 --reads 5000 --warmup 500 --concurrency 16 --rounds 3 --store memory --only localeks|moto]
 */
import { EksClient } from './lib/eks-client.ts';
import { arg, onLocaleks, onMoto, runPool } from './lib/harness.ts';
import { type PhaseResult, phaseTimer, report } from './lib/phases.ts';

const CLUSTERS = Number(arg('clusters', '50'));
const READS = Number(arg('reads', '5000'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const ROUNDS = Number(arg('rounds', '3'));
const WARMUP = Number(arg('warmup', '500'));
const STORE = arg('store', 'memory');
const ONLY = arg('only', '');

/** Runs tasks with at most CONCURRENCY in flight. */
const pool = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> => runPool(n, CONCURRENCY, task);


async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * warm runs one small untimed create/read/delete cycle (2 clusters with a
 * node group) so both servers are past start-up (module loading, JIT) when
 * the timed phases begin: the figures are those of a running server.
 */
async function warm(endpoint: string): Promise<void> {
  const c = new EksClient(endpoint, CONCURRENCY);
  const role = 'arn:aws:iam::123456789012:role/eks';
  for (const n of ['warm-a', 'warm-b']) {
    await c.ok('POST', '/clusters', { name: n, version: '1.33', roleArn: role, resourcesVpcConfig: { subnetIds: ['subnet-aaaa', 'subnet-bbbb'] } });
    await until(`${n} ACTIVE`, async () => (await c.ok('GET', `/clusters/${n}`)).cluster.status === 'ACTIVE');
    await c.ok('POST', `/clusters/${n}/node-groups`, { nodegroupName: 'ng', nodeRole: role, subnets: ['subnet-aaaa'] });
    await until(`${n}/ng ACTIVE`, async () => (await c.ok('GET', `/clusters/${n}/node-groups/ng`)).nodegroup.status === 'ACTIVE');
    await c.ok('GET', '/clusters');
    await c.ok('DELETE', `/clusters/${n}/node-groups/ng`);
    await until(`${n}/ng deleted`, async () => (await c.call('GET', `/clusters/${n}/node-groups/ng`)).status === 404);
    await c.ok('DELETE', `/clusters/${n}`);
    await until(`${n} deleted`, async () => (await c.call('GET', `/clusters/${n}`)).status === 404);
  }
  c.close();
}

async function workload(endpoint: string): Promise<PhaseResult[]> {
  await warm(endpoint);
  const c = new EksClient(endpoint, CONCURRENCY);
  const phases: PhaseResult[] = [];
  const timed = phaseTimer(phases);
  const run = Math.random().toString(36).slice(2, 7);
  const names = Array.from({ length: CLUSTERS }, (_, i) => `b${run}-${String(i).padStart(3, '0')}`);
  const role = 'arn:aws:iam::123456789012:role/eks';

  await timed('create', CLUSTERS * 2, async () => {
    await pool(CLUSTERS, async (i) => {
      const r = await c.ok('POST', '/clusters', { name: names[i], version: '1.33', roleArn: role, resourcesVpcConfig: { subnetIds: ['subnet-aaaa', 'subnet-bbbb'] } });
      if (r.cluster?.name !== names[i]) throw new Error(`CreateCluster returned ${JSON.stringify(r).slice(0, 200)}`);
    });
    await pool(CLUSTERS, async (i) => {
      await until(`${names[i]} ACTIVE`, async () => (await c.ok('GET', `/clusters/${names[i]}`)).cluster.status === 'ACTIVE');
      const r = await c.ok('POST', `/clusters/${names[i]}/node-groups`, { nodegroupName: 'ng', nodeRole: role, subnets: ['subnet-aaaa'], scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 2 } });
      if (r.nodegroup?.nodegroupName !== 'ng') throw new Error(`CreateNodegroup returned ${JSON.stringify(r).slice(0, 200)}`);
    });
    await pool(CLUSTERS, async (i) => until(`${names[i]}/ng ACTIVE`, async () => (await c.ok('GET', `/clusters/${names[i]}/node-groups/ng`)).nodegroup.status === 'ACTIVE'));
  });

  const read = async (k: number) => {
      const i = (k * 7919) % CLUSTERS;
      switch (k % 3) {
        case 0: {
          const r = await c.ok('GET', `/clusters/${names[i]}`);
          if (r.cluster.name !== names[i] || r.cluster.status !== 'ACTIVE') throw new Error(`DescribeCluster ${names[i]}: ${r.cluster.status}`);
          break;
        }
        case 1: {
          const r = await c.ok('GET', `/clusters/${names[i]}/node-groups/ng`);
          if (r.nodegroup.clusterName !== names[i]) throw new Error(`DescribeNodegroup ${names[i]}/ng`);
          break;
        }
        default: {
          const r = await c.ok('GET', '/clusters', undefined, { maxResults: '100' });
          if (r.clusters.filter((n: string) => n.startsWith(`b${run}-`)).length !== CLUSTERS) throw new Error(`ListClusters returned ${r.clusters.length}`);
        }
      }
  };
  // Untimed warm-up reads (both servers get the same), then the timed reads.
  await pool(WARMUP, read);
  await timed('read', READS, async () => {
    await pool(READS, read);
  });

  await timed('delete', CLUSTERS * 2, async () => {
    await pool(CLUSTERS, async (i) => {
      await c.ok('DELETE', `/clusters/${names[i]}/node-groups/ng`);
      await until(`${names[i]}/ng deleted`, async () => (await c.call('GET', `/clusters/${names[i]}/node-groups/ng`)).status === 404);
      await c.ok('DELETE', `/clusters/${names[i]}`);
    });
    await pool(CLUSTERS, async (i) => until(`${names[i]} deleted`, async () => (await c.call('GET', `/clusters/${names[i]}`)).status === 404));
  });
  c.close();
  return phases;
}

function runLocaleks(): Promise<number> {
  const nodeArgs = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  return onLocaleks({ store: STORE, nodeArgs, serveArgs: ['--timing-profile', 'instant', '--no-reference-checks'] }, async (endpoint) => report('localeks', await workload(endpoint)));
}

function runMoto(): Promise<number | undefined> {
  return onMoto(async (endpoint) => report('moto', await workload(endpoint)));
}

async function main(): Promise<void> {
  console.log(`bench:eks  ${CLUSTERS} clusters + ${CLUSTERS} node groups, ${READS} mixed DescribeCluster/DescribeNodegroup/ListClusters at concurrency ${CONCURRENCY}, delete all; ${ROUNDS} alternating rounds; localeks store ${STORE}`);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (ONLY !== 'moto') ours.push(await runLocaleks());
    if (ONLY !== 'localeks') {
      const m = await runMoto();
      if (m !== undefined) theirs.push(m);
    }
  }
  const best = (xs: number[]) => Math.max(...xs);
  if (ours.length) console.log(`best      localeks ${best(ours).toFixed(0)} ops/s`);
  if (theirs.length) console.log(`best      moto     ${best(theirs).toFixed(0)} ops/s`);
  if (ours.length && theirs.length) {
    const ratio = best(ours) / best(theirs);
    console.log(`ratio     localeks/moto = ${ratio.toFixed(1)}x (target >= 10x: ${ratio >= 10 ? 'met' : 'NOT met'})`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
