/**
 * recordEvent writes a core/v1 Event about an object as a controller of
 * kube-controller-manager does (source component, first/last timestamp on
 * the simulated clock, count 1).
 */
import { randomBytes } from 'node:crypto';
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';

/** Records the event; failures are ignored (events are best effort upstream too). */
export async function recordEvent(reg: ClusterRegistry, nowMs: number, obj: KObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): Promise<void> {
  const evRes = reg.scheme.get('', 'v1', 'events');
  if (!evRes) return;
  const m = obj.metadata!;
  const now = timestamp(new Date(nowMs));
  await reg
    .create(evRes, m.namespace ?? 'default', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${m.name}.${randomBytes(8).toString('hex')}`, namespace: m.namespace ?? 'default' },
      involvedObject: { kind: obj.kind, namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: obj.apiVersion, resourceVersion: m.resourceVersion },
      reason,
      message,
      source: { component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      reportingComponent: component,
      reportingInstance: '',
    }, { fieldManager: component })
    .catch(() => {});
}
