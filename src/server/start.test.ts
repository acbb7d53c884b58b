import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { MemoryBackend } from '../store/memory/memory-backend.ts';
import type { ClusterInfo } from '../kube/types.ts';
import { startServer, type RunningServer } from './start.ts';

const info: ClusterInfo = {
  uid: 'u1',
  name: 'demo',
  endpointId: 'demo',
  accountId: '000000000000',
  region: 'us-east-1',
  kubernetesVersion: '1.31',
  platformVersion: 'eks.1',
  status: 'ACTIVE',
  serviceIpv4Cidr: '10.100.0.0/16',
  oidcIssuer: 'https://oidc.example/demo',
  createdAt: new Date(0).toISOString(),
};

/** A GET over TLS trusting the server's CA; resolves at the response headers. */
function kubeGet(s: RunningServer, path: string): Promise<import('node:http').IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${s.kubeEndpoint}${path}`, { ca: s.tls.caCertPem }, resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('startServer', () => {
  let s: RunningServer;
  let backendClosed = false;
  let releaseSlow: () => void = () => {};
  let apiClosed = false;
  let healthWhileStarting: { status: number; body: Record<string, unknown> } | undefined;

  before(async () => {
    const backend = new MemoryBackend();
    const close = backend.close.bind(backend);
    backend.close = async () => {
      backendClosed = true;
      await close();
    };
    s = await startServer(
      { awsPort: 0, kubePort: 0, store: 'memory', logLevel: 'silent' },
      {
        backend,
        clusterDirectory: async (ctx) => {
          assert.equal(ctx.config.store, 'memory');
          // The listeners are up but startup is not finished: health must say so.
          const r = await fetch(`${ctx.deps.config.awsEndpoint}/_localeks/health`);
          healthWhileStarting = { status: r.status, body: (await r.json()) as Record<string, unknown> };
          return { lookup: (id) => (id === 'demo' ? info : undefined), all: () => [info] };
        },
        clusterApi: {
          async handle(_c, req, res, path) {
            if (path === '/slow') {
              await new Promise<void>((r) => (releaseSlow = r));
              res.end('done');
              return;
            }
            if (new URL(req.url!, 'https://x').searchParams.get('watch') === 'true') {
              res.writeHead(200, { 'Content-Type': 'application/json' });
              res.write('{"type":"ADDED"}\n'); // stays open, as a watch does
              return;
            }
            res.end(path);
          },
          close: () => {
            apiClosed = true;
          },
        },
        adminRoutes: { 'POST /_localeks/echo': (_req, res) => void res.end('echo') },
        drainTimeoutMs: 30_000,
      },
    );
  });
  after(() => s.close());

  it('fills defaults and picks free ports', () => {
    assert.match(s.awsEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(s.awsPort, 0);
    assert.notEqual(s.kubePort, 0);
    assert.equal(s.config.accountId, '000000000000');
    assert.equal(s.deps.config.caCertPem, s.tls.caCertPem);
    assert.equal(s.deps.config.kubeEndpoint, s.kubeEndpoint);
    assert.equal(s.tls.caCertPath, '', 'memory store without a data dir writes nothing');
  });

  it('answers health 503 while starting and 200 once ready', async () => {
    assert.equal(healthWhileStarting?.status, 503);
    assert.equal(healthWhileStarting?.body.status, 'starting');
    const r = await fetch(`${s.awsEndpoint}/_localeks/health`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { status: string; revision: number };
    assert.equal(body.status, 'ready');
    assert.equal(body.revision, await s.backend.currentRevision());
  });

  it('answers health 503 when the store does not answer', async () => {
    const real = s.backend.currentRevision;
    s.backend.currentRevision = () => Promise.reject(new Error('connection lost'));
    try {
      const r = await fetch(`${s.awsEndpoint}/_localeks/health`);
      assert.equal(r.status, 503);
      const body = (await r.json()) as { status: string; error: string };
      assert.deepEqual([body.status, body.error], ['unavailable', 'store: connection lost']);
    } finally {
      s.backend.currentRevision = real;
    }
    assert.equal((await fetch(`${s.awsEndpoint}/_localeks/health`)).status, 200);
  });

  it('serves injected admin routes, 404 for unknown ones and 405 for the wrong method', async () => {
    assert.equal(await (await fetch(`${s.awsEndpoint}/_localeks/echo`, { method: 'POST' })).text(), 'echo');
    assert.equal((await fetch(`${s.awsEndpoint}/_localeks/nope`)).status, 404);
    const r = await fetch(`${s.awsEndpoint}/_localeks/health`, { method: 'POST' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET');
  });

  it('routes a known cluster to the injected cluster API', async () => {
    const res = await kubeGet(s, '/clusters/demo/version');
    let body = '';
    for await (const d of res) body += d;
    assert.equal(body, '/version');
  });

  it('counts store writes and watch events in the metrics', async () => {
    await s.backend.put('/aws/x/000000000000/us-east-1/t/a', '{}');
    const text = await (await fetch(`${s.awsEndpoint}/_localeks/metrics`)).text();
    assert.match(text, /^localeks_store_writes_total\{op="put"\} 1$/m);
    assert.match(text, /^localeks_store_watch_events_total [1-9]/m);
  });

  it('names the flag to change when a port is taken, and releases what it bound', async () => {
    await assert.rejects(
      startServer({ awsPort: 0, kubePort: s.kubePort, store: 'memory', logLevel: 'silent' }),
      (e: Error) => e.name === 'ConfigError' && e.message === `port ${s.kubePort} on 127.0.0.1 is already in use: choose another with --kube-port / LOCALEKS_KUBE_PORT (0 picks a free port)`,
    );
  });

  it('closes: ends watches, lets in-flight requests finish, then closes the parts and the store', async () => {
    const watch = await kubeGet(s, '/clusters/demo/api/v1/pods?watch=true');
    assert.equal(watch.statusCode, 200);
    const watchEnded = new Promise<void>((r) => watch.once('close', () => r()));
    watch.resume();
    const slow = kubeGet(s, '/clusters/demo/slow');
    // Wait until the slow request has reached the handler.
    for (let i = 0; i < 500 && Number(/localeks_http_inflight_requests\{endpoint="kube"\} (\d+)/.exec(await s.metrics.registry.metrics())?.[1]) < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const closing = s.close();
    await watchEnded;
    assert.equal(backendClosed, false, 'the store stays open while a request is in flight');
    // New connections are refused while draining.
    await assert.rejects(fetch(`${s.awsEndpoint}/_localeks/health`));
    releaseSlow();
    const res = await slow;
    let body = '';
    for await (const d of res) body += d;
    assert.equal(body, 'done');
    await closing;
    assert.equal(backendClosed, true);
    assert.equal(apiClosed, true);
  });
});
