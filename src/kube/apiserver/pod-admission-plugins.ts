/**
 * Mutating admission for pod creates contributed from outside the API server
 * (the EKS pod identity webhook, the Fargate profile matcher, ...). They run
 * after the built-in pod admission (ServiceAccount, DefaultTolerationSeconds,
 * Priority) and before the cluster's own mutating webhooks, as EKS's
 * webhooks run in its control plane. A plugin mutates `pod` in place, or
 * throws a StatusError (apiserver/errors.ts) to reject the create.
 */
import type { KObject } from '../api/types.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';

export interface PodAdmissionRequest {
  reg: ClusterRegistry;
  pod: KObject;
  dryRun: boolean;
}

export interface PodAdmissionPlugin {
  name: string;
  admit(req: PodAdmissionRequest): Promise<void> | void;
}
