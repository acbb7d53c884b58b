/**
 * Test support for calling AWS providers' handlers directly (no gateway):
 * an AwsState over a MemoryBackend and a fake RequestContext.
 */
import pino from 'pino';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { SimClock } from '../../sim/clock.ts';
import type { AwsDeps } from '../core/deps.ts';
import { AwsState } from '../core/state.ts';
import { AwsServiceError, type AwsProvider, type RequestContext } from '../core/types.ts';

export interface ProviderHarness {
  deps: AwsDeps;
  backend: MemoryBackend;
  clock: SimClock;
  /** call runs one operation as the given (or default) caller; `now` follows the harness clock. */
  call(op: string, input: Record<string, unknown>, ctx?: Partial<RequestContext>): Promise<any>;
  /** callError runs an operation that must fail and returns the AwsServiceError. */
  callError(op: string, input: Record<string, unknown>, ctx?: Partial<RequestContext>): Promise<AwsServiceError>;
  /** advance moves simulated time forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** providerHarness builds deps, the provider, and helpers to call it. */
export async function providerHarness(make: (deps: AwsDeps) => AwsProvider, service: string): Promise<ProviderHarness> {
  const backend = new MemoryBackend();
  const state = new AwsState(backend);
  await state.start();
  let t = Date.parse('2026-01-01T00:00:00Z');
  const clock = new SimClock({ realNow: () => t });
  const deps: AwsDeps = {
    state,
    clock,
    log: pino({ level: 'silent' }),
    config: {
      defaultAccountId: '000000000000',
      enforceIam: false,
      referenceChecks: true,
      timingProfile: 'instant',
      awsEndpoint: 'http://127.0.0.1:4566',
      kubeEndpoint: 'https://127.0.0.1:6443',
      caCertPem: '',
    },
  };
  const provider = make(deps);
  const call = async (op: string, input: Record<string, unknown>, ctx: Partial<RequestContext> = {}) => {
    const h = provider.operations[op];
    if (!h) throw new Error(`${service} has no handler for ${op}`);
    t += 1000;
    return await h(input, {
      accountId: '000000000000',
      region: 'us-east-1',
      requestId: 'req-1',
      service,
      operation: op,
      accessKeyId: 'test',
      callerArn: 'arn:aws:iam::000000000000:root',
      callerUserId: '000000000000',
      now: () => clock.now(),
      ...ctx,
    });
  };
  return {
    deps,
    backend,
    clock,
    call,
    async callError(op, input, ctx) {
      try {
        await call(op, input, ctx);
      } catch (e) {
        if (e instanceof AwsServiceError) return e;
        throw e;
      }
      throw new Error(`${op} succeeded but was expected to fail`);
    },
    advance(ms: number) {
      t += ms;
    },
    async close() {
      state.stop();
      await backend.close();
    },
  };
}
