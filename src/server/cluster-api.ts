/**
 * The default Kubernetes side of a server: the per-cluster API server
 * (kube/apiserver) behind the HTTPS gateway, with each cluster's bootstrap
 * objects (namespaces, the `kubernetes` Service, default service accounts,
 * bootstrap RBAC) ensured before the first request a process serves for that
 * cluster. bootstrapCluster is idempotent, so doing it here is safe whether or
 * not the EKS lifecycle has already done it, and a cluster created before a
 * restart is served complete after it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bootstrapCluster, createClusterApiServer, type ClusterApiServer } from '../kube/apiserver/index.ts';
import { newServiceUnavailable } from '../kube/apiserver/errors.ts';
import { writeStatus } from '../kube/gateway.ts';
import type { ClusterInfo } from '../kube/types.ts';
import type { ServerContext } from './start.ts';
import { podAdmissionPlugins } from './pod-admission.ts';
import { deprecatedApiUsageRecorder } from './deprecated-api-usage.ts';

/** The ClusterApiServer, with the bootstrap of each cluster on its first request. */
export function createDefaultClusterApi(ctx: Pick<ServerContext, 'backend' | 'clock' | 'log' | 'deps'>): ClusterApiServer & { ensureBootstrapped(cluster: ClusterInfo): Promise<void> } {
  const log = ctx.log.child({ component: 'kube-apiserver' });
  const deprecatedUsage = deprecatedApiUsageRecorder(ctx.deps.state, log);
  const api = createClusterApiServer({ backend: ctx.backend, clock: ctx.clock, log, podAdmission: podAdmissionPlugins(ctx), onDeprecatedApiUse: (cluster, use) => deprecatedUsage.use(cluster, use) });
  /** cluster uid -> bootstrap in progress or done */
  const bootstrapped = new Map<string, Promise<void>>();

  function ensureBootstrapped(cluster: ClusterInfo): Promise<void> {
    let p = bootstrapped.get(cluster.uid);
    if (!p) {
      p = bootstrapCluster(ctx.backend, cluster, ctx.clock).then(
        () => log.info({ cluster: cluster.name, uid: cluster.uid }, 'cluster bootstrap objects ensured'),
        (e: unknown) => {
          bootstrapped.delete(cluster.uid); // retry on the next request
          throw e;
        },
      );
      bootstrapped.set(cluster.uid, p);
    }
    return p;
  }

  return {
    ensureBootstrapped, // (auth) the gateway authorizes against the bootstrap RBAC policy
    registry: (cluster) => api.registry(cluster),
    closeWatches: (uid) => api.closeWatches(uid),
    close: () => api.close(),
    async handle(cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
      try {
        await ensureBootstrapped(cluster);
      } catch (e) {
        log.error({ err: e, cluster: cluster.name }, 'cluster bootstrap failed');
        writeStatus(res, newServiceUnavailable(`the Kubernetes API of cluster "${cluster.name}" is starting: ${(e as Error).message}`));
        return;
      }
      await api.handle(cluster, req, res, path);
    },
    forget(clusterUid: string): void {
      bootstrapped.delete(clusterUid);
      api.forget(clusterUid);
    },
  };
}
