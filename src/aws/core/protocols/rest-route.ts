/**
 * Routing for the REST protocols (rest-json, rest-xml): each operation's
 * `http.method` + `http.requestUri` template compiled to a regular
 * expression; the most specific template (most literal characters, then
 * fewest labels) wins. Labels are returned percent-decoded.
 */
import type { ServiceModel } from '../model.ts';
import type { WireRequest } from '../protocol.ts';
import { AwsServiceError } from '../types.ts';

interface Route {
  op: string;
  re: RegExp;
  labels: string[];
  /** Fixed query keys from templates like /x?tagging (must be present). */
  fixedQuery: string[];
  score: number;
}

export interface RestRouter {
  match(method: string, path: string, query: URLSearchParams): { op: string; labels: Record<string, string> } | undefined;
  /** operationOf is Protocol.operationOf for a REST protocol: it keeps the matched route (labels) on the request for parseInput. */
  operationOf(req: WireRequest): { name: string | undefined; requested: string };
}

/** unknownRestOperation is Protocol.unknownOperation for the REST protocols (`requested` is "METHOD /path"). */
export function unknownRestOperation(requested: string, known: boolean): AwsServiceError {
  return new AwsServiceError('UnknownOperationException', known ? `Operation ${requested} is not implemented by localeks yet.` : `Unknown operation ${requested}`, 404);
}

export function createRestRouter(model: ServiceModel): RestRouter {
  const byMethod = new Map<string, Route[]>();
  for (const [name, op] of Object.entries(model.operations)) {
    const [pathT, queryT = ''] = op.http.requestUri.split('?');
    const labels: string[] = [];
    let literal = 0;
    const re = pathT!.replace(/\{([^}]+)\}|[^{]+/g, (m, label: string | undefined) => {
      if (label === undefined) {
        literal += m.length;
        return m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      const greedy = label.endsWith('+');
      labels.push(greedy ? label.slice(0, -1) : label);
      return greedy ? '(.+)' : '([^/]+)';
    });
    const fixedQuery = queryT
      .split('&')
      .filter(Boolean)
      .map((kv) => kv.split('=')[0]!);
    const route: Route = { op: name, re: new RegExp(`^${re.replace(/\/$/, '')}/?$`), labels, fixedQuery, score: literal * 100 - labels.length + fixedQuery.length * 1000 };
    const list = byMethod.get(op.http.method) ?? [];
    list.push(route);
    byMethod.set(op.http.method, list);
  }
  for (const list of byMethod.values()) list.sort((a, b) => b.score - a.score);
  const router: RestRouter = {
    operationOf(req) {
      const r = router.match(req.method, req.path, req.query);
      if (r) req.route = r;
      return { name: r?.op, requested: `${req.method} ${req.path}` };
    },
    match(method, path, query) {
      for (const r of byMethod.get(method) ?? []) {
        const m = r.re.exec(path);
        if (!m || !r.fixedQuery.every((k) => query.has(k))) continue;
        const labels: Record<string, string> = {};
        try {
          r.labels.forEach((l, i) => (labels[l] = decodeURIComponent(m[i + 1]!)));
        } catch {
          continue;
        }
        return { op: r.op, labels };
      }
      return undefined;
    },
  };
  return router;
}
