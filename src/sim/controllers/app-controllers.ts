/**
 * Workload controllers for applications: StatefulSet, Job, CronJob,
 * HorizontalPodAutoscaler (see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';
import { JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER } from './job-controller.ts';

export const APP_CONTROLLERS: readonly WorkloadController[] = [JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER];
