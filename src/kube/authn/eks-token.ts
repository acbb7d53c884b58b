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
import { parseSigV4, signatureFor, type SignedRequest, type SigV4Info, toAmzDate, uriEscape, verifySigV4 } from '../../aws/core/sigv4.ts';

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
 * parseToken checks a token's form (hosts in `localStsHosts`, the server's
 * own AWS endpoint, count as STS endpoints, over http or https) and freshness (at `now`) and returns its
 * parts. Throws TokenError with aws-iam-authenticator's wording.
 */
export function parseToken(token: string, now: Date, localStsHosts: readonly string[] = []): ParsedToken {
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
  // localeks's own AWS endpoint is an STS endpoint too: `aws eks get-token` with AWS_ENDPOINT_URL set presigns for it.
  const local = localStsHosts.includes(url.host);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) throw new TokenError(`unexpected scheme "${url.protocol.replace(':', '')}" in pre-signed URL`);
  if (!local && !isStsHost(url.host)) throw new TokenError(`unexpected hostname "${url.host}" in pre-signed URL`);
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


/**
 * verifyTokenSignature tells whether the token was signed with `secret` for
 * cluster `clusterId`: the presigned GET is checked as STS would check it
 * with `x-k8s-aws-id: <clusterId>` (aws/core/sigv4.ts; constant-time compare).
 */
export function verifyTokenSignature(token: ParsedToken, clusterId: string, secret: string): boolean {
  const info = parseSigV4({}, token.url.searchParams);
  if (!info) return false;
  const req: SignedRequest = {
    method: 'GET',
    rawPath: '/',
    rawQuery: token.url.search.slice(1),
    rawHeaders: ['host', token.url.host, CLUSTER_ID_HEADER, clusterId],
    body: Buffer.alloc(0),
  };
  return verifySigV4(req, info, secret);
}

export interface EksTokenInput {
  clusterName: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Signing time (default now). */
  now?: Date;
}

/**
 * createEksToken makes a token exactly as `aws eks get-token` does (STS
 * GetCallerIdentity presigned for 60 s over host and x-k8s-aws-id), for
 * in-process callers that should not spawn the aws CLI (the library API,
 * benchmarks, tests). Valid 15 minutes from its signing time.
 */
export function createEksToken(input: EksTokenInput): string {
  const amzDate = toAmzDate((input.now ?? new Date()).getTime());
  const scopeDate = amzDate.slice(0, 8);
  const host = `sts.${input.region}.amazonaws.com`;
  const params: Array<[string, string]> = [
    ['Action', 'GetCallerIdentity'],
    ['Version', '2011-06-15'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${input.accessKeyId}/${scopeDate}/${input.region}/sts/aws4_request`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', '60'],
    ['X-Amz-SignedHeaders', `host;${CLUSTER_ID_HEADER}`],
  ];
  if (input.sessionToken) params.push(['X-Amz-Security-Token', input.sessionToken]);
  const rawQuery = params.map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).join('&');
  const info: SigV4Info = {
    accessKeyId: input.accessKeyId,
    scopeDate,
    region: input.region,
    service: 'sts',
    amzDate,
    signedHeaders: ['host', CLUSTER_ID_HEADER],
    signature: '',
    presigned: true,
  };
  const req: SignedRequest = { method: 'GET', rawPath: '/', rawQuery, rawHeaders: ['host', host, CLUSTER_ID_HEADER, input.clusterName], body: Buffer.alloc(0) };
  const signature = signatureFor(req, info, input.secretAccessKey, EMPTY_SHA256);
  return TOKEN_PREFIX + Buffer.from(`https://${host}/?${rawQuery}&X-Amz-Signature=${signature}`).toString('base64url');
}

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
