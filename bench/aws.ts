/**
 * bench:aws — the same EC2 workload against localeks and against moto_server,
 * through the same client (EC2 query API over keep-alive HTTP, SigV4-signed
 * with @smithy/signature-v4), each server in its own process on a free
 * loopback port:
 *
 *   1. create 200 VPCs (tagged) with 4 subnets each          (1,000 writes)
 *   2. 5,000 describes with filters: DescribeSubnets by vpc-id and
 *      DescribeVpcs by tag:Name, alternating                   (5,000 reads)
 *   3. delete every subnet and VPC                             (1,000 writes)
 *
 * Every response is checked (status 200 and the expected count), so both
 * servers do the same, correct work. Prints ops/s per phase and overall, and
 * the localeks/moto ratio (target: >= 10x).
 *
 * Usage: npm run bench:aws [-- --vpcs 200 --describes 5000 --concurrency 8 --store memory --only localeks|moto --cpu-prof DIR]
 */
import { arg, onLocaleks, onMoto, runPool } from './lib/harness.ts';
import { type PhaseResult, phaseTimer, report } from './lib/phases.ts';
import { SignedClient } from './lib/signed-client.ts';

const VPCS = Number(arg('vpcs', '200'));
const SUBNETS_PER_VPC = 4;
const DESCRIBES = Number(arg('describes', '5000'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const STORE = arg('store', 'memory');
const ONLY = arg('only', '');
/** --cpu-prof DIR writes a V8 CPU profile of the localeks process there. */
const PROF = arg('cpu-prof', '');
const REGION = 'us-east-1';

const first = (xml: string, tag: string): string => {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  if (!m) throw new Error(`no <${tag}> in ${xml.slice(0, 300)}`);
  return m[1]!;
};
const count = (xml: string, tag: string): number => xml.split(`<${tag}>`).length - 1;

/** Runs tasks with at most CONCURRENCY in flight. */
const pool = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> => runPool(n, CONCURRENCY, task);

async function workload(endpoint: string): Promise<PhaseResult[]> {
  const sc = new SignedClient(endpoint, { maxSockets: CONCURRENCY, region: REGION });
  const c = { call: (action: string, params: Record<string, string | number>) => sc.query('ec2', '2016-11-15', action, params), close: () => sc.close() };
  const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];
  const phases: PhaseResult[] = [];
  const timed = phaseTimer(phases);
  // Unique per run so a warm server (or a rerun) does not collide.
  const run = Math.random().toString(36).slice(2, 8);
  const vpcIds: string[] = new Array(VPCS);
  const subnetIds: string[][] = Array.from({ length: VPCS }, () => []);

  await timed('create', VPCS * (1 + SUBNETS_PER_VPC), async () => {
    await pool(VPCS, async (i) => {
      const x = await c.call('CreateVpc', {
        CidrBlock: `10.${i % 256}.0.0/16`,
        'TagSpecification.1.ResourceType': 'vpc',
        'TagSpecification.1.Tag.1.Key': 'Name',
        'TagSpecification.1.Tag.1.Value': `bench-${run}-${i}`,
      });
      vpcIds[i] = first(x, 'vpcId');
      for (let s = 0; s < SUBNETS_PER_VPC; s++) {
        const y = await c.call('CreateSubnet', { VpcId: vpcIds[i]!, CidrBlock: `10.${i % 256}.${s}.0/24`, AvailabilityZone: zones[s % zones.length]! });
        subnetIds[i]!.push(first(y, 'subnetId'));
      }
    });
  });

  await timed('describe', DESCRIBES, async () => {
    await pool(DESCRIBES, async (k) => {
      const i = (k * 7919) % VPCS;
      if (k % 2 === 0) {
        const x = await c.call('DescribeSubnets', { 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': vpcIds[i]! });
        if (count(x, 'subnetId') !== SUBNETS_PER_VPC) throw new Error(`DescribeSubnets(vpc-id=${vpcIds[i]}) returned ${count(x, 'subnetId')} subnets`);
      } else {
        const x = await c.call('DescribeVpcs', { 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': `bench-${run}-${i}` });
        if (count(x, 'vpcId') !== 1) throw new Error(`DescribeVpcs(tag:Name=bench-${run}-${i}) returned ${count(x, 'vpcId')} VPCs`);
      }
    });
  });

  await timed('delete', VPCS * (1 + SUBNETS_PER_VPC), async () => {
    await pool(VPCS, async (i) => {
      for (const s of subnetIds[i]!) await c.call('DeleteSubnet', { SubnetId: s });
      await c.call('DeleteVpc', { VpcId: vpcIds[i]! });
    });
  });
  c.close();
  return phases;
}

async function main(): Promise<void> {
  console.log(`bench:aws  ${VPCS} VPCs x ${SUBNETS_PER_VPC} subnets, ${DESCRIBES} filtered describes, delete all; concurrency ${CONCURRENCY}; localeks store ${STORE}`);
  let localeksRate: number | undefined;
  let motoRate: number | undefined;

  if (ONLY !== 'moto') localeksRate = await onLocaleks({ store: STORE, nodeArgs: PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : [] }, async (endpoint) => report('localeks', await workload(endpoint)));


  if (ONLY !== 'localeks') motoRate = await onMoto(async (endpoint) => report('moto', await workload(endpoint)));

  if (localeksRate !== undefined && motoRate !== undefined) {
    const ratio = localeksRate / motoRate;
    console.log(`ratio     localeks/moto = ${ratio.toFixed(1)}x (target >= 10x: ${ratio >= 10 ? 'met' : 'NOT met'})`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
