/**
 * Workload controllers for applications: StatefulSet, Job, CronJob,
 * HorizontalPodAutoscaler (see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';

export const APP_CONTROLLERS: readonly WorkloadController[] = [];
