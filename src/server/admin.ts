/**
 * The /_localeks/ routes on the AWS port: health, metrics, and whatever the
 * server adds (later: reset, snapshots, clock). Routes are keyed
 * 'METHOD /_localeks/path'; an unknown path answers 404, a known path with
 * another method 405, both as JSON {message}.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** One admin route handler; it owns the response. */
export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/**
 * Routes keyed 'METHOD /_localeks/path', e.g. 'POST /_localeks/reset'. A key
 * ending in '/*' matches every deeper path (e.g. 'GET /_localeks/snapshots/*');
 * exact keys win.
 */
export type AdminRoutes = Record<string, AdminHandler>;

export interface AdminRouterOptions {
  /** Health: ready decides 200 or 503; body is sent as JSON either way. */
  health(): { ready: boolean; body: unknown } | Promise<{ ready: boolean; body: unknown }>;
  metrics: Registry;
}

export interface AdminRouter {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Adds routes; throws if one already exists. */
  add(routes: AdminRoutes): void;
}

/** sendJson writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

export function createAdminRouter(opts: AdminRouterOptions): AdminRouter {
  const routes = new Map<string, AdminHandler>();
  const add = (more: AdminRoutes) => {
    for (const [k, h] of Object.entries(more)) {
      if (!/^[A-Z]+ \/_localeks\/[^*]*(\/\*)?$/.test(k)) throw new Error(`admin route "${k}" must look like "POST /_localeks/name"`);
      if (routes.has(k)) throw new Error(`admin route "${k}" is defined twice`);
      routes.set(k, h);
    }
  };
  add({
    'GET /_localeks/health': async (_req, res) => {
      const h = await opts.health();
      sendJson(res, h.ready ? 200 : 503, h.body);
    },
    'GET /_localeks/metrics': async (_req, res) => {
      const text = await opts.metrics.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    },
  });
  /** The longest '/*' route of this method covering path. */
  const wildcard = (method: string, path: string): AdminHandler | undefined => {
    let best: AdminHandler | undefined;
    let bestLen = -1;
    for (const [k, h] of routes) {
      if (!k.endsWith('/*') || !k.startsWith(`${method} `)) continue;
      const base = k.slice(method.length + 1, -1);
      if (path.startsWith(base) && path.length > base.length && base.length > bestLen) {
        best = h;
        bestLen = base.length;
      }
    }
    return best;
  };
  return {
    add,
    async handle(req, res, path) {
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET');
      const route = routes.get(`${method} ${path}`) ?? wildcard(method, path);
      if (route) {
        await route(req, res, new URL(req.url ?? '/', 'http://localeks'));
        return;
      }
      const allowed = [...routes.keys()].filter((k) => k.endsWith(` ${path}`) || (k.endsWith('/*') && path.startsWith(k.slice(k.indexOf(' ') + 1, -1)))).map((k) => k.split(' ')[0]!);
      if (allowed.length > 0) {
        res.setHeader('Allow', allowed.join(', '));
        sendJson(res, 405, { message: `method ${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}` });
        return;
      }
      sendJson(res, 404, { message: `no such localeks endpoint: ${path}` });
    },
  };
}
