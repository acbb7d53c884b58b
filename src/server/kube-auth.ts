/**
 * Authentication of requests to the clusters a server runs (the gateway's
 * `authenticate` hook): the sources request-auth.ts reads, taken from the
 * EKS state (authentication mode, access entries with their policies, the
 * cluster creator), the cluster's kube-system/aws-auth ConfigMap read live
 * through its registry, EC2 private DNS names, the AWS credentials (IAM keys,
 * STS sessions) and the cluster's service account signing key.
 *
 * A request that fails authentication gets 401 Unauthorized (metav1.Status)
 * and never reaches the API server; the reason is logged at debug level only.
 * Then (authorize: true) impersonation and RBAC plus EKS access policies
 * decide (403 with upstream's message), and the request carries its user,
 * its authorizer (self reviews, escalation checks) and its reviewer
 * (TokenReview, SubjectAccessReview). The issuer discovery paths are
 * answered here. Verified tokens, each cluster's JWKS and per-cluster
 * sources are kept for the server's life (token-cache.ts). The complete
 * result of a token (its user) is cached per cluster with every input it
 * was derived from (auth-result-cache.ts): the AWS documents read (by
 * revision), the access entries, the aws-auth ConfigMap and the objects a
 * service account token is bound to (by watch-cache key version), and the
 * credential's expiry; a request with a cached token checks those and
 * nothing else, so any change still applies on the next request. The
 * authenticator also registers the EKS Auth API's token reviewer
 * (aws/eks-auth/shared.ts): Pod Identity tokens are reviewed as TokenReview
 * would review them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AwsDeps } from '../aws/core/deps.ts';
import { resolveCaller } from '../aws/core/identity.ts';
import { describeInstance } from '../aws/ec2/shared.ts';
import { authenticationMode, clusterCreatorArn, clusterInfoOf, getCluster, listAccessEntries, scopeOfCluster } from '../aws/eks/shared.ts';
import { setClusterTokenReviewer } from '../aws/eks-auth/shared.ts';
import type { ClusterAuthSource, EksTokenAuthDeps, VerifiedToken } from '../kube/authn/authenticator.ts';
import { TokenCache } from '../kube/authn/token-cache.ts';
import { AuthResultCache, InputRecorder } from '../kube/authn/auth-result-cache.ts';
import { KeyVersions } from '../kube/authn/key-versions.ts';
import type { AwsState } from '../aws/core/state.ts';
import type { JWK } from 'jose';
import { authenticateRequest, authenticateToken, bearerToken, setRequestAuthorizer, setRequestUser, unauthorizedStatus, API_AUDIENCE, type RequestAuthorizer, type RequestAuthSources, type RequestUser } from '../kube/authn/request-auth.ts';
import { setRequestReviews, subjectAccessReviewStatus, tokenReviewStatus } from '../kube/authn/reviews.ts';
import { BindingIndex } from '../kube/authz/rbac-index.ts';
import { grantsFor } from '../kube/authz/access-policies.ts';
import { authorize, forbiddenMessage, rulesFor, type Attributes, type BindingLike, type RbacSource, type RoleLike, type RoleRef } from '../kube/authz/rbac.ts';
import { parseRequestInfo } from '../kube/apiserver/request-info.ts';
import { discoveryDocument, jwks, type LegacyTokenClaims, type VerifiedServiceAccountToken } from '../kube/authn/service-account-tokens.ts';
import { ensureSigningKey } from '../kube/authn/signing-keys.ts';
import type { ClusterRegistry } from '../kube/apiserver/registry/generic-store.ts';
import type { ClusterInfo } from '../kube/types.ts';
import type { Backend } from '../store/backend.ts';

export interface KubeAuthOptions {
  deps: AwsDeps;
  backend: Backend;
  /** The cluster's registry (aws-auth ConfigMap, service accounts). */
  registry(cluster: ClusterInfo): ClusterRegistry;
  log?: Logger;
  /** Authorize with RBAC and access policies after authenticating (403 Forbidden otherwise). */
  authorize?: boolean;
  /** Makes sure the cluster's bootstrap objects (RBAC policy) exist before authorizing. */
  ensureBootstrapped?(cluster: ClusterInfo): Promise<void>;
  /**
   * Fixed bearer tokens and their users, as kube-apiserver's
   * --token-auth-file (EKS sets none; `localeks serve` neither: for the
   * library and the auth benchmark's baseline). Checked before other tokens.
   */
  staticTokens?: ReadonlyMap<string, { name: string; groups: string[]; uid?: string }>;
}

