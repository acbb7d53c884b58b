/**
 * EKS bearer tokens, as `aws eks get-token` and aws-iam-authenticator make
 * them: "k8s-aws-v1." + base64url(presigned STS GetCallerIdentity URL), the
 * URL signed over the `x-k8s-aws-id: <cluster name>` header.
 *
 * EKS's authenticator checks the URL's form, then forwards it to STS with
 * x-k8s-aws-id set to its own cluster, so a token signed for another cluster
 * fails STS's signature check. localeks does the same checks locally
 * (kubernetes-sigs/aws-iam-authenticator pkg/token/token.go is the reference
 * for the order and wording of the format errors) and hands the signature
 * check to a callback that knows the emulated credentials.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** Tokens are valid for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says. */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
const MAX_TOKEN_LEN = 1024 * 4;

const ALLOWED_PARAMS = new Set([
  'action',
  'version',
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-signedheaders',
]);

/** A token that is malformed, expired or not signed for this cluster. The message is safe to log; it never contains the token. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** What a well-formed token tells before its signature is checked. */
export interface ParsedToken {
  url: URL;
  accessKeyId: string;
  /** Region from the credential scope. */
  region: string;
  /** X-Amz-Date as a Date. */
  signedAt: Date;
  /** Lower-cased query parameters. */
  params: Map<string, string>;
  sessionToken?: string;
}

/** isStsHost accepts the global and regional STS endpoints of the aws, aws-cn and aws-us-gov partitions. */
export function isStsHost(host: string): boolean {
  return (
    host === 'sts.amazonaws.com' ||
    /^sts\.[a-z]{2}(-gov)?-[a-z]+-\d\.amazonaws\.com$/.test(host) ||
    /^sts\.cn-[a-z]+-\d\.amazonaws\.com\.cn$/.test(host) ||
    /^sts-fips\.[a-z]{2}(-gov)?-[a-z]+-\d\.amazonaws\.com$/.test(host)
  );
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, se!));
}

/**
 * parseToken checks a token's form and freshness (at `now`) and returns its
 * parts. Throws TokenError with aws-iam-authenticator's wording.
 */
export function parseToken(token: string, now: Date): ParsedToken {
  if (token.length > MAX_TOKEN_LEN) throw new TokenError('token is too large');
  if (!token.startsWith(TOKEN_PREFIX)) throw new TokenError(`token is missing expected "${TOKEN_PREFIX}" prefix`);
  const b64 = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(b64)) throw new TokenError('illegal base64 data in token');
  const raw = Buffer.from(b64, 'base64url').toString('utf8');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TokenError('token does not contain a valid pre-signed URL');
  }
  if (url.protocol !== 'https:') throw new TokenError(`unexpected scheme "${url.protocol.replace(':', '')}" in pre-signed URL`);
  if (!isStsHost(url.host)) throw new TokenError(`unexpected hostname "${url.host}" in pre-signed URL`);
  if (url.pathname !== '/') throw new TokenError('unexpected path in pre-signed URL');
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [k, v] of url.searchParams) {
    const lk = k.toLowerCase();
    if (!ALLOWED_PARAMS.has(lk)) throw new TokenError(`non-whitelisted query parameter "${k}"`);
    if (seen.has(lk)) throw new TokenError('query parameter with multiple values not supported');
    seen.add(lk);
    params.set(lk, v);
  }
  if (params.get('action') !== 'GetCallerIdentity') throw new TokenError('unexpected action parameter in pre-signed URL');
  const signed = (params.get('x-amz-signedheaders') ?? '').split(';').map((h) => h.toLowerCase());
  if (!signed.includes(CLUSTER_ID_HEADER)) throw new TokenError(`client did not sign the ${CLUSTER_ID_HEADER} header in the pre-signed URL`);
  const expires = Number(params.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900) {
    throw new TokenError(`invalid X-Amz-Expires parameter in pre-signed URL: ${Number.isInteger(expires) ? expires : 0}`);
  }
  const dateStr = params.get('x-amz-date');
  if (!dateStr) throw new TokenError('X-Amz-Date parameter must be present in pre-signed URL');
  const signedAt = parseAmzDate(dateStr);
  if (!signedAt) throw new TokenError(`error parsing X-Amz-Date parameter ${dateStr} into format 20060102T150405Z`);
  if (now.getTime() > signedAt.getTime() + TOKEN_LIFETIME_MS) {
    throw new TokenError(`X-Amz-Date parameter is expired (15 minute expiration) ${signedAt.toISOString()}`);
  }
  const cred = (params.get('x-amz-credential') ?? '').split('/');
  if (cred.length !== 5 || !cred[0] || cred[3] !== 'sts' || cred[4] !== 'aws4_request') {
    throw new TokenError('malformed X-Amz-Credential parameter in pre-signed URL');
  }
  if (!params.get('x-amz-signature')) throw new TokenError('X-Amz-Signature parameter must be present in pre-signed URL');
  return { url, accessKeyId: cred[0], region: cred[2]!, signedAt, params, sessionToken: params.get('x-amz-security-token') };
}


/** RFC 3986 encoding as SigV4 wants it (everything but unreserved characters). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/**
 * presignedSignatures computes the SigV4 signatures a presigned GET of
 * `token.url` would carry if it had been signed with `secret` over
 * `host` and `x-k8s-aws-id: clusterId`. SDKs differ in the payload hash they
 * use for presigned STS URLs (the empty-body hash or UNSIGNED-PAYLOAD), so
 * both candidates are returned.
 */
export function presignedSignatures(token: ParsedToken, clusterId: string, secret: string): string[] {
  const q: Array<[string, string]> = [];
  for (const [k, v] of token.url.searchParams) if (k !== 'X-Amz-Signature') q.push([uriEncode(k), uriEncode(v)]);
  q.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  const canonicalQuery = q.map(([k, v]) => `${k}=${v}`).join('&');
  const signedHeaders = (token.params.get('x-amz-signedheaders') ?? '').toLowerCase().split(';');
  const headerValues: Record<string, string> = { host: token.url.host, [CLUSTER_ID_HEADER]: clusterId };
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${(headerValues[h] ?? '').trim()}\n`).join('');
  const cred = token.params.get('x-amz-credential')!.split('/');
  const scope = cred.slice(1).join('/');
  const amzDate = token.params.get('x-amz-date')!;
  let key: Buffer = createHmac('sha256', 'AWS4' + secret).update(cred[1]!).digest();
  for (const part of [cred[2]!, cred[3]!, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return [EMPTY_SHA256, 'UNSIGNED-PAYLOAD'].map((payloadHash) => {
    const canonicalRequest = ['GET', '/', canonicalQuery, canonicalHeaders, signedHeaders.join(';'), payloadHash].join('\n');
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    return createHmac('sha256', key).update(stringToSign).digest('hex');
  });
}

/** verifyTokenSignature tells whether the token was signed with `secret` for cluster `clusterId` (constant-time compare). */
export function verifyTokenSignature(token: ParsedToken, clusterId: string, secret: string): boolean {
  const given = Buffer.from(token.params.get('x-amz-signature') ?? '', 'utf8');
  return presignedSignatures(token, clusterId, secret).some((s) => {
    const b = Buffer.from(s, 'utf8');
    return b.length === given.length && timingSafeEqual(b, given);
  });
}
