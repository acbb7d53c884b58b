/**
 * AWS Signature Version 4: finding who signed a request and for what
 * (access key, date, region, service from the credential scope), from either
 * the Authorization header or a presigned URL's X-Amz-* query parameters, and
 * verifying the signature against a secret key.
 *
 * The canonical request follows the SigV4 specification as the SDKs build it
 * for every service but S3: the path as sent is URI-encoded once more
 * (double encoding), query parameters are sorted and RFC 3986-encoded, signed
 * headers are lower-cased with whitespace collapsed, and the payload hash is
 * the x-amz-content-sha256 header, UNSIGNED-PAYLOAD (presigned URLs), or the
 * SHA-256 of the body.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AwsServiceError } from './types.ts';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** What a SigV4 signature says about a request. */
export interface SigV4Info {
  accessKeyId: string;
  /** Scope date, YYYYMMDD. */
  scopeDate: string;
  region: string;
  /** The signing name (eks, ec2, sts, elasticloadbalancing, ...). */
  service: string;
  /** X-Amz-Date (or Date header), YYYYMMDDTHHMMSSZ; '' when absent. */
  amzDate: string;
  /** Lower-cased header names the signature covers. */
  signedHeaders: string[];
  /** Hex signature. */
  signature: string;
  /** True when signed through query parameters (presigned URL). */
  presigned: boolean;
  /** Presigned URLs: X-Amz-Expires in seconds. */
  expiresSeconds?: number;
  /** X-Amz-Security-Token (temporary credentials), header or query. */
  securityToken?: string;
}

/** The parts of an HTTP request the signature covers. */
export interface SignedRequest {
  method: string;
  /** Path exactly as sent, without the query string. */
  rawPath: string;
  /** Query string exactly as sent, without '?'. */
  rawQuery: string;
  /** Node's rawHeaders (name, value, name, value, ...). */
  rawHeaders: string[];
  body: Buffer;
}

type Headers = Record<string, string | string[] | undefined>;