/** attributesOf turns kube-apiserver's request info into authorizer attributes. */
export function attributesOf(info: ReturnType<typeof parseRequestInfo>): Attributes {
  if (!info.isResourceRequest) return { verb: info.verb.toLowerCase(), resourceRequest: false, path: info.path };
  const a: Attributes = { verb: info.verb, resourceRequest: true, apiGroup: info.apiGroup, resource: info.resource };
  if (info.subresource) a.subresource = info.subresource;
  if (info.namespace) a.namespace = info.namespace;
  if (info.name) a.name = info.name;
  return a;
}

/** forbiddenStatus is the 403 metav1.Status kube-apiserver answers for a denied request. */
export function forbiddenStatus(user: Pick<RequestUser, 'name' | 'groups'>, a: Attributes) {
  const details: Record<string, string> = {};
  if (a.resourceRequest) {
    if (a.name) details.name = a.name;
    if (a.apiGroup) details.group = a.apiGroup;
    details.kind = a.resource!;
  }
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: forbiddenMessage(user, a), reason: 'Forbidden', details, code: 403 };
}

/**
 * impersonation reads the Impersonate-* headers (upstream's
 * WithImpersonation filter): the user to act as and the authorizer checks
 * (verb impersonate on users, groups, serviceaccounts, uids, userextras).
 */
export function impersonation(req: IncomingMessage): { user: RequestUser; checks: Attributes[] } | undefined {
  let any = false;
  for (const k in req.headers) {
    if (k.startsWith('impersonate-')) {
      any = true;
      break;
    }
  }
  if (!any) return undefined;
  const h = req.headersDistinct ?? {};
  const userName = h['impersonate-user']?.[0];
  const groups = h['impersonate-group'] ?? [];
  const uid = h['impersonate-uid']?.[0];
  const extraKeys = Object.keys(h).filter((k) => k.startsWith('impersonate-extra-'));
  if (userName === undefined && groups.length === 0 && uid === undefined && extraKeys.length === 0) return undefined;
  const checks: Attributes[] = [];
  const sa = userName ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(userName) : null;
  if (sa) checks.push({ verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'serviceaccounts', namespace: sa[1]!, name: sa[2]! });
  else if (userName) checks.push({ verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'users', name: userName });
  for (const g of groups) checks.push({ verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'groups', name: g });
  if (uid !== undefined) checks.push({ verb: 'impersonate', resourceRequest: true, apiGroup: 'authentication.k8s.io', resource: 'uids', name: uid });
  const extra: Record<string, string[]> = {};
  for (const k of extraKeys) {
    const key = decodeURIComponent(k.slice('impersonate-extra-'.length));
    extra[key] = h[k] ?? [];
    for (const v of extra[key]!) checks.push({ verb: 'impersonate', resourceRequest: true, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: key, name: v });
  }
  const name = userName ?? '';
  const allGroups = [...groups];
  if (sa) allGroups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (name !== 'system:anonymous' && !allGroups.includes('system:authenticated')) allGroups.push('system:authenticated');
  const user: RequestUser = { name, groups: allGroups, extra, policies: [], via: 'static-token' };
  if (uid !== undefined) user.uid = uid;
  return { user, checks };
}

const rbacSources = new WeakMap<ClusterRegistry, RbacSource>();

/**
 * rbacSource reads roles and bindings from a cluster's watch cache
 * (synchronously; call reg.fresh() first), with bindings indexed by subject
 * (authz/rbac-index.ts), rebuilt when the cache's list changes. One source
 * per registry.
 */
export function rbacSource(reg: ClusterRegistry): RbacSource {
  let src = rbacSources.get(reg);
  if (src) return src;
  const res = (resource: string) => reg.scheme.get('rbac.authorization.k8s.io', 'v1', resource)!;
  const one = (resource: string, ns: string, name: string) => reg.cache.get(reg.keyFor(res(resource), ns, name))?.obj as unknown as RoleLike | undefined;
  const all = (resource: string, ns: string) => reg.cache.list(res(resource).storageResource, ns).map((e) => e.obj as unknown as BindingLike);
  const crbStorage = res('clusterrolebindings').storageResource;
  const rbStorage = res('rolebindings').storageResource;
  const index = new BindingIndex(
    (ns) => reg.cache.list(ns === '' ? crbStorage : rbStorage, ns),
    (e) => e.obj as unknown as BindingLike,
  );
  src = {
    getRole: (ns, name) => one('roles', ns, name),
    getClusterRole: (name) => one('clusterroles', '', name),
    listClusterRoleBindings: () => all('clusterrolebindings', ''),
    listRoleBindings: (ns) => all('rolebindings', ns),
    clusterRoleBindingsFor: (user) => index.clusterRoleBindingsFor(user),
    roleBindingsFor: (user, ns) => index.roleBindingsFor(user, ns),
  };
  rbacSources.set(reg, src);
  return src;
}

