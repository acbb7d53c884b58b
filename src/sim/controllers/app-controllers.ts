/**
 * Workload controllers for applications: StatefulSet, EBS volume
 * provisioning, attachment and expansion, CronJob, Job, TTL-after-finished, HorizontalPodAutoscaler
 * (see workload-controllers.ts).
 */
import type { WorkloadController } from './workload-controllers.ts';
import { CRONJOB_CONTROLLER } from './cronjob-controller.ts';
import { STATEFULSET_CONTROLLER } from './statefulset-controller.ts';
import { HPA_CONTROLLER } from './hpa-controller.ts';
import { VOLUME_PROVISIONER } from './volume-provisioner.ts';
import { VOLUME_ATTACHER } from './volume-attacher.ts';
import { VOLUME_RESIZER } from './volume-resizer.ts';
import { JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER } from './job-controller.ts';

export const APP_CONTROLLERS: readonly WorkloadController[] = [STATEFULSET_CONTROLLER, VOLUME_PROVISIONER, VOLUME_ATTACHER, VOLUME_RESIZER, CRONJOB_CONTROLLER, JOB_CONTROLLER, TTL_AFTER_FINISHED_CONTROLLER, HPA_CONTROLLER];
