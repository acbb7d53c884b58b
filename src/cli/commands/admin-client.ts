/**
 * The client side of the fixture commands (`localeks reset`, `snapshot`,
 * `clock`): they talk to a running server's /_localeks/ endpoints over HTTP.
 *
 * The server is chosen by --endpoint-url, else LOCALEKS_ENDPOINT, else
 * AWS_ENDPOINT_URL, else http://127.0.0.1:4566. Exit codes: 0 success,
 * 1 failure (server unreachable, no such snapshot or cluster, server error),
 * 2 usage (bad arguments, or the server rejected them with 400).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CommanderError } from 'commander';

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4566';

/** A command failure with its exit code; main() prints `localeks: message` and exits. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** resolveEndpoint picks the server URL (flag, LOCALEKS_ENDPOINT, AWS_ENDPOINT_URL, default). */
export function resolveEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag || env.LOCALEKS_ENDPOINT || env.AWS_ENDPOINT_URL || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`invalid endpoint URL "${raw}"`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid endpoint URL "${raw}": use http:// or https://`, 2);
  return url.origin;
}

/** adminRequest calls one /_localeks/ endpoint; answers other than 2xx become CliErrors. */
export async function adminRequest(endpoint: string, method: string, path: string, body?: Buffer): Promise<{ status: number; raw: Buffer; json: any }> {
  let r: Response;
  try {
    r = await fetch(endpoint + path, { method, body, headers: body ? { 'content-type': 'application/octet-stream' } : undefined });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach localeks at ${endpoint}: ${cause?.code ?? cause?.message ?? (e as Error).message} (is \`localeks serve\` running? set --endpoint-url or LOCALEKS_ENDPOINT)`, 1);
  }
  const raw = Buffer.from(await r.arrayBuffer());
  let json: any;
  if ((r.headers.get('content-type') ?? '').includes('json')) {
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      json = undefined;
    }
  }
  if (r.status >= 200 && r.status < 300) return { status: r.status, raw, json };
  const message = json?.error?.message ?? json?.message ?? (r.status === 404 ? `${endpoint} does not serve ${path} (is it a localeks server?)` : `HTTP ${r.status}`);
  throw new CliError(message, r.status === 400 ? 2 : 1);
}

/** The common --endpoint-url option. */
export function withEndpoint(cmd: Command): Command {
  return cmd.option('--endpoint-url <url>', `the localeks AWS endpoint (env: LOCALEKS_ENDPOINT, AWS_ENDPOINT_URL; default ${DEFAULT_ENDPOINT})`);
}

/** endpointOf reads --endpoint-url from a command or any of its parents. */
export function endpointOf(cmd: Command): string {
  let flag: string | undefined;
  for (let c: Command | null = cmd; c && flag === undefined; c = c.parent) flag = c.opts().endpointUrl as string | undefined;
  return resolveEndpoint(flag);
}

/**
 * usageExit makes commander's usage errors (unknown option, missing
 * argument) exit 2, help and version 0.
 */
export function usageExit(err: CommanderError): never {
  if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') process.exit(0);
  process.exit(err.exitCode === 0 ? 0 : 2);
}

/** run wraps a command action: CliErrors print `localeks: message` and exit with their code. */
export function run<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      if (e instanceof CliError) {
        process.stderr.write(`localeks: ${e.message}\n`);
        process.exit(e.exitCode);
      }
      throw e;
    }
  };
}

/** table prints rows: aligned columns with a header on a TTY, tab-separated without header otherwise. */
export function table(header: string[], rows: string[][], out: NodeJS.WriteStream = process.stdout): void {
  if (!out.isTTY) {
    for (const r of rows) out.write(r.join('\t') + '\n');
    return;
  }
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) out.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n');
}

/**
 * parseDuration reads "10m", "90s", "1h30m", "2d", "250ms", or a bare number
 * of seconds; returns milliseconds.
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * units[m[2]!]!;
    pos = re.lastIndex;
  }
  if (t === '' || pos !== t.length) throw new CliError(`invalid duration "${text}": use e.g. 30s, 10m, 1h30m, 2d, 250ms or a number of seconds`, 2);
  return total;
}

/**
 * downloadTo GETs an export endpoint and writes the bytes to file ("-" =
 * stdout); returns the number of bytes, or undefined when written to stdout.
 */
export async function downloadTo(endpoint: string, path: string, file: string): Promise<number | undefined> {
  const r = await adminRequest(endpoint, 'GET', path);
  if (file === '-') {
    process.stdout.write(r.raw);
    return undefined;
  }
  try {
    await writeFile(file, r.raw);
  } catch (e) {
    throw new CliError(`cannot write ${file}: ${(e as Error).message}`, 1);
  }
  return r.raw.length;
}

/** uploadFrom reads file and POSTs it to an import endpoint; a file that cannot be read is a usage error (exit 2). */
export async function uploadFrom(endpoint: string, path: string, file: string): Promise<{ status: number; raw: Buffer; json: any }> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`, 2);
  }
  return adminRequest(endpoint, 'POST', path, data);
}
