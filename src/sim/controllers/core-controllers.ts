/**
 * Workload controllers for nodes and services: DaemonSet, EndpointSlice and
 * Endpoints, ServiceAccount and root CA ConfigMap per namespace,
 * PodDisruptionBudget status (see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';
import { daemonSetController } from './daemonset-controller.ts';

export const CORE_CONTROLLERS: readonly WorkloadController[] = [daemonSetController];
