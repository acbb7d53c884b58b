/**
 * The seam between the Kubernetes HTTPS gateway, the per-cluster API servers
 * and the EKS API.
 *
 * Each EKS cluster owns a Kubernetes API reachable at
 * https://<kube endpoint>/clusters/<endpointId>. The EKS provider decides the
 * endpointId (the cluster name, made unique across accounts and regions when
 * needed) and a uid; every Kubernetes object of the cluster lives in the store
 * under `/k8s/<uid>/` (then `/registry/<group/>resource/<ns>/<name>` as
 * kube-apiserver lays out etcd), so deleting a cluster deletes one prefix and
 * a new cluster of the same name starts empty.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the Kubernetes side needs to know about one EKS cluster. */
export interface ClusterInfo {
  /** Unique, never reused id; the store prefix is `/k8s/<uid>/`. */
  uid: string;
  /** EKS cluster name. */
  name: string;
  /** Path segment after /clusters/ in the endpoint URL. */
  endpointId: string;
  accountId: string;
  region: string;
  /** Kubernetes minor version, e.g. "1.31". */
  kubernetesVersion: string;
  /** EKS platform version, e.g. "eks.12". */
  platformVersion: string;
  /** EKS status: the API serves only ACTIVE and UPDATING clusters (CREATING answers 503). */
  status: string;
  /** Service CIDR (kubernetesNetworkConfig.serviceIpv4Cidr). */
  serviceIpv4Cidr: string;
  /** OIDC issuer URL (identity.oidc.issuer). */
  oidcIssuer: string;
  createdAt: string;
  /** CreateCluster's bootstrapSelfManagedAddons: false = no default add-ons (aws-node, kube-proxy, coredns). */
  bootstrapSelfManagedAddons?: boolean;
}

/** The EKS side implements this: finds a cluster by its endpoint id. */
export interface ClusterDirectory {
  lookup(endpointId: string): ClusterInfo | undefined;
  /** Every cluster (for controllers that run per cluster). */
  all(): ClusterInfo[];
}

/** The per-cluster Kubernetes API: the gateway hands it requests under /clusters/<endpointId>. */
export interface ClusterApiHandler {
  /**
   * Serves one request. `path` is the URL path after /clusters/<endpointId>
   * (always starting with '/'), the query string stays on req.url.
   */
  handle(cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
}

/** storePrefix is where one cluster's Kubernetes objects live in the store. */
export function storePrefix(cluster: Pick<ClusterInfo, 'uid'>): string {
  return `/k8s/${cluster.uid}/`;
}
