/**
 * The EKS rest-json client the benchmarks share (bench:eks against localeks
 * and moto_server, bench:sim's set-up): SigV4-signed by a lean signer with
 * the test credentials, one keep-alive agent, parsed JSON back.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';

/**
 * A lean SigV4 signer for this client (the same signature the SDKs compute:
 * canonical request, string to sign, signing key cached per day), so the
 * benchmark measures the servers rather than the client's signing cost.
 */
export class Signer {
  private day = '';
  private key: Buffer = Buffer.alloc(0);
  constructor(
    private readonly service: string,
    private readonly region: string,
    private readonly accessKeyId: string,
    private readonly secret: string,
  ) {}

  sign(method: string, host: string, path: string, query: Record<string, string>, payload: string): Record<string, string> {
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    if (day !== this.day) {
      const h = (k: Buffer | string, d: string) => createHmac('sha256', k).update(d).digest();
      this.key = h(h(h(h(`AWS4${this.secret}`, day), this.region), this.service), 'aws4_request');
      this.day = day;
    }
    const enc = (x: string) => encodeURIComponent(x).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const canonicalPath = path.split('/').map((seg) => enc(decodeURIComponent(seg))).map(enc).join('/');
    const qs = Object.keys(query)
      .sort()
      .map((k) => `${enc(k)}=${enc(query[k]!)}`)
      .join('&');
    const payloadHash = createHash('sha256').update(payload).digest('hex');
    const canonical = `${method}\n${canonicalPath}\n${qs}\nhost:${host}\nx-amz-date:${amzDate}\n\nhost;x-amz-date\n${payloadHash}`;
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonical).digest('hex')}`;
    const sig = createHmac('sha256', this.key).update(toSign).digest('hex');
    return {
      host,
      'x-amz-date': amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${sig}`,
    };
  }
}

/** A minimal EKS rest-json client: one keep-alive agent, signed requests, parsed JSON back. */
export class EksClient {
  private readonly agent: http.Agent;
  private readonly signer: Signer;
  private readonly url: URL;
  constructor(endpoint: string, maxSockets: number, region = 'us-east-1') {
    this.url = new URL(endpoint);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
    this.signer = new Signer('eks', region, 'test', 'test');
  }

  /** call signs and sends one request; a read on a keep-alive socket the server had just closed (ECONNRESET) is retried. */
  async call(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(method, path, body, query);
      } catch (e) {
        if (method !== 'GET' || attempt >= 2 || (e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
      }
    }
  }

  private async once(method: string, path: string, body: unknown, query: Record<string, string>): Promise<{ status: number; json: any }> {
    const payload = body === undefined ? '' : JSON.stringify(body);
    const headers = this.signer.sign(method, this.url.host, path, query, payload);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const qs = new URLSearchParams(query).toString();
    return new Promise((resolve, reject) => {
      const req = http.request(
        { agent: this.agent, host: this.url.hostname, port: this.url.port, method, path: qs ? `${path}?${qs}` : path, headers: { ...headers, 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any;
            try {
              json = text ? JSON.parse(text) : {};
            } catch {
              json = { raw: text };
            }
            resolve({ status: res.statusCode ?? 0, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async ok(method: string, path: string, body?: unknown, query?: Record<string, string>): Promise<any> {
    const r = await this.call(method, path, body, query);
    if (r.status !== 200) throw new Error(`${method} ${path} -> ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  }

  close(): void {
    this.agent.destroy();
  }
}

