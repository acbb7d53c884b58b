/**
 * Patch strategies and merge keys of built-in list fields, from the
 * `patchStrategy` / `patchMergeKey` struct tags (and list-map keys) of
 * k8s.io/api types. Lists not named here are atomic (replaced as a whole),
 * as upstream treats lists without a strategy.
 *
 * Keyed by field name, disambiguated by the parent field where one name has
 * two meanings (container ports vs Service ports).
 */

export interface ListStrategy {
  /** 'merge' lists merge element-wise (by key, or as a set for scalars); 'replace' lists are atomic. */
  strategy: 'merge' | 'replace';
  /** Merge key of object lists. */
  mergeKey?: string;
  /** List-map keys (server-side apply identity); defaults to [mergeKey]. */
  keys?: string[];
}

const BY_NAME: Record<string, ListStrategy> = {
  containers: { strategy: 'merge', mergeKey: 'name' },
  initContainers: { strategy: 'merge', mergeKey: 'name' },
  ephemeralContainers: { strategy: 'merge', mergeKey: 'name' },
  env: { strategy: 'merge', mergeKey: 'name' },
  volumeMounts: { strategy: 'merge', mergeKey: 'mountPath' },
  volumeDevices: { strategy: 'merge', mergeKey: 'devicePath' },
  volumes: { strategy: 'merge', mergeKey: 'name' },
  imagePullSecrets: { strategy: 'merge', mergeKey: 'name' },
  hostAliases: { strategy: 'merge', mergeKey: 'ip' },
  topologySpreadConstraints: { strategy: 'merge', mergeKey: 'topologyKey', keys: ['topologyKey', 'whenUnsatisfiable'] },
  schedulingGates: { strategy: 'merge', mergeKey: 'name' },
  resourceClaims: { strategy: 'merge', mergeKey: 'name' },
  conditions: { strategy: 'merge', mergeKey: 'type' },
  ownerReferences: { strategy: 'merge', mergeKey: 'uid' },
  finalizers: { strategy: 'merge' },
  podIPs: { strategy: 'merge', mergeKey: 'ip' },
  hostIPs: { strategy: 'merge', mergeKey: 'ip' },
  addresses: { strategy: 'merge', mergeKey: 'type' },
  // admissionregistration: webhook configurations' webhooks, webhooks' and policies' matchConditions.
  webhooks: { strategy: 'merge', mergeKey: 'name' },
  matchConditions: { strategy: 'merge', mergeKey: 'name' },
  // ServiceAccount.secrets, Node spec.podCIDRs.
  secrets: { strategy: 'merge', mergeKey: 'name' },
  podCIDRs: { strategy: 'merge' },
  taints: { strategy: 'replace' },
  tolerations: { strategy: 'replace' },
  args: { strategy: 'replace' },
  command: { strategy: 'replace' },
};

/**
 * The strategy of a list field. `parent` is the name of the field holding the
 * object that contains the list ('containers' for container ports, 'spec' for
 * Service ports); `sample` is an element, used to tell the two `ports` apart.
 */
export function listStrategy(field: string, parent: string | undefined, sample?: unknown): ListStrategy {
  if (field === 'ports') {
    const s = sample as Record<string, unknown> | undefined;
    if (parent === 'containers' || parent === 'initContainers' || parent === 'ephemeralContainers' || (s && typeof s === 'object' && 'containerPort' in s))
      return { strategy: 'merge', mergeKey: 'containerPort', keys: ['containerPort', 'protocol'] };
    if (s && typeof s === 'object' && 'port' in s) return { strategy: 'merge', mergeKey: 'port', keys: ['port', 'protocol'] };
    return { strategy: 'replace' };
  }
  return BY_NAME[field] ?? { strategy: 'replace' };
}
