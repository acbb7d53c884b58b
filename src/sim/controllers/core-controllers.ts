/**
 * Workload controllers for nodes and services: DaemonSet, EndpointSlice and
 * Endpoints, root CA ConfigMap per namespace, the `default` ServiceAccount
 * when deleted (the namespace controller makes it with the namespace),
 * PodDisruptionBudget status, the EKS add-ons' objects and health, and managed
 * node group updates replacing nodes (nodegroup-rollout.ts) and scale-in
 * draining nodes (nodegroup-scale-in.ts; see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';
import { daemonSetController } from './daemonset-controller.ts';
import { endpointsController } from './endpoints-controller.ts';
import { rootCaController } from './root-ca-controller.ts';
import { serviceAccountController } from './serviceaccount-controller.ts';
import { disruptionController } from './disruption-controller.ts';
import { addonController } from '../addons/addon-controller.ts';
import { legacyTokenController } from '../../kube/authn/legacy-token-controller.ts';
import { nodegroupRolloutController } from './nodegroup-rollout.ts';
import { nodegroupScaleInController } from './nodegroup-scale-in.ts';

export const CORE_CONTROLLERS: readonly WorkloadController[] = [daemonSetController, endpointsController, rootCaController, serviceAccountController, legacyTokenController, disruptionController, addonController, nodegroupRolloutController, nodegroupScaleInController];
