/**
 * AWS credentials and signed requests for the CLI, without the aws CLI or an
 * SDK: credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN, else the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or
 * "default"), else localeks's default test/test (the default account's root).
 * Requests are signed with SigV4 (aws/core/sigv4.ts) as the SDKs sign them.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { signatureFor, toAmzDate, uriEscape, type SigV4Info, type SignedRequest } from '../aws/core/sigv4.ts';
import { CliError } from './commands/admin-client.ts';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** True when no credentials were found and the test credentials stand in (the exec plugin then needs them too). */
  defaulted?: boolean;
}

/** parseIni reads an INI file's sections (as the aws CLI's credentials file). */
function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    const sec = /^\[\s*(.+?)\s*\]$/.exec(t);
    if (sec) {
      out.set(sec[1]!, (cur = new Map()));
      continue;
    }
    const eq = t.indexOf('=');
    if (cur && eq > 0) cur.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim());
  }
  return out;
}

/** resolveCredentials picks the credentials as described in the module comment. */
export function resolveCredentials(env: NodeJS.ProcessEnv = process.env): AwsCredentials {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  }
  const file = env.AWS_SHARED_CREDENTIALS_FILE || join(env.HOME || homedir(), '.aws', 'credentials');
  const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  if (text !== undefined) {
    const sec = parseIni(text).get(profile);
    const id = sec?.get('aws_access_key_id');
    const secret = sec?.get('aws_secret_access_key');
    if (id && secret) return { accessKeyId: id, secretAccessKey: secret, ...(sec?.get('aws_session_token') ? { sessionToken: sec.get('aws_session_token')! } : {}) };
    if (env.AWS_PROFILE) throw new CliError(`the profile "${profile}" has no credentials in ${file}`, 2);
  }
  return { accessKeyId: 'test', secretAccessKey: 'test', defaulted: true };
}

/** resolveRegion: the flag, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
export function resolveRegion(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const r = flag || env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(r)) throw new CliError(`invalid region "${r}"`, 2);
  return r;
}

/**
 * awsJsonRequest sends one SigV4-signed REST-JSON request (as the EKS API
 * takes them) to `endpoint` and returns the parsed answer; AWS errors become
 * CliErrors with the service's code and message.
 */
export async function awsJsonRequest(
  endpoint: string,
  opts: { service: string; region: string; method: string; path: string; query?: Record<string, string>; body?: unknown; credentials: AwsCredentials },
): Promise<any> {
  const url = new URL(endpoint);
  const body = Buffer.from(opts.body === undefined ? '' : JSON.stringify(opts.body));
  const amzDate = toAmzDate(Date.now());
  const rawQuery = Object.entries(opts.query ?? {})
    .map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`)
    .join('&');
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const headers: Record<string, string> = { host: url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.credentials.sessionToken) headers['x-amz-security-token'] = opts.credentials.sessionToken;
  const signedHeaders = Object.keys(headers).sort();
  const info: SigV4Info = { accessKeyId: opts.credentials.accessKeyId, scopeDate: amzDate.slice(0, 8), region: opts.region, service: opts.service, amzDate, signedHeaders, signature: '', presigned: false };
  const req: SignedRequest = { method: opts.method, rawPath: opts.path, rawQuery, rawHeaders: Object.entries(headers).flat(), body };
  const sig = signatureFor(req, info, opts.credentials.secretAccessKey, payloadHash);
  const { host: _host, ...sent } = headers;
  sent.authorization = `AWS4-HMAC-SHA256 Credential=${opts.credentials.accessKeyId}/${info.scopeDate}/${opts.region}/${opts.service}/aws4_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${sig}`;
  let r: Response;
  try {
    r = await fetch(`${url.origin}${opts.path}${rawQuery ? `?${rawQuery}` : ''}`, { method: opts.method, headers: sent, body: opts.body === undefined ? undefined : body });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach localeks at ${url.origin}: ${cause?.code ?? cause?.message ?? (e as Error).message} (is \`localeks serve\` running? set --endpoint-url or LOCALEKS_ENDPOINT)`, 1);
  }
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (r.ok && json !== undefined) return json;
  const code = (r.headers.get('x-amzn-errortype') ?? json?.__type ?? json?.code ?? `HTTP ${r.status}`).split(':')[0].split('#').pop();
  const message = json?.message ?? json?.Message ?? text.slice(0, 200);
  throw new CliError(`${code}: ${message}`, r.status === 400 && code !== 'ResourceNotFoundException' ? 2 : 1);
}
