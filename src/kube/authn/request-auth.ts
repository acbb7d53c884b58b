/**
 * Authenticating one HTTP request to a cluster's Kubernetes API, as
 * kube-apiserver's authentication filter does on EKS:
 *
 *  - `Authorization: Bearer k8s-aws-v1.…` is an EKS token (authenticator.ts);
 *  - `localeks-v1.…` is a localeks static token (static-token.ts), verified
 *    and mapped like an EKS token;
 *  - any other bearer token is a service account token (a JWT signed by the
 *    cluster's key, audience the API server's, service account still there),
 *    or the token of a legacy service account token Secret (issuer
 *    kubernetes/serviceaccount, valid while the Secret holds it);
 *  - no credentials: the request is anonymous (system:anonymous in
 *    system:unauthenticated), which upstream's default policy lets read only
 *    /healthz, /livez, /readyz and /version (system:public-info-viewer); from
 *    Kubernetes 1.32 EKS restricts anonymous requests to the three health
 *    paths (its 1.32 release notes), so /version needs credentials there;
 *    every other path answers 401, as does every request with a bad credential.
 *
 * The authenticated user rides with the request (requestUser) so that the API
 * server can answer SelfSubjectReview and authorize.
 */
import type { IncomingMessage } from 'node:http';
import type { Status } from '../api/types.ts';
import { isStaticToken } from './static-token.ts';
import type { TokenCache } from './token-cache.ts';
import type { ValidityWindow } from './auth-result-cache.ts';
import { authenticateEksToken, authenticateStaticToken, isEksToken, type AuthenticatedUser, type AuthnResult, type ClusterAuthSource, type EksTokenAuthDeps } from './authenticator.ts';
import { isLegacyToken, verifyLegacyServiceAccountToken, verifyServiceAccountToken, type LegacyTokenClaims, type VerifiedServiceAccountToken } from './service-account-tokens.ts';
import type { JWK } from 'jose';
import type { Attributes, Decision, PolicyRule, RoleRef } from '../authz/rbac.ts';

/** The audience kube-apiserver accepts by default (EKS runs with --api-audiences=https://kubernetes.default.svc). */
export const API_AUDIENCE = 'https://kubernetes.default.svc';

/** A request's user: an authenticated one, or the anonymous user. */
export type RequestUser = Omit<AuthenticatedUser, 'via'> & { via: AuthenticatedUser['via'] | 'anonymous' };

/** The user of a request without credentials. */
export const ANONYMOUS_USER: RequestUser = { name: 'system:anonymous', groups: ['system:unauthenticated'], extra: {}, policies: [], via: 'anonymous' };

const PUBLIC_PATHS = ['/healthz', '/livez', '/readyz', '/version'];
const HEALTH_PATHS = ['/healthz', '/livez', '/readyz'];

/**
 * isPublicPath: the non-resource paths upstream's system:public-info-viewer
 * grants to system:unauthenticated (and their subpaths); for a cluster of
 * Kubernetes 1.32 or later, only the health paths (EKS's anonymous
 * authentication restriction).
 */
export function isPublicPath(path: string, kubernetesVersion?: string): boolean {
  const paths = kubernetesVersion !== undefined && Number(kubernetesVersion.split('.')[1] ?? 0) >= 32 ? HEALTH_PATHS : PUBLIC_PATHS;
  return paths.some((p) => path === p || path === `${p}/` || path.startsWith(`${p}/`));
}

/** What authenticateRequest reads about the cluster (each piece read only when needed). */
export interface RequestAuthSources {
  /** The cluster's EKS auth source and the caller resolution (for EKS tokens). */
  eks(): Promise<{ src: ClusterAuthSource; deps: EksTokenAuthDeps }>;
  /** The cluster's issuer and public keys (for service account tokens). */
  serviceAccountKeys(): Promise<{ issuer: string; keys: { keys: JWK[] } }>;
  /** Whether the token's service account (and bound pod/secret) still exist with the uids in the token. */
  serviceAccountValid(t: VerifiedServiceAccountToken): Promise<boolean>;
  now(): Date;
  /** The cluster's Kubernetes version (decides the anonymous paths); upstream's paths when absent. */
  kubernetesVersion?: string;
  /** Verified service account tokens (signature, issuer, expiry), keyed by issuer and token. */
  serviceAccountTokenCache?: TokenCache<VerifiedServiceAccountToken>;
  /** Whether a legacy token's Secret still holds it and its service account still exists with the uid in the token. */
  legacySecretValid?(c: LegacyTokenClaims, token: string): Promise<boolean>;
}

/** The outcome; `validity` is the window the credential itself stays good in (absent: no expiry), for callers that cache it. */
export type RequestAuthResult = { ok: true; user: RequestUser; warnings: string[]; validity?: ValidityWindow } | { ok: false; reason: string };

