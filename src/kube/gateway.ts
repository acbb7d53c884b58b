/**
 * The Kubernetes gateway: the request router of the HTTPS endpoint.
 *
 *   /clusters/<endpointId>/<rest>  -> ClusterDirectory.lookup(endpointId), then
 *                                     ClusterApiHandler.handle(cluster, req, res, '/<rest>')
 *   unknown endpointId            -> 404 metav1.Status, reason NotFound (clusters "<id>" not found)
 *   cluster not ACTIVE/UPDATING   -> 503 metav1.Status, reason ServiceUnavailable
 *   anything else                 -> 404 metav1.Status, reason NotFound
 *
 * Status bodies come from kube/apiserver/errors.ts, as the API server's own.
 * It also classifies each request (verb and resource, as kube-apiserver's
 * request-info does) for metrics and logs, without consuming the body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { newGenericNotFound, newInternalError, newNotFound, newServiceUnavailable, type StatusError } from './apiserver/errors.ts';
import { parseRequestInfo } from './apiserver/request-info.ts';
import type { ClusterApiHandler, ClusterDirectory, ClusterInfo } from './types.ts';

/** The statuses whose clusters serve their Kubernetes API. */
export const SERVING_STATUSES: ReadonlySet<string> = new Set(['ACTIVE', 'UPDATING']);

/** writeStatus sends a StatusError's Status as JSON with its code (ends the response if it has started). */
export function writeStatus(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.status);
  res.writeHead(err.status.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
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

const LONG_RUNNING_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);

/**
 * requestInfo reduces kube-apiserver's request info (apiserver/request-info.ts)
 * to what metrics and shutdown need: the verb, the resource (with
 * /subresource), and whether the request is long-running (watch, exec,
 * attach, port-forward, proxy, log follow), as upstream's
 * LongRunningRequestCheck decides.
 */
export function requestInfo(method: string, path: string, query: URLSearchParams): Omit<KubeRequestInfo, 'endpointId' | 'path'> {
  const info = parseRequestInfo(method.toUpperCase(), path, query);
  if (!info.isResourceRequest) return { verb: method.toLowerCase(), resource: '', longRunning: false };
  const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  const longRunning =
    info.verb === 'watch' || LONG_RUNNING_SUBRESOURCES.has(info.subresource) || (info.subresource === 'log' && query.get('follow') === 'true');
  return { verb: info.verb, resource, longRunning };
}

export interface KubeGatewayOptions {
  directory: ClusterDirectory;
  handler: ClusterApiHandler;
  log?: Logger;
  /** Called when a response finishes (or its connection closes), for metrics. */
  onRequest?(info: KubeRequestInfo, code: number, durationSeconds: number): void;
  /** (auth) Serves paths outside /clusters/ (the OIDC issuers, server/oidc.ts); resolves true when it answered. */
  extraRoutes?(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
  /**
   * (auth) Authenticates a request to a serving cluster before its API server
   * sees it (server/kube-auth.ts); resolves false when it has answered (401).
   */
  authenticate?(cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
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
      if (opts.extraRoutes && (await opts.extraRoutes(req, res, info.path))) return; // (auth) OIDC issuers
      writeStatus(res, newGenericNotFound());
      return;
    }
    let cluster: ClusterInfo | undefined;
    try {
      cluster = directory.lookup(info.endpointId);
    } catch (e) {
      log?.error({ err: e, endpointId: info.endpointId }, 'cluster directory lookup failed');
      writeStatus(res, newInternalError(e));
      return;
    }
    if (!cluster) {
      writeStatus(res, newNotFound({ group: '', resource: 'clusters' }, info.endpointId));
      return;
    }
    if (!SERVING_STATUSES.has(cluster.status)) {
      writeStatus(res, newServiceUnavailable(`the Kubernetes API of cluster "${cluster.name}" is not available while the cluster is ${cluster.status}`));
      return;
    }
    try {
      if (opts.authenticate && !(await opts.authenticate(cluster, req, res, info.path))) return; // (auth) 401 sent
      await handler.handle(cluster, req, res, info.path);
    } catch (e) {
      log?.error({ err: e, cluster: cluster.name, path: info.path }, 'cluster API handler failed');
      writeStatus(res, newInternalError(e));
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
    writeStatus(res, newServiceUnavailable(`the Kubernetes API of cluster "${cluster.name}" is not served by this localeks build yet`));
  },
};
