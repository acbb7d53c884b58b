/**
 * bench:auth — what authentication and authorization cost per Kubernetes
 * request (npm run bench:auth). One in-process localeks (memory store,
 * instant timing, no data plane) with one EKS cluster; its Kubernetes API is
 * wrapped with the same authenticator `serve` uses (server/kube-auth.ts,
 * RBAC authorization on), plus one fixed admin bearer token (as
 * kube-apiserver's --token-auth-file) per user for the baselines. Clients
 * run in a forked process over HTTPS keep-alive, 32 in flight, and GET one
 * ConfigMap; each group compares tokens of one user with that user's fixed
 * token (a map lookup, then the same RBAC decision):
 *
 *  A. the cluster creator (system:masters): EKS token (`aws eks get-token`
 *     format, one token reused as kubectl's exec credential cache reuses it);
 *  B. an IAM user mapped by aws-auth (20 role mappings before it) into a
 *     group with a RoleBinding to `view`, among 200 other RoleBindings: EKS
 *     token, and localeks static token (`localeks kubeconfig --static-token`);
 *  C. a service account with a RoleBinding: a TokenRequest token.
 *
 * Rounds interleave the kinds (best of each kept). Prints requests/s and the
 * server's CPU time per request for each kind, and the cost against the
 * baseline: 1 - rps/baseline, and 1 - cpu(baseline)/cpu(kind), the latter
 * robust on a loaded machine, both over the best rounds; and the CPU cost
 * paired round by round (median), steadier still. Target: under 10% for
 * cached EKS tokens.
 * Then the gateway hook alone (authentication and the RBAC decision) is
 * called in-process for each kind (interleaved rounds, best kept): wall
 * clock and CPU per call, and what the token adds to its baseline's.
 * Options: --requests N (2000), --rounds R (5), --concurrency C (32),
 * --only TEXT (only the kinds whose name contains TEXT, plus the baselines),
 * --profile DIR (writes a CPU profile of the server per kind, last round, to
 * DIR: its figures then include the profiler's overhead).
 * Only loopback traffic.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:https';
import { arg, runPool } from './lib/harness.ts';

const role = process.argv[2] === 'client' ? 'client' : 'server';

interface Kinds {
  [kind: string]: string;
}

if (role === 'server') {
  const { startServer } = await import('../src/server/start.ts');
  const { createDefaultClusterApi } = await import('../src/server/cluster-api.ts');
  const { createKubeAuthenticator } = await import('../src/server/kube-auth.ts');
  const { awsJsonRequest } = await import('../src/cli/aws-credentials.ts');
  const { createEksToken } = await import('../src/kube/authn/eks-token.ts');
  const { createStaticToken } = await import('../src/kube/authn/static-token.ts');
  const ADMIN_TOKEN = 'bench-static-admin-token';
  const DEV_TOKEN = 'bench-static-dev-token';
  const SA_TOKEN = 'bench-static-reader-token';
  let hook: ReturnType<typeof createKubeAuthenticator> | undefined;
  const server = await startServer(
    { store: 'memory', awsPort: 0, kubePort: 0, host: '127.0.0.1', timingProfile: 'instant', logLevel: 'silent', referenceChecks: false },
    {
      dataPlane: false,
      clusterApi: (ctx) => {
        const api = createDefaultClusterApi(ctx);
        const auth = (hook = createKubeAuthenticator({
          deps: ctx.deps,
          backend: ctx.backend,
          registry: api.registry,
          ensureBootstrapped: api.ensureBootstrapped,
          authorize: true,
          staticTokens: new Map([
            [ADMIN_TOKEN, { name: 'kubernetes-admin', groups: ['system:masters'] }],
            [DEV_TOKEN, { name: 'bench-dev', groups: ['devs'] }],
            [SA_TOKEN, { name: 'system:serviceaccount:default:reader', groups: ['system:serviceaccounts', 'system:serviceaccounts:default'] }],
          ]),
        }));
        return {
          async handle(cluster, req, res, path) {
            if (await auth(cluster, req, res, path)) await api.handle(cluster, req, res, path);
          },
          close: () => api.close(),
        };
      },
    },
  );
  const root = { accessKeyId: 'test', secretAccessKey: 'test' };
  const awsCall = (method: string, path: string, service: string, body?: unknown, query?: Record<string, string>) =>
    awsJsonRequest(server.awsEndpoint, { service, region: 'us-east-1', method, path, body, query, credentials: root });
  const iam = (Action: string, params: Record<string, string>) =>
    awsJsonRequest(server.awsEndpoint, { service: 'iam', region: 'us-east-1', method: 'POST', path: '/', query: { Action, Version: '2010-05-08', ...params }, credentials: root }).catch(() => undefined);
  await awsCall('POST', '/clusters', 'eks', { name: 'bench', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } });
  const cluster = (await awsCall('GET', '/clusters/bench', 'eks')).cluster;
  const kube = `${server.kubeEndpoint}/clusters/bench`;
  // An IAM user with a key (IAM speaks query XML; the key comes from the store).
  await iam('CreateUser', { UserName: 'bench-dev' });
  await iam('CreateAccessKey', { UserName: 'bench-dev' });
  const { collectionPrefix } = await import('../src/aws/core/state.ts');
  const keyDoc = server.state.list<{ AccessKeyId: string; SecretAccessKey: string; UserName: string }>(collectionPrefix({ accountId: '_', region: 'global' }, 'iam', 'access-key')).find((d) => d.UserName === 'bench-dev');
  if (!keyDoc) throw new Error('no access key for bench-dev');
  const dev = { accessKeyId: keyDoc.AccessKeyId, secretAccessKey: keyDoc.SecretAccessKey };

  async function kubeCall(method: string, path: string, body?: unknown): Promise<any> {
    const r = await fetchKube(kube + path, method, ADMIN_TOKEN, server.tls.caCertPem, body);
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  }
  await kubeCall('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench' }, data: { a: 'b' } });
  await kubeCall('POST', '/api/v1/namespaces/kube-system/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'aws-auth', namespace: 'kube-system' },
    data: {
      mapRoles: Array.from({ length: 20 }, (_, i) => `- rolearn: arn:aws:iam::000000000000:role/node-${i}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n`).join(''),
      mapUsers: '- userarn: arn:aws:iam::000000000000:user/bench-dev\n  username: bench-dev\n  groups: [devs]\n',
    },
  });
  // Many bindings, as a real cluster has, so that walking them all shows.
  for (let i = 0; i < 200; i++) {
    await kubeCall('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `filler-${i}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: `someone-${i}` }],
    });
  }
  for (const [name, subject] of [
    ['devs-view', { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' }],
    ['reader-view', { kind: 'ServiceAccount', name: 'reader', namespace: 'default' }],
  ] as const) {
    await kubeCall('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [subject],
    });
  }
  await kubeCall('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader' } });
  const saToken = (await kubeCall('POST', '/api/v1/namespaces/default/serviceaccounts/reader/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['https://kubernetes.default.svc'], expirationSeconds: 3600 } })).status.token;

  // Each kind is compared with a fixed token of the same user and groups (the same authorization work).
  const kinds: Kinds = {
    'A  fixed token, system:masters (baseline)': ADMIN_TOKEN,
    'A  EKS token, cluster creator': createEksToken({ clusterName: 'bench', region: 'us-east-1', ...root }),
    'B  fixed token, bench-dev in devs (baseline)': DEV_TOKEN,
    'B  EKS token, bench-dev mapped by aws-auth': createEksToken({ clusterName: 'bench', region: 'us-east-1', ...dev }),
    'B  localeks static token, bench-dev': createStaticToken({ clusterArn: cluster.arn, ...dev }).token,
    'C  fixed token, service account reader (baseline)': SA_TOKEN,
    'C  service account token (TokenRequest), reader': saToken,
  };
  const only = arg('only', '');
  if (only) for (const k of Object.keys(kinds)) if (!k.includes(only) && !k.endsWith('(baseline)')) delete kinds[k];
  console.log(`auth benchmark (node ${process.version}, memory store, clients in a separate process)`);
  const child = fork(new URL(import.meta.url).pathname, ['client', kube, JSON.stringify(kinds), ...process.argv.slice(2)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
    env: { ...process.env, BENCH_CA: server.tls.caCertPem },
  });
  // The client asks for this process's CPU time around each measured round.
  const profileDir = arg('profile', '');
  const { Session } = await import('node:inspector/promises');
  const profiler = profileDir ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
    (await import('node:fs')).mkdirSync(profileDir, { recursive: true });
  }
  child.on('message', async (m: any) => {
    if (m === 'cpu') child.send(process.cpuUsage());
    else if (m?.profile === 'start' && profiler) {
      await profiler.post('Profiler.start');
      child.send('started');
    } else if (m?.profile === 'stop' && profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = `${profileDir}/${String(m.kind).replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.cpuprofile`;
      (await import('node:fs')).writeFileSync(file, JSON.stringify(profile));
      child.send('stopped');
    }
  });
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  // The authenticator alone, in this process: sequential calls of the gateway hook (authentication and the
  // RBAC decision) for the same GET, so that the per-token difference shows without HTTP and machine noise.
  if (code === 0) {
    const { clusterInfoOf } = await import('../src/aws/eks/shared.ts');
    const info = clusterInfoOf(server.state, { accountId: '000000000000', region: 'us-east-1' }, 'bench')!;
    const fakeRes = { writeHead() {}, end() {} } as any;
    const M = 10_000;
    const ROUNDS = 5;
    /** One measurement: M sequential calls with the token; wall-clock and CPU µs per call. */
    const measure = async (token: string) => {
      const header = `Bearer ${token}`;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < M; i++) {
        // A new flat string per call, as the HTTP parser makes one per request.
        const req = { headers: { authorization: Buffer.from(header, 'latin1').toString('latin1'), accept: 'application/json' }, method: 'GET', url: '/api/v1/namespaces/default/configmaps/bench' } as any;
        if (!(await hook!(info, req, fakeRes, '/api/v1/namespaces/default/configmaps/bench'))) throw new Error('denied');
      }
      const c = process.cpuUsage(c0);
      return { us: ((performance.now() - t0) * 1000) / M, cpuUs: (c.user + c.system) / M };
    };
    // Rounds interleave the kinds, as the HTTP rounds do; the best of each is kept.
    const hookBest = new Map<string, { us: number; cpuUs: number }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, token] of Object.entries(kinds)) {
        const r = await measure(token);
        const b = hookBest.get(kind) ?? { us: Infinity, cpuUs: Infinity };
        hookBest.set(kind, { us: Math.min(b.us, r.us), cpuUs: Math.min(b.cpuUs, r.cpuUs) });
      }
    }
    console.log(`\nthe authenticator hook alone (authentication + RBAC decision), in-process, ${M} sequential calls x ${ROUNDS} interleaved rounds (best), wall-clock and CPU:`);
    let base = { us: 0, cpuUs: 0 };
    const w = Math.max(...Object.keys(kinds).map((k) => k.length));
    for (const kind of Object.keys(kinds)) {
      const r = hookBest.get(kind)!;
      const isBase = kind.endsWith('(baseline)');
      if (isBase) base = r;
      const delta = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
      console.log(`${kind.padEnd(w)}  ${r.us.toFixed(1).padStart(6)} µs/call  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU${isBase ? '' : `  (${delta(r.us - base.us)} µs, ${delta(r.cpuUs - base.cpuUs)} µs CPU for the token)`}`);
    }
  }
  await server.close();
  process.exit(code);
} else {
  const kube = process.argv[3]!;
  const kinds = JSON.parse(process.argv[4]!) as Kinds;
  const N = Number(arg('requests', '2000'));
  const C = Number(arg('concurrency', '32'));
  const ca = process.env.BENCH_CA!;
  const agent = new Agent({ keepAlive: true, maxSockets: C, ca });
  const get = (token: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${kube}/api/v1/namespaces/default/configmaps/bench`, { agent, headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  const serverCpu = () =>
    new Promise<number>((resolve) => {
      process.once('message', (u: any) => resolve((u.user + u.system) / 1000));
      process.send!('cpu');
    });
  const ROUNDS = Number(arg('rounds', '5'));
  const entries = Object.entries(kinds);
  const best = new Map<string, { rps: number; cpuMs: number }>();
  /** Server CPU ms of each round, per kind (for the paired figure). */
  const cpuByRound = new Map<string, number[]>();
  for (const [kind, token] of entries) {
    const first = await get(token);
    if (first !== 200) throw new Error(`${kind}: HTTP ${first}`);
    await runPool(Math.min(500, N), C, () => get(token)); // warm-up (caches, JIT)
  }
  // Rounds interleave the kinds, so that load from elsewhere on the machine hits them alike.
  const profiling = arg('profile', '') !== '';
  const ask = (m: unknown, reply: string) =>
    new Promise<void>((resolve) => {
      const on = (r: unknown) => {
        if (r !== reply) return;
        process.off('message', on);
        resolve();
      };
      process.on('message', on);
      process.send!(m);
    });
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, token] of entries) {
      const profileThis = profiling && round === ROUNDS - 1;
      if (profileThis) await ask({ profile: 'start' }, 'started');
      const c0 = await serverCpu();
      const t0 = performance.now();
      const codes = await runPool(N, C, () => get(token));
      const s = (performance.now() - t0) / 1000;
      const cpuMs = (await serverCpu()) - c0;
      if (profileThis) await ask({ profile: 'stop', kind }, 'stopped');
      const bad = codes.filter((c) => c !== 200).length;
      if (bad) throw new Error(`${kind}: ${bad} requests failed`);
      const b = best.get(kind) ?? { rps: 0, cpuMs: Infinity };
      best.set(kind, { rps: Math.max(b.rps, N / s), cpuMs: Math.min(b.cpuMs, cpuMs) });
      cpuByRound.set(kind, [...(cpuByRound.get(kind) ?? []), cpuMs]);
    }
  }
  const w = Math.max(...entries.map((e) => e[0].length));
  console.log(`GET one ConfigMap, ${N} requests x ${ROUNDS} interleaved rounds (best of each), ${C} in flight, HTTPS keep-alive`);
  console.log(`${'token'.padEnd(w)}  ${'req/s'.padStart(7)}  ${'cost'.padStart(7)}  ${'server CPU/req'.padStart(14)}  ${'cost'.padStart(6)}  ${'paired'.padStart(6)}`);
  const pct = (x: number, width: number) => `${(x * 100).toFixed(1)}%`.padStart(width);
  const median = (xs: number[]) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
  };
  let base = best.get(entries[0]![0])!;
  let baseRounds: number[] = [];
  for (const [kind] of entries) {
    const b = best.get(kind)!;
    const us = (b.cpuMs * 1000) / N;
    const isBase = kind.endsWith('(baseline)');
    const rounds = cpuByRound.get(kind)!;
    if (isBase) {
      base = b;
      baseRounds = rounds;
    }
    const paired = isBase ? '     -' : pct(median(rounds.map((c, i) => 1 - baseRounds[i]! / c)), 6);
    console.log(`${kind.padEnd(w)}  ${b.rps.toFixed(0).padStart(7)}  ${isBase ? '      -' : pct(1 - b.rps / base.rps, 7)}  ${`${us.toFixed(0)} µs`.padStart(14)}  ${isBase ? '     -' : pct(1 - base.cpuMs / b.cpuMs, 6)}  ${paired}`);
  }
  console.log('cost, against the baseline of the same group (A, B, C: same user, same authorization): throughput lost (req/s; noisy on a loaded machine), the share of server CPU per request spent beyond the baseline\'s (best rounds), and that share paired round by round with the baseline run just before it (median over the rounds; the steadiest figure on a loaded machine).');
  agent.destroy();
}

function fetchKube(url: string, method: string, token: string, ca: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url, { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}
