/**
 * Authenticating a request to a cluster's Kubernetes API, as EKS does:
 *
 *  1. Bearer tokens starting "k8s-aws-v1." are EKS tokens: the presigned STS
 *     URL is checked (eks-token.ts), its signature verified with the caller's
 *     secret over `x-k8s-aws-id: <cluster name>` whenever the secret is known
 *     (always under IAM enforcement, and for the default test/test keys), and
 *     the caller's identity resolved as STS GetCallerIdentity would.
 *  2. The IAM identity is mapped to a Kubernetes user by the cluster's
 *     authentication mode: API (access entries only), API_AND_CONFIG_MAP
 *     (access entries first, then aws-auth), CONFIG_MAP (aws-auth only). In
 *     CONFIG_MAP mode the cluster creator is an implicit system:masters
 *     admin when bootstrapClusterCreatorAdminPermissions was true, as on EKS.
 *  3. Other bearer tokens are service account tokens (JWTs) signed by the
 *     cluster's key.
 *
 * Failures produce a 401 reason that never echoes the token.
 */
import { mapIdentity, parseAwsAuth, renderTemplate, canonicalizeArn, type CallerIdentity } from './aws-auth.ts';
import { parseToken, TOKEN_LIFETIME_MS, TOKEN_PREFIX, TokenError, verifyTokenSignature, type ParsedToken } from './eks-token.ts';
import { parseStaticToken, StaticTokenError, verifyStaticTokenSignature, type ParsedStaticToken } from './static-token.ts';
import type { TokenCache } from './token-cache.ts';
import type { ValidityWindow } from './auth-result-cache.ts';
import type { PolicyAssociation } from '../authz/access-policies.ts';

/** The caller behind an access key, as the AWS side resolves it (aws/core/identity.ts resolveCaller). */
export interface ResolvedCaller {
  accountId: string;
  arn: string;
  userId: string;
  /** The secret to verify with; undefined when unknown (accepted only without IAM enforcement). */
  secret?: string;
  sessionToken?: string;
  expiresAtMs?: number;
  known: boolean;
  inactive?: boolean;
}

/** An EKS access entry as the authenticator needs it. */
export interface AccessEntryView {
  principalArn: string;
  type: string;
  username: string;
  kubernetesGroups: string[];
  policies: PolicyAssociation[];
}

/** What the authenticator reads about one cluster. */
export interface ClusterAuthSource {
  clusterName: string;
  /** The cluster's ARN (static tokens are bound to it). */
  clusterArn?: string;
  accountId: string;
  authenticationMode: 'CONFIG_MAP' | 'API_AND_CONFIG_MAP' | 'API' | string;
  /** The IAM principal that created the cluster and whether it got admin (bootstrapClusterCreatorAdminPermissions). */
  creatorArn?: string;
  creatorAdmin?: boolean;
  /** data of kube-system/aws-auth, or undefined when absent. */
  awsAuthData(): Record<string, string> | undefined;
  /** The access entry for a principal ARN (IAM role or user ARN as stored). */
  accessEntries(): AccessEntryView[];
  /** Private DNS name of an EC2 instance, for {{EC2PrivateDNSName}}. */
  ec2PrivateDnsName(instanceId: string): string | undefined;
}

export interface AuthenticatedUser {
  name: string;
  groups: string[];
  uid?: string;
  extra: Record<string, string[]>;
  /** EKS access policies that apply on top of RBAC (access entries). */
  policies: PolicyAssociation[];
  /** How the user was mapped, for logs and `kubectl auth whoami`. */
  via: 'access-entry' | 'aws-auth' | 'cluster-creator' | 'service-account' | 'static-token';
}

/**
 * The outcome of authenticating a credential. `validity`: the window the
 * credential itself stays good in (its expiry, its STS session's), for
 * callers that cache the result (auth-result-cache.ts).
 */
export type AuthnResult = { ok: true; user: AuthenticatedUser; warnings: string[]; validity?: ValidityWindow } | { ok: false; reason: string };

export interface EksTokenAuthDeps {
  resolveCaller(accessKeyId: string): ResolvedCaller;
  /** Wall-clock now: clients presign EKS tokens with their own time. */
  now(): Date;
  /** Simulated now, for the expiry of STS sessions (issued on the simulated clock); default now(). */
  sessionNow?(): Date;
  enforceIam: boolean;
  /** host:port forms of localeks's AWS endpoint, accepted as STS hosts in EKS tokens. */
  localStsHosts?: readonly string[];
  /** Verified EKS and static tokens (form and signature for a secret); the principal and its mapping are still checked per request. */
  cache?: TokenCache<VerifiedToken>;
}

