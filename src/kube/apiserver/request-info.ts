/**
 * Request info (apiserver/pkg/endpoints/request/requestinfo.go): turns a
 * method and a path (after /clusters/<id>) into what is being asked for.
 *
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}
 *   /api/v1/watch/...   (deprecated watch prefix)
 *
 * Verbs: GET → get|list|watch, POST → create, PUT → update, PATCH → patch,
 * DELETE → delete|deletecollection.
 */

export interface RequestInfo {
  isResourceRequest: boolean;
  /** The path (without query). */
  path: string;
  /** Lower-case verb: get, list, watch, create, update, patch, delete, deletecollection (or the HTTP method for non-resource requests). */
  verb: string;
  /** 'api' or 'apis' for resource requests. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the subresource (e.g. proxy paths). */
  parts: string[];
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Parses a request; `query` decides list vs watch (watch=true|1). */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  let parts = path.split('/').filter((p) => p !== '');
  if (parts.length === 0) return info;
  const prefix = parts[0]!;
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  parts = parts.slice(1);
  if (prefix === 'apis') {
    if (parts.length < 2) return info; // /apis, /apis/{group}
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  }
  if (parts.length < 1) return info; // /api
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length < 1) return info; // /api/v1, /apis/g/v
  info.isResourceRequest = true;

  switch (method.toUpperCase()) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = 'get';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = 'delete';
      break;
    default:
      info.verb = '';
  }
  if (parts[0] === 'watch') {
    info.verb = 'watch';
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  info.parts = parts.slice(3);
  // For the namespaces resource itself, the namespace of the request is the object's name.
  if (info.resource === 'namespaces' && parts[0] === 'namespaces') {
    info.namespace = info.name;
  }
  if (info.name === '' && info.verb === 'get') {
    const w = query.get('watch');
    info.verb = w === 'true' || w === '1' ? 'watch' : 'list';
  } else if (info.verb === 'get') {
    const w = query.get('watch');
    if (w === 'true' || w === '1') info.verb = 'watch';
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}
