/**
 * startTestServer starts one localeks server in this process for a test
 * file: memory store, ports 0 (free ports), timing profile `fast`, silent
 * log. Start it once per file (in `before`) and stop it in `after`.
 *
 * @example
 *   let srv: TestServer;
 *   before(async () => { srv = await startTestServer(); });
 *   after(() => srv.stop());
 *   // ... runAws(srv.awsEndpoint, ['ec2', 'describe-vpcs'])
 */

import type { ServeConfig } from '../../src/server/config.ts';
import { type RunningServer, type ServerParts, startServer } from '../../src/server/start.ts';

/** A running in-process localeks. */
export interface TestServer {
  /** e.g. http://127.0.0.1:40123 */
  awsEndpoint: string;
  /** e.g. https://127.0.0.1:40124 */
  kubeEndpoint: string;
  /** The running server (state, clock, deps, ...) for tests that need more. */
  server: RunningServer;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

/** startTestServer resolves once both endpoints answer. Overrides go to startServer's config; parts as startServer takes them. */
export async function startTestServer(overrides: Partial<ServeConfig> = {}, parts: ServerParts = {}): Promise<TestServer> {
  const server = await startServer(
    {
      store: 'memory',
      awsPort: 0,
      kubePort: 0,
      host: '127.0.0.1',
      timingProfile: 'fast',
      logLevel: 'silent',
      ...overrides,
    },
    parts,
  );
  let stopped: Promise<void> | undefined;
  return {
    awsEndpoint: server.awsEndpoint,
    kubeEndpoint: server.kubeEndpoint,
    server,
    stop: () => (stopped ??= server.close()),
  };
}

/**
 * waitFor polls fn until it returns a truthy value (resolved with it) or the
 * real-time deadline passes (rejects with the last value / error described).
 * Tests wait on state this way, never with a fixed sleep.
 */
export async function waitFor<T>(fn: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out waiting for ${opts.what ?? 'condition'} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
