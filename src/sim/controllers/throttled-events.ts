/**
 * Warning events of failures a controller retries every pass (an EBS volume
 * attached to another node, a volume that cannot be deleted yet), recorded
 * at most once a minute per object and reason.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { recordEvent } from './object-events.ts';
import type { ControllerContext } from './workload-controllers.ts';

/** Simulated ms each (object, reason) warning was last recorded, per cluster. */
const lastWarned = new WeakMap<ClusterRegistry, Map<string, number>>();
const WARN_EVERY_MS = 60_000;

/**
 * warnEvery records a retried failure's Warning event at most once a minute
 * per object and reason (upstream's retries back off and its recorder
 * aggregates repeats), so a volume stuck on another node does not write an
 * event every pass.
 */
export async function warnEvery(ctx: ControllerContext, obj: KObject, reason: string, message: string, component: string): Promise<void> {
  let m = lastWarned.get(ctx.reg);
  if (!m) lastWarned.set(ctx.reg, (m = new Map()));
  const key = `${obj.metadata?.uid}/${reason}`;
  const last = m.get(key);
  if (last !== undefined && ctx.nowMs - last < WARN_EVERY_MS) return;
  m.set(key, ctx.nowMs);
  if (m.size > 10_000) m.clear();
  await recordEvent(ctx.reg, ctx.nowMs, obj, 'Warning', reason, message, component).catch(() => {});
}
