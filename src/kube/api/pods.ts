import type { KObject } from './types.ts';

/** isDaemonSetPod: the pod's controller is a DaemonSet. */
export function isDaemonSetPod(pod: KObject): boolean {
  return (pod.metadata?.ownerReferences ?? []).some((o) => o.kind === 'DaemonSet' && o.controller);
}

/** isMirrorPod: a static pod's mirror (the kubelet's config.mirror annotation). */
export function isMirrorPod(pod: KObject): boolean {
  return !!pod.metadata?.annotations?.['kubernetes.io/config.mirror'];
}

/**
 * isDrainable: a pod that draining its node must evict, as `kubectl drain`
 * selects them: not a DaemonSet's or a mirror pod, and not finished.
 */
export function isDrainable(pod: KObject): boolean {
  const phase = pod.status?.phase;
  return !isDaemonSetPod(pod) && !isMirrorPod(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}
