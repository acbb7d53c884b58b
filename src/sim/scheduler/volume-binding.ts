/**
 * kube-scheduler's VolumeBinding filter for claims already bound to a
 * PersistentVolume: a node outside the PV's required node affinity (an EBS
 * volume's zone: `topology.ebs.csi.aws.com/zone` or, for in-tree PVs,
 * `topology.kubernetes.io/zone`) is infeasible with upstream's reason
 * "node(s) had volume node affinity conflict", so a pod whose volume lives
 * in one Availability Zone never lands in another (where EBS could not
 * attach it). Unbound WaitForFirstConsumer claims fit any node (the volume
 * is provisioned in the chosen node's zone).
 */
import type { KObject } from '../../kube/api/types.ts';
import { matchesNodeAffinity } from './scheduler.ts';

export const VOLUME_NODE_AFFINITY_CONFLICT = 'node(s) had volume node affinity conflict';

/** Reads a claim and a volume (the watch cache). */
export interface VolumeLookup {
  claim(namespace: string, name: string): KObject | undefined;
  volume(name: string): KObject | undefined;
}

/**
 * volumeBindingFilter returns a per-node check for the pod (a reason when
 * the node conflicts with one of its bound volumes), or undefined when the
 * pod has no bound volume with node affinity (the common case: no cost).
 */
export function volumeBindingFilter(pod: KObject, lookup: VolumeLookup): ((node: KObject) => string | undefined) | undefined {
  const vols = pod.spec?.volumes;
  if (!vols || vols.length === 0) return undefined;
  const required: KObject[] = [];
  for (const v of vols) {
    const claimName = v.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const pvName = lookup.claim(pod.metadata?.namespace ?? 'default', claimName)?.spec?.volumeName;
    const affinity = pvName ? lookup.volume(pvName)?.spec?.nodeAffinity?.required : undefined;
    // The PV's required node selector, checked as a pod's required node affinity would be.
    if (affinity?.nodeSelectorTerms?.length) required.push({ spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: affinity } } } });
  }
  if (required.length === 0) return undefined;
  return (node) => (required.every((p) => matchesNodeAffinity(p, node)) ? undefined : VOLUME_NODE_AFFINITY_CONFLICT);
}
