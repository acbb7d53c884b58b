/**
 * A minimal SigV4-signed AWS client for the benchmarks: one keep-alive agent,
 * POSTs to `/` signed with @smithy/signature-v4 (test/test credentials),
 * the raw response text back; any status but 200 rejects. It speaks the
 * query protocol (EC2, IAM, STS) and JSON 1.1 (KMS, CloudWatch Logs), the
 * same bytes against localeks and moto_server.
 */
import http from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../test/helpers/node-sha256.ts';

/** signerFor returns a SigV4 signer for a service with the test credentials. */
export function signerFor(service: string, region = 'us-east-1'): SignatureV4 {
  return new SignatureV4({ service, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, sha256: NodeSha256 });
}

/** The JSON 1.1 target prefixes (x-amz-target) of the services the benchmarks call. */
const JSON_TARGETS: Record<string, string> = { kms: 'TrentService', logs: 'Logs_20140328' };

export class SignedClient {
  private readonly agent: http.Agent;
  private readonly signers = new Map<string, SignatureV4>();
  private readonly url: URL;

  constructor(
    endpoint: string,
    opts: { maxSockets: number; region?: string },
    private readonly region = opts.region ?? 'us-east-1',
  ) {
    this.url = new URL(endpoint);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }

  private signer(service: string): SignatureV4 {
    let s = this.signers.get(service);
    if (!s) this.signers.set(service, (s = signerFor(service, this.region)));
    return s;
  }

  /** send signs and POSTs body to `/` for service; resolves with the body of a 200, rejects otherwise (what names the call in the error). */
  async send(service: string, headers: Record<string, string>, body: string, what = service): Promise<string> {
    const signed = await this.signer(service).sign({
      method: 'POST',
      protocol: 'http:',
      hostname: this.url.hostname,
      port: Number(this.url.port),
      path: '/',
      headers: { host: this.url.host, ...headers },
      body,
    });
    return new Promise((resolve, reject) => {
      const req = http.request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method: 'POST', path: '/', headers: { ...signed.headers, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 200) reject(new Error(`${what} -> ${res.statusCode}: ${text.slice(0, 300)}`));
            else resolve(text);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** query calls a query-protocol action (EC2, IAM, STS) and returns the XML. */
  query(service: string, version: string, action: string, params: Record<string, string | number>): Promise<string> {
    const body = new URLSearchParams({ Action: action, Version: version, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) }).toString();
    return this.send(service, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body, action);
  }

  /** json calls a JSON 1.1 operation (kms, logs) and returns the parsed output ({} for an empty body). */
  async json(service: 'kms' | 'logs', target: string, input: unknown): Promise<any> {
    const text = await this.send(service, { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${JSON_TARGETS[service]}.${target}` }, JSON.stringify(input), target);
    return text ? JSON.parse(text) : {};
  }

  close(): void {
    this.agent.destroy();
  }
}
