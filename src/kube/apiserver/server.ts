/**
 * The per-cluster Kubernetes API server (kube-apiserver's handler chain for
 * one cluster): non-resource endpoints (/version, health, discovery, openapi),
 * then resource requests dispatched by verb to the generic registry.
 *
 * Entry point: createClusterApiServer({ backend, clock?, log }) returns a
 * ClusterApiHandler; the HTTPS gateway calls handle() for every request under
 * /clusters/<endpointId>.
 */
import type { PodAdmissionPlugin } from './pod-admission-plugins.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Backend } from '../../store/backend.ts';
import { type Clock, SimClock } from '../../sim/clock.ts';
import type { ClusterApiHandler, ClusterInfo } from '../types.ts';
import { type Resource, Scheme, apiVersionOf, deprecationWarning, resourcesForVersion } from '../api/scheme.ts';
import type { KObject, Status } from '../api/types.ts';
import { cloneJson } from '../api/json-clone.ts';
import { parseResourceVersion } from '../api/versioner.ts';
import { PROTOBUF_MEDIA_TYPE, ProtobufDecodeError, decodeKubeProtobuf } from '../api/protobuf.ts';
import { AGGREGATED_V2, aggregatedDiscovery, apiGroup, apiGroupList, apiVersions, resourceList, wantsAggregated } from './discovery.ts';
import {
  StatusError,
  fieldErr,
  isStatusError,
  newBadRequest,
  newConflict,
  newGenericNotFound,
  newInternalError,
  newInvalid,
  newMethodNotSupported,
  newNotFound,
  newRequestEntityTooLarge,
  newResourceExpired,
  newServiceUnavailable,
  newUnsupportedMediaType,
  successStatus,
} from './errors.ts';
import { PATCH_TYPES, applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch/patch.ts';
import { serverSideApply } from './patch/apply.ts';
import { type RequestInfo, parseRequestInfo } from './request-info.ts';
import { type DeleteOptions, type ListOptions, ClusterRegistry, timestamp, writtenJson } from './registry/generic-store.ts';
import { selectableFields, supportedFieldLabels } from './registry/strategies.ts';
import { type CacheEvent, encodedLine } from './registry/watch-cache.ts';
import { isCompacted, watchFromStore } from './registry/history-watch.ts';
import { parseFieldSelector, parseLabelSelector, labelSelectorFromObject, formatLabelSelector, matchFields, matchLabels } from './selectors.ts';
import { type IncludeObject, toTable } from './table.ts';
import { goValue, strictPatchError, unknownFields } from './field-validation.ts';
import { NamespaceController } from './namespace-controller.ts';
import { CrdController } from './crd.ts';
import { GarbageCollector } from './garbage-collector.ts';
import { QuotaController } from './quota.ts';
import { readJsonPath, writeJsonPath } from './registry/structural.ts';
import { kubeVersionInfo } from './version.ts';
import { loadModels, modelClassOf, pruneModelFields } from './models.ts';
import { openapiV2, openapiV2Proto, openapiV3Doc, openapiV3Root } from './openapi.ts';
import { sendOpenApiV2Proto, wantsOpenApiV2Proto } from './openapi-proto.ts';
import { handleVirtual } from './virtual.ts';
import { requestAuthorizer, requestUser, selfAccessReview, selfRulesReview } from '../authn/request-auth.ts';
import { requestReviews } from '../authn/reviews.ts';
import { requestEscalationCheck } from '../authz/escalation.ts';
import type { WebhookUserInfo } from './webhooks.ts';
import { evictPod } from './eviction.ts';
import { METRICS_GROUP, METRICS_RESOURCES, serveMetrics } from './metrics-api.ts';

/** The logger shape the API server uses (pino's). */
export interface Log {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug(obj: unknown, msg?: string): void;
}

export interface ClusterApiServerOptions {
  backend: Backend;
  clock?: Clock;
  log: Log;
  /** Pod create admission from outside the API server (EKS webhooks, Fargate), in order. */
  podAdmission?: readonly PodAdmissionPlugin[];
  /**
   * Called for every request to a deprecated group-version (after the
   * `Warning: 299` header is set), e.g. to feed EKS upgrade insights. Must not
   * throw or block; it is not awaited.
   */
  onDeprecatedApiUse?(cluster: ClusterInfo, use: DeprecatedApiUse): void;
}

/** One request to a deprecated API (the shape of EKS insights' deprecationDetails, per request). */
export interface DeprecatedApiUse {
  /** e.g. `/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas` */
  usage: string;
  /** e.g. `flowcontrol.apiserver.k8s.io/v1/flowschemas` */
  replacedWith?: string;
  /** The minor that stops serving it ("1.32"), when a removal is scheduled. */
  stopServingVersion?: string;
  /** The minor that first served the replacement ("1.29"). */
  startServingReplacementVersion?: string;
  userAgent: string;
  time: Date;
}

const MAX_BODY = 3 * 1024 * 1024;
const BOOKMARK_INTERVAL_MS = 60_000;
const WATCH_FLUSH_MIN_MS = 2;
const WATCH_FLUSH_MAX_MS = 50;

/** Per-flush memo of the last encoded chunk (shared by watchers that get the same lines). */
interface FlushMemo {
  lines?: string[];
  chunk?: Buffer;
}
const HEALTH_CHECKS = ['ping', 'log', 'etcd', 'poststarthook/start-apiextensions-controllers', 'poststarthook/crd-informer-synced', 'poststarthook/bootstrap-controller', 'poststarthook/rbac/bootstrap-roles', 'poststarthook/scheduling/bootstrap-system-priority-classes'];

/** Per-cluster server state, created on first use. */
export interface ClusterState {
  cluster: ClusterInfo;
  scheme: Scheme;
  registry: ClusterRegistry;
  namespaces: NamespaceController;
  crds: CrdController;
  gc: GarbageCollector;
  quota: QuotaController;
  watches: Set<WatchStream>;
  /** Kubernetes version the scheme's built-ins are for. */
  version: string;
}

interface WatchStream {
  lastSent: number;
  bookmarks: boolean;
  bookmark(): void;
  close(): void;
}

/** The handler plus lifecycle and in-process access for other parts of localeks. */
export interface ClusterApiServer extends ClusterApiHandler {
  /** The registry of a cluster (in-process clients and controllers use it; every write still validates). */
  registry(cluster: ClusterInfo): ClusterRegistry;
  /** Drops a cluster's caches (cluster deleted). */
  forget(clusterUid: string): void;
  /** Ends every open watch of a cluster cleanly (clients re-watch from their last resourceVersion). */
  closeWatches(clusterUid: string): void;
  close(): void;
}

/**
 * pods/log: nothing runs, so a container's log is what the kubelet simulation
 * put in the pod's `localeks.dev/log.<container>` annotation (empty otherwise).
 */
function podLog(pod: KObject, q: URLSearchParams): string {
  const containers: any[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let c = q.get('container');
  const name = pod.metadata?.name;
  if (!c) {
    if (containers.length !== 1) {
      throw newBadRequest(`a container name must be specified for pod ${name}, choose one of: [${(pod.spec?.containers ?? []).map((x: any) => x.name).join(' ')}]`);
    }
    c = containers[0].name as string;
  }
  if (!containers.some((x) => x.name === c)) throw newBadRequest(`container ${c} is not valid for pod ${name}`);
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((x: any) => x.name === c);
  if (!status?.state?.running && !status?.state?.terminated) {
    const reason = status?.state?.waiting?.reason ?? 'ContainerCreating';
    throw newBadRequest(`container "${c}" in pod "${name}" is waiting to start: ${reason}`);
  }
  let text = pod.metadata?.annotations?.[`localeks.dev/log.${c}`] ?? '';
  const tail = q.get('tailLines');
  if (tail !== null && text) {
    const lines = text.replace(/\n$/, '').split('\n');
    text = lines.slice(Math.max(0, lines.length - Number(tail))).join('\n') + '\n';
  }
  return text;
}

function send(res: ServerResponse, code: number, body: string, contentType = 'application/json'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // writeHead with the headers merges them with any set before (Warning); cheaper than three setHeader calls.
  res.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Appends `Warning: 299 - "..."` headers. */
function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  const prev = res.getHeader('Warning');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  res.setHeader('Warning', [...list, ...[...new Set(warnings)].map((w) => `299 - ${JSON.stringify(w)}`)]);
}

function sendJson(res: ServerResponse, code: number, obj: unknown): void {
  send(res, code, JSON.stringify(obj));
}

function sendStatus(res: ServerResponse, err: StatusError): void {
  sendJson(res, err.status.code, err.status);
}

/**
 * The request body (at most MAX_BODY bytes, else 413). Plain 'data'/'end'
 * listeners: an async iterator over the request costs several times more per
 * request, and every write reads a body. (The listeners are inline anonymous
 * functions on purpose: tsx names every named closure with a defineProperty.)
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      n += c.length;
      if (n > MAX_BODY) {
        done = true;
        // As the async iterator did on a throw: the rest of the body is not read.
        req.destroy();
        reject(newRequestEntityTooLarge(`limit is ${MAX_BODY}`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (e: Error) => {
      if (done) return;
      done = true;
      reject(e);
    });
    req.on('close', () => {
      // Closed before 'end' (the client went away): fail as the async iterator did.
      if (done) return;
      done = true;
      reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
  });
}

/** webhookUserOf is the authenticated user of a request as admission webhooks see it; undefined without authentication (the registry's internal user then). */
function webhookUserOf(req: IncomingMessage): WebhookUserInfo | undefined {
  const u = requestUser(req);
  if (!u) return undefined;
  const info: WebhookUserInfo = { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(Object.keys(u.extra).length ? { extra: u.extra } : {}) };
  // The user's authorizer, for admission policies' `authorizer` (not enumerable: never serialized to webhooks).
  const authz = requestAuthorizer(req);
  if (authz) Object.defineProperty(info, 'authorize', { value: (a: Parameters<typeof authz.can>[0]) => authz.can(a), enumerable: false });
  return info;
}

/** The query of a request target (what `new URL(target).searchParams` gives, without parsing the rest). */
function queryOf(target: string): URLSearchParams {
  const qi = target.indexOf('?');
  if (qi < 0) return new URLSearchParams();
  const hi = target.indexOf('#', qi);
  return new URLSearchParams(hi < 0 ? target.slice(qi + 1) : target.slice(qi + 1, hi));
}

function mediaType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A character String.prototype.trim would keep (a body of only white space is empty). */
const NON_BLANK = /[^\s\uFEFF\xA0]/;

function decodeBody(buf: Buffer, contentType: string | undefined): unknown {
  const mt = mediaType(contentType);
  const text = buf.toString('utf8');
  if (mt === PROTOBUF_MEDIA_TYPE) return decodeProtobufBody(buf);
  if (!NON_BLANK.test(text)) throw newBadRequest('Object \'Kind\' is missing in \'\'');
  if (mt === 'application/yaml' || mt === 'application/apply-patch+yaml') {
    try {
      return parseYaml(text);
    } catch (e) {
      throw newBadRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw newBadRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** A protobuf body (typed clients: kubectl create, client-go) as the JSON object the registry takes. */
function decodeProtobufBody(buf: Buffer): unknown {
  if (buf.length === 0) throw newBadRequest("Object 'Kind' is missing in ''");
  try {
    return decodeKubeProtobuf(buf);
  } catch (e) {
    if (!(e instanceof ProtobufDecodeError)) throw e;
    if (e.unsupportedKind) throw newUnsupportedMediaType(['application/json', 'application/yaml']);
    throw newBadRequest(e.message);
  }
}

function wantsTable(accept: string | undefined): boolean {
  return !!accept && accept.split(',').some((p) => p.replace(/\s+/g, '').includes('as=Table') && p.includes('g=meta.k8s.io'));
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw newBadRequest(`invalid value for ${name}: ${v}`);
  return n;
}

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  return v === 'true' || v === '1';
}

/** Default field manager from the User-Agent ("kubectl/v1.32 ..." → "kubectl"). */
function managerFromUserAgent(ua: string | undefined): string {
  const s = (ua ?? 'unknown').split('/')[0]!.trim();
  return s.slice(0, 128) || 'unknown';
}

export function createClusterApiServer(opts: ClusterApiServerOptions): ClusterApiServer {
  const clock = opts.clock ?? new SimClock();
  void loadModels();
  const log = opts.log;
  const states = new Map<string, ClusterState>();
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const st of states.values()) {
      for (const w of st.watches) if (w.bookmarks && now - w.lastSent >= BOOKMARK_INTERVAL_MS) w.bookmark();
      // Quiet clusters give back their watch cache's old history and memoized JSON.
      st.registry.cache.trim(now);
    }
  }, 5000);
  ticker.unref();

  // Watch streams are flushed together: at the end of the tick, or, under
  // load, at most every WATCH_FLUSH_MS, so 1,000 watchers cost 1,000 socket
  // writes per flush rather than per event.
  let dirty: Array<(memo: FlushMemo) => void> = [];
  let lastFlush = 0;
  let watchCount = 0;
  const flushAll = (): void => {
    lastFlush = performance.now();
    const fs = dirty;
    dirty = [];
    const memo: FlushMemo = {};
    for (const fn of fs) fn(memo);
  };
  const scheduleFlush = (f: (memo: FlushMemo) => void): void => {
    if (dirty.length === 0) {
      // More watchers, longer batches: 1,000 watchers flush every 50 ms at most.
      const interval = Math.min(WATCH_FLUSH_MAX_MS, Math.max(WATCH_FLUSH_MIN_MS, watchCount / 20));
      const since = performance.now() - lastFlush;
      if (since >= interval) setImmediate(flushAll);
      else setTimeout(flushAll, interval - since);
    }
    dirty.push(f);
  };

  function state(cluster: ClusterInfo): ClusterState {
    let st = states.get(cluster.uid);
    if (!st) {
      const scheme = new Scheme(resourcesForVersion(cluster.kubernetesVersion));
      for (const m of METRICS_RESOURCES) scheme.add(m);
      const registry = new ClusterRegistry({ backend: opts.backend, clock, cluster, scheme, podAdmission: opts.podAdmission });
      st = { cluster, scheme, registry, namespaces: new NamespaceController(registry, log), crds: new CrdController(registry, scheme, log), gc: new GarbageCollector(registry, log), quota: new QuotaController(registry, log), watches: new Set(), version: cluster.kubernetesVersion };
      states.set(cluster.uid, st);
      st.namespaces.start();
      st.crds.start();
      st.gc.start();
      st.quota.start();
    }
    st.cluster = cluster;
    if (st.version !== cluster.kubernetesVersion) {
      // An upgraded control plane: deprecated group-versions come and go with the minor.
      const before = resourcesForVersion(st.version);
      const after = resourcesForVersion(cluster.kubernetesVersion);
      const key = (r: Resource) => `${r.group}/${r.version}/${r.resource}`;
      const keep = new Set(after.map(key));
      const prev = new Map(before.map((r) => [key(r), r]));
      for (const r of before) if (!keep.has(key(r))) st.scheme.removeVersion(r.group, r.version, r.resource);
      for (const r of after) if (prev.get(key(r))?.deprecation !== r.deprecation || !prev.has(key(r))) st.scheme.add(r);
      st.version = cluster.kubernetesVersion;
    }
    return st;
  }

  async function serve(cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const q = queryOf(req.url ?? '/');
    const method = (req.method ?? 'GET').toUpperCase();
    const info = parseRequestInfo(method, path, q);
    if (!info.isResourceRequest) return nonResource(cluster, req, res, path, info);
    if (cluster.status !== 'ACTIVE' && cluster.status !== 'UPDATING') throw newServiceUnavailable(`the cluster is ${cluster.status}`);
    const st = state(cluster);
    let r = st.scheme.get(info.apiGroup, info.apiVersion, info.resource);
    if (!r && info.apiGroup.includes('.')) {
      // A CRD written an instant ago: let the cache (and the CRD controller) catch up.
      await st.registry.fresh();
      r = st.scheme.get(info.apiGroup, info.apiVersion, info.resource);
    }
    if (!r) throw newGenericNotFound();
    return resource(st, r, info, q, req, res);
  }

  async function nonResource(cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string, info: RequestInfo): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = path.replace(/\/+$/, '') || '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') throw newMethodNotSupported({ group: '', resource: '' }, (req.method ?? '').toLowerCase());
    if (p === '/version') return sendJson(res, 200, kubeVersionInfo(cluster));
    const health = /^\/(healthz|livez|readyz)(\/(.*))?$/.exec(p);
    if (health) {
      const check = health[3];
      if (check !== undefined) {
        if (!HEALTH_CHECKS.includes(check) && check !== 'ping') return send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
        return send(res, 200, 'ok', 'text/plain; charset=utf-8');
      }
      if (url.searchParams.has('verbose')) {
        const lines = HEALTH_CHECKS.map((c) => `[+]${c} ok`);
        return send(res, 200, `${lines.join('\n')}\n${health[1]} check passed\n`, 'text/plain; charset=utf-8');
      }
      return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    }
    if (cluster.status !== 'ACTIVE' && cluster.status !== 'UPDATING') throw newServiceUnavailable(`the cluster is ${cluster.status}`);
    const st = state(cluster);
    const accept = req.headers.accept;
    res.setHeader('Vary', 'Accept');
    if (p === '/api' || p === '/apis') {
      if (wantsAggregated(accept)) return send(res, 200, JSON.stringify(aggregatedDiscovery(st.scheme, p === '/api')), AGGREGATED_V2);
      if (p === '/api') return sendJson(res, 200, apiVersions(`${req.socket.localAddress ?? '127.0.0.1'}:${req.socket.localPort ?? 443}`));
      return sendJson(res, 200, apiGroupList(st.scheme));
    }
    if (info.apiPrefix === 'apis' && info.apiGroup === '' && /^\/apis\/[^/]+$/.test(p)) {
      const g = apiGroup(st.scheme, p.split('/')[2]!);
      if (!g) throw newGenericNotFound();
      return sendJson(res, 200, g);
    }
    if (info.apiPrefix && info.apiVersion) {
      const rl = resourceList(st.scheme, info.apiGroup, info.apiVersion);
      if (!rl) throw newGenericNotFound();
      return sendJson(res, 200, rl);
    }
    if (p === '/openapi/v2') {
      await loadModels();
      const gv = kubeVersionInfo(cluster).gitVersion!;
      if (wantsOpenApiV2Proto(accept)) return sendOpenApiV2Proto(res, openapiV2Proto(st.scheme, gv));
      return sendJson(res, 200, openapiV2(st.scheme, gv));
    }
    if (p === '/openapi/v3') {
      const full = (req.url ?? '').split('?')[0]!;
      const prefix = full.endsWith(path) ? full.slice(0, full.length - path.length) : '';
      return sendJson(res, 200, openapiV3Root(st.scheme, prefix, kubeVersionInfo(cluster).gitVersion!));
    }
    if (p.startsWith('/openapi/v3/')) {
      await loadModels();
      const doc = openapiV3Doc(st.scheme, p.slice('/openapi/v3/'.length), kubeVersionInfo(cluster).gitVersion!);
      if (!doc) return send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
      return sendJson(res, 200, doc);
    }
    if (p === '/' ) {
      return sendJson(res, 200, { paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/readyz', '/version'] });
    }
    return send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
  }

  /** Warning header for a deprecated group-version, and the use reported to the hook (EKS insights). */
  function noteDeprecated(st: ClusterState, r: Resource, req: IncomingMessage, res: ServerResponse, warning: string): void {
    addWarnings(res, [warning]);
    if (!opts.onDeprecatedApiUse) return;
    const d = r.deprecation!;
    const rep = d.replacement;
    const repGroup = rep ? (rep.apiVersion.includes('/') ? rep.apiVersion.split('/')[0] : '') : '';
    const replacementResource = rep ? (repGroup === r.group ? r.resource : `${rep.kind.toLowerCase()}s`) : '';
    try {
      opts.onDeprecatedApiUse(st.cluster, {
        usage: `${r.group ? `/apis/${r.group}` : '/api'}/${r.version}/${r.resource}`,
        replacedWith: rep ? `${rep.apiVersion}/${replacementResource}` : undefined,
        stopServingVersion: d.removedIn,
        startServingReplacementVersion: rep?.since,
        userAgent: String(req.headers['user-agent'] ?? 'unknown'),
        time: clock.now(),
      });
    } catch (e) {
      log.warn({ err: e }, 'deprecated API usage hook failed');
    }
  }

  function listOptions(r: Resource, q: URLSearchParams): ListOptions {
    const fieldSelector = parseFieldSelector(q.get('fieldSelector'));
    if (fieldSelector.length > 0) {
      const ok = supportedFieldLabels(r);
      for (const f of fieldSelector) if (!ok.has(f.field)) throw newBadRequest(`field label not supported: ${f.field}`);
    }
    return {
      labelSelector: parseLabelSelector(q.get('labelSelector')),
      fieldSelector,
      limit: intParam(q, 'limit'),
      continue: q.get('continue') ?? undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    };
  }

  function dryRunOf(q: URLSearchParams): boolean {
    const vals = q.getAll('dryRun');
    for (const v of vals) if (v !== 'All') throw newBadRequest(`Invalid dryRun value: ${JSON.stringify(v)}, supported values: "All"`);
    return vals.length > 0;
  }

  function fieldManagerOf(q: URLSearchParams, req: IncomingMessage, required = false): string {
    const fm = q.get('fieldManager');
    if (fm !== null && fm.length > 128) {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [fieldErr.tooLong('fieldManager', 128)]);
    }
    if (fm) return fm;
    if (required) throw newInvalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [fieldErr.required('fieldManager', 'is required for apply patch')]);
    return managerFromUserAgent(req.headers['user-agent']);
  }

  /** fieldValidation=Strict|Warn|Ignore over the decoded body. */
  function checkFields(r: Resource, body: unknown, q: URLSearchParams, res: ServerResponse, path = '', decoding = false, patchValue?: () => string): void {
    const mode = q.get('fieldValidation') ?? 'Warn';
    if (mode !== 'Strict' && mode !== 'Warn' && mode !== 'Ignore') {
      throw newBadRequest(`fieldValidation parameter unsupported: ${mode}. Valid values are: Ignore, Warn, Strict`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    const unknown = mode === 'Ignore' ? [] : unknownFields(r, body as KObject, path);
    if (unknown.length > 0) {
      // A create/update body is decoded as upstream's codec does: "<Kind> in version "v1" cannot be handled as a <Kind>: ...".
      const as = decoding ? `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: ` : '';
      if (mode === 'Strict' && patchValue) throw strictPatchError(patchValue(), unknown);
      if (mode === 'Strict') throw newBadRequest(`${as}strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
      addWarnings(res, unknown.map((f) => `unknown field "${f}"`));
    }
    // For built-in kinds unknownFields walks the same model as pruning: nothing unknown, nothing to prune.
    if (mode === 'Ignore' || unknown.length > 0 || r.crd) pruneUnknown(r, body);
  }

  /** Like decoding into the typed object upstream: unknown fields are dropped. */
  function pruneUnknown(r: Resource, body: unknown): void {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return;
    const cls = r.crd ? undefined : modelClassOf(r.group, r.version, r.kind);
    if (cls) pruneModelFields(cls, body);
  }

  function respondObject(st: ClusterState, r: Resource, req: IncomingMessage, res: ServerResponse, code: number, obj: KObject | Status, q: URLSearchParams): void {
    if (wantsTable(req.headers.accept) && (obj as KObject).kind !== 'Status') {
      const o = obj as KObject;
      return sendJson(res, code, toTable(r, [o], clock.nowMs(), (q.get('includeObject') as IncludeObject) || 'Metadata', { resourceVersion: o.metadata?.resourceVersion }));
    }
    // A write's result comes with its JSON (made from the stored bytes): no second serialization.
    const json = writtenJson(obj as KObject);
    if (json !== undefined) return send(res, code, json);
    sendJson(res, code, obj);
  }

  function toScale(r: Resource, obj: KObject): KObject {
    const m = obj.metadata ?? {};
    const cs = r.custom?.scale;
    if (cs) {
      const sel = cs.labelSelectorPath ? readJsonPath(obj, cs.labelSelectorPath) : undefined;
      const status: Record<string, unknown> = { replicas: Number(readJsonPath(obj, cs.statusReplicasPath) ?? 0) };
      if (typeof sel === 'string') status.selector = sel;
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
        spec: { replicas: Number(readJsonPath(obj, cs.specReplicasPath) ?? 0) },
        status,
      };
    }
    let selector = '';
    const sel = obj.spec?.selector;
    if (sel && typeof sel === 'object' && ('matchLabels' in sel || 'matchExpressions' in sel)) selector = formatLabelSelector(labelSelectorFromObject(sel) ?? []);
    else if (sel && typeof sel === 'object') selector = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
      spec: { replicas: obj.spec?.replicas ?? 0 },
      status: { replicas: obj.status?.replicas ?? 0, selector },
    };
  }

  function fromScale(r: Resource, cur: KObject, scale: KObject): KObject {
    const replicas = scale.spec?.replicas;
    if (replicas === undefined || replicas === null || !Number.isInteger(replicas) || replicas < 0) {
      throw newInvalid({ group: 'autoscaling', kind: 'Scale' }, cur.metadata?.name ?? '', [fieldErr.invalid('spec.replicas', replicas ?? null, 'must be greater than or equal to 0')]);
    }
    const next = cloneJson(cur);
    if (r.custom?.scale) writeJsonPath(next, r.custom.scale.specReplicasPath, replicas);
    else next.spec = { ...(next.spec ?? {}), replicas };
    next.metadata!.resourceVersion = scale.metadata?.resourceVersion ?? '';
    return next;
  }

  async function resource(st: ClusterState, r: Resource, info: RequestInfo, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reg = st.registry;
    const deprecated = deprecationWarning(r);
    if (deprecated) noteDeprecated(st, r, req, res, deprecated);
    const ns = r.namespaced ? info.namespace : '';
    const sub = info.subresource;
    let verbs: string[] = r.verbs;
    if (sub) {
      const s = r.subresources.find((x) => x.name === sub);
      if (!s) throw newGenericNotFound();
      verbs = s.verbs;
      if (['exec', 'attach', 'portforward', 'proxy'].includes(sub)) {
        throw newBadRequest(`${sub} is not available: localeks simulates nodes and runs no containers`);
      }
    }
    const verb = info.verb;
    if (!verbs.includes(verb) && !(verb === 'watch' && verbs.includes('get') && !!info.name)) {
      throw newMethodNotSupported(r, verb);
    }
    if (r.namespaced && !ns && ['create', 'get', 'update', 'patch', 'delete', 'deletecollection'].includes(verb) && r.resource !== 'namespaces') {
      throw newGenericNotFound();
    }
    if (r.group === METRICS_GROUP) {
      // metrics.k8s.io (metrics-api.ts): computed from the watch cache, never stored.
      if (verb !== 'get' && verb !== 'list') throw newMethodNotSupported(r, verb);
      const src = { pods: (n: string) => reg.cache.list('pods', n).map((e) => e.obj), nodes: () => reg.cache.list('nodes', '').map((e) => e.obj) };
      return sendJson(res, 200, serveMetrics(src, r, verb, ns, info.name, q, clock.nowMs()));
    }
    if (r.virtual) {
      if (verb !== 'create') throw newMethodNotSupported(r, verb);
      const body = decodeBody(await readBody(req), req.headers['content-type']) as KObject;
      if (r.resource === 'bindings') return bind(st, st.scheme.get('', 'v1', 'pods')!, ns, body?.metadata?.name ?? '', body, res);
      const out = handleVirtual(r, body, ns);
      // (auth) SelfSubjectReview answers with the authenticated user when the gateway recorded one.
      const who = r.resource === 'selfsubjectreviews' ? requestUser(req) : undefined;
      if (who) out.status = { userInfo: { username: who.name, ...(who.uid ? { uid: who.uid } : {}), groups: who.groups, ...(Object.keys(who.extra).length ? { extra: who.extra } : {}) } };
      // (auth) Self access reviews answer with the authorizer the gateway recorded (RBAC and EKS access policies).
      const authz = requestAuthorizer(req);
      if (authz && r.resource === 'selfsubjectaccessreviews') out.status = selfAccessReview(authz, body?.spec ?? {});
      if (authz && r.resource === 'selfsubjectrulesreviews') out.status = selfRulesReview(authz, String(body?.spec?.namespace ?? ''));
      // (auth) TokenReview and (Local)SubjectAccessReview are answered by the gateway's authenticator and RBAC (kube/authn/reviews.ts).
      const reviews = requestReviews(req);
      if (reviews && r.resource === 'tokenreviews') out.status = await reviews.tokenReview(body?.spec);
      if (reviews && (r.resource === 'subjectaccessreviews' || r.resource === 'localsubjectaccessreviews')) {
        await reg.fresh();
        out.status = reviews.subjectAccessReview(r.kind as 'SubjectAccessReview' | 'LocalSubjectAccessReview', body?.spec, ns);
      }
      return sendJson(res, 201, out);
    }
    switch (verb) {
      case 'get': {
        if (sub === 'log') {
          const e = await reg.get(r, ns, info.name);
          return send(res, 200, podLog(e.obj, q), 'text/plain');
        }
        const e = await reg.get(r, ns, info.name, q.get('resourceVersion') ?? undefined);
        if (sub === 'scale') return sendJson(res, 200, toScale(r, e.obj));
        if (wantsTable(req.headers.accept)) return respondObject(st, r, req, res, 200, e.obj, q);
        return send(res, 200, reg.entryJson(r, e));
      }
      case 'list': {
        const lo = listOptions(r, q);
        const l = await reg.list(r, ns, lo);
        const meta: Record<string, unknown> = { resourceVersion: String(l.revision) };
        if (l.continue) meta.continue = l.continue;
        if (l.remainingItemCount !== undefined) meta.remainingItemCount = l.remainingItemCount;
        if (wantsTable(req.headers.accept)) {
          return sendJson(res, 200, toTable(r, l.items.map((e) => e.obj), clock.nowMs(), (q.get('includeObject') as IncludeObject) || 'Metadata', meta));
        }
        const head = `{"kind":${JSON.stringify(r.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(r.group, r.version))},"metadata":${JSON.stringify(meta)},"items":[`;
        const parts: string[] = new Array(l.items.length);
        for (let i = 0; i < l.items.length; i++) parts[i] = reg.entryJson(r, l.items[i]!);
        return send(res, 200, head + parts.join(',') + ']}');
      }
      case 'watch':
        return watch(st, r, ns, info, q, req, res);
      case 'create': {
        const dryRun = dryRunOf(q);
        const body = decodeBody(await readBody(req), req.headers['content-type']) as KObject;
        if (sub === 'binding') return bind(st, r, ns, info.name, body, res);
        if (sub === 'token') return sendJson(res, 201, await tokenRequest(st, ns, info.name, body, dryRun));
        if (sub === 'eviction') {
          await evictPod(reg, ns, info.name, body, dryRun);
          return sendJson(res, 201, successStatus());
        }
        if (sub) throw newMethodNotSupported(r, 'create');
        checkFields(r, body, q, res, '', true);
        if (info.name && body?.metadata?.name && body.metadata.name !== info.name) {
          throw newBadRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${info.name})`);
        }
        const warnings: string[] = [];
        // handOff: the response only reads the result (its JSON, or a Table), so the watch cache may keep it.
        const obj = await reg.create(r, ns, body, { dryRun, fieldManager: fieldManagerOf(q, req), warnings, admitRequest: requestEscalationCheck(req), userInfo: webhookUserOf(req), handOff: true });
        addWarnings(res, warnings);
        return respondObject(st, r, req, res, 201, obj, q);
      }
      case 'update': {
        const dryRun = dryRunOf(q);
        const raw = await readBody(req);
        const body = decodeBody(raw, req.headers['content-type']) as KObject;
        checkFields(r, body, q, res, '', !sub);
        const fieldManager = fieldManagerOf(q, req);
        if (sub === 'scale') {
          const out = await reg.guaranteedUpdate(r, ns, info.name, (cur) => {
            if (!cur) throw newNotFound(r, info.name);
            return fromScale(r, cur, body);
          }, { dryRun, fieldManager, subresource: 'scale' });
          return sendJson(res, 200, toScale(r, out.obj));
        }
        const warnings: string[] = [];
        // The decoded body is ours: the first attempt takes it as is (no copy); a retry
        // (conflict with a stale cached object) decodes the request again.
        let first: KObject | undefined = body;
        const out = await reg.guaranteedUpdate(r, ns, info.name, () => {
          if (first) {
            const b = first;
            first = undefined;
            return b;
          }
          const again = decodeBody(raw, req.headers['content-type']) as KObject;
          pruneUnknown(r, again);
          return again;
        }, { dryRun, fieldManager, subresource: sub, admitRequest: requestEscalationCheck(req), warnings, userInfo: webhookUserOf(req), handOff: true });
        addWarnings(res, warnings);
        return respondObject(st, r, req, res, out.created ? 201 : 200, out.obj, q);
      }
      case 'patch':
        return patch(st, r, ns, info, q, req, res);
      case 'delete': {
        const dryRun = dryRunOf(q);
        const opts = await deleteOptions(req, q);
        const d = await reg.delete(r, ns, info.name, opts, { dryRun, userInfo: webhookUserOf(req) });
        const code = !d.deleted && opts.orphanDependents === false ? 202 : 200;
        return respondObject(st, r, req, res, code, d.body, q);
      }
      case 'deletecollection': {
        const dryRun = dryRunOf(q);
        const opts = await deleteOptions(req, q);
        const items = await reg.deleteCollection(r, ns, listOptions(r, q), opts, { dryRun, userInfo: webhookUserOf(req) });
        return sendJson(res, 200, { kind: r.listKind, apiVersion: apiVersionOf(r.group, r.version), metadata: {}, items });
      }
      default:
        throw newMethodNotSupported(r, verb);
    }
  }

  async function deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const buf = await readBody(req);
    let o: DeleteOptions = {};
    if (buf.length > 0 && buf.toString().trim() !== '') {
      o = decodeBody(buf, req.headers['content-type']) as DeleteOptions;
      if (!o || typeof o !== 'object') o = {};
    }
    const g = intParam(q, 'gracePeriodSeconds');
    if (g !== undefined) o.gracePeriodSeconds = g;
    const pp = q.get('propagationPolicy');
    if (pp) o.propagationPolicy = pp as DeleteOptions['propagationPolicy'];
    const od = boolParam(q, 'orphanDependents');
    if (od !== undefined) o.orphanDependents = od;
    if (o.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(o.propagationPolicy)) {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [fieldErr.notSupported('propagationPolicy', o.propagationPolicy, ['Foreground', 'Background', 'Orphan', 'nil'])]);
    }
    if (o.propagationPolicy && o.orphanDependents !== undefined) {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'DeleteOptions' }, '', [fieldErr.invalid('propagationPolicy', o.propagationPolicy, 'orphanDependents and deletionPropagation cannot be both set')]);
    }
    return o;
  }

  /** serviceaccounts/token: a bound service account token (TokenRequest), signed with the cluster's key. */
  async function tokenRequest(st: ClusterState, ns: string, name: string, body: KObject, dryRun: boolean): Promise<KObject> {
    const saRes = st.scheme.get('', 'v1', 'serviceaccounts')!;
    const sa = await st.registry.getFromStore(saRes, ns, name);
    if (!sa) throw newNotFound(saRes, name);
    const spec = body?.spec ?? {};
    const expirationSeconds: number = spec.expirationSeconds ?? 3600;
    if (!Number.isInteger(expirationSeconds) || expirationSeconds < 600) {
      throw newInvalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, name, [fieldErr.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes')]);
    }
    if (expirationSeconds > 2 ** 32) {
      throw newInvalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, name, [fieldErr.tooLong('spec.expirationSeconds', 2 ** 32)]);
    }
    const audiences: string[] = spec.audiences?.length ? spec.audiences : ['https://kubernetes.default.svc'];
    let pod: { name: string; uid: string } | undefined;
    const ref = spec.boundObjectRef;
    if (ref?.kind === 'Pod') {
      const p = await st.registry.getFromStore(st.scheme.get('', 'v1', 'pods')!, ns, ref.name);
      if (!p) throw newNotFound({ group: '', resource: 'pods' }, ref.name);
      if (ref.uid && ref.uid !== p.obj.metadata?.uid) throw newConflict({ group: '', resource: 'pods' }, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      pod = { name: ref.name, uid: p.obj.metadata!.uid! };
    }
    const { ensureSigningKey } = await import('../authn/signing-keys.ts');
    const { issueServiceAccountToken } = await import('../authn/service-account-tokens.ts');
    const now = clock.now();
    const issued = dryRun
      ? { token: '', expirationTimestamp: new Date(now.getTime() + expirationSeconds * 1000) }
      : await issueServiceAccountToken(await ensureSigningKey(opts.backend, st.cluster.uid), {
          issuer: st.cluster.oidcIssuer || 'https://kubernetes.default.svc',
          audiences,
          namespace: ns,
          serviceAccount: { name, uid: sa.obj.metadata!.uid! },
          pod,
          expirationSeconds,
          now,
        });
    return {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name, namespace: ns, creationTimestamp: timestamp(now) },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token: issued.token, expirationTimestamp: timestamp(issued.expirationTimestamp) },
    };
  }

  async function bind(st: ClusterState, r: Resource, ns: string, name: string, body: KObject, res: ServerResponse): Promise<void> {
    const target = body?.target?.name;
    if (!target) throw newInvalid({ group: '', kind: 'Binding' }, name, [fieldErr.required('target.name', '')]);
    const podName = body.metadata?.name ?? name;
    // As upstream's binding storage: straight to storage (no validation, admission or managed fields of the pod),
    // keeping the status it sets (a main-resource update would reset status and drop PodScheduled).
    await st.registry.guaranteedUpdate(r, ns, podName, (cur) => {
      if (!cur) throw newNotFound(r, podName);
      if (cur.metadata?.deletionTimestamp) throw newConflict({ group: '', resource: 'pods/binding' }, podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
      if (cur.spec?.nodeName) throw newConflict({ group: '', resource: 'pods/binding' }, podName, `pod ${podName} is already assigned to node "${cur.spec.nodeName}"`);
      const next = cloneJson(cur);
      next.spec.nodeName = target;
      next.metadata!.resourceVersion = '';
      const conds: any[] = (next.status ??= {}).conditions ?? [];
      if (!conds.some((c) => c.type === 'PodScheduled')) conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(clock.now()) });
      next.status.conditions = conds;
      return next;
    }, { subresource: 'binding', storageOnly: true });
    sendJson(res, 201, successStatus());
  }

  async function patch(st: ClusterState, r: Resource, ns: string, info: RequestInfo, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reg = st.registry;
    const dryRun = dryRunOf(q);
    const ct = mediaType(req.headers['content-type']);
    const allowed = r.crd ? PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json') : PATCH_TYPES;
    if (!allowed.includes(ct)) throw newUnsupportedMediaType(allowed);
    const isApply = ct === 'application/apply-patch+yaml';
    const fieldManager = fieldManagerOf(q, req, isApply);
    const force = boolParam(q, 'force') ?? false;
    if (!isApply && q.has('force')) throw newBadRequest('force: Forbidden: may not be specified for non-apply patch');
    const body = decodeBody(await readBody(req), isApply ? 'application/apply-patch+yaml' : 'application/json');
    const sub = info.subresource;
    if (isApply) {
      const applied = body as KObject;
      if (!applied || typeof applied !== 'object' || Array.isArray(applied)) throw newBadRequest('error decoding YAML: invalid object');
      checkFields(r, applied, q, res);
      if (!applied.apiVersion || !applied.kind) throw newBadRequest(`Object 'Kind' is missing in '${JSON.stringify(applied)}'`);
      if (applied.metadata?.name && applied.metadata.name !== info.name) {
        throw newBadRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${info.name})`);
      }
    }
    const warnings: string[] = [];
    const out = await reg.guaranteedUpdate(
      r,
      ns,
      info.name,
      (cur) => {
        if (isApply) {
          const applied = cloneJson(body as KObject);
          const merged = serverSideApply(cur, applied, { manager: fieldManager, force, time: timestamp(clock.now()), subresource: sub === 'status' ? 'status' : '' }, r);
          merged.metadata ??= {};
          merged.metadata.name = info.name;
          if (cur) merged.metadata.resourceVersion = (body as KObject).metadata?.resourceVersion ?? '';
          else delete merged.metadata.resourceVersion;
          return merged;
        }
        if (!cur) throw newNotFound(r, info.name);
        const base = sub === 'scale' ? toScale(r, cur) : cur;
        const baseRv = base.metadata?.resourceVersion;
        let patched: KObject;
        // base is ours: the registry's private copy of the current object (or a Scale made from it).
        if (ct === 'application/json-patch+json') patched = applyJsonPatch(base, body, true);
        else if (ct === 'application/merge-patch+json') patched = applyMergePatch(base, body, true);
        else patched = applyStrategicMergePatch(base, body, true);
        if (sub === 'scale') {
          const next = fromScale(r, cur, patched);
          if (patched.metadata?.resourceVersion === baseRv) next.metadata!.resourceVersion = '';
          return next;
        }
        patched.metadata ??= {};
        if (patched.metadata.resourceVersion === baseRv) patched.metadata.resourceVersion = '';
        // Unknown fields are looked for in the patched object (patch directives are not fields).
        checkFields(r, patched, q, res, '', false, () => (ct === 'application/strategic-merge-patch+json' ? goValue(body) : JSON.stringify(patched)));
        return patched;
      },
      { dryRun, fieldManager, operation: isApply ? 'Apply' : 'Update', subresource: sub, createIfMissing: isApply && !sub, admitRequest: requestEscalationCheck(req), warnings, userInfo: webhookUserOf(req), handOff: true },
    );
    addWarnings(res, warnings);
    if (sub === 'scale') return sendJson(res, 200, toScale(r, out.obj));
    return respondObject(st, r, req, res, out.created ? 201 : 200, out.obj, q);
  }

  async function watch(st: ClusterState, r: Resource, ns: string, info: RequestInfo, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reg = st.registry;
    const lo = listOptions(r, q);
    if (info.name) lo.fieldSelector = [...(lo.fieldSelector ?? []), { field: 'metadata.name', op: '=', value: info.name }];
    const rvStr = q.get('resourceVersion') ?? '';
    const rv = parseResourceVersion(rvStr);
    if (rv === undefined) throw newBadRequest(`invalid resource version: ${rvStr}`);
    const sendInitial = boolParam(q, 'sendInitialEvents');
    const bookmarks = boolParam(q, 'allowWatchBookmarks') ?? false;
    const rvMatch = q.get('resourceVersionMatch') ?? '';
    if (sendInitial !== undefined) {
      const errs = [];
      if (rvMatch !== 'NotOlderThan') errs.push(fieldErr.forbidden('resourceVersionMatch', 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'));
      if (!bookmarks && sendInitial) errs.push(fieldErr.required('allowWatchBookmarks', 'sendInitialEvents requires setting allowWatchBookmarks to true'));
      if (errs.length) throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', errs);
    } else if (rvMatch) {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided')]);
    }
    const timeoutSeconds = intParam(q, 'timeoutSeconds') ?? Math.floor(1800 * (1 + Math.random()));
    const table = wantsTable(req.headers.accept);
    const include = (q.get('includeObject') as IncludeObject) || 'Metadata';
    const ls = lo.labelSelector ?? [];
    const fs = lo.fieldSelector ?? [];
    const filtered = ls.length > 0 || fs.length > 0;
    const matches = (o: KObject | undefined) => !!o && matchLabels(ls, o.metadata?.labels) && (fs.length === 0 || matchFields(fs, selectableFields(r, o)));

    if (rvStr === '' || sendInitial) await reg.fresh();
    else await reg.cache.ready();
    if (rv > reg.cache.rev) await reg.cache.waitFor(rv);

    // Everything from here to addWatcher is synchronous: the snapshot and the live stream meet exactly.
    const cache = reg.cache;
    const initial = rvStr === '' || rv === 0 || sendInitial === true;
    const snapshot = initial ? cache.list(r.storageResource, ns).filter((e) => !filtered || matches(e.obj)) : [];
    let startRev = initial ? cache.rev : rv;
    const replay = initial ? [] : cache.eventsSince(rv, r.storageResource, ns);

    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Cache-Control', 'no-cache, private');
    res.setHeader('Transfer-Encoding', 'chunked');
    res.flushHeaders();
    let closed = false;
    let firstTable = true;
    const objJson = (o: KObject, cached?: () => string): string => {
      if (table) {
        const t = toTable(r, [o], clock.nowMs(), include, {}, firstTable);
        firstTable = false;
        return JSON.stringify(t);
      }
      if (cached && o.apiVersion === apiVersionOf(r.group, r.version) && o.kind === r.kind) return cached();
      return JSON.stringify(reg.forVersion(r, o));
    };
    let pending: string[] = [];
    const flush = (memo: FlushMemo): void => {
      if (closed || pending.length === 0) return;
      // Watchers of one resource usually get the same lines: encode them once per flush.
      let chunk: Buffer;
      const same = memo.lines !== undefined && memo.lines.length === pending.length && memo.lines.every((l, i) => l === pending[i]);
      if (same) chunk = memo.chunk!;
      else {
        chunk = Buffer.from(pending.length === 1 ? pending[0]! : pending.join(''), 'utf8');
        memo.lines = pending;
        memo.chunk = chunk;
      }
      pending = [];
      const ok = res.write(chunk);
      stream.lastSent = Date.now();
      if (!ok && res.writableLength > 64 * 1024 * 1024) {
        log.warn({ cluster: st.cluster.name, resource: r.resource }, 'closing slow watch');
        stream.close();
      }
    };
    // Events of one tick go out in one socket write.
    const push = (line: string): void => {
      if (closed) return;
      if (pending.length === 0) scheduleFlush(flush);
      pending.push(line);
    };
    const write = (type: string, json: string): void => push(`{"type":"${type}","object":${json}}\n`);
    const sameVersion = (o: KObject) => !table && o.apiVersion === apiVersionOf(r.group, r.version) && o.kind === r.kind;
    /** The event's line, built once per event and type and shared by every watcher. */
    const eventLine = (e: CacheEvent, type: string): string => {
      if (!sameVersion(e.obj)) return `{"type":"${type}","object":${objJson(e.obj)}}\n`;
      const lines = (e.lines ??= {});
      return (lines[type] ??= encodedLine(e, type));
    };
    const bookmarkObj = (rev: number, initialEnd = false) => {
      const meta: Record<string, unknown> = { resourceVersion: String(rev) };
      if (initialEnd) meta.annotations = { 'k8s.io/initial-events-end': 'true' };
      return JSON.stringify({ kind: r.kind, apiVersion: apiVersionOf(r.group, r.version), metadata: meta });
    };
    const emit = (e: CacheEvent): void => {
      if (e.rev <= startRev) return;
      startRev = e.rev;
      if (!filtered) {
        push(eventLine(e, e.type));
        return;
      }
      if (e.type === 'DELETED') {
        if (matches(e.prev ?? e.obj)) push(eventLine(e, 'DELETED'));
        return;
      }
      const now = matches(e.obj);
      const before = e.type === 'ADDED' ? false : matches(e.prev);
      if (now && before) push(eventLine(e, 'MODIFIED'));
      else if (now) push(eventLine(e, 'ADDED'));
      else if (before) push(eventLine(e, 'DELETED'));
    };
    const stream: WatchStream = {
      lastSent: Date.now(),
      bookmarks,
      bookmark: () => write('BOOKMARK', bookmarkObj(Math.max(startRev, cache.rev))),
      close: () => {
        if (closed) return;
        flush({});
        closed = true;
        if (st.watches.has(stream)) watchCount--;
        unsubscribe();
        clearTimeout(timer);
        st.watches.delete(stream);
        res.end();
      },
    };
    let unsubscribe = () => {};
    const timer = setTimeout(() => stream.close(), timeoutSeconds * 1000);
    req.on('close', () => stream.close());
    res.on('close', () => stream.close());
    if (replay === undefined) {
      // Older than the cache's window: served from the store (range at rv, then its events), 410 only once compacted.
      const expired = (compactRev: number) => {
        write('ERROR', JSON.stringify(newResourceExpired(`too old resource version: ${rv} (${compactRev})`).status));
        stream.close();
      };
      const compactRev = await opts.backend.compactRevision();
      if (rv < compactRev) return expired(compactRev);
      try {
        unsubscribe = await watchFromStore({
          backend: opts.backend,
          registryPrefix: cache.prefix,
          resource: r.storageResource,
          namespace: r.namespaced ? ns : '',
          afterRevision: rv,
          onEvents: (evs) => {
            for (const e of evs) emit(e);
          },
          onError: (err) => (isCompacted(err) ? expired(err.compactRevision ?? rv) : stream.close()),
        });
      } catch (e) {
        if (isCompacted(e)) return expired(e.compactRevision ?? rv);
        throw e;
      }
      if (closed) return unsubscribe();
      st.watches.add(stream);
      watchCount++;
      return;
    }
    unsubscribe = cache.addWatcher({
      resource: r.storageResource,
      namespace: r.namespaced ? ns : '',
      onEvents: (evs) => {
        for (const e of evs) emit(e);
      },
      onClose: () => stream.close(),
    });
    st.watches.add(stream);
    watchCount++;
    for (const e of snapshot) write('ADDED', objJson(e.obj, () => reg.entryJson(r, e)));
    if (sendInitial) write('BOOKMARK', bookmarkObj(startRev, true));
    for (const e of replay) emit(e);
  }

  return {
    async handle(cluster, req, res, path) {
      try {
        await serve(cluster, req, res, path);
      } catch (e) {
        if (isStatusError(e)) return sendStatus(res, e);
        log.error({ err: e, path, cluster: cluster.name }, 'kube api internal error');
        sendStatus(res, newInternalError(e));
      }
    },
    registry(cluster) {
      return state(cluster).registry;
    },
    closeWatches(uid) {
      const st = states.get(uid);
      if (st) for (const w of [...st.watches]) w.close();
    },
    forget(uid) {
      const st = states.get(uid);
      if (!st) return;
      for (const w of st.watches) w.close();
      st.namespaces.stop();
      st.crds.stop();
      st.gc.stop();
      st.quota.stop();
      st.registry.cache.close();
      states.delete(uid);
    },
    close() {
      clearInterval(ticker);
      for (const uid of [...states.keys()]) this.forget(uid);
    },
  };
}