/** The gateway hook: resolves true when the request may go on (its user recorded), false after answering it (401, 403, or the issuer discovery documents). */
export type KubeAuthenticate = (cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

function withAuthenticatedGroup(groups: string[]): string[] {
  return groups.includes('system:authenticated') ? [...groups] : [...groups, 'system:authenticated'];
}

/** The non-resource paths of ServiceAccountIssuerDiscovery. */
const ISSUER_DISCOVERY = new Set(['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/']);

/** localHostsOf: the host:port forms a client may use for the AWS endpoint (loopback names are interchangeable). */
export function localHostsOf(endpoint: string): string[] {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return [];
  }
  const port = u.port ? `:${u.port}` : '';
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  return loopback.includes(u.hostname) ? loopback.map((h) => h + port) : [u.host];
}

/** What the authenticator keeps per cluster. */
interface ClusterAuth {
  cluster: ClusterInfo;
  /** The shared sources (TokenReview). */
  sources: RequestAuthSources;
  /** Complete results by bearer token (kube/authn/auth-result-cache.ts). */
  results: AuthResultCache<RequestUser>;
  /** Versions of the watch-cache objects results were derived from. */
  versions?: KeyVersions;
}

/** createKubeAuthenticator builds the hook described above. */
export function createKubeAuthenticator(opts: KubeAuthOptions): KubeAuthenticate {
  const { deps, backend, log } = opts;
  // Fixed tokens are looked up only for tokens no longer than the longest of them (hashing a long token for a map lookup is not free).
  let longestFixedToken = -1;
  for (const t of opts.staticTokens?.keys() ?? []) longestFixedToken = Math.max(longestFixedToken, t.length);
  const { state } = deps;

  const localStsHosts = localHostsOf(deps.config.awsEndpoint);
  // Verification caches (kube/authn/token-cache.ts) and each cluster's public keys, for the life of the server.
  const tokenCache = new TokenCache<VerifiedToken>();
  const serviceAccountTokenCache = new TokenCache<VerifiedServiceAccountToken>();
  const keySets = new Map<string, Promise<{ keys: JWK[] }>>();

  // EKS tokens are presigned by clients with their wall-clock time.
  const eksDeps: EksTokenAuthDeps = { resolveCaller: (akid) => resolveCaller(state, deps.config, akid), now: () => new Date(), sessionNow: () => new Date(deps.clock.nowMs()), enforceIam: deps.config.enforceIam, localStsHosts, cache: tokenCache };
  // The EKS Auth API reviews Pod Identity tokens with the cluster's API server, as EKS does (TokenReview semantics).
  setClusterTokenReviewer(deps, async (c, token, audience) => {
    const cluster = clusterInfoOf(state, { accountId: c.accountId, region: c.region }, c.name);
    if (!cluster) return { ok: false, reason: 'no such cluster' };
    const r = await authenticateToken(token, [audience], sources(cluster));
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  });

  /** Per cluster uid: the sources (built once; they read the live state on every call) and the cached results. */
  const perCluster = new Map<string, ClusterAuth>();

  function clusterAuth(cluster: ClusterInfo): ClusterAuth {
    const have = perCluster.get(cluster.uid);
    if (have) {
      have.cluster = cluster;
      return have;
    }
    const h: ClusterAuth = { cluster, sources: undefined as unknown as RequestAuthSources, results: new AuthResultCache<RequestUser>() };
    h.sources = makeSources(h);
    if (perCluster.size >= 1000) {
      const oldest = perCluster.keys().next().value!;
      perCluster.get(oldest)?.versions?.stop();
      perCluster.delete(oldest);
    }
    perCluster.set(cluster.uid, h);
    return h;
  }

  function sources(cluster: ClusterInfo): RequestAuthSources {
    return clusterAuth(cluster).sources;
  }

  /**
   * recordingState: the AWS state, its reads recorded as inputs of the result
   * being computed (a document by its revision, a collection by the identity
   * of its documents: AwsState replaces a document on every write).
   */
  function recordingState(rec: InputRecorder): AwsState {
    const s = Object.create(state) as AwsState;
    s.get = <T>(key: string): T | undefined => {
      const rev = state.revision(key);
      rec.add(`aws\0${key}`, { unchanged: () => state.revision(key) === rev });
      return state.get<T>(key);
    };
    s.list = <T>(prefix: string): T[] => {
      const docs = state.list<T>(prefix);
      rec.add(`aws-list\0${prefix}`, { unchanged: () => sameItems(state.list(prefix), docs) });
      return docs;
    };
    return s;
  }

  /**
   * entryOf reads one object of the cluster's watch cache (call reg.fresh()
   * first), recorded by the identity of its cache entry (a new entry per
   * change; none once deleted).
   */
  function entryOf(h: ClusterAuth, rec: InputRecorder | undefined, resource: string, ns: string, name: string): any | undefined {
    const reg = opts.registry(h.cluster);
    const key = reg.keyFor(reg.scheme.get('', 'v1', resource)!, ns, name);
    const e = reg.cache.get(key);
    if (rec) {
      if (h.versions?.cache !== reg.cache) {
        h.versions?.stop();
        h.versions = new KeyVersions(reg.cache);
      }
      const versions = h.versions;
      const v = versions.version(key);
      rec.add(`kube\0${key}`, { unchanged: () => versions.unchanged(key, v) && opts.registry(h.cluster).cache === versions.cache });
    }
    return e?.obj;
  }

  /**
   * The sources of one cluster. With a recorder, every input read is
   * recorded (the sources of one cache miss); without, the shared sources
   * (TokenReview).
   */
  function makeSources(h: ClusterAuth, rec?: InputRecorder): RequestAuthSources {
    const st = rec ? recordingState(rec) : state;
    const doc = () => getCluster(st, scopeOfCluster(h.cluster), h.cluster.name);
    const src: ClusterAuthSource = {
      get clusterName() {
        return h.cluster.name;
      },
      get clusterArn() {
        return doc()?.arn ?? `arn:aws:eks:${h.cluster.region}:${h.cluster.accountId}:cluster/${h.cluster.name}`;
      },
      get accountId() {
        return h.cluster.accountId;
      },
      get authenticationMode() {
        return authenticationMode(st, h.cluster);
      },
      get creatorArn() {
        return clusterCreatorArn(st, h.cluster);
      },
      get creatorAdmin() {
        return doc()?.accessConfig?.bootstrapClusterCreatorAdminPermissions !== false;
      },
      // aws-auth is read live from the watch cache (eks() waited for it to be fresh), only when the mode consults it.
      awsAuthData() {
        const e = entryOf(h, rec, 'configmaps', 'kube-system', 'aws-auth');
        return e ? ((e as { data?: Record<string, string> }).data ?? {}) : undefined;
      },
      accessEntries: () => listAccessEntries(st, h.cluster),
      ec2PrivateDnsName: (id) => {
        const dns = describeInstance(deps, scopeOfCluster(h.cluster), id)?.PrivateDnsName;
        rec?.add(`ec2\0${id}`, { unchanged: () => describeInstance(deps, scopeOfCluster(h.cluster), id)?.PrivateDnsName === dns });
        return dns;
      },
    };
    const pair = { src, deps: rec ? { ...eksDeps, resolveCaller: (akid: string) => resolveCaller(st, deps.config, akid) } : eksDeps };
    return {
      now: () => new Date(deps.clock.nowMs()),
      get kubernetesVersion() {
        return h.cluster.kubernetesVersion;
      },
      serviceAccountTokenCache,
      async eks() {
        await opts.registry(h.cluster).fresh();
        return pair;
      },
      async serviceAccountKeys() {
        const c = h.cluster;
        const issuer = c.oidcIssuer || API_AUDIENCE;
        rec?.add('issuer', { unchanged: () => (h.cluster.oidcIssuer || API_AUDIENCE) === issuer });
        let keys = keySets.get(c.uid);
        if (!keys) {
          keys = ensureSigningKey(backend, c.uid).then((k) => jwks([k]));
          keys.catch(() => keySets.delete(c.uid));
          keySets.set(c.uid, keys);
        }
        return { issuer, keys: await keys };
      },
      async legacySecretValid(c: LegacyTokenClaims, token: string) {
        await opts.registry(h.cluster).fresh();
        const secret = entryOf(h, rec, 'secrets', c.namespace, c.secretName);
        if (!secret || secret.type !== 'kubernetes.io/service-account-token') return false;
        const annotations = secret.metadata?.annotations ?? {};
        if (annotations['kubernetes.io/service-account.name'] !== c.serviceAccountName) return false;
        const stored = Buffer.from(String(secret.data?.token ?? ''), 'base64');
        const given = Buffer.from(token);
        if (stored.length !== given.length || !timingSafeEqual(stored, given)) return false;
        const sa = entryOf(h, rec, 'serviceaccounts', c.namespace, c.serviceAccountName);
        return !!sa && (!c.serviceAccountUid || sa.metadata?.uid === c.serviceAccountUid);
      },
      async serviceAccountValid(t: VerifiedServiceAccountToken) {
        const k = t.kubernetes;
        await opts.registry(h.cluster).fresh();
        const sa = entryOf(h, rec, 'serviceaccounts', k.namespace, k.serviceaccount.name);
        if (!sa || (k.serviceaccount.uid && sa.metadata?.uid !== k.serviceaccount.uid)) return false;
        if (k.pod) {
          const pod = entryOf(h, rec, 'pods', k.namespace, k.pod.name);
          if (!pod || pod.metadata?.uid !== k.pod.uid) return false;
        }
        if (k.secret) {
          const secret = entryOf(h, rec, 'secrets', k.namespace, k.secret.name);
          if (!secret || secret.metadata?.uid !== k.secret.uid) return false;
        }
        return true;
      },
    };
  }

  /**
   * kube-apiserver's ServiceAccountIssuerDiscovery: the cluster's OIDC
   * discovery document (issuer: the EKS OIDC issuer; jwks_uri on this API
   * server) and JWKS, for the callers RBAC lets read them
   * (system:service-account-issuer-discovery: service accounts, admins).
   */
  async function serveIssuerDiscovery(cluster: ClusterInfo, path: string, res: ServerResponse): Promise<void> {
    const { issuer, keys } = await sources(cluster).serviceAccountKeys();
    const isKeys = path.startsWith('/openid/v1/jwks');
    const doc = isKeys ? keys : { ...discoveryDocument(issuer), jwks_uri: `${deps.config.kubeEndpoint}/clusters/${cluster.endpointId}/openid/v1/jwks` };
    const body = JSON.stringify(doc);
    res.writeHead(200, { 'Content-Type': isKeys ? 'application/jwk-set+json' : 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'public, max-age=3600' });
    res.end(body);
  }

  return async (cluster, req, res, path) => {
    const h = clusterAuth(cluster);
    const header = req.headers.authorization;
    // The common form `Bearer <token>` is looked up as it is: a token cached before passed bearerToken's checks.
    const raw = header !== undefined && header.startsWith('Bearer ') ? header.slice(7) : undefined;
    let user: RequestUser | undefined;
    /** Bootstrapped (when authorizing) and the watch cache fresh, as authorization needs. */
    let ready = false;
    const fixed = raw !== undefined && raw.length <= longestFixedToken ? opts.staticTokens!.get(raw) : undefined;
    if (fixed) user = fixedUser(fixed);
    else if (raw !== undefined) {
      const cached = h.results.find(raw);
      if (cached) {
        // Get ready for authorization first, so that the inputs are checked against a fresh watch cache.
        ready = await prepare(cluster);
        user = h.results.validate(cached, Date.now(), deps.clock.nowMs());
      }
    }
    if (user === undefined) {
      const token = bearerToken(header);
      const other = token && token !== raw && token.length <= longestFixedToken ? opts.staticTokens!.get(token) : undefined;
      if (other) user = fixedUser(other);
      else {
        const rec = new InputRecorder();
        const r = await authenticateRequest(req, path, makeSources(h, rec));
        if (!r.ok) {
          if (log?.isLevelEnabled('debug')) log.debug({ cluster: cluster.name, path, reason: r.reason }, 'kube request not authenticated');
          const body = JSON.stringify(unauthorizedStatus());
          res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
          res.end(body);
          return false;
        }
        user = r.user;
        if (token && user.via !== 'anonymous') h.results.set(token, frozen(user), r.validity ?? {}, rec.inputs(), Date.now(), deps.clock.nowMs());
      }
    }
    setRequestUser(req, user);
    // Only TokenReview and (Local)SubjectAccessReview creates ask for these.
    if (path.endsWith('reviews')) {
      const srcs = h.sources;
      setRequestReviews(req, {
        tokenReview: (spec) => tokenReviewStatus(spec, srcs),
        subjectAccessReview: (kind, spec, ns) => subjectAccessReviewStatus(kind, spec, ns, (u, a) => authorize(rbacSource(opts.registry(cluster)), u, a)),
      });
    }
    if (!opts.authorize) return true;
    // Authorization (RBAC plus the access entry's EKS access policies), as kube-apiserver's --authorization-mode=Node,RBAC on EKS.
    if (!ready && !(await prepare(cluster))) return true; // the API server answers 503 for a cluster it cannot bootstrap
    const src = rbacSource(opts.registry(cluster));
    let grants = grantsFor(src, user.policies);
    // Impersonation (kubectl --as / --as-group): each impersonated attribute needs the `impersonate` verb.
    const imp = impersonation(req);
    if (imp) {
      for (const a of imp.checks) {
        if (!authorize(src, user, a, grants).allowed) {
          const body = JSON.stringify(forbiddenStatus(user, a));
          res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
          res.end(body);
          return false;
        }
      }
      user = imp.user;
      grants = []; // EKS access policies belong to the IAM principal, not to whom it impersonates
      setRequestUser(req, user);
    }
    setRequestAuthorizer(req, new UserAuthorizer(src, user, grants));
    const qi = req.url?.indexOf('?') ?? -1;
    const q = qi >= 0 ? new URLSearchParams(req.url!.slice(qi + 1)) : NO_QUERY;
    const a = attributesOf(parseRequestInfo((req.method ?? 'GET').toUpperCase(), path, q));
    if (authorize(src, user, a, grants).allowed) {
      if (ISSUER_DISCOVERY.has(path) && (req.method ?? 'GET') === 'GET') {
        await serveIssuerDiscovery(cluster, path, res);
        return false; // answered here
      }
      return true;
    }
    const body = JSON.stringify(forbiddenStatus(user, a));
    res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
    res.end(body);
    return false;
  };

  /** prepare makes sure of what authorization reads: the cluster's bootstrap objects (when authorizing) and a fresh watch cache. False when the bootstrap failed. */
  async function prepare(cluster: ClusterInfo): Promise<boolean> {
    let booted = true;
    if (opts.authorize) {
      try {
        await opts.ensureBootstrapped?.(cluster);
      } catch {
        booted = false;
      }
    }
    await opts.registry(cluster).fresh();
    return booted;
  }
}

