/**
 * What every EC2 handler needs: the store for the caller's account and
 * region, simulated now, ARNs, and lifecycle delays per timing profile.
 */
import type { AwsDeps, TimingProfile } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { Ec2Store } from './store.ts';

export function scopeOf(ctx: RequestContext): Scope {
  return { accountId: ctx.accountId, region: ctx.region };
}

export function storeOf(deps: Pick<AwsDeps, 'state'>, ctx: RequestContext | Scope): Ec2Store {
  return new Ec2Store(deps.state, { accountId: ctx.accountId, region: ctx.region });
}

/** partitionOf returns the ARN partition of a region. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** ec2Arn builds arn:aws:ec2:<region>:<account>:<type>/<id>. */
export function ec2Arn(scope: Scope, type: string, id: string): string {
  return `arn:${partitionOf(scope.region)}:ec2:${scope.region}:${scope.accountId}:${type}/${id}`;
}

/** Lifecycle delays in simulated milliseconds. */
export interface Ec2Delays {
  instanceStart: number;
  instanceStop: number;
  instanceTerminate: number;
  natCreate: number;
  natDelete: number;
  /** How long terminated instances and deleted NAT gateways stay visible. */
  tombstone: number;
}

/** `fast` instances start in 300 ms: pending is still seen by RunInstances and prompt Describes, and a managed node group's instances run before it turns ACTIVE (eks lifecycle, 400 ms). */
const DELAYS: Record<TimingProfile, Ec2Delays> = {
  instant: { instanceStart: 0, instanceStop: 0, instanceTerminate: 0, natCreate: 0, natDelete: 0, tombstone: 3_600_000 },
  fast: { instanceStart: 300, instanceStop: 1000, instanceTerminate: 1000, natCreate: 1000, natDelete: 1000, tombstone: 3_600_000 },
  realistic: { instanceStart: 15_000, instanceStop: 30_000, instanceTerminate: 30_000, natCreate: 90_000, natDelete: 45_000, tombstone: 3_600_000 },
};

export function delaysOf(deps: Pick<AwsDeps, 'config'>): Ec2Delays {
  return DELAYS[deps.config?.timingProfile ?? 'fast'] ?? DELAYS.fast;
}

/** dnsSuffix is the private DNS domain of a region (ec2.internal in us-east-1). */
export function dnsSuffix(region: string): string {
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
}
