/**
 * A minimal HTTP/1.1 keep-alive client for load generators: one request in
 * flight per connection, connections reused from an idle pool, responses
 * framed by Content-Length or chunked transfer coding. node:http's client
 * costs 55-125 µs of CPU per request; a load generator on the same 2-core
 * machine as the server then takes CPU from the server it measures, and its
 * own event loop delays when responses are seen. Clients written in Go
 * (client-go, kubectl) spend a fraction of that; this one ~15-25 µs.
 * Plain HTTP on loopback only (the benchmarks' servers).
 */
import { Socket } from 'node:net';

export interface LeanResponse {
  status: number;
  body: string;
}

interface Pending {
  resolve: (r: LeanResponse) => void;
  reject: (e: Error) => void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
/** The end of a chunked body (no trailers: the benchmarks' servers send none). */
const LAST_CHUNK = Buffer.from('\r\n0\r\n\r\n');

/** One keep-alive connection: writes a request, parses its response, then returns to the pool. */
class Connection {
  readonly socket: Socket;
  private chunks: Buffer[] = [];
  private size = 0;
  private pending: Pending | undefined;
  /** Parsed head of the response being read: status and body framing. */
  private status = 0;
  private bodyStart = -1;
  private length = -1;
  private chunked = false;
  closed = false;

  constructor(host: string, port: number, private readonly onFree: (c: Connection) => void) {
    this.socket = new Socket();
    this.socket.setNoDelay(true);
    this.socket.connect(port, host);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (e: Error) => {
      this.closed = true;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed')));
  }

  send(head: string, body: string | undefined, p: Pending): void {
    this.pending = p;
    this.status = 0;
    this.bodyStart = -1;
    this.socket.write(body === undefined ? head : head + body);
  }

  private onData(d: Buffer): void {
    // Chunks are kept apart until the response is whole (a 25 MB list arrives in hundreds of reads: concatenating
    // at each read would copy it hundreds of times).
    this.chunks.push(d);
    this.size += d.length;
    if (this.bodyStart < 0) {
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      const buf = this.chunks[0]!;
      const end = buf.indexOf(CRLF2);
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      this.bodyStart = end + 4;
      const lower = head.toLowerCase();
      const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
      this.chunked = !cl && /\r\ntransfer-encoding:\s*chunked/.test(lower);
      this.length = cl ? Number(cl[1]) : this.chunked ? -1 : 0;
    }
    if (!this.chunked && this.size < this.bodyStart + this.length) return;
    if (this.chunked && !this.endsWith(LAST_CHUNK)) return;
    const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    let body: string;
    let rest: Buffer;
    if (!this.chunked) {
      const end = this.bodyStart + this.length;
      body = buf.toString('utf8', this.bodyStart, end);
      rest = buf.subarray(end);
    } else {
      const parts: Buffer[] = [];
      let at = this.bodyStart;
      for (;;) {
        const eol = buf.indexOf('\r\n', at);
        if (eol < 0) return;
        const size = parseInt(buf.toString('latin1', at, eol), 16);
        if (buf.length < eol + 2 + size + 2) return;
        if (size === 0) {
          rest = buf.subarray(eol + 4);
          break;
        }
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString('utf8');
    }
    this.chunks = rest.length ? [Buffer.from(rest)] : [];
    this.size = rest.length;
    this.bodyStart = -1;
    const p = this.pending!;
    this.pending = undefined;
    this.onFree(this);
    p.resolve({ status: this.status, body });
  }

  /** Whether the bytes received so far end with `tail` (which may straddle reads). */
  private endsWith(tail: Buffer): boolean {
    if (this.size < tail.length) return false;
    let last = this.chunks[this.chunks.length - 1]!;
    if (last.length < tail.length) last = Buffer.concat(this.chunks.slice(-tail.length));
    return last.subarray(last.length - tail.length).equals(tail);
  }
}

/** A pool of keep-alive connections to one loopback server. */
export class LeanHttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(private readonly port: number, private readonly host = '127.0.0.1') {}

  request(method: string, path: string, body?: string, contentType = 'application/json'): Promise<LeanResponse> {
    let c = this.idle.pop();
    while (c?.closed) c = this.idle.pop();
    if (!c) {
      c = new Connection(this.host, this.port, (x) => {
        if (!x.closed) this.idle.push(x);
      });
      this.all.add(c);
    }
    const head =
      `${method} ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nAccept: application/json\r\n` +
      (body === undefined ? '\r\n' : `Content-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`);
    const conn = c;
    return new Promise((resolve, reject) => conn.send(head, body, { resolve, reject }));
  }

  close(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}
