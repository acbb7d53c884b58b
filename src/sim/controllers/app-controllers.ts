/**
 * Workload controllers for applications: StatefulSet, Job, CronJob,
 * HorizontalPodAutoscaler (see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';
import { CRONJOB_CONTROLLER } from './cronjob-controller.ts';
import { STATEFULSET_CONTROLLER } from './statefulset-controller.ts';
import { HPA_CONTROLLER } from './hpa-controller.ts';
import { JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER } from './job-controller.ts';

export const APP_CONTROLLERS: readonly WorkloadController[] = [STATEFULSET_CONTROLLER, CRONJOB_CONTROLLER, JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER, HPA_CONTROLLER];
