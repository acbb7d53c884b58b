/**
 * Deprecated Kubernetes API usage, from the per-cluster API server's
 * `onDeprecatedApiUse` hook to EKS upgrade insights
 * (`recordDeprecatedApiUsage` in aws/eks/shared.ts, which
 * "Deprecated APIs removed in Kubernetes vX" reads). Uses are aggregated per
 * cluster, API and user agent (request count and last request time, carrying
 * on from the stored record after a restart), and written at most once a
 * second per cluster.
 */
import { deprecatedApiUsage, recordDeprecatedApiUsage, type DeprecatedApiUsage } from '../aws/eks/shared.ts';
import type { AwsState } from '../aws/core/state.ts';
import type { DeprecatedApiUse } from '../kube/apiserver/server.ts';
import type { ClusterInfo } from '../kube/types.ts';

interface Log {
  warn(obj: unknown, msg?: string): void;
}

const FLUSH_MS = 1000;

export interface DeprecatedApiUsageRecorder {
  use(cluster: ClusterInfo, use: DeprecatedApiUse): void;
  /** Writes every pending cluster's record now. */
  flush(): Promise<void>;
}

export function deprecatedApiUsageRecorder(state: AwsState, log: Log): DeprecatedApiUsageRecorder {
  const byCluster = new Map<string, { cluster: ClusterInfo; usages: Map<string, DeprecatedApiUsage> }>();
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;

  async function flush(): Promise<void> {
    timer = undefined;
    const uids = [...dirty];
    dirty.clear();
    for (const uid of uids) {
      const c = byCluster.get(uid);
      if (!c) continue;
      try {
        await recordDeprecatedApiUsage(state, c.cluster, [...c.usages.values()].map((u) => ({ ...u, clientStats: u.clientStats.map((s) => ({ ...s })) })));
      } catch (e) {
        log.warn({ err: e, cluster: c.cluster.name }, 'recording deprecated API usage failed');
      }
    }
  }

  return {
    use(cluster, u) {
      // Only APIs with a scheduled removal matter to upgrade insights.
      if (!u.stopServingVersion) return;
      let c = byCluster.get(cluster.uid);
      if (!c) {
        // Counts recorded before a restart carry on.
        const stored = deprecatedApiUsage(state, cluster).map((u) => [u.usage, { ...u, clientStats: u.clientStats.map((s) => ({ ...s })) }] as const);
        byCluster.set(cluster.uid, (c = { cluster, usages: new Map(stored) }));
      }
      c.cluster = cluster;
      let rec = c.usages.get(u.usage);
      if (!rec) {
        rec = { usage: u.usage, replacedWith: u.replacedWith, stopServingVersion: u.stopServingVersion, startServingReplacementVersion: u.startServingReplacementVersion, clientStats: [] };
        c.usages.set(u.usage, rec);
      }
      const time = u.time.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const stat = rec.clientStats.find((s) => s.userAgent === u.userAgent);
      if (stat) {
        stat.numberOfRequestsLast30Days++;
        stat.lastRequestTime = time;
      } else rec.clientStats.push({ userAgent: u.userAgent, numberOfRequestsLast30Days: 1, lastRequestTime: time });
      dirty.add(cluster.uid);
      if (!timer) {
        timer = setTimeout(() => void flush(), FLUSH_MS);
        timer.unref();
      }
    },
    async flush() {
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
