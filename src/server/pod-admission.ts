/**
 * The pod admission plugins localeks runs in every cluster's API server, as
 * EKS runs its webhooks in the control plane (see
 * kube/apiserver/pod-admission-plugins.ts), in order.
 */
import type { PodAdmissionPlugin } from '../kube/apiserver/pod-admission-plugins.ts';
import { podIdentityAdmission } from '../kube/authn/pod-identity-admission.ts';
import { podEniAdmission } from '../sim/cni/pod-eni.ts';
import { fargateAdmission } from '../sim/fargate/admission.ts';
import type { ServerContext } from './start.ts';

export function podAdmissionPlugins(ctx: Pick<ServerContext, 'deps' | 'log'>): PodAdmissionPlugin[] {
  return [...fargateAdmission(ctx.deps), ...podEniAdmission(), ...podIdentityAdmission(ctx.deps)];
}
