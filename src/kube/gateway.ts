/**
 * The Kubernetes gateway: the request router of the HTTPS endpoint.
 *
 *   /clusters/<endpointId>/<rest>  -> ClusterDirectory.lookup(endpointId), then
 *                                     ClusterApiHandler.handle(cluster, req, res, '/<rest>')
 *   unknown endpointId            -> 404 metav1.Status, reason NotFound
 *   cluster not ACTIVE/UPDATING   -> 503 metav1.Status, reason ServiceUnavailable
 *   anything else                 -> 404 metav1.Status, reason NotFound
 *
 * It also classifies each request (verb and resource, as kube-apiserver's
 * request-info does) for metrics and logs, without consuming the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ClusterApiHandler, ClusterDirectory, ClusterInfo } from './types.ts';

/** The statuses whose clusters serve their Kubernetes API. */
export const SERVING_STATUSES: ReadonlySet<string> = new Set(['ACTIVE', 'UPDATING']);

/** A metav1.Status as the API server returns it for failures. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string };
  code: number;
}

/** kubeStatus builds a failure Status body. */
export function kubeStatus(code: number, reason: string, message: string, details?: KubeStatus['details']): KubeStatus {
  const s: KubeStatus = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

/** writeStatus sends a Status as JSON with its code (no-op if the response has started). */
export function writeStatus(res: ServerResponse, status: KubeStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(status);
  res.writeHead(status.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
  res.end(body);
}

/** What the gateway learned about one request, for metrics and logs. */
export interface KubeRequestInfo {
  /** The endpoint id after /clusters/ ('' outside /clusters/). */
  endpointId: string;
  /** Path after /clusters/<endpointId>. */
  path: string;
  /** get, list, watch, create, update, patch, delete, deletecollection, or the lower-case HTTP method for non-resource paths. */
  verb: string;
  /** Resource (with /subresource), or '' for non-resource paths such as /version. */
  resource: string;
  /** Whether the request is long-running (watch, logs follow, exec...): not waited for on shutdown. */
  longRunning: boolean;
}

/**
 * requestInfo classifies a path the way kube-apiserver's RequestInfoFactory
 * does (staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go),
 * reduced to what metrics need.
 */
export function requestInfo(method: string, path: string, query: URLSearchParams): Omit<KubeRequestInfo, 'endpointId' | 'path'> {
  const parts = path.split('/').filter(Boolean);
  const m = method.toUpperCase();
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return { verb: m.toLowerCase(), resource: '', longRunning: false };
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length === 0) return { verb: m.toLowerCase(), resource: '', longRunning: false };
  const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : rest[0]!;
  const hasName = rest.length >= 2;
  const isWatch = watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
  let verb: string;
  switch (m) {
    case 'GET':
    case 'HEAD':
      verb = isWatch ? 'watch' : hasName ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = hasName ? 'delete' : 'deletecollection';
      break;
    default:
      verb = m.toLowerCase();
  }
  const sub = rest[2];
  const longRunning = isWatch || sub === 'exec' || sub === 'attach' || sub === 'portforward' || sub === 'proxy' || (sub === 'log' && query.get('follow') === 'true');
  return { verb, resource, longRunning };
}

export interface KubeGatewayOptions {
  directory: ClusterDirectory;
  handler: ClusterApiHandler;
  log?: Logger;
  /** Called when a response finishes (or its connection closes), for metrics. */
  onRequest?(info: KubeRequestInfo, code: number, durationSeconds: number): void;
}

/** A request router for the HTTPS server. */
export interface KubeGateway {
  /** Serves one request; never rejects (failures become a Status). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Classifies a request without serving it. */
  classify(req: IncomingMessage): KubeRequestInfo;
}

const PREFIX = '/clusters/';

/** createKubeGateway builds the router described above. */
export function createKubeGateway(opts: KubeGatewayOptions): KubeGateway {
  const { directory, handler, log, onRequest } = opts;

  function classify(req: IncomingMessage): KubeRequestInfo {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    if (!pathname.startsWith(PREFIX)) {
      return { endpointId: '', path: pathname, ...requestInfo(req.method ?? 'GET', pathname, query) };
    }
    const after = pathname.slice(PREFIX.length);
    const slash = after.indexOf('/');
    const rawId = slash < 0 ? after : after.slice(0, slash);
    let endpointId = rawId;
    try {
      endpointId = decodeURIComponent(rawId);
    } catch {
      // keep it raw: it will not match a cluster
    }
    const path = slash < 0 ? '/' : after.slice(slash);
    return { endpointId, path, ...requestInfo(req.method ?? 'GET', path, query) };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const info = classify(req);
    if (onRequest) {
      let reported = false;
      const report = () => {
        if (reported) return;
        reported = true;
        onRequest(info, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      };
      res.once('finish', report);
      res.once('close', report);
    }
    if (info.endpointId === '') {
      writeStatus(res, kubeStatus(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    let cluster: ClusterInfo | undefined;
    try {
      cluster = directory.lookup(info.endpointId);
    } catch (e) {
      log?.error({ err: e, endpointId: info.endpointId }, 'cluster directory lookup failed');
      writeStatus(res, kubeStatus(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
      return;
    }
    if (!cluster) {
      writeStatus(res, kubeStatus(404, 'NotFound', `cluster "${info.endpointId}" not found`, { name: info.endpointId, kind: 'clusters' }));
      return;
    }
    if (!SERVING_STATUSES.has(cluster.status)) {
      writeStatus(
        res,
        kubeStatus(503, 'ServiceUnavailable', `the Kubernetes API of cluster "${cluster.name}" is not available while the cluster is ${cluster.status}`, {
          name: cluster.name,
          kind: 'clusters',
        }),
      );
      return;
    }
    try {
      await handler.handle(cluster, req, res, info.path);
    } catch (e) {
      log?.error({ err: e, cluster: cluster.name, path: info.path }, 'cluster API handler failed');
      writeStatus(res, kubeStatus(500, 'InternalError', `Internal error occurred: ${(e as Error).message}`));
    }
  }

  return { handle, classify };
}

/** An empty ClusterDirectory: no clusters (used until the EKS API provides one). */
export const EMPTY_CLUSTER_DIRECTORY: ClusterDirectory = {
  lookup: () => undefined,
  all: () => [],
};

/** A ClusterApiHandler that answers 503 for every request (used until the Kubernetes API server is wired). */
export const UNAVAILABLE_CLUSTER_API: ClusterApiHandler = {
  async handle(cluster, _req, res) {
    writeStatus(res, kubeStatus(503, 'ServiceUnavailable', `the Kubernetes API of cluster "${cluster.name}" is not served by this localeks build yet`));
  },
};
