/**
 * startServer runs one localeks instance: the AWS endpoint (plain HTTP) and
 * the Kubernetes endpoint (HTTPS), over one store.
 *
 * Startup order (each step needs the one before):
 *  1. validate the config (defaults filled in);
 *  2. TLS: load or create the instance CA and the serving certificate;
 *  3. bind both listeners (ports 0 resolve to free ports here); until step 6
 *     /_localeks/health answers 503 and every other request 503;
 *  4. open the store (wrapped in MeteredBackend); adopt the CA recorded in it
 *     if another server on the same store recorded a different one (shareCa);
 *     load AwsState, start the SimClock;
 *  5. build AwsDeps, the providers and the AWS gateway; the Kubernetes gateway
 *     with the injected (or default) ClusterDirectory and ClusterApiHandler;
 *  6. ready: health answers 200.
 *
 * close() stops accepting connections, ends long-running requests (watches),
 * lets other in-flight requests finish (bounded by drainTimeoutMs), then closes
 * the cluster API, the AWS state watch, the clock and the store.
 */
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createAwsGateway } from '../aws/core/gateway.ts';
import type { AwsConfig, AwsDeps } from '../aws/core/deps.ts';
import { AwsState } from '../aws/core/state.ts';
import type { AwsProvider } from '../aws/core/types.ts';
import { createProviders } from '../aws/providers.ts';
import { createClusterDirectory } from '../aws/eks/cluster-directory.ts';
import { createKubeGateway } from '../kube/gateway.ts';
import type { ClusterApiHandler, ClusterDirectory } from '../kube/types.ts';
import { SimClock } from '../sim/clock.ts';
import { startDataPlane, type DataPlane } from '../sim/controllers/data-plane.ts';
import type { Backend } from '../store/backend.ts';
import { openBackend } from '../store/open.ts';
import { type AdminRoutes, createAdminRouter } from './admin.ts';
import { createDefaultClusterApi } from './cluster-api.ts';
import { createFixtureRoutes } from './fixture-routes.ts';
import { advertisedHost, ConfigError, type ServeConfig, urlHost, validateServeConfig, defaultServeConfig } from './config.ts';
import { MeteredBackend } from './metered-backend.ts';
import { createServerMetrics, type ServerMetrics } from './metrics.ts';
import { ensureTls, shareCa, type TlsMaterial } from './tls.ts';
import { createOidcIssuers } from './oidc.ts';
import { createKubeAuthenticator } from './kube-auth.ts';
import { LOCALEKS_VERSION } from './version.ts';

/** Everything a part (cluster directory, cluster API, admin routes) may need, given to part factories. */
export interface ServerContext {
  config: ServeConfig;
  /** The metered store. */
  backend: Backend;
  state: AwsState;
  clock: SimClock;
  deps: AwsDeps;
  log: Logger;
  metrics: ServerMetrics;
  tls: TlsMaterial;
}

/** A part given as a value or built from the ServerContext. */
export type Part<T> = T | ((ctx: ServerContext) => T | Promise<T>);

/** A ClusterApiHandler that may hold resources (watches, controllers) to release on close. */
export type ClosableClusterApi = ClusterApiHandler & { close?(): Promise<void> | void };

/** Optional parts injected by the caller (tests, the library API, later defaults). */
export interface ServerParts {
  /** Finds clusters by endpoint id (default: the EKS clusters in AwsState, aws/eks/cluster-directory.ts). */
  clusterDirectory?: Part<ClusterDirectory>;
  /** Serves each cluster's Kubernetes API (default: kube/apiserver, see server/cluster-api.ts). */
  clusterApi?: Part<ClosableClusterApi>;
  /** Builds the AWS providers (default: src/aws/providers.ts). */
  providers?: (deps: AwsDeps) => AwsProvider[];
  /** Extra /_localeks/ routes, keyed 'METHOD /_localeks/path' (e.g. 'POST /_localeks/reset'). */
  adminRoutes?: Part<AdminRoutes>;
  /** Use this store instead of opening config.store (it is still closed by close()). */
  backend?: Backend;
  /** Use this logger instead of a new pino logger on stderr. */
  logger?: Logger;
  /** Bound on waiting for in-flight requests at close (default 10 s). */
  drainTimeoutMs?: number;
  /** Run the simulated data plane (nodes, scheduler, kubelets; src/sim/controllers/data-plane.ts). Default true. */
  dataPlane?: boolean;
}