/** A token whose form was checked for `cluster` and whose signature matched `secret` (undefined: nothing to verify with). */
export type VerifiedToken = ({ kind: 'eks'; parsed: ParsedToken } | { kind: 'static'; parsed: ParsedStaticToken }) & { cluster: string; secret?: string };

function clusterId(src: ClusterAuthSource): string {
  return `${src.clusterArn ?? ''}\0${src.clusterName}`;
}

/** cached is the cache's entry for the token, if it was verified for this cluster. */
function cached(deps: EksTokenAuthDeps, token: string, cluster: string, nowMs: number): VerifiedToken | undefined {
  const hit = deps.cache?.get(token, nowMs);
  return hit && hit.cluster === cluster ? hit : undefined;
}

/** roleName strips an IAM role ARN's path: arn:aws:iam::1:role/a/b/name -> name (with account). */
function roleKey(arn: string): string | undefined {
  const m = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return m ? `${m[1]}:${m[2]!.toLowerCase()}` : undefined;
}

/** findAccessEntry matches the caller's canonical ARN against entries (roles by account and name, since sessions carry no path). */
export function findAccessEntry(entries: AccessEntryView[], canonicalArn: string): AccessEntryView | undefined {
  const rk = roleKey(canonicalArn);
  return entries.find((e) => {
    if (rk) return roleKey(e.principalArn) === rk;
    return e.principalArn.toLowerCase() === canonicalArn.toLowerCase();
  });
}

function withAuthenticated(groups: string[]): string[] {
  return groups.includes('system:authenticated') ? groups : [...groups, 'system:authenticated'];
}

/** authenticateEksToken runs steps 1 and 2 for a "k8s-aws-v1." bearer token. */
export function authenticateEksToken(token: string, src: ClusterAuthSource, deps: EksTokenAuthDeps): AuthnResult {
  const now = deps.now();
  const cluster = clusterId(src);
  const hit = cached(deps, token, cluster, now.getTime());
  let parsed: ParsedToken;
  if (hit?.kind === 'eks') parsed = hit.parsed;
  else {
    try {
      parsed = parseToken(token, now, deps.localStsHosts);
    } catch (e) {
      return { ok: false, reason: e instanceof TokenError ? e.message : 'invalid token' };
    }
  }
  const caller = deps.resolveCaller(parsed.accessKeyId);
  if (deps.enforceIam && !caller.known) return { ok: false, reason: 'STS: The security token included in the request is invalid.' };
  if (caller.inactive) return { ok: false, reason: 'STS: The security token included in the request is invalid.' };
  if (!hit || hit.secret !== caller.secret) {
    if (caller.secret !== undefined && !verifyTokenSignature(parsed, src.clusterName, caller.secret)) {
      return { ok: false, reason: 'STS: The request signature we calculated does not match the signature you provided.' };
    }
    deps.cache?.set(token, { kind: 'eks', parsed, cluster, secret: caller.secret }, parsed.signedAt.getTime() + TOKEN_LIFETIME_MS);
  }
  if (caller.sessionToken !== undefined && parsed.sessionToken !== caller.sessionToken) {
    return { ok: false, reason: 'STS: The security token included in the request is invalid.' };
  }
  if (caller.expiresAtMs !== undefined && (deps.sessionNow ?? deps.now)().getTime() > caller.expiresAtMs) {
    return { ok: false, reason: 'STS: The security token included in the request is expired' };
  }
  const identity: CallerIdentity = { arn: caller.arn, accountId: caller.accountId, userId: caller.userId, accessKeyId: parsed.accessKeyId };
  return withValidity(mapCaller(identity, src), now.getTime(), parsed.signedAt.getTime() + TOKEN_LIFETIME_MS, caller, deps);
}

/** withValidity adds the window a verified token stays good in: its own expiry (wall clock) and its STS session's (simulated clock). */
function withValidity(r: AuthnResult, wallNowMs: number, wallThroughMs: number, caller: ResolvedCaller, deps: EksTokenAuthDeps): AuthnResult {
  if (!r.ok) return r;
  r.validity = { wallFromMs: wallNowMs, wallThroughMs };
  if (caller.expiresAtMs !== undefined) {
    r.validity.simFromMs = (deps.sessionNow ?? deps.now)().getTime();
    r.validity.simThroughMs = caller.expiresAtMs;
  }
  return r;
}

/**
 * authenticateStaticToken verifies a `localeks-v1.` token (static-token.ts)
 * as an EKS token is verified: the principal's access key must still be
 * valid (known under IAM enforcement, active, its session unexpired and the
 * same), the signature made with its secret, then the identity is mapped.
 */
