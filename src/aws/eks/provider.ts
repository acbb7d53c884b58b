/**
 * The EKS provider (service `eks`, 2017-11-01): all 64 operations of the
 * official model, built from one module per resource, over AwsState, with
 * the lifecycle controller on the simulated clock.
 *
 * createEksProvider starts the lifecycle controller as soon as the state
 * cache is loaded (transitions interrupted by a restart resume), and
 * exposes `lifecycle` for tests and shutdown.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { AwsProvider, OperationHandler } from '../core/types.ts';
import { accessOperations } from './access.ts';
import { addonOperations } from './addons.ts';
import { capabilityOperations } from './capabilities.ts';
import { clusterOperations } from './clusters.ts';
import type { EksContext } from './common.ts';
import { eksAnywhereOperations } from './eks-anywhere.ts';
import { fargateOperations } from './fargate.ts';
import { identityProviderOperations } from './identity-providers.ts';
import { insightOperations } from './insights.ts';
import { Lifecycle } from './lifecycle.ts';
import { nodegroupOperations } from './nodegroups.ts';
import { podIdentityOperations } from './pod-identity.ts';
import { Refs } from './refs.ts';
import { startSupportPolicy } from './support-policy.ts';
import { tagOperations } from './tags.ts';
import { updateOperations } from './updates.ts';
import { describeClusterVersions } from './versions.ts';
import { registerTransitionScheduler } from './transition-timers.ts';

export interface EksProvider extends AwsProvider {
  /** The lifecycle controller (start is called for you; stop on shutdown). */
  readonly lifecycle: Lifecycle;
  /** Stops the lifecycle controller and the support-policy sweep (state keeps what is pending). */
  stop(): void;
}

export function createEksProvider(deps: AwsDeps): EksProvider {
  const lc = new Lifecycle(deps);
  registerTransitionScheduler(deps.state, (key) => {
    const tx = deps.state.get<any>(key)?._tx;
    if (tx) void lc.begin(key, tx).catch((err) => deps.log.error({ err, key }, 'eks: rescheduling a transition failed'));
  });
  const e: EksContext = { deps, lc, refs: new Refs(deps) };
  const operations: Record<string, OperationHandler> = {
    ...clusterOperations(e),
    ...nodegroupOperations(e),
    ...fargateOperations(e),
    ...addonOperations(e),
    ...accessOperations(e),
    ...identityProviderOperations(e),
    ...podIdentityOperations(e),
    ...updateOperations(e),
    ...insightOperations(e),
    ...capabilityOperations(e),
    ...eksAnywhereOperations(e),
    ...tagOperations(e),
    DescribeClusterVersions: describeClusterVersions(deps),
  };
  // Resume transitions stored before a restart once the state cache is loaded.
  // AwsState.start() is idempotent; the server calls it before serving.
  let stopSupport: () => void = () => {};
  void deps.state.start().then(
    () => {
      lc.start();
      stopSupport = startSupportPolicy(e);
    },
    (err) => deps.log.error({ err }, 'eks: could not start the lifecycle controller'),
  );
  return {
    service: 'eks',
    operations,
    lifecycle: lc,
    stop: () => {
      stopSupport();
      lc.stop();
    },
  };
}
