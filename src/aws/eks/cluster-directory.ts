/**
 * ClusterDirectory over the EKS state: how the Kubernetes gateway finds a
 * cluster by the endpoint id in https://<kube>/clusters/<endpointId>, and
 * how per-cluster controllers enumerate clusters. Reads the AwsState cache
 * (synchronous, always current), so every EKS change is seen at once.
 */
import type { AwsState } from '../core/state.ts';
import { AWS_PREFIX } from '../core/state.ts';
import type { ClusterDirectory, ClusterInfo } from '../../kube/types.ts';

/** toClusterInfo maps a stored EKS cluster document to ClusterInfo. */
export function toClusterInfo(doc: any, accountId: string, region: string): ClusterInfo {
  return {
    uid: doc._uid,
    name: doc.name,
    endpointId: doc._endpointId ?? doc.name,
    accountId,
    region,
    kubernetesVersion: doc.version,
    platformVersion: doc.platformVersion,
    status: doc.status,
    serviceIpv4Cidr: doc.kubernetesNetworkConfig?.serviceIpv4Cidr ?? '',
    oidcIssuer: doc.identity?.oidc?.issuer ?? '',
    createdAt: doc.createdAt,
    bootstrapSelfManagedAddons: doc._bootstrapSelfManagedAddons !== false,
  };
}

export class EksClusterDirectory implements ClusterDirectory {
  private readonly byEndpoint = new Map<string, string>();

  constructor(private readonly state: AwsState) {}

  lookup(endpointId: string): ClusterInfo | undefined {
    const key = this.byEndpoint.get(endpointId);
    if (key) {
      const doc = this.state.get<any>(key);
      if (doc && doc._endpointId === endpointId) return this.info(key, doc);
      this.byEndpoint.delete(endpointId);
    }
    for (const c of this.all()) if (c.endpointId === endpointId) return c;
    return undefined;
  }

  all(): ClusterInfo[] {
    const outList: ClusterInfo[] = [];
    for (const coll of this.state.collectionsUnder(`${AWS_PREFIX}eks/`)) {
      if (!coll.endsWith('/cluster/')) continue;
      for (const doc of this.state.list<any>(coll)) {
        if (!doc._endpointId || doc.connectorConfig) continue;
        const key = doc._key as string;
        this.byEndpoint.set(doc._endpointId, key);
        outList.push(this.info(key, doc));
      }
    }
    return outList;
  }

  private info(key: string, doc: any): ClusterInfo {
    const [, , , accountId, region] = key.split('/');
    return toClusterInfo(doc, accountId!, region!);
  }
}

/** createClusterDirectory builds the directory the Kubernetes gateway uses. */
export function createClusterDirectory(state: AwsState): ClusterDirectory {
  return new EksClusterDirectory(state);
}