/** bearerToken extracts the token of an `Authorization: Bearer <token>` header; '' when the header is absent, undefined when it is not a bearer credential. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return '';
  if (header.length < 8 || header.slice(0, 6).toLowerCase() !== 'bearer' || !/\s/.test(header[6]!)) return undefined;
  const token = header.slice(7).trim();
  return token === '' || /\s/.test(token) ? undefined : token;
}

/** authenticateRequest decides who sent a request (see the module comment). Reasons are for logs only; clients see "Unauthorized". */
export async function authenticateRequest(req: Pick<IncomingMessage, 'headers'>, path: string, sources: RequestAuthSources): Promise<RequestAuthResult> {
  const token = bearerToken(req.headers.authorization);
  if (token === undefined) return { ok: false, reason: 'unsupported Authorization scheme' };
  if (token === '') {
    return isPublicPath(path, sources.kubernetesVersion) ? { ok: true, user: ANONYMOUS_USER, warnings: [] } : { ok: false, reason: 'no credentials' };
  }
  if (isEksToken(token)) {
    const { src, deps } = await sources.eks();
    const r: AuthnResult = authenticateEksToken(token, src, deps);
    return r.ok ? { ok: true, user: r.user, warnings: r.warnings, validity: r.validity } : r;
  }
  if (isStaticToken(token)) {
    const { src, deps } = await sources.eks();
    const r: AuthnResult = authenticateStaticToken(token, src, deps);
    return r.ok ? { ok: true, user: r.user, warnings: r.warnings, validity: r.validity } : r;
  }
  if (isLegacyToken(token)) return authenticateLegacyToken(token, sources);
  return authenticateServiceAccountToken(token, sources);
}

/**
 * authenticateLegacyToken accepts the token of a `kubernetes.io/service-account-token`
 * Secret (kube-apiserver's legacy validator): signed by the cluster's key,
 * the Secret still holding exactly this token, its service account still
 * there with the same uid.
 */
async function authenticateLegacyToken(token: string, sources: RequestAuthSources): Promise<RequestAuthResult> {
  const { keys } = await sources.serviceAccountKeys();
  let c: LegacyTokenClaims;
  try {
    c = await verifyLegacyServiceAccountToken(token, keys);
  } catch (e) {
    return { ok: false, reason: `service account token: ${(e as Error).message}` };
  }
  if (!sources.legacySecretValid || !(await sources.legacySecretValid(c, token))) return { ok: false, reason: 'service account token: the Secret or its service account no longer exists' };
  return {
    ok: true,
    warnings: [],
    user: {
      name: `system:serviceaccount:${c.namespace}:${c.serviceAccountName}`,
      ...(c.serviceAccountUid ? { uid: c.serviceAccountUid } : {}),
      groups: ['system:serviceaccounts', `system:serviceaccounts:${c.namespace}`, 'system:authenticated'],
      extra: {},
      policies: [],
      via: 'service-account',
    },
  };
}

/** What a token authenticates as, for TokenReview: the user and the audiences it is good for. */
export type TokenAuthResult = { ok: true; user: RequestUser; audiences: string[] } | { ok: false; reason: string };

/**
 * authenticateToken authenticates a bearer token for the given target
 * audiences, as kube-apiserver's token authenticators do for TokenReview:
 * service account tokens must name one of them (the answer's audiences are
 * the intersection); EKS and static tokens are good only for the API
 * server's own audiences (webhook authenticators' implicit audiences).
 * `audiences` empty means the API server's audiences.
 */
export async function authenticateToken(token: string, audiences: string[], sources: RequestAuthSources): Promise<TokenAuthResult> {
  const { issuer } = await sources.serviceAccountKeys();
  const apiAudiences = [API_AUDIENCE, issuer];
  const want = audiences.length > 0 ? audiences : apiAudiences;
  if (isEksToken(token) || isStaticToken(token) || isLegacyToken(token)) {
    const implicit = audiences.length > 0 ? audiences.filter((a) => apiAudiences.includes(a)) : [API_AUDIENCE];
    if (implicit.length === 0) return { ok: false, reason: `token audiences ${goQuote(apiAudiences)} is invalid for the target audiences ${goQuote(want)}` };
    if (isLegacyToken(token)) {
      const r = await authenticateLegacyToken(token, sources);
      return r.ok ? { ok: true, user: r.user, audiences: implicit } : r;
    }
    const { src, deps } = await sources.eks();
    const r = isEksToken(token) ? authenticateEksToken(token, src, deps) : authenticateStaticToken(token, src, deps);
    return r.ok ? { ok: true, user: r.user, audiences: implicit } : r;
  }
  const r = await authenticateServiceAccountToken(token, sources, want);
  if (!r.ok) return r;
  return { ok: true, user: r.user, audiences: r.audiences ?? [] };
}

/** goQuote formats a string list as Go's %q does (["a" "b"]). */
function goQuote(list: string[]): string {
  return `[${list.map((a) => JSON.stringify(a)).join(' ')}]`;
}