export function authenticateStaticToken(token: string, src: ClusterAuthSource, deps: EksTokenAuthDeps): AuthnResult {
  const now = deps.now();
  const cluster = clusterId(src);
  const hit = cached(deps, token, cluster, now.getTime());
  let parsed: ParsedStaticToken;
  if (hit?.kind === 'static') parsed = hit.parsed;
  else {
    try {
      parsed = parseStaticToken(token, src.clusterArn ?? '', now);
    } catch (e) {
      return { ok: false, reason: e instanceof StaticTokenError ? e.message : 'invalid token' };
    }
  }
  const caller = deps.resolveCaller(parsed.claims.akid);
  if ((deps.enforceIam && !caller.known) || caller.inactive) return { ok: false, reason: 'the access key of the token is invalid' };
  if (!hit || hit.secret !== caller.secret) {
    if (caller.secret !== undefined && !verifyStaticTokenSignature(parsed, caller.secret)) return { ok: false, reason: 'token signature is invalid' };
    deps.cache?.set(token, { kind: 'static', parsed, cluster, secret: caller.secret }, parsed.claims.exp * 1000);
  }
  if (caller.sessionToken !== undefined && parsed.claims.stk !== caller.sessionToken) return { ok: false, reason: 'the session of the token is invalid' };
  if (caller.expiresAtMs !== undefined && (deps.sessionNow ?? deps.now)().getTime() > caller.expiresAtMs) return { ok: false, reason: 'the session of the token is expired' };
  const identity: CallerIdentity = { arn: caller.arn, accountId: caller.accountId, userId: caller.userId, accessKeyId: parsed.claims.akid };
  return withValidity(mapCaller(identity, src), now.getTime(), parsed.claims.exp * 1000 - 1, caller, deps);
}

/** mapCaller applies the cluster's authentication mode to an IAM identity. */
export function mapCaller(identity: CallerIdentity, src: ClusterAuthSource): AuthnResult {
  let canon;
  try {
    canon = canonicalizeArn(identity.arn);
  } catch {
    return { ok: false, reason: 'unrecognized identity ARN' };
  }
  const warnings: string[] = [];
  const mode = src.authenticationMode;
  const extra: Record<string, string[]> = {
    arn: [identity.arn],
    canonicalArn: [canon.canonicalArn],
    accessKeyId: [identity.accessKeyId],
    principalId: [identity.userId.split(':')[0]!],
  };
  if (canon.sessionName !== undefined) extra.sessionName = [canon.sessionName];

  if (mode === 'API' || mode === 'API_AND_CONFIG_MAP') {
    const entry = findAccessEntry(src.accessEntries(), canon.canonicalArn);
    if (entry) {
      const name = renderTemplate(entry.username, identity, canon, { ec2PrivateDnsName: (id) => src.ec2PrivateDnsName(id) });
      if (name === undefined) return { ok: false, reason: 'access entry username template could not be resolved' };
      const groups = [...entry.kubernetesGroups];
      if (entry.type === 'EC2_LINUX' || entry.type === 'EC2_WINDOWS' || entry.type === 'HYBRID_LINUX') groups.push('system:nodes');
      if (entry.type === 'FARGATE_LINUX') groups.push('system:nodes', 'system:node-proxier');
      return { ok: true, warnings, user: { name, groups: withAuthenticated(groups), extra, policies: entry.policies, via: 'access-entry' } };
    }
  }
  if (mode === 'CONFIG_MAP' || mode === 'API_AND_CONFIG_MAP') {
    if (mode === 'CONFIG_MAP' && src.creatorAdmin && src.creatorArn && canonicalizeSafe(src.creatorArn) === canon.canonicalArn.toLowerCase()) {
      return { ok: true, warnings, user: { name: 'kubernetes-admin', groups: withAuthenticated(['system:masters']), extra, policies: [], via: 'cluster-creator' } };
    }
    const cfg = parseAwsAuth(src.awsAuthData());
    for (const e of cfg.errors) warnings.push(`aws-auth ConfigMap: ${e}`);
    const mapped = mapIdentity(cfg, identity, { ec2PrivateDnsName: (id) => src.ec2PrivateDnsName(id) });
    if (mapped) return { ok: true, warnings, user: { name: mapped.username, groups: withAuthenticated(mapped.groups), extra, policies: [], via: 'aws-auth' } };
  }
  return { ok: false, reason: `identity ${canon.canonicalArn} is not mapped in this cluster (authentication mode ${mode})` };
}

function canonicalizeSafe(arn: string): string | undefined {
  try {
    return canonicalizeArn(arn).canonicalArn.toLowerCase();
  } catch {
    return undefined;
  }
}

/** isEksToken tells whether a bearer token is in the EKS format. */
export function isEksToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX);
}