/** A running server. */
export interface RunningServer {
  /** e.g. http://127.0.0.1:4566 (the real port when 0 was asked). */
  awsEndpoint: string;
  /** e.g. https://127.0.0.1:6443 */
  kubeEndpoint: string;
  awsPort: number;
  kubePort: number;
  config: ServeConfig;
  /** The store, wrapped in MeteredBackend. */
  backend: Backend;
  state: AwsState;
  clock: SimClock;
  deps: AwsDeps;
  tls: TlsMaterial;
  metrics: ServerMetrics;
  log: Logger;
  /** Stops everything (see the module comment). Idempotent; resolves when the store is closed. */
  close(): Promise<void>;
}

/**
 * startServer starts a server from a (possibly partial) ServeConfig.
 * Missing fields take their defaults; an invalid config throws ConfigError.
 * When config.dataDir is not given and the store is memory, the TLS material
 * stays in memory too (nothing is written to disk).
 */
export async function startServer(input: Partial<ServeConfig> = {}, parts: ServerParts = {}): Promise<RunningServer> {
  const config = validateServeConfig({ ...defaultServeConfig(), ...stripUndefined(input) });
  const persist = input.dataDir !== undefined || config.store !== 'memory';
  const log = parts.logger ?? pino({ level: config.logLevel, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
  const startedAt = Date.now();
  const metrics = createServerMetrics();

  let tls = await ensureTls({ dataDir: persist ? config.dataDir : undefined, hostnames: config.hostnames });
  if (tls.createdCa) log.info({ caCertPath: tls.caCertPath || '(memory)' }, 'created instance CA');
  if (tls.issuedServing) log.info({ names: tls.servingNames }, 'issued serving certificate');

  // Phase flags read by the request handlers below.
  let phase: 'starting' | 'ready' | 'stopping' = 'starting';
  let awsHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let kubeHandler: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let backend: Backend | undefined;
  const inflight = new Map<ServerResponse, { longRunning: boolean; endpoint: 'aws' | 'kube' }>();

  const track = (endpoint: 'aws' | 'kube', res: ServerResponse, longRunning: boolean) => {
    inflight.set(res, { longRunning, endpoint });
    metrics.inflight.inc({ endpoint });
    res.once('close', () => {
      inflight.delete(res);
      metrics.inflight.dec({ endpoint });
    });
    if (phase === 'stopping') res.shouldKeepAlive = false;
  };

  const admin = createAdminRouter({
    // Ready means started and the store answering (an etcd store can go away
    // at run time): the store's current revision, within a bound.
    health: async () => {
      const body: Record<string, unknown> = {
        status: phase,
        version: LOCALEKS_VERSION,
        store: backend?.kind ?? config.store.replace(/:.*/, ''),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
        endpoints: { aws: awsEndpoint, kubernetes: kubeEndpoint },
      };
      if (phase !== 'ready' || !backend) return { ready: false, body };
      try {
        body.revision = await withTimeout(backend.currentRevision(), HEALTH_STORE_TIMEOUT_MS, 'the store did not answer');
        return { ready: true, body };
      } catch (e) {
        body.status = 'unavailable';
        body.error = `store: ${(e as Error).message}`;
        return { ready: false, body };
      }
    },
    metrics: metrics.registry,
  });

  const awsServer = createHttpServer((req, res) => {
    track('aws', res, false);
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (path.startsWith('/_localeks/')) {
      void admin.handle(req, res, path).catch((e) => internalError(log, res, e));
      return;
    }
    if (phase !== 'ready' || !awsHandler) {
      serviceUnavailable(res, phase);
      return;
    }
    void awsHandler(req, res).catch((e) => internalError(log, res, e));
  });
  const kubeServer = createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    if (phase !== 'ready' || !kubeHandler) {
      track('kube', res, false);
      serviceUnavailable(res, phase);
      return;
    }
    track('kube', res, kubeGatewayRef!.classify(req).longRunning);
    void kubeHandler(req, res).catch((e) => internalError(log, res, e));
  });
  let kubeGatewayRef: ReturnType<typeof createKubeGateway> | undefined;

  try {
    await Promise.all([listen(awsServer, config.host, config.awsPort, 'aws'), listen(kubeServer, config.host, config.kubePort, 'kube')]);
  } catch (e) {
    // One listener may be up: release it before reporting.
    await Promise.all([closeServer(awsServer), closeServer(kubeServer)]);
    throw e;
  }
  const awsPort = (awsServer.address() as AddressInfo).port;
  const kubePort = (kubeServer.address() as AddressInfo).port;
  const host = urlHost(advertisedHost(config));
  const awsEndpoint = `http://${host}:${awsPort}`;
  const kubeEndpoint = `https://${host}:${kubePort}`;

  const clock = new SimClock({ scale: config.timeScale });
  let state: AwsState | undefined;
  let clusterApi: ClosableClusterApi | undefined;
  try {
    const raw = parts.backend ?? (await openBackend(config.store, { dataDir: config.dataDir }));
    backend = new MeteredBackend(raw, metrics);
    const shared = await shareCa(backend, tls, { dataDir: persist ? config.dataDir : undefined, hostnames: config.hostnames });
    if (shared !== tls) {
      log.info({ caCertPath: shared.caCertPath || '(memory)' }, 'adopted the instance CA recorded in the store');
      tls = shared;
      kubeServer.setSecureContext({ key: tls.keyPem, cert: tls.certPem });
    }
    state = new AwsState(backend);
    await state.start();
    const awsConfig: AwsConfig = {
      defaultAccountId: config.accountId,
      enforceIam: config.enforceIam,
      referenceChecks: config.referenceChecks,
      timingProfile: config.timingProfile,
      awsEndpoint,
      kubeEndpoint,
      caCertPem: tls.caCertPem,
    };
    const deps: AwsDeps = { state, clock, config: awsConfig, log: log.child({ component: 'aws' }) };
    const ctx: ServerContext = { config, backend, state, clock, deps, log, metrics, tls };
    const providers = (parts.providers ?? createProviders)(deps);
    const awsLog = log.child({ component: 'aws-gateway' });
    const awsGateway = createAwsGateway({
      providers,
      deps,
      onRequest: (info) => {
        const labels = { service: info.service || 'unknown', operation: info.operation || 'unknown', code: String(info.status) };
        metrics.awsRequests.inc(labels);
        metrics.awsRequestDuration.observe(labels, info.durationMs / 1000);
        awsLog.debug(info, 'aws request');
      },
    });
    awsHandler = (req, res) => awsGateway.handle(req, res);

    const directory = await resolvePart(parts.clusterDirectory, ctx, () => createClusterDirectory(ctx.state));
    // (auth) Each cluster's OIDC issuer on the Kubernetes endpoint; STS verifies IRSA tokens with its keys.
    const oidc = createOidcIssuers({ directory, backend, now: () => new Date(clock.nowMs()) });
    deps.webIdentityVerifier = oidc.verifier;
    let defaultApi: ReturnType<typeof createDefaultClusterApi> | undefined;
    clusterApi = await resolvePart<ClosableClusterApi>(parts.clusterApi, ctx, () => (defaultApi = createDefaultClusterApi(ctx)));
    const extraRoutes = await resolvePart(parts.adminRoutes, ctx, () => ({}));
    admin.add(extraRoutes);
    // Fixture routes (reset, snapshots, clock; see fixture-routes.ts), unless the caller replaced one.
    admin.add(Object.fromEntries(Object.entries(createFixtureRoutes({ ...ctx, providers, clusterApi })).filter(([k]) => !(k in extraRoutes))));
    const kubeLog = log.child({ component: 'kube-gateway' });
    kubeGatewayRef = createKubeGateway({
      directory,
      handler: clusterApi,
      log: kubeLog,
      extraRoutes: (req, res, pathname) => oidc.handle(req, res, pathname), // (auth)
      // (auth) The default API server's requests are authenticated as EKS does; an injected ClusterApiHandler does its own.
      authenticate: defaultApi ? createKubeAuthenticator({ deps, backend, registry: defaultApi.registry, ensureBootstrapped: defaultApi.ensureBootstrapped, log: kubeLog, authorize: true }) : undefined,
      onRequest: (info, code, durationSeconds) => {
        const labels = { verb: info.verb, resource: info.resource, code: String(code) };
        metrics.kubeRequests.inc(labels);
        metrics.kubeRequestDuration.observe(labels, durationSeconds);
        kubeLog.debug({ cluster: info.endpointId, path: info.path, verb: info.verb, resource: info.resource, code, durationMs: durationSeconds * 1000 }, 'kube request');
      },
    });
    kubeHandler = kubeGatewayRef.handle;

    // --- data plane (src/sim/controllers/data-plane.ts): node groups' instances join as Nodes, pods get scheduled and run.
    const api = clusterApi as ClosableClusterApi & { registry?: Parameters<typeof startDataPlane>[0]['registry'] };
    const dataPlane: DataPlane | undefined =
      parts.dataPlane !== false && typeof api.registry === 'function'
        ? startDataPlane({ deps, clock, directory, registry: (c) => api.registry!(c), log: log.child({ component: 'data-plane' }) })
        : undefined;
    if (dataPlane) deps.nodegroupRollouts = true;
    // --- end data plane

    phase = 'ready';
    log.info({ aws: awsEndpoint, kubernetes: kubeEndpoint, store: backend.kind, dataDir: config.dataDir, version: LOCALEKS_VERSION }, 'localeks ready');

    let closing: Promise<void> | undefined;
    const drainTimeoutMs = parts.drainTimeoutMs ?? 10_000;
    const running: RunningServer = {
      awsEndpoint,
      kubeEndpoint,
      awsPort,
      kubePort,
      config,
      backend,
      state,
      clock,
      deps,
      tls,
      metrics,
      log,
      close: () =>
        (closing ??= (async () => {
          phase = 'stopping';
          log.info({ inflight: inflight.size }, 'localeks stopping');
          const closed = Promise.all([closeServer(awsServer), closeServer(kubeServer)]);
          awsServer.closeIdleConnections();
          kubeServer.closeIdleConnections();
          // Long-running requests (watches, follows) never finish on their own:
          // end them now, as kube-apiserver does at shutdown; clients re-establish them.
          for (const [res, r] of inflight) if (r.longRunning) res.destroy();
          await waitUntil(() => inflight.size === 0, drainTimeoutMs);
          if (inflight.size > 0) log.warn({ inflight: inflight.size }, 'ending requests still in flight after the drain timeout');
          awsServer.closeAllConnections();
          kubeServer.closeAllConnections();
          await closed;
          dataPlane?.stop();
          await shutdownParts(log, clusterApi, state, clock, backend);
          log.info('localeks stopped');
        })()),
    };
    return running;
  } catch (e) {
    // Startup failed after binding: release what was taken.
    phase = 'stopping';
    awsServer.closeAllConnections();
    kubeServer.closeAllConnections();
    await Promise.all([closeServer(awsServer), closeServer(kubeServer)]);
    await shutdownParts(log, clusterApi, state, clock, backend).catch(() => {});
    throw e;
  }
}

