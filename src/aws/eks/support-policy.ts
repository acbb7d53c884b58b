/**
 * The EKS version support policy, applied by the lifecycle controller: a
 * cluster whose Kubernetes version has left standard support (upgrade
 * policy STANDARD) or extended support (EXTENDED) is upgraded by EKS to the
 * next minor version, with an ordinary VersionUpdate record. Add-ons and
 * node groups are left as they are, as EKS leaves them.
 *
 * The sweep runs once per simulated hour on the one clock, so it costs
 * nothing at time scale 1 and rehearses end of support with a high
 * --time-scale or a test clock.
 */
import type { RequestContext } from '../core/types.ts';
import { AWS_PREFIX } from '../core/state.ts';
import type { EksContext } from './common.ts';
import { inProgressUpdate, startUpdate } from './updates.ts';
import { kubeVersion, nextMinor } from './versions.ts';

const HOUR = 3600_000;

/** startSupportPolicy schedules the hourly sweep; returns a stop function. */
export function startSupportPolicy(e: EksContext): () => void {
  let cancel: () => void = () => {};
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    sweep(e)
      .catch((err) => e.deps.log.error({ err }, 'eks: support policy sweep failed'))
      .finally(() => {
        if (!stopped) cancel = e.deps.clock.after(HOUR, tick);
      });
  };
  cancel = e.deps.clock.after(HOUR, tick);
  return () => {
    stopped = true;
    cancel();
  };
}

/** sweep starts the automatic upgrades that are due now. */
export async function sweep(e: EksContext): Promise<void> {
  const now = e.deps.clock.nowMs();
  for (const coll of e.deps.state.collectionsUnder(`${AWS_PREFIX}eks/`)) {
    if (!coll.endsWith('/cluster/')) continue;
    for (const c of e.deps.state.list<any>(coll)) {
      if (c.status !== 'ACTIVE' || c.connectorConfig) continue;
      const kv = kubeVersion(c.version);
      const next = nextMinor(c.version);
      if (!kv || !next) continue;
      const end = Date.parse(c.upgradePolicy?.supportType === 'STANDARD' ? kv.endOfStandardSupportDate : kv.endOfExtendedSupportDate);
      if (now < end) continue;
      const [, , , accountId, region] = (c._key as string).split('/');
      if (inProgressUpdate(e, { accountId: accountId!, region: region! }, c.name, { kind: 'cluster', name: c.name })) continue;
      const ctx: RequestContext = {
        accountId: accountId!,
        region: region!,
        requestId: 'eks-support-policy',
        service: 'eks',
        operation: 'UpdateClusterVersion',
        accessKeyId: '',
        callerArn: 'arn:aws:iam::aws:root',
        callerUserId: 'eks',
        now: () => e.deps.clock.now(),
      };
      e.deps.log.info({ cluster: c.name, from: c.version, to: next }, 'eks: end of support, upgrading the control plane');
      await startUpdate(e, ctx, {
        cluster: c.name,
        target: { kind: 'cluster', name: c.name },
        resourceKey: c._key,
        kind: 'cluster',
        type: 'VersionUpdate',
        params: [
          { type: 'Version', value: next },
          { type: 'PlatformVersion', value: kubeVersion(next)!.platformVersion },
        ],
        patch: { version: next, platformVersion: kubeVersion(next)!.platformVersion },
      });
    }
  }
}
