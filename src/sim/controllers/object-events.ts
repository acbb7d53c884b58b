/**
 * recordEvent writes a core/v1 Event about an object as a controller of
 * kube-controller-manager does (source component, first/last timestamp on
 * the simulated clock, count 1).
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';

let eventSeq = 0;

/**
 * An Event's name as client-go's recorder makes it: the object's name and
 * the event time in nanoseconds since the epoch, in hex
 * (`fmt.Sprintf("%v.%x", ref.Name, t.UnixNano())`). The simulated clock has
 * millisecond precision: a counter fills the nanoseconds, so events of one
 * object within a millisecond get distinct names.
 */
export function eventName(objectName: string, nowMs: number): string {
  eventSeq = (eventSeq + 1) % 1_000_000;
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(eventSeq)).toString(16)}`;
}

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
      metadata: { name: eventName(m.name!, nowMs), namespace: m.namespace ?? 'default' },
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