const HEALTH_STORE_TIMEOUT_MS = 2000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function shutdownParts(log: Logger, clusterApi: ClosableClusterApi | undefined, state: AwsState | undefined, clock: SimClock, backend: Backend | undefined) {
  try {
    await clusterApi?.close?.();
  } catch (e) {
    log.error({ err: e }, 'closing the cluster API failed');
  }
  state?.stop();
  clock.stop();
  await backend?.close();
}

/** resolvePart returns the injected part (a value, or built by a factory of the context), else the default (built only then). */
async function resolvePart<T>(part: Part<T> | undefined, ctx: ServerContext, fallback: () => T): Promise<T> {
  if (part === undefined) return fallback();
  // A part given as a value is an object; only a bare function is a factory.
  if (typeof part === 'function') return await (part as (ctx: ServerContext) => T | Promise<T>)(ctx);
  return part;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function listen(server: Server, host: string, port: number, which: 'aws' | 'kube'): Promise<void> {
  server.listen({ host, port });
  try {
    await once(server, 'listening');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const flag = which === 'aws' ? '--aws-port / LOCALEKS_AWS_PORT' : '--kube-port / LOCALEKS_KUBE_PORT';
    if (err.code === 'EADDRINUSE') throw new ConfigError(`port ${port} on ${host} is already in use: choose another with ${flag} (0 picks a free port)`);
    if (err.code === 'EADDRNOTAVAIL') throw new ConfigError(`cannot bind to ${host}: no such local address (--host / LOCALEKS_HOST)`);
    if (err.code === 'EACCES') throw new ConfigError(`no permission to bind ${host}:${port} (${flag})`);
    throw e;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

function serviceUnavailable(res: ServerResponse, phase: string): void {
  const body = JSON.stringify({ __type: 'ServiceUnavailable', message: `localeks is ${phase}` });
  res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Retry-After': '1' });
  res.end(body);
}

function internalError(log: Logger, res: ServerResponse, e: unknown): void {
  log.error({ err: e }, 'unhandled error while serving a request');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ __type: 'InternalFailure', message: 'internal error' });
  res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
