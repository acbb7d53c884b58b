/**
 * TokenReview and SubjectAccessReview as kube-apiserver answers them
 * (pkg/registry/authentication/tokenreview, pkg/registry/authorization/
 * subjectaccessreview): the gateway records, per request, how to review
 * (setRequestReviews), and the API server asks (requestReviews) when it
 * creates one of these virtual objects.
 *
 * TokenReview: an empty spec.token is 400 "token is required for
 * TokenReview in authentication"; otherwise status.authenticated, the user
 * (username, uid, groups, extra), the audiences the token is good for among
 * spec.audiences (default: the API server's), and status.error when the
 * token is refused.
 */
import type { IncomingMessage } from 'node:http';
import { newBadRequest, newInvalid, fieldErr } from '../apiserver/errors.ts';
import type { Attributes, Decision, UserInfo } from '../authz/rbac.ts';
import { authenticateToken, type RequestAuthSources } from './request-auth.ts';

export interface TokenReviewStatus {
  authenticated: boolean;
  user: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/** tokenReviewStatus answers a TokenReview spec; throws 400 for an empty token. */
export async function tokenReviewStatus(spec: { token?: unknown; audiences?: unknown } | undefined, sources: RequestAuthSources): Promise<TokenReviewStatus> {
  const token = typeof spec?.token === 'string' ? spec.token : '';
  if (token === '') throw newBadRequest('token is required for TokenReview in authentication');
  const audiences = Array.isArray(spec?.audiences) ? spec.audiences.map(String) : [];
  const r = await authenticateToken(token, audiences, sources);
  if (!r.ok) return { authenticated: false, user: {}, error: `[invalid bearer token, ${r.reason}]` };
  const u = r.user;
  return {
    authenticated: true,
    user: { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(Object.keys(u.extra).length ? { extra: u.extra } : {}) },
    audiences: r.audiences,
  };
}

/** attributesOfSpec turns a SubjectAccessReview spec's attributes into authorizer attributes. */
export function attributesOfSpec(spec: { resourceAttributes?: any; nonResourceAttributes?: any }): Attributes {
  if (spec.resourceAttributes) {
    const ra = spec.resourceAttributes;
    const a: Attributes = { verb: String(ra.verb ?? ''), resourceRequest: true, apiGroup: String(ra.group ?? ''), resource: String(ra.resource ?? '') };
    if (ra.subresource) a.subresource = String(ra.subresource);
    if (ra.namespace) a.namespace = String(ra.namespace);
    if (ra.name) a.name = String(ra.name);
    return a;
  }
  const na = spec.nonResourceAttributes ?? {};
  return { verb: String(na.verb ?? ''), resourceRequest: false, path: String(na.path ?? '') };
}

/**
 * subjectAccessReviewStatus answers a (Local)SubjectAccessReview for the
 * user the spec names, with `can` (RBAC for that user). A local review is
 * forced to its namespace, as upstream requires.
 */
export function subjectAccessReviewStatus(
  kind: 'SubjectAccessReview' | 'LocalSubjectAccessReview',
  spec: any,
  namespace: string,
  can: (user: UserInfo, a: Attributes) => Decision,
): { allowed: boolean; reason?: string; denied?: boolean } {
  spec ??= {};
  const errs = [];
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) errs.push(fieldErr.invalid('spec.resourceAttributes', null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'));
  if (spec.resourceAttributes && spec.nonResourceAttributes) errs.push(fieldErr.invalid('spec.nonResourceAttributes', spec.nonResourceAttributes, 'cannot be specified in combination with resourceAttributes'));
  if (!spec.user && !(Array.isArray(spec.groups) && spec.groups.length > 0)) errs.push(fieldErr.invalid('spec.user', spec.user ?? '', 'at least one of user or group must be specified'));
  if (errs.length > 0) throw newInvalid({ group: 'authorization.k8s.io', kind }, '', errs);
  if (kind === 'LocalSubjectAccessReview' && spec.resourceAttributes && (spec.resourceAttributes.namespace ?? '') !== namespace) {
    throw newBadRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
  }
  const a = attributesOfSpec(spec);
  if (kind === 'LocalSubjectAccessReview' && a.resourceRequest) a.namespace = namespace;
  const user: UserInfo = { name: String(spec.user ?? ''), groups: Array.isArray(spec.groups) ? spec.groups.map(String) : [], extra: spec.extra ?? {} };
  if (spec.uid) user.uid = String(spec.uid);
  const d = can(user, a);
  return d.allowed ? { allowed: true, reason: d.reason } : { allowed: false };
}

/** What the API server may ask the gateway about a request's reviews. */
export interface RequestReviews {
  tokenReview(spec: any): Promise<TokenReviewStatus>;
  subjectAccessReview(kind: 'SubjectAccessReview' | 'LocalSubjectAccessReview', spec: any, namespace: string): { allowed: boolean; reason?: string };
}

const reviews = new WeakMap<IncomingMessage, RequestReviews>();

/** setRequestReviews records how to answer reviews on this request (the gateway). */
export function setRequestReviews(req: IncomingMessage, r: RequestReviews): void {
  reviews.set(req, r);
}

/** requestReviews: the recorded reviewer, undefined on servers without authentication. */
export function requestReviews(req: IncomingMessage): RequestReviews | undefined {
  return reviews.get(req);
}
