/**
 * Test harness for the AWS gateway: an http.Server on a free loopback port
 * running createAwsGateway with the real providers (plus any given), over a
 * MemoryBackend, AwsState and a SimClock, with a silent pino logger.
 */
import { spawn } from 'node:child_process';
import { NodeSha256 } from '../helpers/node-sha256.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { pino } from 'pino';
import type { AwsConfig, AwsDeps } from '../../src/aws/core/deps.ts';
import { type AwsGatewayOptions, createAwsGateway } from '../../src/aws/core/gateway.ts';
import { AwsState } from '../../src/aws/core/state.ts';
import type { AwsProvider } from '../../src/aws/core/types.ts';
import { createProviders } from '../../src/aws/providers.ts';
import { SimClock } from '../../src/sim/clock.ts';
import { MemoryBackend } from '../../src/store/memory/memory-backend.ts';

export interface GatewayHarness {
  url: string;
  port: number;
  deps: AwsDeps;
  clock: SimClock;
  close(): Promise<void>;
}

export async function startGateway(
  opts: { config?: Partial<AwsConfig>; providers?: (deps: AwsDeps) => AwsProvider[]; onRequest?: AwsGatewayOptions['onRequest'] } = {},
): Promise<GatewayHarness> {
  const backend = new MemoryBackend({ compaction: false });
  const state = new AwsState(backend);
  await state.start();
  const clock = new SimClock();
  const config: AwsConfig = {
    defaultAccountId: '000000000000',
    enforceIam: false,
    referenceChecks: true,
    timingProfile: 'instant',
    awsEndpoint: 'http://127.0.0.1:0',
    kubeEndpoint: 'https://127.0.0.1:0',
    caCertPem: '',
    ...opts.config,
  };
  const deps: AwsDeps = { state, clock, config, log: pino({ level: 'silent' }) };
  const providers = [...createProviders(deps), ...(opts.providers?.(deps) ?? [])];
  const gw = createAwsGateway({ providers, deps, onRequest: opts.onRequest });
  const server: Server = createServer((req, res) => void gw.handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    deps,
    clock,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      state.stop();
      clock.stop();
      await backend.close();
    },
  };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** run executes a command with the given environment additions and collects its output. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const merged: Record<string, string | undefined> = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    };
    // An empty value means "unset" (AWS_PROFILE='' is an error for the CLI).
    for (const k of Object.keys(merged)) if (merged[k] === '') delete merged[k];
    if (!('AWS_SESSION_TOKEN' in env)) delete merged.AWS_SESSION_TOKEN;
    delete merged.AWS_PROFILE;
    const p = spawn(cmd, args, {
      env: merged,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}


export interface SignedRequestSpec {
  service: string;
  region?: string;
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  signingDate?: Date;
  /** Presign (query-string signature) instead of an Authorization header. */
  presign?: boolean;
}

/** signedFetch signs a request with @smithy/signature-v4 (the SDK's signer) and sends it. */
export async function signedFetch(baseUrl: string, spec: SignedRequestSpec): Promise<{ status: number; headers: Headers; body: string }> {
  const u = new URL(baseUrl);
  const signer = new SignatureV4({
    service: spec.service,
    region: spec.region ?? 'us-east-1',
    credentials: { accessKeyId: spec.accessKeyId ?? 'test', secretAccessKey: spec.secretAccessKey ?? 'test', sessionToken: spec.sessionToken },
    sha256: NodeSha256,
  });
  const request = {
    method: spec.method ?? 'POST',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: spec.path ?? '/',
    query: spec.query ?? {},
    headers: { host: u.host, ...(spec.headers ?? {}) },
    body: spec.body,
  };
  const signed = spec.presign
    ? await signer.presign(request, { signingDate: spec.signingDate, expiresIn: 900 })
    : await signer.sign(request, { signingDate: spec.signingDate });
  const qs = new URLSearchParams(signed.query as Record<string, string>).toString();
  const headers = { ...signed.headers };
  delete headers.host;
  const res = await fetch(`${baseUrl}${signed.path}${qs ? `?${qs}` : ''}`, { method: signed.method, headers, body: signed.body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}