/** The query of a request without one (parseRequestInfo only reads it). */
const NO_QUERY = new URLSearchParams();

/** The user of a fixed token (KubeAuthOptions.staticTokens). */
function fixedUser(fixed: { name: string; groups: string[]; uid?: string }): RequestUser {
  return { name: fixed.name, groups: withAuthenticatedGroup(fixed.groups), ...(fixed.uid ? { uid: fixed.uid } : {}), extra: {}, policies: [], via: 'static-token' };
}

/** frozen: a user shared by the requests of one token is read-only (its groups, extra and policies too). */
function frozen(user: RequestUser): RequestUser {
  Object.freeze(user.groups);
  for (const v of Object.values(user.extra)) Object.freeze(v);
  Object.freeze(user.extra);
  for (const p of user.policies) Object.freeze(p);
  Object.freeze(user.policies);
  return Object.freeze(user);
}

/** sameItems: two lists holding the same items (by identity) in the same order. */
function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the API server may ask about a request's user (self reviews, escalation checks): RBAC plus the user's access policy grants. */
class UserAuthorizer implements RequestAuthorizer {
  constructor(
    private readonly src: RbacSource,
    private readonly user: RequestUser,
    private readonly grants: ReturnType<typeof grantsFor>,
  ) {}

  can(a: Attributes) {
    return authorize(this.src, this.user, a, this.grants);
  }

  rules(ns: string) {
    return rulesFor(this.src, this.user, ns, this.grants);
  }

  roleRules(ref: RoleRef, ns: string) {
    const role = ref.kind === 'ClusterRole' ? this.src.getClusterRole(ref.name) : ref.kind === 'Role' && ns ? this.src.getRole(ns, ref.name) : undefined;
    return role ? (role.rules ?? []) : undefined;
  }
}