async function authenticateServiceAccountToken(token: string, sources: RequestAuthSources, audiences?: string[]): Promise<RequestAuthResult & { audiences?: string[] }> {
  const { issuer, keys } = await sources.serviceAccountKeys();
  const now = sources.now();
  const cache = sources.serviceAccountTokenCache;
  const key = cache ? `${issuer}\0${token}` : '';
  let t = cache?.get(key, now.getTime());
  if (!t) {
    try {
      t = await verifyServiceAccountToken(token, issuer, keys, now);
    } catch (e) {
      return { ok: false, reason: `service account token: ${(e as Error).message}` };
    }
    cache?.set(key, t, t.expiresAt.getTime());
  }
  const want = audiences ?? [API_AUDIENCE, issuer];
  const matched = t.audiences.filter((a) => want.includes(a));
  if (matched.length === 0) return { ok: false, reason: `token audiences ${goQuote(t.audiences)} is invalid for the target audiences ${goQuote(want)}` };
  const k = t.kubernetes;
  if (!k?.namespace || !k.serviceaccount?.name) return { ok: false, reason: 'service account token: missing kubernetes.io claim' };
  if (!(await sources.serviceAccountValid(t))) return { ok: false, reason: 'service account token: the service account or its bound object no longer exists' };
  const extra: Record<string, string[]> = {};
  if (k.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.node) {
    extra['authentication.kubernetes.io/node-name'] = [k.node.name];
    extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
  }
  if (typeof t.claims.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${t.claims.jti}`];
  return {
    ok: true,
    warnings: [],
    audiences: matched,
    // jwtVerify accepts the token while the (simulated) time is before exp.
    validity: { simFromMs: now.getTime(), simThroughMs: t.expiresAt.getTime() - 1 },
    user: {
      name: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
      uid: k.serviceaccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
      extra,
      policies: [],
      via: 'service-account',
    },
  };
}

/** The 401 Status kube-apiserver answers for a request it cannot authenticate. */
export function unauthorizedStatus(): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };
}

// The user and authorizer ride on the request object under private symbols (cheaper per request than WeakMaps).
const USER = Symbol('localeks.requestUser');
const AUTHORIZER = Symbol('localeks.requestAuthorizer');
type WithAuth = IncomingMessage & { [USER]?: RequestUser; [AUTHORIZER]?: RequestAuthorizer };

/** setRequestUser records who sent a request (the gateway, after authenticating it). */
export function setRequestUser(req: IncomingMessage, user: RequestUser): void {
  (req as WithAuth)[USER] = user;
}

/** requestUser is the user recorded for a request, undefined when none was (servers without authentication). */
export function requestUser(req: IncomingMessage): RequestUser | undefined {
  return (req as WithAuth)[USER];
}

/** What the API server may ask about a request's user (SelfSubjectAccessReview, SelfSubjectRulesReview). */
export interface RequestAuthorizer {
  can(a: Attributes): Decision;
  rules(namespace: string): PolicyRule[];
  /** The rules of a role reference from a binding in `namespace` ('' for cluster bindings); undefined when the role does not exist. */
  roleRules(ref: RoleRef, namespace: string): PolicyRule[] | undefined;
}

/** setRequestAuthorizer records the authorizer of a request's user (the gateway, after authorizing it). */
export function setRequestAuthorizer(req: IncomingMessage, a: RequestAuthorizer): void {
  (req as WithAuth)[AUTHORIZER] = a;
}

/** requestAuthorizer is the authorizer recorded for a request, undefined when authorization is not enforced. */
export function requestAuthorizer(req: IncomingMessage): RequestAuthorizer | undefined {
  return (req as WithAuth)[AUTHORIZER];
}

/** selfAccessReview answers a SelfSubjectAccessReview spec (status.allowed, as upstream words it). */
export function selfAccessReview(authz: RequestAuthorizer, spec: { resourceAttributes?: any; nonResourceAttributes?: any }): { allowed: boolean; reason?: string } {
  let a: Attributes;
  if (spec.resourceAttributes) {
    const ra = spec.resourceAttributes;
    a = { verb: String(ra.verb ?? ''), resourceRequest: true, apiGroup: String(ra.group ?? ''), resource: String(ra.resource ?? '') };
    if (ra.subresource) a.subresource = String(ra.subresource);
    if (ra.namespace) a.namespace = String(ra.namespace);
    if (ra.name) a.name = String(ra.name);
  } else {
    const na = spec.nonResourceAttributes ?? {};
    a = { verb: String(na.verb ?? ''), resourceRequest: false, path: String(na.path ?? '') };
  }
  const d = authz.can(a);
  return d.allowed ? { allowed: true, reason: d.reason } : { allowed: false };
}

/** selfRulesReview answers a SelfSubjectRulesReview for a namespace. */
export function selfRulesReview(authz: RequestAuthorizer, namespace: string) {
  const rules = authz.rules(namespace);
  return {
    resourceRules: rules.filter((r) => !r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}) })),
    nonResourceRules: rules.filter((r) => r.nonResourceURLs?.length).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
    incomplete: false,
  };
}