function header(h: Headers, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function incomplete(message: string): AwsServiceError {
  return new AwsServiceError('IncompleteSignature', message, 400);
}

/**
 * parseSigV4 reads the signature from the Authorization header or the
 * presigned query parameters. Returns undefined for an unsigned request;
 * throws IncompleteSignature (400) for a malformed one.
 */
export function parseSigV4(headers: Headers, query: URLSearchParams): SigV4Info | undefined {
  const auth = header(headers, 'authorization');
  if (auth !== undefined && auth !== '') {
    const sp = auth.indexOf(' ');
    const alg = sp < 0 ? auth : auth.slice(0, sp);
    if (alg !== SIGV4_ALGORITHM) {
      throw incomplete(`Unsupported AWS 'algorithm': '${alg}'. Authorization=${auth}`);
    }
    let credential = '';
    let signedHeaders = '';
    let signature = '';
    for (const part of auth.slice(sp + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) continue;
      const k = part.slice(0, eq).trim();
      if (k === 'Credential') credential = part.slice(eq + 1).trim();
      else if (k === 'SignedHeaders') signedHeaders = part.slice(eq + 1).trim();
      else if (k === 'Signature') signature = part.slice(eq + 1).trim();
    }
    if (!credential) throw incomplete(`Authorization header requires 'Credential' parameter. Authorization=${auth}`);
    if (!signedHeaders) throw incomplete(`Authorization header requires 'SignedHeaders' parameter. Authorization=${auth}`);
    if (!signature) throw incomplete(`Authorization header requires 'Signature' parameter. Authorization=${auth}`);
    const scope = parseCredential(credential, 'Authorization header');
    // Fields are spelled out: an object spread here costs more than the rest of the parse.
    return {
      accessKeyId: scope.accessKeyId,
      scopeDate: scope.scopeDate,
      region: scope.region,
      service: scope.service,
      amzDate: header(headers, 'x-amz-date') ?? dateHeaderToAmz(header(headers, 'date')),
      signedHeaders: signedHeaders.toLowerCase().split(';'),
      signature,
      presigned: false,
      securityToken: header(headers, 'x-amz-security-token'),
    };
  }
  const cred = query.get('X-Amz-Credential');
  if (cred === null) return undefined;
  for (const p of ['X-Amz-Algorithm', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) {
    if (!query.get(p)) throw incomplete(`AWS query-string parameters must include '${p}'. Re-examine the query-string parameters.`);
  }
  if (query.get('X-Amz-Algorithm') !== SIGV4_ALGORITHM) throw incomplete(`Unsupported algorithm ${query.get('X-Amz-Algorithm')}`);
  const scope = parseCredential(cred, 'X-Amz-Credential');
  const expires = query.get('X-Amz-Expires');
  return {
    accessKeyId: scope.accessKeyId,
    scopeDate: scope.scopeDate,
    region: scope.region,
    service: scope.service,
    amzDate: query.get('X-Amz-Date')!,
    signedHeaders: query.get('X-Amz-SignedHeaders')!.toLowerCase().split(';'),
    signature: query.get('X-Amz-Signature')!,
    presigned: true,
    expiresSeconds: expires === null ? undefined : Number(expires),
    securityToken: query.get('X-Amz-Security-Token') ?? undefined,
  };
}

function parseCredential(cred: string, where: string): Pick<SigV4Info, 'accessKeyId' | 'scopeDate' | 'region' | 'service'> {
  // AKID/YYYYMMDD/region/service/aws4_request; the key id itself never contains '/'.
  const parts = cred.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request' || !parts[0]) {
    throw incomplete(`Credential should be scoped to a valid region. ${where} Credential=${cred} is malformed: expected <key>/<date>/<region>/<service>/aws4_request.`);
  }
  return { accessKeyId: parts[0], scopeDate: parts[1]!, region: parts[2]!, service: parts[3]! };
}

function dateHeaderToAmz(d: string | undefined): string {
  if (!d) return '';
  const t = Date.parse(d);
  return Number.isNaN(t) ? '' : toAmzDate(t);
}

/** toAmzDate formats epoch ms as YYYYMMDDTHHMMSSZ. */
export function toAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** amzDateToMs parses YYYYMMDDTHHMMSSZ; NaN when malformed. */
export function amzDateToMs(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * canonicalPath normalizes the path as the SDKs do for every service but S3
 * (empty and '.' segments dropped, '..' resolved, leading/trailing slash
 * kept) and URI-encodes each segment of the path as sent (double encoding).
 */
function canonicalPath(raw: string): string {
  if (raw === '' || raw === '/') return '/';
  if (!/\/\/|\/\.\.?(\/|$)/.test(raw)) return raw.split('/').map(uriEscape).join('/');
  const segs: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') segs.pop();
    else segs.push(seg);
  }
  const body = segs.map(uriEscape).join('/');
  return `${raw.startsWith('/') ? '/' : ''}${body}${segs.length > 0 && raw.endsWith('/') ? '/' : ''}`;
}

/** canonicalRequest builds the SigV4 canonical request (exported for tests). */
export function canonicalRequest(req: SignedRequest, info: SigV4Info, payloadHash: string): string {
  const path = canonicalPath(req.rawPath);
  const pairs: [string, string][] = [];
  if (req.rawQuery !== '') {
    for (const part of req.rawQuery.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = uriEscape(safeDecode(eq < 0 ? part : part.slice(0, eq)));
      if (info.presigned && k === 'X-Amz-Signature') continue;
      pairs.push([k, uriEscape(safeDecode(eq < 0 ? '' : part.slice(eq + 1)))]);
    }
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  const query = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    let list = values.get(name);
    if (!list) values.set(name, (list = []));
    list.push(req.rawHeaders[i + 1]!.trim().replace(/\s+/g, ' '));
  }
  const headers = info.signedHeaders.map((h) => `${h}:${(values.get(h) ?? []).join(',')}\n`).join('');
  return `${req.method}\n${path}\n${query}\n${headers}\n${info.signedHeaders.join(';')}\n${payloadHash}`;
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

const keyCache = new Map<string, Buffer>();
const KEY_CACHE_MAX = 4096;

/** signingKey derives the SigV4 key for a secret and scope (cached: clients reuse one scope all day). */
export function signingKey(secret: string, scopeDate: string, region: string, service: string): Buffer {
  const id = `${secret}\0${scopeDate}\0${region}\0${service}`;
  let k = keyCache.get(id);
  if (!k) {
    k = hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(id, k);
  }
  return k;
}

/** signatureFor computes the hex signature of req with a given payload hash. */
export function signatureFor(req: SignedRequest, info: SigV4Info, secret: string, payloadHash: string): string {
  const scope = `${info.scopeDate}/${info.region}/${info.service}/aws4_request`;
  const creq = canonicalRequest(req, info, payloadHash);
  const sts = `${SIGV4_ALGORITHM}\n${info.amzDate}\n${scope}\n${createHash('sha256').update(creq, 'utf8').digest('hex')}`;
  return createHmac('sha256', signingKey(secret, info.scopeDate, info.region, info.service)).update(sts, 'utf8').digest('hex');
}

/**
 * verifySigV4 reports whether the signature in info is valid for req and
 * secret. Several payload hashes are tried the way clients compute them: the
 * x-amz-content-sha256 header when signed, UNSIGNED-PAYLOAD for presigned
 * URLs, and the body's SHA-256.
 */
export function verifySigV4(req: SignedRequest, info: SigV4Info, secret: string): boolean {
  const candidates: string[] = [];
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== 'x-amz-content-sha256') continue;
    const claimed = req.rawHeaders[i + 1]!;
    // A claimed body hash must be the body's (UNSIGNED-PAYLOAD and streaming markers are not hashes).
    if (/^[0-9a-f]{64}$/i.test(claimed) && claimed.toLowerCase() !== bodyHash) return false;
    candidates.push(claimed);
  }
  if (info.presigned) candidates.push('UNSIGNED-PAYLOAD');
  candidates.push(bodyHash);
  const given = Buffer.from(info.signature, 'utf8');
  for (const hash of new Set(candidates)) {
    const want = Buffer.from(signatureFor(req, info, secret, hash), 'utf8');
    if (want.length === given.length && timingSafeEqual(want, given)) return true;
  }
  return false;
}

