/**
 * The HTTP bindings shared by the REST protocols: input members bound to URI
 * labels, query-string keys and headers, and output members bound to headers
 * and the status code.
 */
import type { ServiceModel, Shape } from '../model.ts';
import { formatTextScalar, parseTextScalar, type WireRequest } from '../protocol.ts';

/** readBindings returns the input members carried outside the body. */
export function readBindings(model: ServiceModel, shape: Shape, req: WireRequest, labels: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    if (!ref.location) continue;
    const s = model.shapes[ref.shape]!;
    const wire = ref.locationName ?? m;
    switch (ref.location) {
      case 'uri': {
        const v = labels[wire];
        if (v !== undefined) out[m] = parseTextScalar(s, v, m);
        break;
      }
      case 'querystring': {
        if (s.type === 'list') {
          const all = req.query.getAll(wire);
          if (all.length > 0) out[m] = all.map((x) => parseTextScalar(model.shapes[s.member!.shape]!, x, m));
        } else if (s.type === 'map') {
          const map: Record<string, unknown> = {};
          for (const [k, v] of req.query) map[k] = v;
          out[m] = map;
        } else {
          const v = req.query.get(wire);
          if (v !== null) out[m] = parseTextScalar(s, v, m);
        }
        break;
      }
      case 'header': {
        const v = req.headers[wire.toLowerCase()];
        if (v !== undefined) {
          const text = Array.isArray(v) ? v.join(',') : v;
          out[m] = s.type === 'list' ? text.split(',').map((x) => x.trim()) : parseTextScalar(s, text, m);
        }
        break;
      }
      case 'headers': {
        const prefix = wire.toLowerCase();
        const map: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (k.startsWith(prefix) && v !== undefined) map[k.slice(prefix.length)] = Array.isArray(v) ? v.join(',') : v;
        }
        if (Object.keys(map).length > 0) out[m] = map;
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** writeBindings sets output headers from header-bound members and returns the status code member's value, if any. */
export function writeBindings(model: ServiceModel, shape: Shape, output: Record<string, unknown>, headers: Record<string, string>): number | undefined {
  let status: number | undefined;
  for (const [m, ref] of Object.entries(shape.members ?? {})) {
    if (!ref.location) continue;
    const v = output[m];
    if (v === undefined || v === null) continue;
    if (ref.location === 'statusCode') status = Number(v);
    else if (ref.location === 'header') headers[(ref.locationName ?? m).toLowerCase()] = formatTextScalar(model.shapes[ref.shape]!, v);
    else if (ref.location === 'headers') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) headers[`${(ref.locationName ?? '').toLowerCase()}${k}`] = String(x);
    }
  }
  return status;
}
