/**
 * A small AWS client over localeks's own service models and protocol code:
 * the client side of the wire protocols the gateway serves (query, ec2,
 * json, rest-json), signed with SigV4 (aws/core/sigv4.ts). The `localeks`
 * CLI uses it to talk to a running server exactly as any AWS client does.
 *
 * Why not the AWS SDK v3 clients: the CLI needs EC2, IAM, Auto Scaling, EKS,
 * KMS and Logs, and their SDK packages (EC2's alone is several megabytes of
 * JavaScript) would be new dependencies whose load time counts against the
 * `localeks create cluster` wall time; the models and codecs are already
 * here. Tests check what it creates with independent clients (the aws CLI,
 * kubectl), so a misreading of a model shared by this client and the server
 * would not go unnoticed.
 *
 * Inputs and outputs use the model's member names (CreateVpc takes
 * `{CidrBlock}`, returns `{Vpc: {...}}`); timestamps come back as Date,
 * blobs as Buffer. Service errors throw AwsClientError with the wire code.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { loadModel, type ServiceModel, type Shape, type ShapeRef } from '../core/model.ts';
import { formatTextScalar, ucfirst } from '../core/protocol.ts';
import { createJsonCodec, type JsonCodec } from '../core/protocols/json-codec.ts';
import { createXmlCodec, type XmlCodec } from '../core/protocols/xml-codec.ts';
import { type SignedRequest, type SigV4Info, signatureFor, SIGV4_ALGORITHM, toAmzDate, uriEscape } from '../core/sigv4.ts';
import { parseXml, type XmlElement } from '../core/xml.ts';

/** Credentials to sign with (the CLI resolves them from the usual AWS chain). */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The services the client knows (model file names under src/aws/models). */
export type ServiceName = 'eks' | 'ec2' | 'iam' | 'sts' | 'autoscaling' | 'kms' | 'logs' | 'elbv2' | 'route53';

export interface AwsClientConfig {
  /** e.g. http://127.0.0.1:4566 */
  endpoint: string;
  region: string;
  credentials: AwsCredentials;
  /** Called once per request with service, operation, HTTP status and milliseconds (for --verbose). */
  onRequest?: (e: { service: string; operation: string; status: number; ms: number }) => void;
}

/** A service error (or a failure to reach the endpoint, code `NetworkingError`). */
export class AwsClientError extends Error {
  constructor(
    readonly service: string,
    readonly operation: string,
    readonly code: string,
    message: string,
    readonly status: number,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'AwsClientError';
  }
}

export interface AwsClient {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: AwsCredentials;
  /** call invokes one operation; resolves with the decoded output, rejects with AwsClientError. */
  call<T = any>(service: ServiceName, operation: string, input?: Record<string, unknown>): Promise<T>;
}

interface Codecs {
  model: ServiceModel;
  json?: JsonCodec;
  xml?: XmlCodec;
}

const codecs = new Map<string, Codecs>();
function codecsFor(service: ServiceName): Codecs {
  let c = codecs.get(service);
  if (!c) {
    const model = loadModel(service);
    const p = model.metadata.protocol;
    c = { model, json: p === 'json' || p === 'rest-json' ? createJsonCodec(model) : undefined, xml: p === 'query' || p === 'ec2' || p === 'rest-xml' ? createXmlCodec(model) : undefined };
    codecs.set(service, c);
  }
  return c;
}

/** Query and EC2 protocols: the flat `Name.member.N=value` parameters of an input value. */
function queryParams(model: ServiceModel, shapeName: string, value: unknown, prefix: string, out: Array<[string, string]>): void {
  const ec2 = model.metadata.protocol === 'ec2';
  const s: Shape = model.shapes[shapeName]!;
  if (value === undefined || value === null) return;
  switch (s.type) {
    case 'structure': {
      const o = value as Record<string, unknown>;
      for (const [m, ref] of Object.entries(s.members ?? {})) {
        if (o[m] === undefined || o[m] === null) continue;
        const wire = ec2 ? (ref as ShapeRef).queryName ?? (ref.locationName ? ucfirst(ref.locationName) : m) : ref.locationName ?? m;
        queryParams(model, ref.shape, o[m], prefix ? `${prefix}.${wire}` : wire, out);
      }
      return;
    }
    case 'list': {
      const items = value as unknown[];
      if (items.length === 0) {
        if (!ec2) out.push([prefix, '']);
        return;
      }
      const base = ec2 || s.flattened ? prefix : `${prefix}.${s.member!.locationName ?? 'member'}`;
      items.forEach((x, i) => queryParams(model, s.member!.shape, x, `${base}.${i + 1}`, out));
      return;
    }
    case 'map': {
      const k = s.key!.locationName ?? 'key';
      const v = s.value!.locationName ?? 'value';
      const base = s.flattened ? prefix : `${prefix}.entry`;
      Object.entries(value as Record<string, unknown>).forEach(([key, x], i) => {
        out.push([`${base}.${i + 1}.${k}`, key]);
        queryParams(model, s.value!.shape, x, `${base}.${i + 1}.${v}`, out);
      });
      return;
    }
    default:
      out.push([prefix, formatTextScalar(s, value)]);
  }
}

