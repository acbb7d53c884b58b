/**
 * The pod admission plugins localeks runs in every cluster's API server, as
 * EKS runs its webhooks in the control plane (see
 * kube/apiserver/pod-admission-plugins.ts). Each entry is built from the
 * server context; add one line per plugin.
 */
import type { PodAdmissionPlugin } from '../kube/apiserver/pod-admission-plugins.ts';
import type { ServerContext } from './start.ts';

export function podAdmissionPlugins(_ctx: Pick<ServerContext, 'deps' | 'log'>): PodAdmissionPlugin[] {
  return [];
}
