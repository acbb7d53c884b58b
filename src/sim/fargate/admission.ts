/**
 * Fargate profile matching at pod admission, as EKS's Fargate webhook in the
 * control plane does: a pod of the default scheduler that matches an ACTIVE
 * Fargate profile of its cluster (fargate.ts matchProfile: namespace and
 * labels, `eks.amazonaws.com/fargate-profile` picks among several) is
 * given `schedulerName: fargate-scheduler` and the
 * `eks.amazonaws.com/fargate-profile` label naming the profile. A pod
 * annotated `eks.amazonaws.com/compute-type: ec2` (CoreDNS as EKS installs
 * it) is left to the default scheduler: on a Fargate-only cluster it stays
 * Pending until the annotation is removed, as the EKS user guide's Fargate
 * getting-started tells users to do (`eksctl create cluster --fargate` does
 * it for CoreDNS). Pods that
 * Fargate cannot run are still admitted, as on EKS: the fargate-scheduler
 * leaves them Pending with its event (see the data plane).
 */
import type { PodAdmissionPlugin } from '../../kube/apiserver/pod-admission-plugins.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { listFargateProfiles } from '../../aws/eks/shared.ts';
import { FARGATE_PROFILE_LABEL, FARGATE_SCHEDULER, matchProfile } from './fargate.ts';

/** The pod annotation that keeps a pod off Fargate (value `ec2`). */
export const COMPUTE_TYPE_ANNOTATION = 'eks.amazonaws.com/compute-type';

export function fargateAdmission(deps: AwsDeps): PodAdmissionPlugin[] {
  return [
    {
      name: 'eks-fargate-profile-webhook',
      admit({ reg, pod }) {
        const spec = (pod as any).spec ?? {};
        if (spec.schedulerName && spec.schedulerName !== 'default-scheduler') return;
        if (spec.nodeName) return;
        if (pod.metadata?.annotations?.[COMPUTE_TYPE_ANNOTATION] === 'ec2') return;
        const profiles = listFargateProfiles(deps.state, reg.cluster);
        if (profiles.length === 0) return;
        const p = matchProfile(profiles, pod);
        if (!p) return;
        spec.schedulerName = FARGATE_SCHEDULER;
        (pod as any).spec = spec;
        pod.metadata ??= {};
        pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [FARGATE_PROFILE_LABEL]: p.fargateProfileName };
      },
    },
  ];
}
