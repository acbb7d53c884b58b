/**
 * Resources answered without storage: access reviews and token reviews.
 * Until authentication/RBAC land (their own issue) every caller is the
 * cluster admin, so reviews allow everything.
 */
import type { Resource } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { newBadRequest } from './errors.ts';

export function handleVirtual(r: Resource, body: KObject, ns: string): KObject {
  if (!body || typeof body !== 'object') throw newBadRequest('Object \'Kind\' is missing');
  const out: KObject = { kind: r.kind, apiVersion: `${r.group}/${r.version}`, metadata: { ...(body.metadata ?? {}), creationTimestamp: null as unknown as string }, spec: body.spec ?? {} };
  switch (r.resource) {
    case 'selfsubjectaccessreviews':
    case 'subjectaccessreviews':
    case 'localsubjectaccessreviews':
      if (r.resource === 'localsubjectaccessreviews') out.metadata!.namespace = ns;
      out.status = { allowed: true, reason: 'localeks: authorization is not enforced yet' };
      break;
    case 'selfsubjectrulesreviews':
      out.status = { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
      break;
    case 'selfsubjectreviews':
      delete out.spec;
      out.status = { userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] } };
      break;
    case 'tokenreviews':
      out.status = { authenticated: false, user: {}, error: 'token review is not available yet' };
      break;
    default:
      throw newBadRequest(`${r.resource} cannot be created`);
  }
  return out;
}
