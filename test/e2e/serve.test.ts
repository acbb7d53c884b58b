/**
 * `localeks serve` end to end, as a user runs it: the real bin/localeks in a
 * child process, its ready line, health and metrics, the Kubernetes
 * endpoint's TLS (verified against the instance CA in the data dir, with node
 * and with kubectl), SIGTERM, and a restart on the same data dir.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { etcdMissing, startEtcd } from '../../src/store/etcd/etcd-server.ts';
import { openBackend } from '../../src/store/open.ts';
import { awsCliEnv, runAws } from '../helpers/aws-cli.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** EKS clusters become ACTIVE at once and need no EC2 subnets: the serve tests check wiring, not EKS. */
const API_ONLY = ['--timing-profile', 'instant', '--no-reference-checks'];
const ROLE_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const READY_RE = /^localeks ready: aws (http:\/\/\S+) kubernetes (https:\/\/\S+) \(store (.+)\)$/;

interface Served {
  child: ChildProcess;
  aws: string;
  kube: string;
  storeText: string;
  stdout: () => string;
  stderr: () => string;
}

/** serve starts ./bin/localeks serve and resolves at its ready line. */
async function serve(args: string[]): Promise<Served> {
  const child = spawn('./bin/localeks', ['serve', '--aws-port', '0', '--kube-port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOCALEKS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s; stderr:\n${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => READY_RE.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(READY_RE.exec(line)!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`localeks exited with ${code} before ready; stderr:\n${err}`));
    });
  });
  return { child, aws: ready[1]!, kube: ready[2]!, storeText: ready[3]!, stdout: () => out, stderr: () => err };
}

/** stop sends SIGTERM and resolves with the exit code. */
async function stop(s: Served): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = once(s.child, 'exit') as Promise<[number | null, string | null]>;
  s.child.kill('SIGTERM');
  const [code] = await exited;
  return code;
}

/** GET over TLS verified by ca; resolves with status, body and the peer certificate. */
function tlsGet(url: string, ca: string | undefined, servername?: string): Promise<{ status: number; body: string; cert: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { ca, servername, agent: false, headers: { Accept: 'application/json' } }, (res) => {
      let body = '';
      const raw = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().raw;
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cert: new X509Certificate(raw) }));
    });
    req.on('error', reject);
  });
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env, cwd = tmpdir()): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { env, cwd, timeout: 60_000 }, (e, stdout, stderr) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
    });
    p.stdin?.end();
  });
}