/** The outcome of a clock-skew / presigned-expiry check. */
export type TimeProblem = { kind: 'expired' | 'not-yet-current' | 'presign-expired' | 'no-date'; message: string };

const SKEW_MS = 15 * 60 * 1000;

/**
 * checkSigningTime compares the signature's date with now (simulated time):
 * more than 15 minutes off, or a presigned URL past X-Amz-Expires, is a
 * problem. Returns undefined when the time is acceptable.
 */
export function checkSigningTime(info: SigV4Info, nowMs: number): TimeProblem | undefined {
  const t = amzDateToMs(info.amzDate);
  if (Number.isNaN(t)) {
    return { kind: 'no-date', message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header." };
  }
  const now = toAmzDate(nowMs);
  if (info.presigned) {
    const exp = info.expiresSeconds ?? 900;
    if (nowMs > t + exp * 1000) {
      return { kind: 'presign-expired', message: `Signature expired: ${info.amzDate} is now earlier than ${toAmzDate(nowMs - exp * 1000)} (${now} - ${exp} sec.)` };
    }
    if (t - nowMs > SKEW_MS) {
      return { kind: 'not-yet-current', message: `Signature not yet current: ${info.amzDate} is still later than ${toAmzDate(nowMs + SKEW_MS)} (${now} + 15 min.)` };
    }
    return undefined;
  }
  if (nowMs - t > SKEW_MS) {
    return { kind: 'expired', message: `Signature expired: ${info.amzDate} is now earlier than ${toAmzDate(nowMs - SKEW_MS)} (${now} - 15 min.)` };
  }
  if (t - nowMs > SKEW_MS) {
    return { kind: 'not-yet-current', message: `Signature not yet current: ${info.amzDate} is still later than ${toAmzDate(nowMs + SKEW_MS)} (${now} + 15 min.)` };
  }
  return undefined;
}
