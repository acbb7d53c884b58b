/**
 * bench:iam-kms-logs — the same IAM, KMS and CloudWatch Logs workload against
 * localeks and against moto_server, through one client (signed keep-alive
 * HTTP: IAM query API, KMS and Logs JSON 1.1), each server in its own process
 * on a free loopback port:
 *
 *   IAM:  create N roles, attach 2 AWS managed policies to each, GetRole and
 *         ListAttachedRolePolicies 4N times, detach and delete all
 *   KMS:  create 10 keys, Encrypt+Decrypt 2,000 times, GenerateDataKey 1,000
 *   Logs: 10 groups x 5 streams, PutLogEvents 2,000 batches of 10 events,
 *         FilterLogEvents (terms, phrases; moto has no JSON patterns) and
 *         GetLogEvents, 1,500 reads
 *
 * Every response is checked, so both servers do the same, correct work.
 * Prints ops/s per phase and overall, and the localeks/moto ratio.
 *
 * Usage: npm run bench:iam-kms-logs [-- --roles 200 --concurrency 8 --store memory --only localeks|moto]
 *        npm run bench:iam-kms-logs -- --endpoint http://127.0.0.1:4566   (a running server)
 */
import { arg, onLocaleks, onMoto, runPool } from './lib/harness.ts';
import { type PhaseResult, phaseTimer, report } from './lib/phases.ts';
import { SignedClient } from './lib/signed-client.ts';