describe('localeks serve', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'localeks-serve-'));
  let store = 'sqlite';
  let s: Served;
  let caPem: string;

  before(async () => {
    // Until the sqlite backend lands, fall back to memory (the state checks below then skip).
    const probe = await openBackend('sqlite', { dataDir: join(dataDir, 'probe') }).then(
      (b) => b.close().then(() => true),
      () => false,
    );
    rmSync(join(dataDir, 'probe'), { recursive: true, force: true });
    if (!probe) store = 'memory';
    s = await serve(['--data-dir', dataDir, '--store', store, ...API_ONLY]);
    caPem = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
  });

  after(async () => {
    if (s) await stop(s);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints exactly one ready line naming both endpoints and the store', () => {
    assert.match(s.aws, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.kube, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(s.aws.split(':')[2], '0');
    assert.equal(s.storeText, store === 'sqlite' ? `sqlite ${dataDir}` : 'memory');
    assert.equal(s.stdout().trim().split('\n').length, 1, `stdout: ${s.stdout()}`);
  });

  it('runs with a JavaScript heap limit large enough for 150,000 pods (node\'s default is ~4 GB)', () => {
    const cmdline = readFileSync(`/proc/${s.child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('--max-old-space-size=12288'), cmdline.join(' '));
  });

  it('answers /_localeks/health with version, store, uptime and endpoints', async () => {
    const r = await fetch(`${s.aws}/_localeks/health`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as Record<string, unknown>;
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(body.status, 'ready');
    assert.equal(body.version, pkg.version);
    assert.equal(body.store, store);
    assert.equal(typeof body.uptimeSeconds, 'number');
    assert.deepEqual(body.endpoints, { aws: s.aws, kubernetes: s.kube });
  });

  it('keeps its keys private in the data dir', () => {
    for (const f of ['ca.key', 'serving.key']) assert.equal(statSync(join(dataDir, 'tls', f)).mode & 0o777, 0o600, f);
  });

  it('serves TLS that verifies against the instance CA, for 127.0.0.1 and localhost', async () => {
    const r = await tlsGet(`${s.kube}/version`, caPem);
    assert.equal(r.status, 404);
    const port = new URL(s.kube).port;
    const viaName = await tlsGet(`https://localhost:${port}/version`, caPem).catch(async (e: NodeJS.ErrnoException) => {
      // localhost may resolve to ::1 only where IPv4 is bound: verify the name on 127.0.0.1 instead.
      if (e.code !== 'ECONNREFUSED') throw e;
      return tlsGet(`https://127.0.0.1:${port}/version`, caPem, 'localhost');
    });
    assert.ok(viaName.cert.checkHost('localhost'));
    assert.ok(r.cert.checkIP('127.0.0.1'));
    assert.ok(r.cert.checkIP('::1'));
    assert.ok(r.cert.verify(new X509Certificate(caPem).publicKey));
    // Without the CA the certificate is not trusted: the check above can fail.
    await assert.rejects(tlsGet(`${s.kube}/version`, undefined), /self[- ]signed|unable to (get|verify)/i);
  });

  it('answers an unknown cluster with a Kubernetes NotFound Status', async () => {
    const r = await tlsGet(`${s.kube}/clusters/nope/api/v1/namespaces`, caPem);
    assert.equal(r.status, 404);
    assert.deepEqual(JSON.parse(r.body), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'clusters "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'clusters' },
      code: 404,
    });
    const outside = await tlsGet(`${s.kube}/api/v1/namespaces`, caPem);
    assert.equal(outside.status, 404);
    assert.equal(JSON.parse(outside.body).reason, 'NotFound');
  });

  it('makes kubectl fail with NotFound for an unknown cluster', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'localeks-kubectl-'));
    try {
      const r = await run('kubectl', [
        '--server',
        `${s.kube}/clusters/nope`,
        '--certificate-authority',
        join(dataDir, 'tls', 'ca.crt'),
        '--token',
        'unused',
        '--cache-dir',
        cacheDir,
        'get',
        'ns',
      ]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error from server \(NotFound\)/);
      assert.doesNotMatch(r.stderr, /x509|certificate/i, 'TLS must verify');
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('serves the AWS API through the gateway (aws CLI)', async () => {
    const id = await runAws(s.aws, ['sts', 'get-caller-identity']);
    assert.equal(id.code, 0, id.stderr);
    assert.equal(id.json.Account, '000000000000');
    const bad = await runAws(s.aws, ['iam', 'get-role', '--role-name', 'does-not-exist']);
    assert.equal(bad.errorCode, 'NoSuchEntity');
  });

  it('routes /clusters/<name> to a cluster the EKS API created', async () => {
    const c = await runAws(s.aws, [
      'eks',
      'create-cluster',
      '--name',
      'serve-demo',
      '--role-arn',
      'arn:aws:iam::000000000000:role/eks',
      '--resources-vpc-config',
      'subnetIds=subnet-11111111,subnet-22222222',
    ]);
    assert.equal(c.code, 0, c.stderr);
    const d = await runAws(s.aws, ['eks', 'describe-cluster', '--name', 'serve-demo']);
    assert.equal(d.json.cluster.status, 'ACTIVE');
    assert.equal(Buffer.from(d.json.cluster.certificateAuthority.data, 'base64').toString(), caPem);
    assert.ok(String(d.json.cluster.endpoint).startsWith(s.kube), d.json.cluster.endpoint);
    // The user's path: update-kubeconfig, then kubectl with `aws eks get-token` as its credential plugin.
    const kubeDir = mkdtempSync(join(tmpdir(), 'localeks-kubeconfig-'));
    try {
      const kubeconfig = join(kubeDir, 'config');
      const u = await runAws(s.aws, ['eks', 'update-kubeconfig', '--name', 'serve-demo', '--kubeconfig', kubeconfig]);
      assert.equal(u.code, 0, u.stderr);
      const k = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(kubeDir, 'cache'), 'get', 'namespaces', '-o', 'name'], awsCliEnv());
      assert.equal(k.code, 0, k.stderr);
      assert.match(k.stdout, /^namespace\/kube-system$/m);
      assert.match(k.stdout, /^namespace\/default$/m);
    } finally {
      rmSync(kubeDir, { recursive: true, force: true });
    }
  });

  it('serves Prometheus metrics: requests by API and status, store counters, process metrics', async () => {
    const r = await fetch(`${s.aws}/_localeks/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
    const text = await r.text();
    assert.match(text, /^localeks_kube_requests_total\{verb="list",resource="namespaces",code="404"\} [1-9]/m);
    assert.match(text, /^localeks_kube_request_duration_seconds_bucket\{le="\+Inf",verb="list",resource="namespaces",code="404"\} [1-9]/m);
    assert.match(text, /^localeks_store_operations_total\{op="range",result="ok"\} [1-9]/m);
    assert.match(text, /^localeks_store_watchers [1-9]/m);
    assert.match(text, /^localeks_aws_requests_total\{service="sts",operation="GetCallerIdentity",code="200"\} [1-9]/m);
    assert.match(text, /^localeks_aws_requests_total\{service="iam",operation="GetRole",code="404"\} [1-9]/m);
    assert.match(text, /^localeks_aws_request_duration_seconds_count\{service="sts",operation="GetCallerIdentity",code="200"\} [1-9]/m);
    assert.match(text, /^localeks_store_writes_total\{op="[a-z]+"\} [1-9]/m);
    assert.match(text, /^# TYPE localeks_store_writes_total counter/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
  });

  it('exits 0 on SIGTERM and restarts on the same data dir with the same CA and state', async () => {
    const firstServing = (await tlsGet(`${s.kube}/`, caPem)).cert.fingerprint256;
    const role = await runAws(s.aws, ['iam', 'create-role', '--role-name', 'serve-restart', '--assume-role-policy-document', ROLE_POLICY]);
    assert.equal(role.code, 0, role.stderr);
    assert.equal(await stop(s), 0, s.stderr());

    // Write a key through the store while the server is down, then check the
    // restarted server's store still has it (and the CA and certificate are reused).
    if (store === 'sqlite') {
      const b = await openBackend('sqlite', { dataDir });
      await b.put('/aws/test/000000000000/global/marker/restart', JSON.stringify({ at: 'before-restart' }));
      await b.close();
    }

    s = await serve(['--data-dir', dataDir, '--store', store, ...API_ONLY]);
    assert.equal(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8'), caPem);
    assert.equal((await tlsGet(`${s.kube}/`, caPem)).cert.fingerprint256, firstServing);
    if (store === 'sqlite') {
      const got = await runAws(s.aws, ['iam', 'get-role', '--role-name', 'serve-restart']);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.json.Role.RoleName, 'serve-restart');
      const cluster = await runAws(s.aws, ['eks', 'describe-cluster', '--name', 'serve-demo']);
      assert.equal(cluster.json?.cluster?.status, 'ACTIVE', cluster.stderr);
    }
    assert.equal(await stop(s), 0, s.stderr());

    if (store === 'sqlite') {
      const b = await openBackend('sqlite', { dataDir });
      const got = await b.get('/aws/test/000000000000/global/marker/restart');
      await b.close();
      assert.equal(got.kv?.value, JSON.stringify({ at: 'before-restart' }));
    }

    // A new --hostname reissues the serving certificate with the same CA.
    s = await serve(['--data-dir', dataDir, '--store', store, '--hostname', 'eks.localeks.test', '--hostname', '10.1.2.3']);
    assert.equal(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8'), caPem);
    const reissued = await tlsGet(`${s.kube}/`, caPem, 'eks.localeks.test');
    assert.notEqual(reissued.cert.fingerprint256, firstServing);
    assert.ok(reissued.cert.checkHost('eks.localeks.test'));
    assert.ok(reissued.cert.checkIP('10.1.2.3'));
    assert.ok(reissued.cert.checkIP('127.0.0.1'));
  });

  it('rejects a bad flag with a clear message and exit code 2', async () => {
    const r = await run(join(ROOT, 'bin/localeks'), ['serve', '--aws-port', 'abc']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --aws-port: "abc" is not a port number/);
    const e = await run(join(ROOT, 'bin/localeks'), ['serve'], { ...process.env, LOCALEKS_STORE: 'postgres' });
    assert.equal(e.code, 2);
    assert.match(e.stderr, /invalid LOCALEKS_STORE: "postgres" is not a store/);
  });

  it('lists every flag with its environment variable in serve --help, from any directory', async () => {
    const r = await run(join(ROOT, 'bin/localeks'), ['serve', '--help']);
    assert.equal(r.code, 0);
    for (const [flag, env] of [
      ['--aws-port', 'LOCALEKS_AWS_PORT'],
      ['--kube-port', 'LOCALEKS_KUBE_PORT'],
      ['--host', 'LOCALEKS_HOST'],
      ['--hostname', 'LOCALEKS_HOSTNAME'],
      ['--data-dir', 'LOCALEKS_DATA_DIR'],
      ['--store', 'LOCALEKS_STORE'],
      ['--log-level', 'LOCALEKS_LOG_LEVEL'],
      ['--account-id', 'LOCALEKS_ACCOUNT_ID'],
      ['--enforce-iam', 'LOCALEKS_ENFORCE_IAM'],
      ['--no-reference-checks', 'LOCALEKS_REFERENCE_CHECKS'],
      ['--timing-profile', 'LOCALEKS_TIMING_PROFILE'],
      ['--time-scale', 'LOCALEKS_TIME_SCALE'],
    ]) {
      assert.ok(r.stdout.includes(flag), `${flag} missing from --help`);
      assert.ok(r.stdout.replace(/\s+/g, ' ').includes(env), `${env} missing from --help`);
    }
    const npm = await run('npm', ['start', '--silent', '--', '--help'], process.env, join(ROOT, 'src'));
    assert.equal(npm.code, 0, npm.stderr);
    assert.match(npm.stdout, /Usage: localeks serve/);
    assert.match(npm.stdout, /--aws-port <port>/);
    const v = await run(join(ROOT, 'bin/localeks'), ['version']);
    assert.equal(v.stdout.trim(), `localeks ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`);
  });
});

describe('localeks serve --store etcd://', { skip: etcdMissing() }, () => {
  it('serves on an etcd store; two replicas on one etcd share the CA and the AWS state', async () => {
    const etcd = await startEtcd();
    const dirA = mkdtempSync(join(tmpdir(), 'localeks-serve-etcd-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'localeks-serve-etcd-b-'));
    const servers: Served[] = [];
    try {
      const spec = `etcd://${etcd.host}`;
      const a = await serve(['--data-dir', dirA, '--store', spec]);
      servers.push(a);
      assert.equal(a.storeText, spec);
      const body = (await (await fetch(`${a.aws}/_localeks/health`)).json()) as { store: string; status: string };
      assert.deepEqual([body.status, body.store], ['ready', 'etcd']);
      // Replicas share the key that seals the CA key in the store (src/server/tls.ts STORE_KEY_FILE).
      mkdirSync(join(dirB, 'tls'), { recursive: true, mode: 0o700 });
      copyFileSync(join(dirA, 'tls', 'store.key'), join(dirB, 'tls', 'store.key'));
      const b = await serve(['--data-dir', dirB, '--store', spec]);
      servers.push(b);
      const ca = readFileSync(join(dirA, 'tls', 'ca.crt'), 'utf8');
      assert.equal(readFileSync(join(dirB, 'tls', 'ca.crt'), 'utf8'), ca, 'replica B adopted the CA recorded by A');
      assert.equal((await tlsGet(`${b.kube}/`, ca)).status, 404, 'B serves a certificate from the shared CA');
      // A write through one replica is read through the other (its state cache follows the store).
      const created = await runAws(a.aws, ['iam', 'create-role', '--role-name', 'replicated', '--assume-role-policy-document', ROLE_POLICY]);
      assert.equal(created.code, 0, created.stderr);
      // B's cache follows the store's watch: poll with a deadline (IAM is eventually consistent in AWS too).
      let got = await runAws(b.aws, ['iam', 'get-role', '--role-name', 'replicated']);
      for (const deadline = Date.now() + 30_000; got.code !== 0 && Date.now() < deadline; ) got = await runAws(b.aws, ['iam', 'get-role', '--role-name', 'replicated']);
      assert.equal(got.code, 0, got.stderr);
      assert.equal(got.json.Role.Arn, created.json.Role.Arn);
    } finally {
      for (const s of servers) assert.equal(await stop(s), 0, s.stderr());
      await etcd.stop();
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });
});
