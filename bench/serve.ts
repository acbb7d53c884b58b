/**
 * bench:serve — what `localeks serve` costs before any API work:
 *  - cold start: spawn `bin/localeks serve` to its ready line (memory and
 *    sqlite stores, fresh data dir, so the CA is generated), and moto_server's
 *    spawn to its first HTTP answer on the same machine as the peer figure;
 *  - warm restart on the same sqlite data dir (CA reused);
 *  - request overhead: GET /_localeks/health on the AWS port and an
 *    unknown-cluster 404 on the Kubernetes port (TLS, keep-alive), requests/s
 *    at concurrency 16.
 * Only loopback traffic. Figures vary with machine load: run on a quiet machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startLocaleks(args: string[]): Promise<{ child: ChildProcess; ms: number; aws: string; kube: string }> {
  const t0 = performance.now();
  const child = spawn('./bin/localeks', ['serve', '--aws-port', '0', '--kube-port', '0', '--log-level', 'silent', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const m = await new Promise<RegExpExecArray>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const r = /ready: aws (\S+) kubernetes (\S+)/.exec(out);
      if (r) resolve(r);
    });
    child.once('exit', (c) => reject(new Error(`localeks exited ${c}`)));
  });
  return { child, ms: performance.now() - t0, aws: m[1]!, kube: m[2]! };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = once(child, 'exit');
  child.kill('SIGTERM');
  await done;
}

async function motoStart(): Promise<number | undefined> {
  const port = await freePort();
  const t0 = performance.now();
  let child: ChildProcess;
  try {
    child = spawn('moto_server', ['-p', String(port), '-H', '127.0.0.1'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const failed = new Promise<undefined>((r) => child.once('error', () => r(undefined)));
  const ready = (async () => {
    for (;;) {
      const ok = await new Promise<boolean>((r) => {
        const req = httpGet(`http://127.0.0.1:${port}/moto-api/`, (res) => {
          res.resume();
          r(true);
        });
        req.on('error', () => r(false));
      });
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const ms = await Promise.race([ready, failed]);
  child.kill('SIGTERM');
  return ms;
}

/** Requests per second of `get` at the given concurrency for durationMs. */
async function throughput(get: () => Promise<void>, concurrency = 16, durationMs = 3000): Promise<number> {
  const end = performance.now() + durationMs;
  let n = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await get();
        n++;
      }
    }),
  );
  return n / (durationMs / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const fmt = (ms: number) => `${ms.toFixed(0)} ms`;

const results: Record<string, number[]> = { memory: [], 'sqlite cold': [], 'sqlite warm': [], moto: [] };
for (let i = 0; i < RUNS; i++) {
  const mem = await startLocaleks(['--store', 'memory', '--data-dir', mkdtempSync(join(tmpdir(), 'bench-serve-'))]);
  results.memory!.push(mem.ms);
  await stop(mem.child);
  const dir = mkdtempSync(join(tmpdir(), 'bench-serve-'));
  const cold = await startLocaleks(['--store', 'sqlite', '--data-dir', dir]);
  results['sqlite cold']!.push(cold.ms);
  await stop(cold.child);
  const warm = await startLocaleks(['--store', 'sqlite', '--data-dir', dir]);
  results['sqlite warm']!.push(warm.ms);
  await stop(warm.child);
  rmSync(dir, { recursive: true, force: true });
  const moto = await motoStart();
  if (moto !== undefined) results.moto!.push(moto);
}
console.log(`start to ready (median of ${RUNS}):`);
console.log(`  localeks --store memory       ${fmt(median(results.memory!))}`);
console.log(`  localeks --store sqlite cold  ${fmt(median(results['sqlite cold']!))}  (new data dir: CA generated)`);
console.log(`  localeks --store sqlite warm  ${fmt(median(results['sqlite warm']!))}`);
console.log(results.moto!.length ? `  moto_server (peer)            ${fmt(median(results.moto!))}` : '  moto_server: not installed');

const dir = mkdtempSync(join(tmpdir(), 'bench-serve-'));
const s = await startLocaleks(['--store', 'sqlite', '--data-dir', dir]);
const ca = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16, ca });
const drain = (url: string, getter: typeof httpGet, agent: HttpAgent) => () =>
  new Promise<void>((resolve, reject) => {
    getter(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    }).on('error', reject);
  });
const health = await throughput(drain(`${s.aws}/_localeks/health`, httpGet, httpAgent));
const notFound = await throughput(drain(`${s.kube}/clusters/nope/api`, httpsGet as typeof httpGet, httpsAgent));
console.log('request overhead (concurrency 16, keep-alive):');
console.log(`  GET /_localeks/health (AWS port, HTTP)        ${health.toFixed(0)} req/s`);
console.log(`  GET /clusters/nope/api (Kubernetes port, TLS)  ${notFound.toFixed(0)} req/s`);
httpAgent.destroy();
httpsAgent.destroy();
await stop(s.child);
rmSync(dir, { recursive: true, force: true });
