/**
 * bench:aws-gateway — gateway throughput per wire protocol, localeks against
 * moto_server on the same requests through the same client (keep-alive HTTP,
 * requests SigV4-signed with @smithy/signature-v4 once per kind and replayed:
 * neither server enforces signatures). Each server runs in its own process on
 * a free loopback port.
 *
 *   query     STS GetCallerIdentity
 *   query     IAM GetRole (one role created first)
 *   json      KMS DescribeKey (one key created first)
 *   rest-json EKS ListClusters
 *   ec2       EC2 DescribeVpcs (the default VPC)
 *
 * Every response must be 200. Each kind runs twice, in rotation; the better
 * round counts. Prints req/s per kind for both and the ratio.
 *
 * Usage: npm run bench:aws-gateway [-- --requests 5000 --concurrency 16]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { arg } from './lib/harness.ts';
import { signerFor } from './lib/signed-client.ts';

const REQUESTS = Number(arg('requests', '5000'));
const MOTO_REQUESTS = Number(arg('moto-requests', String(Math.min(REQUESTS, 1000))));
const CONCURRENCY = Number(arg('concurrency', '16'));

interface Prepared {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function prepare(port: number, service: string, method: string, path: string, headers: Record<string, string>, body: string): Promise<Prepared> {
  const signer = signerFor(service);
  const [p, q = ''] = path.split('?');
  const query = Object.fromEntries(new URLSearchParams(q));
  const signed = await signer.sign({ method, protocol: 'http:', hostname: '127.0.0.1', port, path: p!, query, headers: { host: `127.0.0.1:${port}`, ...headers }, body });
  return { method, path, headers: signed.headers as Record<string, string>, body };
}

function send(agent: http.Agent, port: number, r: Prepared): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
const KMS = (op: string) => ({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${op}` });

async function kinds(port: number, agent: http.Agent): Promise<[string, Prepared][]> {
  const trust = encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }));
  const role = await send(agent, port, await prepare(port, 'iam', 'POST', '/', FORM, `Action=CreateRole&Version=2010-05-08&RoleName=bench&AssumeRolePolicyDocument=${trust}`));
  if (role.status !== 200) throw new Error(`CreateRole: ${role.status} ${role.body}`);
  const key = await send(agent, port, await prepare(port, 'kms', 'POST', '/', KMS('CreateKey'), '{}'));
  if (key.status !== 200) throw new Error(`CreateKey: ${key.status} ${key.body}`);
  const keyId = (JSON.parse(key.body) as { KeyMetadata: { KeyId: string } }).KeyMetadata.KeyId;
  return [
    ['query  sts GetCallerIdentity', await prepare(port, 'sts', 'POST', '/', FORM, 'Action=GetCallerIdentity&Version=2011-06-15')],
    ['query  iam GetRole', await prepare(port, 'iam', 'POST', '/', FORM, 'Action=GetRole&Version=2010-05-08&RoleName=bench')],
    ['json   kms DescribeKey', await prepare(port, 'kms', 'POST', '/', KMS('DescribeKey'), JSON.stringify({ KeyId: keyId }))],
    ['rest   eks ListClusters', await prepare(port, 'eks', 'GET', '/clusters?maxResults=10', {}, '')],
    ['ec2    ec2 DescribeVpcs', await prepare(port, 'ec2', 'POST', '/', FORM, 'Action=DescribeVpcs&Version=2016-11-15')],
  ];
}

async function measure(port: number, n: number): Promise<Map<string, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const out = new Map<string, number>();
  const all = await kinds(port, agent);
  // Warm up every path (JIT, lazily compiled parsers and serializers) before measuring.
  for (const [, r] of all) await Promise.all(Array.from({ length: Math.min(200, n / 5) }, () => send(agent, port, r)));
  // Two rounds over every kind; the better of the two counts (the machine may be busy).
  for (let round = 0; round < 2; round++) {
    for (const [name, r] of all) {
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < n) {
            next++;
            const res = await send(agent, port, r);
            if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.body.slice(0, 300)}`);
          }
        }),
      );
      out.set(name, Math.max(out.get(name) ?? 0, n / ((performance.now() - t0) / 1000)));
    }
  }
  agent.destroy();
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function waitUp(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`server on ${port} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The localeks side: the gateway with every provider, memory store, in this child process. */
async function serve(port: number): Promise<void> {
  const { pino } = await import('pino');
  const { createAwsGateway } = await import('../src/aws/core/gateway.ts');
  const { AwsState } = await import('../src/aws/core/state.ts');
  const { createProviders } = await import('../src/aws/providers.ts');
  const { SimClock } = await import('../src/sim/clock.ts');
  const { MemoryBackend } = await import('../src/store/memory/memory-backend.ts');
  const state = new AwsState(new MemoryBackend());
  await state.start();
  const deps = {
    state,
    clock: new SimClock(),
    log: pino({ level: 'silent' }),
    config: {
      defaultAccountId: '000000000000',
      enforceIam: false,
      referenceChecks: false,
      timingProfile: 'fast' as const,
      awsEndpoint: `http://127.0.0.1:${port}`,
      kubeEndpoint: 'https://127.0.0.1:6443',
      caCertPem: '',
    },
  };
  const gw = createAwsGateway({ providers: createProviders(deps), deps });
  http.createServer((req, res) => void gw.handle(req, res)).listen(port, '127.0.0.1');
}

async function main(): Promise<void> {
  const ourPort = await freePort();
  const motoPort = await freePort();
  const ours = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', String(ourPort)], { stdio: 'inherit' });
  const moto = spawn('moto_server', ['-p', String(motoPort), '-H', '127.0.0.1'], { stdio: 'ignore' });
  try {
    await Promise.all([waitUp(ourPort, ours), waitUp(motoPort, moto)]);
    console.log(`bench:aws-gateway  requests/kind: localeks ${REQUESTS}, moto ${MOTO_REQUESTS}; concurrency ${CONCURRENCY}`);
    const a = await measure(ourPort, REQUESTS);
    const b = await measure(motoPort, MOTO_REQUESTS);
    console.log(`${'kind'.padEnd(30)} ${'localeks req/s'.padStart(15)} ${'moto req/s'.padStart(12)} ${'ratio'.padStart(7)}`);
    for (const [k, v] of a) {
      const m = b.get(k) ?? NaN;
      console.log(`${k.padEnd(30)} ${v.toFixed(0).padStart(15)} ${m.toFixed(0).padStart(12)} ${(v / m).toFixed(1).padStart(6)}x`);
    }
  } finally {
    ours.kill('SIGTERM');
    moto.kill('SIGTERM');
  }
}

if (process.argv[2] === '--serve') await serve(Number(process.argv[3]));
else await main();