const form = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${uriEscape(k)}=${uriEscape(v)}`).join('&');

interface Wire {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

function encodeRequest(c: Codecs, operation: string, input: Record<string, unknown>): Wire {
  const { model } = c;
  const op = model.operations[operation];
  if (!op) throw new Error(`${model.metadata.serviceId} has no operation ${operation}`);
  const p = model.metadata.protocol;
  if (p === 'query' || p === 'ec2') {
    const pairs: Array<[string, string]> = [['Action', operation], ['Version', model.metadata.apiVersion]];
    if (op.input) queryParams(model, op.input.shape, input, '', pairs);
    return { method: 'POST', path: '/', query: '', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body: form(pairs) };
  }
  if (p === 'json') {
    return {
      method: 'POST',
      path: '/',
      query: '',
      headers: { 'content-type': `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`, 'x-amz-target': `${model.metadata.targetPrefix}.${operation}` },
      body: JSON.stringify(op.input ? c.json!.write(op.input.shape, input) : {}),
    };
  }
  if (p === 'rest-json') {
    const shape = op.input ? model.shapes[op.input.shape]! : { type: 'structure' as const, members: {} };
    const [pathT, fixedQ = ''] = op.http.requestUri.split('?');
    const labels: Record<string, string> = {};
    const query: Array<[string, string]> = fixedQ ? fixedQ.split('&').map((kv) => [kv.split('=')[0]!, kv.split('=')[1] ?? ''] as [string, string]) : [];
    const headers: Record<string, string> = {};
    let bodyMembers = 0;
    for (const [m, ref] of Object.entries(shape.members ?? {})) {
      const v = input[m];
      if (!ref.location) {
        if (v !== undefined) bodyMembers++;
        continue;
      }
      if (v === undefined || v === null) continue;
      const ms = model.shapes[ref.shape]!;
      const wire = ref.locationName ?? m;
      if (ref.location === 'uri') labels[wire] = formatTextScalar(ms, v);
      else if (ref.location === 'querystring') {
        if (ms.type === 'list') for (const x of v as unknown[]) query.push([wire, formatTextScalar(model.shapes[ms.member!.shape]!, x)]);
        else if (ms.type === 'map') for (const [k, x] of Object.entries(v as Record<string, unknown>)) query.push([k, String(x)]);
        else query.push([wire, formatTextScalar(ms, v)]);
      } else if (ref.location === 'header') headers[wire.toLowerCase()] = formatTextScalar(ms, v);
    }
    const path = pathT!.replace(/\{([^}]+)\}/g, (_, l: string) => {
      const greedy = l.endsWith('+');
      const v = labels[greedy ? l.slice(0, -1) : l];
      if (v === undefined) throw new Error(`${operation}: missing the URI member ${l}`);
      return greedy ? v.split('/').map(uriEscape).join('/') : uriEscape(v);
    });
    const hasBody = op.http.method !== 'GET' && op.http.method !== 'HEAD' && (bodyMembers > 0 || op.http.method !== 'DELETE');
    if (hasBody) headers['content-type'] = 'application/json';
    return { method: op.http.method, path, query: form(query), headers, body: hasBody ? JSON.stringify(op.input ? c.json!.write(op.input.shape, input) : {}) : '' };
  }
  throw new Error(`protocol ${p} is not supported by the localeks client`);
}

function childText(el: XmlElement | undefined, ...names: string[]): string | undefined {
  let cur = el;
  for (const n of names) cur = cur?.children.find((c) => c.name === n);
  return cur?.text;
}

function decodeError(c: Codecs, status: number, headers: http.IncomingHttpHeaders, body: string): { code: string; message: string; requestId?: string } {
  const p = c.model.metadata.protocol;
  const requestId = (headers['x-amzn-requestid'] ?? headers['x-amz-request-id']) as string | undefined;
  if (p === 'json' || p === 'rest-json') {
    let j: Record<string, any> = {};
    try {
      j = JSON.parse(body);
    } catch {
      /* not JSON */
    }
    const raw = String(headers['x-amzn-errortype'] ?? j.__type ?? j.code ?? `Http${status}`);
    const code = raw.split(':')[0]!.split('#').pop()!;
    return { code, message: String(j.message ?? j.Message ?? body.slice(0, 200)), requestId };
  }
  try {
    const root = parseXml(body);
    const err = root.name === 'Response' ? root.children.find((x) => x.name === 'Errors')?.children[0] : root.children.find((x) => x.name === 'Error');
    return { code: childText(err, 'Code') ?? `Http${status}`, message: childText(err, 'Message') ?? '', requestId: requestId ?? childText(root, 'RequestId') ?? childText(root, 'RequestID') };
  } catch {
    return { code: `Http${status}`, message: body.slice(0, 200), requestId };
  }
}

function decodeOutput(c: Codecs, operation: string, body: string): unknown {
  const op = c.model.operations[operation]!;
  if (!op.output) return {};
  const p = c.model.metadata.protocol;
  if (p === 'json' || p === 'rest-json') return c.json!.read(op.output.shape, body.trim() === '' ? {} : JSON.parse(body));
  const root = parseXml(body);
  if (p === 'ec2') return c.xml!.read(op.output.shape, root);
  const wrapper = op.output.resultWrapper ? root.children.find((x) => x.name === op.output!.resultWrapper) : root;
  return wrapper ? c.xml!.read(op.output.shape, wrapper) : {};
}

const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 32 }), https: new https.Agent({ keepAlive: true, maxSockets: 32 }) };

function send(url: URL, w: Wire, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      { host: url.hostname, port: url.port, method: w.method, path: w.path + (w.query ? `?${w.query}` : ''), headers, agent: url.protocol === 'https:' ? agents.https : agents.http },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(w.body);
  });
}

/** createAwsClient returns a client for one endpoint, region and set of credentials. */
export function createAwsClient(config: AwsClientConfig): AwsClient {
  const url = new URL(config.endpoint);
  const host = url.host;
  return {
    region: config.region,
    endpoint: config.endpoint,
    credentials: config.credentials,
    async call(service, operation, input = {}) {
      const c = codecsFor(service);
      const w = encodeRequest(c, operation, input);
      // IAM and STS's global endpoints sign in us-east-1, as the SDKs do.
      const region = service === 'iam' || service === 'route53' ? 'us-east-1' : config.region;
      const signingName = c.model.metadata.signingName ?? c.model.metadata.endpointPrefix;
      const amzDate = toAmzDate(Date.now());
      const payloadHash = createHash('sha256').update(w.body, 'utf8').digest('hex');
      const headers: Record<string, string> = { ...w.headers, host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash, 'user-agent': 'localeks-cli' };
      if (config.credentials.sessionToken) headers['x-amz-security-token'] = config.credentials.sessionToken;
      const signed = Object.keys(headers)
        .filter((h) => h !== 'user-agent')
        .sort();
      const info: SigV4Info = { accessKeyId: config.credentials.accessKeyId, scopeDate: amzDate.slice(0, 8), region, service: signingName, amzDate, signedHeaders: signed, signature: '', presigned: false };
      const req: SignedRequest = { method: w.method, rawPath: w.path, rawQuery: w.query, rawHeaders: Object.entries(headers).flat(), body: Buffer.from(w.body) };
      const signature = signatureFor(req, info, config.credentials.secretAccessKey, payloadHash);
      headers.authorization = `${SIGV4_ALGORITHM} Credential=${info.accessKeyId}/${info.scopeDate}/${region}/${signingName}/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
      const t0 = performance.now();
      let res: Awaited<ReturnType<typeof send>>;
      for (let attempt = 0; ; attempt++) {
        try {
          res = await send(url, w, headers);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? '';
          // A keep-alive socket the server closed meanwhile: retry once on a new one.
          if (attempt < 2 && (code === 'ECONNRESET' || code === 'EPIPE')) continue;
          throw new AwsClientError(service, operation, 'NetworkingError', `cannot reach ${config.endpoint}: ${code || (e as Error).message}`, 0);
        }
      }
      config.onRequest?.({ service, operation, status: res.status, ms: performance.now() - t0 });
      if (res.status >= 300) {
        const e = decodeError(c, res.status, res.headers, res.body);
        throw new AwsClientError(service, operation, e.code, e.message, res.status, e.requestId);
      }
      return decodeOutput(c, operation, res.body) as any;
    },
  };
}
