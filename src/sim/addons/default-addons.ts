/**
 * The add-ons a new EKS cluster has before anyone calls CreateAddon: the
 * self-managed vpc-cni (aws-node), kube-proxy and coredns at the default
 * versions for the cluster's Kubernetes version, created once, when the
 * cluster's Kubernetes API is first bootstrapped (kube/apiserver/bootstrap.ts),
 * unless the cluster was created with bootstrapSelfManagedAddons=false.
 */
import { addonDef, defaultAddonVersion } from '../../aws/eks/addon-catalogue.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { type AddonObject, DEFAULT_ADDONS, addonObjects } from './manifests.ts';

/** defaultAddonObjects: every object of the default add-ons of a cluster ([] when it opted out). */
export function defaultAddonObjects(cluster: ClusterInfo): AddonObject[] {
  if (cluster.bootstrapSelfManagedAddons === false) return [];
  const out: AddonObject[] = [];
  for (const name of DEFAULT_ADDONS) {
    const def = addonDef(name);
    const version = def && defaultAddonVersion(def, cluster.kubernetesVersion);
    if (!version) continue;
    out.push(...addonObjects(name, version, cluster));
  }
  return out;
}
