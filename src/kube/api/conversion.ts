/**
 * Conversion between versions that share storage (kube-apiserver stores one
 * version and converts on the way in and out): core/v1 Event (stored) and
 * events.k8s.io/v1 Event; autoscaling/v2 HorizontalPodAutoscaler (stored)
 * and autoscaling/v1. Other kinds with several versions differ only in
 * apiVersion.
 */
import type { KObject } from './types.ts';

function clean<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function coreEventToEventsV1(e: KObject): KObject {
  return clean({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: e.metadata,
    eventTime: e.eventTime ?? null,
    series: e.series,
    reportingController: e.reportingComponent || e.source?.component || undefined,
    reportingInstance: e.reportingInstance || e.source?.host || undefined,
    action: e.action,
    reason: e.reason,
    regarding: e.involvedObject,
    related: e.related,
    note: e.message,
    type: e.type,
    deprecatedSource: e.source,
    deprecatedFirstTimestamp: e.firstTimestamp,
    deprecatedLastTimestamp: e.lastTimestamp,
    deprecatedCount: e.count,
  });
}

function eventsV1ToCoreEvent(e: KObject): KObject {
  return clean({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: e.metadata,
    involvedObject: e.regarding ?? {},
    reason: e.reason,
    message: e.note,
    source: e.deprecatedSource ?? (e.reportingController ? clean({ component: e.reportingController, host: e.reportingInstance }) : undefined),
    firstTimestamp: e.deprecatedFirstTimestamp,
    lastTimestamp: e.deprecatedLastTimestamp,
    count: e.deprecatedCount,
    type: e.type,
    eventTime: e.eventTime,
    series: e.series,
    action: e.action,
    related: e.related,
    reportingComponent: e.reportingController ?? '',
    reportingInstance: e.reportingInstance ?? '',
  });
}

function hpaV2ToV1(h: KObject): KObject {
  const s = h.spec ?? {};
  const cpu = (s.metrics ?? []).find((m: any) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization');
  const st = h.status;
  const curCpu = (st?.currentMetrics ?? []).find((m: any) => m.type === 'Resource' && m.resource?.name === 'cpu');
  return clean({
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: h.metadata,
    spec: clean({ scaleTargetRef: s.scaleTargetRef, minReplicas: s.minReplicas, maxReplicas: s.maxReplicas, targetCPUUtilizationPercentage: cpu?.resource?.target?.averageUtilization }),
    status: st
      ? clean({ observedGeneration: st.observedGeneration, lastScaleTime: st.lastScaleTime, currentReplicas: st.currentReplicas ?? 0, desiredReplicas: st.desiredReplicas ?? 0, currentCPUUtilizationPercentage: curCpu?.resource?.current?.averageUtilization })
      : undefined,
  });
}

function hpaV1ToV2(h: KObject): KObject {
  const s = h.spec ?? {};
  const st = h.status;
  const metrics = s.targetCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.targetCPUUtilizationPercentage } } }] : undefined;
  return clean({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: h.metadata,
    spec: clean({ scaleTargetRef: s.scaleTargetRef, minReplicas: s.minReplicas, maxReplicas: s.maxReplicas, metrics }),
    status: st
      ? clean({
          observedGeneration: st.observedGeneration,
          lastScaleTime: st.lastScaleTime,
          currentReplicas: st.currentReplicas,
          desiredReplicas: st.desiredReplicas,
          currentMetrics: st.currentCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: st.currentCPUUtilizationPercentage } } }] : undefined,
        })
      : undefined,
  });
}

const CONVERTERS: Record<string, (o: KObject) => KObject> = {
  'v1/Event->events.k8s.io/v1': coreEventToEventsV1,
  'events.k8s.io/v1/Event->v1': eventsV1ToCoreEvent,
  'autoscaling/v2/HorizontalPodAutoscaler->autoscaling/v1': hpaV2ToV1,
  'autoscaling/v1/HorizontalPodAutoscaler->autoscaling/v2': hpaV1ToV2,
};

/** The apiVersion objects of a storage resource are stored as (when versions differ in shape). */
export const STORAGE_VERSIONS: Record<string, string> = {
  events: 'v1',
  'autoscaling/horizontalpodautoscalers': 'autoscaling/v2',
  'flowcontrol.apiserver.k8s.io/flowschemas': 'flowcontrol.apiserver.k8s.io/v1',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations': 'flowcontrol.apiserver.k8s.io/v1',
};

/**
 * Converts obj to apiVersion/kind (a new object; obj is not changed). Kinds
 * without a converter only get apiVersion and kind rewritten.
 */
export function convertObject(obj: KObject, apiVersion: string, kind: string): KObject {
  if (obj.apiVersion === apiVersion && obj.kind === kind) return obj;
  const f = CONVERTERS[`${obj.apiVersion}/${obj.kind}->${apiVersion}`];
  if (f) return f(obj);
  return { ...obj, apiVersion, kind };
}
