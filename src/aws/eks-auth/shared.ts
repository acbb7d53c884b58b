/**
 * What the rest of the server gives the EKS Auth API (and the only module
 * of this folder others import): a reviewer of a cluster's service account
 * tokens as the cluster's own API server reviews them (TokenReview), which
 * is how EKS checks a Pod Identity token — signature, audience, expiry, and
 * the service account and the pod (or Secret) the token is bound to still
 * existing with the uids in the token. The server's Kubernetes
 * authenticator (server/kube-auth.ts) registers one per AwsDeps; without
 * one (a server without the default Kubernetes API), AssumeRoleForPodIdentity
 * checks the token's signature only.
 */
import type { AwsDeps } from '../core/deps.ts';

/** The cluster a token is reviewed for. */
export interface ReviewedCluster {
  accountId: string;
  region: string;
  name: string;
}

/** Reviews a token for an audience; resolves ok, or not with a reason for logs (never the token). */
export type ClusterTokenReviewer = (cluster: ReviewedCluster, token: string, audience: string) => Promise<{ ok: true } | { ok: false; reason: string }>;

const reviewers = new WeakMap<AwsDeps, ClusterTokenReviewer>();

/** setClusterTokenReviewer registers the reviewer of the server whose deps these are. */
export function setClusterTokenReviewer(deps: AwsDeps, reviewer: ClusterTokenReviewer): void {
  reviewers.set(deps, reviewer);
}

/** clusterTokenReviewer is the reviewer registered for deps, if any. */
export function clusterTokenReviewer(deps: AwsDeps): ClusterTokenReviewer | undefined {
  return reviewers.get(deps);
}