const ROLES = Number(arg('roles', '200'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const STORE = arg('store', 'memory');
const ONLY = arg('only', '');
/** Run only the workload against an already running server (e.g. one started with --cpu-prof). */
const ENDPOINT = arg('endpoint', '');
const REGION = 'us-east-1';


const count = (xml: string, tag: string): number => xml.split(`<${tag}>`).length - 1;

/** Runs tasks with at most CONCURRENCY in flight. */
const pool = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> => runPool(n, CONCURRENCY, task);

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const POLICIES = ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy', 'arn:aws:iam::aws:policy/AmazonEKSVPCResourceController'];

async function workload(endpoint: string): Promise<PhaseResult[]> {
  const sc = new SignedClient(endpoint, { maxSockets: CONCURRENCY, region: REGION });
  const c = { iam: (action: string, params: Record<string, string | number>) => sc.query('iam', '2010-05-08', action, params), json: sc.json.bind(sc), close: () => sc.close() };
  const phases: PhaseResult[] = [];
  const timed = phaseTimer(phases);
  const run = Math.random().toString(36).slice(2, 8);
  const role = (i: number) => `bench-${run}-${i}`;

  await timed('iam-create', ROLES * 3, async () => {
    await pool(ROLES, async (i) => {
      await c.iam('CreateRole', { RoleName: role(i), AssumeRolePolicyDocument: TRUST });
      for (const p of POLICIES) await c.iam('AttachRolePolicy', { RoleName: role(i), PolicyArn: p });
    });
  });
  await timed('iam-read', ROLES * 4, async () => {
    await pool(ROLES * 4, async (k) => {
      const i = (k * 7919) % ROLES;
      if (k % 2 === 0) {
        const x = await c.iam('GetRole', { RoleName: role(i) });
        if (!x.includes(`<RoleName>${role(i)}</RoleName>`)) throw new Error(`GetRole ${role(i)}: ${x.slice(0, 200)}`);
      } else {
        const x = await c.iam('ListAttachedRolePolicies', { RoleName: role(i) });
        if (count(x, 'PolicyArn') !== POLICIES.length) throw new Error(`ListAttachedRolePolicies ${role(i)}: ${x.slice(0, 200)}`);
      }
    });
  });
  await timed('iam-delete', ROLES * 3, async () => {
    await pool(ROLES, async (i) => {
      for (const p of POLICIES) await c.iam('DetachRolePolicy', { RoleName: role(i), PolicyArn: p });
      await c.iam('DeleteRole', { RoleName: role(i) });
    });
  });

  const keys: string[] = [];
  await timed('kms-crypto', 10 + 4000 + 1000, async () => {
    for (let i = 0; i < 10; i++) keys.push((await c.json('kms', 'CreateKey', { Description: `bench ${i}` })).KeyMetadata.KeyId);
    await pool(2000, async (k) => {
      const pt = Buffer.from(`secret ${k}`).toString('base64');
      const enc = await c.json('kms', 'Encrypt', { KeyId: keys[k % keys.length], Plaintext: pt, EncryptionContext: { n: String(k) } });
      const dec = await c.json('kms', 'Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { n: String(k) } });
      if (dec.Plaintext !== pt) throw new Error('KMS round trip mismatch');
    });
    await pool(1000, async (k) => {
      const dk = await c.json('kms', 'GenerateDataKey', { KeyId: keys[k % keys.length], KeySpec: 'AES_256' });
      if (Buffer.from(dk.Plaintext, 'base64').length !== 32) throw new Error('GenerateDataKey size');
    });
  });

  const groups = Array.from({ length: 10 }, (_, g) => `/bench/${run}/${g}`);
  const now = Date.now();
  await timed('logs-write', 10 + 50 + 2000, async () => {
    for (const g of groups) await c.json('logs', 'CreateLogGroup', { logGroupName: g });
    await pool(50, async (i) => c.json('logs', 'CreateLogStream', { logGroupName: groups[i % 10], logStreamName: `s${Math.floor(i / 10)}` }));
    // One writer per stream, so each stream's batches arrive in order.
    await pool(50, async (s) => {
      for (let b = 0; b < 40; b++) {
        const logEvents = Array.from({ length: 10 }, (_, e) => ({
          timestamp: now - 60_000 + b * 100 + e,
          message: e % 5 === 0 ? JSON.stringify({ level: 'error', code: 500 + e, batch: b }) : `INFO request ${b}/${e} ok`,
        }));
        await c.json('logs', 'PutLogEvents', { logGroupName: groups[s % 10], logStreamName: `s${Math.floor(s / 10)}`, logEvents });
      }
    });
  });
  await timed('logs-read', 1500, async () => {
    await pool(1500, async (k) => {
      const g = groups[k % 10]!;
      if (k % 3 === 0) {
        // moto_server has no JSON patterns, so the compared workload uses text terms.
        const r = await c.json('logs', 'FilterLogEvents', { logGroupName: g, filterPattern: 'error' });
        if (r.events.length !== 2 * 40 * 5) throw new Error(`FilterLogEvents term matched ${r.events.length}`);
      } else if (k % 3 === 1) {
        const r = await c.json('logs', 'FilterLogEvents', { logGroupName: g, filterPattern: '"request 7/"', logStreamNames: ['s0'] });
        if (r.events.length !== 8) throw new Error(`FilterLogEvents text matched ${r.events.length}`);
      } else {
        const r = await c.json('logs', 'GetLogEvents', { logGroupName: g, logStreamName: 's1', startFromHead: true, limit: 100 });
        if (r.events.length !== 100) throw new Error(`GetLogEvents returned ${r.events.length}`);
      }
    });
  });
  c.close();
  return phases;
}

async function main(): Promise<void> {
  console.log(`bench:iam-kms-logs  ${ROLES} roles, 10 KMS keys, 10 log groups x 5 streams; concurrency ${CONCURRENCY}; localeks store ${STORE}`);
  let localeksRate: number | undefined;
  let motoRate: number | undefined;
  if (ENDPOINT) {
    report('server', await workload(ENDPOINT));
    return;
  }
  if (ONLY !== 'moto') localeksRate = await onLocaleks({ store: STORE }, async (endpoint) => report('localeks', await workload(endpoint)));
  if (ONLY !== 'localeks') motoRate = await onMoto(async (endpoint) => report('moto', await workload(endpoint)), { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' });
  if (localeksRate !== undefined && motoRate !== undefined) {
    console.log(`ratio     localeks/moto = ${(localeksRate / motoRate).toFixed(1)}x`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
