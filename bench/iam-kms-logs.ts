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
import { type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256, arg, freePort, startChild, stopChild, runPool } from './lib/harness.ts';

const ROLES = Number(arg('roles', '200'));
const CONCURRENCY = Number(arg('concurrency', '8'));
const STORE = arg('store', 'memory');
const ONLY = arg('only', '');
/** Run only the workload against an already running server (e.g. one started with --cpu-prof). */
const ENDPOINT = arg('endpoint', '');
const REGION = 'us-east-1';

/** A minimal signed client for the IAM query API and JSON 1.1 services. */
class Client {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  private readonly signers = new Map<string, SignatureV4>();
  private readonly url: URL;
  constructor(endpoint: string) {
    this.url = new URL(endpoint);
  }

  private signer(service: string): SignatureV4 {
    let s = this.signers.get(service);
    if (!s) {
      s = new SignatureV4({ service, region: REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, sha256: Sha256 });
      this.signers.set(service, s);
    }
    return s;
  }

  private async send(service: string, headers: Record<string, string>, body: string): Promise<string> {
    const signed = await this.signer(service).sign({
      method: 'POST',
      protocol: 'http:',
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: '/',
      headers: { host: this.url.host, ...headers },
      body,
    });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method: 'POST', path: '/', headers: { ...signed.headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`${service} -> ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  iam(action: string, params: Record<string, string | number>): Promise<string> {
    const body = new URLSearchParams({ Action: action, Version: '2010-05-08', ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) }).toString();
    return this.send('iam', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);
  }

  async json(service: 'kms' | 'logs', target: string, input: unknown): Promise<any> {
    const prefix = service === 'kms' ? 'TrentService' : 'Logs_20140328';
    const text = await this.send(service, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${target}` }, JSON.stringify(input));
    return text ? JSON.parse(text) : {};
  }

  close(): void {
    this.agent.destroy();
  }
}

const count = (xml: string, tag: string): number => xml.split(`<${tag}>`).length - 1;

/** Runs tasks with at most CONCURRENCY in flight. */
const pool = <T>(n: number, task: (i: number) => Promise<T>): Promise<T[]> => runPool(n, CONCURRENCY, task);

interface PhaseResult {
  name: string;
  ops: number;
  seconds: number;
}

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const POLICIES = ['arn:aws:iam::aws:policy/AmazonEKSClusterPolicy', 'arn:aws:iam::aws:policy/AmazonEKSVPCResourceController'];

async function workload(endpoint: string): Promise<PhaseResult[]> {
  const c = new Client(endpoint);
  const phases: PhaseResult[] = [];
  const timed = async (name: string, ops: number, fn: () => Promise<void>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    phases.push({ name, ops, seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
  };
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

function report(label: string, phases: PhaseResult[]): number {
  const ops = phases.reduce((a, p) => a + p.ops, 0);
  const secs = phases.reduce((a, p) => a + p.seconds, 0);
  const cols = phases.map((p) => `${p.name} ${(p.ops / p.seconds).toFixed(0)}/s`).join(', ');
  console.log(`${label.padEnd(9)} ${ops} ops in ${secs.toFixed(2)} s = ${(ops / secs).toFixed(0)} ops/s  (${cols})`);
  return ops / secs;
}

async function main(): Promise<void> {
  console.log(`bench:iam-kms-logs  ${ROLES} roles, 10 KMS keys, 10 log groups x 5 streams; concurrency ${CONCURRENCY}; localeks store ${STORE}`);
  let localeksRate: number | undefined;
  let motoRate: number | undefined;
  if (ENDPOINT) {
    report('server', await workload(ENDPOINT));
    return;
  }
  if (ONLY !== 'moto') {
    const bin = fileURLToPath(new URL('../bin/localeks', import.meta.url));
    const { child, endpoint } = await startChild(
      process.execPath,
      [bin, 'serve', '--aws-port', '0', '--kube-port', '0', '--host', '127.0.0.1', '--store', STORE, '--log-level', 'error', ...(STORE === 'sqlite' ? ['--data-dir', `/tmp/localeks-bench-ikl-${process.pid}`] : [])],
      /aws (http:\/\/[^\s]+)/,
      (m) => m[1]!,
    );
    try {
      localeksRate = report('localeks', await workload(endpoint));
    } finally {
      await stopChild(child);
    }
  }
  if (ONLY !== 'localeks') {
    const port = await freePort();
    let moto: { child: ChildProcess; endpoint: string } | undefined;
    try {
      moto = await startChild('moto_server', ['-H', '127.0.0.1', '-p', String(port)], /Running on|Press CTRL\+C/, () => `http://127.0.0.1:${port}`, { MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' });
    } catch (e) {
      console.log(`moto     not run: ${(e as Error).message.split('\n')[0]}`);
    }
    if (moto) {
      try {
        motoRate = report('moto', await workload(moto.endpoint));
      } finally {
        await stopChild(moto.child);
      }
    }
  }
  if (localeksRate !== undefined && motoRate !== undefined) {
    console.log(`ratio     localeks/moto = ${(localeksRate / motoRate).toFixed(1)}x`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
