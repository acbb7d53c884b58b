/**
 * localeks static tokens: a bearer token for machines without the aws CLI
 * (`localeks kubeconfig --static-token`), bound to an IAM principal, one
 * cluster and an expiry, and verified by the server like an EKS token.
 *
 * Format: `localeks-v1.` + base64url(JSON claims) + `.` + hex signature.
 * Claims: `v` (1), `cluster` (the cluster ARN), `akid` (the access key id of
 * the IAM principal), `iat` and `exp` (epoch seconds), `stk` (the session
 * token, for temporary credentials). The signature is HMAC-SHA256 over
 * "LOCALEKS-KUBE-TOKEN-V1\n" + the base64url claims with the SigV4 key derived
 * from the principal's secret access key (scope: iat's date, region
 * "global", service "localeks-kube"). So, as with an EKS token, only the
 * holder of the secret can mint one, and the server checks it with the
 * secret it keeps for that key: a deactivated or deleted key, an expired
 * session or a deleted access entry stops the token at once, and the
 * identity is mapped (access entries, aws-auth) on every request. The token
 * is never accepted after `exp`, and `exp - iat` is at most MAX_LIFETIME_S.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { signingKey, toAmzDate } from '../../aws/core/sigv4.ts';

export const STATIC_TOKEN_PREFIX = 'localeks-v1.';
/** Default lifetime of a static token: 24 hours. */
export const DEFAULT_LIFETIME_S = 24 * 3600;
/** Longest lifetime a static token may have: 30 days. */
export const MAX_LIFETIME_S = 30 * 24 * 3600;
/** Tokens signed this far in the future (clock skew) are refused. */
const MAX_SKEW_S = 5 * 60;
const MAX_TOKEN_LEN = 4096;
const SIGNING_SERVICE = 'localeks-kube';
const STRING_TO_SIGN_PREFIX = 'LOCALEKS-KUBE-TOKEN-V1\n';

export interface StaticTokenClaims {
  v: 1;
  cluster: string;
  akid: string;
  iat: number;
  exp: number;
  stk?: string;
}

/** A token that is malformed, expired or for another cluster; the message never contains the token. */
export class StaticTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaticTokenError';
  }
}

function signature(payload: string, iat: number, secret: string): string {
  const key = signingKey(secret, toAmzDate(iat * 1000).slice(0, 8), 'global', SIGNING_SERVICE);
  return createHmac('sha256', key).update(STRING_TO_SIGN_PREFIX + payload, 'utf8').digest('hex');
}

export interface StaticTokenInput {
  /** The cluster's ARN (as DescribeCluster returns it). */
  clusterArn: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Lifetime in seconds (default DEFAULT_LIFETIME_S, at most MAX_LIFETIME_S). */
  lifetimeSeconds?: number;
  now?: Date;
}

/** createStaticToken mints a token (see the module comment). Throws RangeError for a lifetime out of 1..MAX_LIFETIME_S. */
export function createStaticToken(input: StaticTokenInput): { token: string; expiresAt: Date } {
  const lifetime = input.lifetimeSeconds ?? DEFAULT_LIFETIME_S;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > MAX_LIFETIME_S) throw new RangeError(`token lifetime must be between 1 second and ${MAX_LIFETIME_S / 86400} days`);
  const iat = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const claims: StaticTokenClaims = { v: 1, cluster: input.clusterArn, akid: input.accessKeyId, iat, exp: iat + lifetime };
  if (input.sessionToken) claims.stk = input.sessionToken;
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return { token: `${STATIC_TOKEN_PREFIX}${payload}.${signature(payload, iat, input.secretAccessKey)}`, expiresAt: new Date(claims.exp * 1000) };
}

/** A parsed token whose signature is still to be checked (verifyStaticTokenSignature). */
export interface ParsedStaticToken {
  claims: StaticTokenClaims;
  payload: string;
  signature: string;
}

/** isStaticToken tells whether a bearer token is a localeks static token. */
export function isStaticToken(token: string): boolean {
  return token.startsWith(STATIC_TOKEN_PREFIX);
}

/**
 * parseStaticToken checks form, cluster and time window at `now`; throws
 * StaticTokenError. The signature is checked by verifyStaticTokenSignature.
 */
export function parseStaticToken(token: string, clusterArn: string, now: Date): ParsedStaticToken {
  if (token.length > MAX_TOKEN_LEN) throw new StaticTokenError('token is too large');
  if (!isStaticToken(token)) throw new StaticTokenError(`token is missing expected "${STATIC_TOKEN_PREFIX}" prefix`);
  const parts = token.slice(STATIC_TOKEN_PREFIX.length).split('.');
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]!) || !/^[0-9a-f]{64}$/.test(parts[1]!)) throw new StaticTokenError('malformed token');
  let c: any;
  try {
    c = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
  } catch {
    throw new StaticTokenError('malformed token claims');
  }
  if (
    !c ||
    typeof c !== 'object' ||
    c.v !== 1 ||
    typeof c.cluster !== 'string' ||
    typeof c.akid !== 'string' ||
    c.akid === '' ||
    !Number.isInteger(c.iat) ||
    !Number.isInteger(c.exp) ||
    (c.stk !== undefined && typeof c.stk !== 'string')
  ) {
    throw new StaticTokenError('malformed token claims');
  }
  const nowS = Math.floor(now.getTime() / 1000);
  if (c.exp <= c.iat || c.exp - c.iat > MAX_LIFETIME_S) throw new StaticTokenError('token lifetime is invalid');
  if (c.iat > nowS + MAX_SKEW_S) throw new StaticTokenError('token is not valid yet');
  if (nowS >= c.exp) throw new StaticTokenError(`token expired at ${new Date(c.exp * 1000).toISOString()}`);
  if (c.cluster !== clusterArn) throw new StaticTokenError('token was issued for another cluster');
  return { claims: c as StaticTokenClaims, payload: parts[0]!, signature: parts[1]! };
}

/** verifyStaticTokenSignature checks the signature with the principal's secret (constant-time compare). */
export function verifyStaticTokenSignature(t: ParsedStaticToken, secret: string): boolean {
  const want = Buffer.from(signature(t.payload, t.claims.iat, secret), 'utf8');
  const given = Buffer.from(t.signature, 'utf8');
  return want.length === given.length && timingSafeEqual(want, given);
}
