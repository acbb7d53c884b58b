/**
 * The kube-controller-manager controllers that the data plane loop runs on
 * every pass of a cluster after the Deployment and ReplicaSet controllers
 * (Job, CronJob, StatefulSet, EndpointSlice, ServiceAccount/root CA, PDB
 * status, HPA, ...). Each is one module with a `sync` over the cluster's
 * watch cache; `resources` names the watch-cache resources (as CacheEvent
 * names them: 'pods', 'apps/statefulsets', 'batch/jobs', ...) whose events
 * should trigger a pass.
 *
 * To add a controller: write `src/sim/controllers/<name>-controller.ts`
 * exporting a `WorkloadController`, and list it in core-controllers.ts or
 * app-controllers.ts.
 */
import type { AwsDeps } from '../../aws/core/deps.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import type { Clock } from '../clock.ts';
import { CORE_CONTROLLERS } from './core-controllers.ts';
import { APP_CONTROLLERS } from './app-controllers.ts';

export interface ControllerContext {
  reg: ClusterRegistry;
  info: ClusterInfo;
  deps: AwsDeps;
  clock: Clock;
  /** Simulated now (ms) at the start of this pass. */
  nowMs: number;
  /** Ask for another pass at this simulated time. */
  wake(atMs: number): void;
  log: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void; debug?(o: object, msg?: string): void };
}

export interface WorkloadController {
  name: string;
  /** Watch-cache resource names whose events trigger a pass. */
  resources: readonly string[];
  sync(ctx: ControllerContext): Promise<void>;
}

/** The controllers run in this order on every pass. */
export const WORKLOAD_CONTROLLERS: readonly WorkloadController[] = [...CORE_CONTROLLERS, ...APP_CONTROLLERS];

/** Every resource name any workload controller listens to. */
export function workloadResources(): Set<string> {
  const s = new Set<string>();
  for (const c of WORKLOAD_CONTROLLERS) for (const r of c.resources) s.add(r);
  return s;
}
