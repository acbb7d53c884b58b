/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`):
 * the columns kubectl shows for built-ins (pkg/printers/internalversion),
 * NAME/AGE for everything else. Priority 1 columns are kubectl's -o wide ones.
 */
import type { KObject } from '../api/types.ts';
import type { Resource } from '../api/scheme.ts';
import { readJsonPath } from './registry/structural.ts';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean;
interface Printer {
  columns: Array<[name: string, type: string, priority?: number, format?: string]>;
  row(o: KObject, nowMs: number): Cell[];
}

/** duration.HumanDuration: 45s, 5m10s, 3h, 2d5h, 400d, 3y... */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 192) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const dy = Math.floor(h / 24) % 365;
    return dy === 0 ? `${Math.floor(h / 24 / 365)}y` : `${Math.floor(h / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}

/** formatHPAMetrics: "cpu: 40%/50%, memory: 100Mi/200Mi" (the first two metrics, then "+ N more..."). */
function hpaTargets(o: KObject): string {
  const specs: any[] = o.spec?.metrics ?? [];
  const cur: any[] = o.status?.currentMetrics ?? [];
  if (specs.length === 0) return '<none>';
  const list = specs.map((m, i) => {
    const src = m.type === 'Resource' ? m.resource : m.type === 'ContainerResource' ? m.containerResource : m.type === 'Pods' ? m.pods : m.type === 'Object' ? m.object : m.external;
    const c = cur[i]?.[m.type === 'Resource' ? 'resource' : m.type === 'ContainerResource' ? 'containerResource' : m.type === 'Pods' ? 'pods' : m.type === 'Object' ? 'object' : 'external']?.current;
    const t = src?.target ?? {};
    const name = m.type === 'Resource' || m.type === 'ContainerResource' ? `${src?.name}: ` : '';
    if (t.averageUtilization !== undefined || ((m.type === 'Resource' || m.type === 'ContainerResource') && t.averageValue === undefined)) {
      return `${name}${c?.averageUtilization !== undefined ? `${c.averageUtilization}%` : '<unknown>'}/${t.averageUtilization !== undefined ? `${t.averageUtilization}%` : '<auto>'}`;
    }
    const want = t.averageValue ?? t.value;
    const have = t.averageValue !== undefined ? c?.averageValue : c?.value;
    return `${name}${have ?? '<unknown>'}/${want ?? '<unknown>'}${t.averageValue !== undefined && m.type !== 'Resource' && m.type !== 'ContainerResource' ? ' (avg)' : ''}`;
  });
  return list.length > 2 ? `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...` : list.join(', ');
}

function age(o: KObject, now: number): string {
  const t = o.metadata?.creationTimestamp;
  return t ? humanDuration(now - Date.parse(t)) : '<unknown>';
}

const none = (v: string | undefined) => (v ? v : '<none>');
const containersOf = (spec: any) => (spec?.containers ?? []).map((c: any) => c.name).join(',');
const imagesOf = (spec: any) => (spec?.containers ?? []).map((c: any) => c.image).join(',');
function selectorString(sel: any): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (op === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (op === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length ? parts.join(',') : '<none>';
}
const mapSelector = (m: any) => (m && Object.keys(m).length ? Object.entries(m).map(([k, v]) => `${k}=${v}`).join(',') : '<none>');

function podStatus(p: KObject): { ready: string; status: string; restarts: number } {
  const cs: any[] = p.status?.containerStatuses ?? [];
  const total = (p.spec?.containers ?? []).length;
  let ready = 0;
  let restarts = 0;
  let reason: string = p.status?.reason || p.status?.phase || 'Pending';
  const init: any[] = p.status?.initContainerStatuses ?? [];
  let initializing = false;
  // As kubectl's printPod: the first init container that has not finished decides, then stop.
  for (let i = 0; i < init.length; i++) {
    const c = init[i];
    restarts += c.restartCount ?? 0;
    if (c.state?.terminated?.exitCode === 0) continue;
    if (c.state?.terminated) reason = `Init:${c.state.terminated.reason || `ExitCode:${c.state.terminated.exitCode}`}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(p.spec?.initContainers ?? []).length}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      restarts += c.restartCount ?? 0;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state?.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (p.metadata?.deletionTimestamp && p.status?.reason === 'NodeLost') reason = 'Unknown';
  else if (p.metadata?.deletionTimestamp) reason = 'Terminating';
  return { ready: `${ready}/${total}`, status: reason, restarts };
}

function servicePorts(s: any): string {
  const ports: any[] = s.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(',');
}

function externalIp(s: any): string {
  const t = s.spec?.type;
  if (t === 'ExternalName') return s.spec?.externalName ?? '<none>';
  const ext: string[] = [...(s.spec?.externalIPs ?? [])];
  if (t === 'LoadBalancer') {
    const ing: any[] = s.status?.loadBalancer?.ingress ?? [];
    for (const i of ing) ext.push(i.ip || i.hostname);
    if (ext.length === 0) return '<pending>';
  }
  return ext.length ? ext.join(',') : '<none>';
}

function nodeStatus(n: any): string {
  const ready = (n.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (n.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(n: any): string {
  const roles: string[] = [];
  for (const k of Object.keys(n.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) roles.push(k.slice('node-role.kubernetes.io/'.length));
  }
  if (n.metadata?.labels?.['kubernetes.io/role']) roles.push(n.metadata.labels['kubernetes.io/role']);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddr(n: any, type: string): string {
  return (n.status?.addresses ?? []).find((a: any) => a.type === type)?.address ?? '<none>';
}

function jobStatus(j: any): string {
  const conds: any[] = j.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (j.metadata?.deletionTimestamp) return 'Terminating';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('Suspended')) return 'Suspended';
  return 'Running';
}

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [['Name', 'string', 0, 'name'], ['Ready', 'string'], ['Status', 'string'], ['Restarts', 'string'], ['Age', 'string'], ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1]],
    row(o, now) {
      const s = podStatus(o);
      const gates: any[] = o.spec?.readinessGates ?? [];
      return [o.metadata!.name!, s.ready, s.status, String(s.restarts), age(o, now), none(o.status?.podIP), none(o.spec?.nodeName), none(o.status?.nominatedNodeName), gates.length ? `0/${gates.length}` : '<none>'];
    },
  },
  'apps/deployments': {
    columns: [['Name', 'string', 0, 'name'], ['Ready', 'string'], ['Up-to-date', 'string'], ['Available', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      return [o.metadata!.name!, `${st.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, String(st.updatedReplicas ?? 0), String(st.availableReplicas ?? 0), age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec), selectorString(o.spec?.selector)];
    },
  },
  'apps/replicasets': {
    columns: [['Name', 'string', 0, 'name'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      return [o.metadata!.name!, o.spec?.replicas ?? 0, st.replicas ?? 0, st.readyReplicas ?? 0, age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec), selectorString(o.spec?.selector)];
    },
  },
  'apps/statefulsets': {
    columns: [['Name', 'string', 0, 'name'], ['Ready', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1]],
    row(o, now) {
      return [o.metadata!.name!, `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`, age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec)];
    },
  },
  'apps/daemonsets': {
    columns: [['Name', 'string', 0, 'name'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Up-to-date', 'integer'], ['Available', 'integer'], ['Node Selector', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      return [o.metadata!.name!, st.desiredNumberScheduled ?? 0, st.currentNumberScheduled ?? 0, st.numberReady ?? 0, st.updatedNumberScheduled ?? 0, st.numberAvailable ?? 0, mapSelector(o.spec?.template?.spec?.nodeSelector), age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec), selectorString(o.spec?.selector)];
    },
  },
  'policy/poddisruptionbudgets': {
    columns: [['Name', 'string', 0, 'name'], ['Min Available', 'string'], ['Max Unavailable', 'string'], ['Allowed Disruptions', 'integer'], ['Age', 'string']],
    row(o, now) {
      const na = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));
      return [o.metadata!.name!, na(o.spec?.minAvailable), na(o.spec?.maxUnavailable), o.status?.disruptionsAllowed ?? 0, age(o, now)];
    },
  },
  'discovery.k8s.io/endpointslices': {
    columns: [['Name', 'string', 0, 'name'], ['AddressType', 'string'], ['Ports', 'string'], ['Endpoints', 'string'], ['Age', 'string']],
    row(o, now) {
      const ports = (o.ports ?? []).map((p: any) => (p.port === undefined ? '<unset>' : String(p.port)));
      const addrs: string[] = (o.endpoints ?? []).flatMap((e: any) => e.addresses ?? []);
      const shown = addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
      return [o.metadata!.name!, o.addressType ?? '', ports.length ? ports.join(',') : '<unset>', shown || '<unset>', age(o, now)];
    },
  },
  replicationcontrollers: {
    columns: [['Name', 'string', 0, 'name'], ['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      return [o.metadata!.name!, o.spec?.replicas ?? 0, st.replicas ?? 0, st.readyReplicas ?? 0, age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec), mapSelector(o.spec?.selector)];
    },
  },
  'batch/jobs': {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Completions', 'string'], ['Duration', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      const comp = o.spec?.completions !== undefined ? `${st.succeeded ?? 0}/${o.spec.completions}` : `${st.succeeded ?? 0}/1 of ${o.spec?.parallelism ?? 1}`;
      const start = st.startTime ? Date.parse(st.startTime) : undefined;
      const end = st.completionTime ? Date.parse(st.completionTime) : now;
      return [o.metadata!.name!, jobStatus(o), comp, start ? humanDuration(end - start) : '', age(o, now), containersOf(o.spec?.template?.spec), imagesOf(o.spec?.template?.spec), selectorString(o.spec?.selector)];
    },
  },
  'autoscaling/horizontalpodautoscalers': {
    columns: [['Name', 'string', 0, 'name'], ['Reference', 'string'], ['Targets', 'string'], ['MinPods', 'string'], ['MaxPods', 'integer'], ['Replicas', 'integer'], ['Age', 'string']],
    row(o, now) {
      const ref = o.spec?.scaleTargetRef ?? {};
      return [o.metadata!.name!, `${ref.kind ?? ''}/${ref.name ?? ''}`, hpaTargets(o), o.spec?.minReplicas !== undefined ? String(o.spec.minReplicas) : '<unset>', o.spec?.maxReplicas ?? 0, o.status?.currentReplicas ?? 0, age(o, now)];
    },
  },
  'batch/cronjobs': {
    columns: [['Name', 'string', 0, 'name'], ['Schedule', 'string'], ['Timezone', 'string'], ['Suspend', 'boolean'], ['Active', 'integer'], ['Last Schedule', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    row(o, now) {
      const st = o.status ?? {};
      const js = o.spec?.jobTemplate?.spec;
      return [o.metadata!.name!, o.spec?.schedule ?? '', o.spec?.timeZone ?? '<none>', !!o.spec?.suspend, (st.active ?? []).length, st.lastScheduleTime ? humanDuration(now - Date.parse(st.lastScheduleTime)) : '<none>', age(o, now), containersOf(js?.template?.spec), imagesOf(js?.template?.spec), selectorString(js?.selector)];
    },
  },
  services: {
    columns: [['Name', 'string', 0, 'name'], ['Type', 'string'], ['Cluster-IP', 'string'], ['External-IP', 'string'], ['Port(s)', 'string'], ['Age', 'string'], ['Selector', 'string', 1]],
    row(o, now) {
      return [o.metadata!.name!, o.spec?.type ?? 'ClusterIP', o.spec?.type === 'ExternalName' ? '<none>' : (o.spec?.clusterIP ?? '<none>'), externalIp(o), servicePorts(o), age(o, now), mapSelector(o.spec?.selector)];
    },
  },
  nodes: {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Roles', 'string'], ['Age', 'string'], ['Version', 'string'], ['Internal-IP', 'string', 1], ['External-IP', 'string', 1], ['OS-Image', 'string', 1], ['Kernel-Version', 'string', 1], ['Container-Runtime', 'string', 1]],
    row(o, now) {
      const ni = o.status?.nodeInfo ?? {};
      return [o.metadata!.name!, nodeStatus(o), nodeRoles(o), age(o, now), ni.kubeletVersion ?? '', nodeAddr(o, 'InternalIP'), nodeAddr(o, 'ExternalIP'), ni.osImage ?? '<unknown>', ni.kernelVersion ?? '<unknown>', ni.containerRuntimeVersion ?? '<unknown>'];
    },
  },
  namespaces: {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Age', 'string']],
    row(o, now) {
      return [o.metadata!.name!, o.status?.phase ?? '', age(o, now)];
    },
  },
  configmaps: {
    columns: [['Name', 'string', 0, 'name'], ['Data', 'integer'], ['Age', 'string']],
    row(o, now) {
      return [o.metadata!.name!, Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length, age(o, now)];
    },
  },
  secrets: {
    columns: [['Name', 'string', 0, 'name'], ['Type', 'string'], ['Data', 'integer'], ['Age', 'string']],
    row(o, now) {
      return [o.metadata!.name!, o.type ?? '', Object.keys(o.data ?? {}).length, age(o, now)];
    },
  },
  serviceaccounts: {
    columns: [['Name', 'string', 0, 'name'], ['Secrets', 'integer'], ['Age', 'string']],
    row(o, now) {
      return [o.metadata!.name!, (o.secrets ?? []).length, age(o, now)];
    },
  },
  endpoints: {
    columns: [['Name', 'string', 0, 'name'], ['Endpoints', 'string'], ['Age', 'string']],
    row(o, now) {
      const eps: string[] = [];
      for (const s of o.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? [{}]) eps.push(p.port ? `${a.ip}:${p.port}` : a.ip);
      return [o.metadata!.name!, eps.length === 0 ? '<none>' : eps.length > 3 ? `${eps.slice(0, 3).join(',')} + ${eps.length - 3} more...` : eps.join(','), age(o, now)];
    },
  },
  events: {
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Message', 'string']],
    row(o, now) {
      const last = o.lastTimestamp || o.eventTime || o.metadata?.creationTimestamp;
      const io = o.involvedObject ?? {};
      return [last ? humanDuration(now - Date.parse(last)) : '<unknown>', o.type ?? '', o.reason ?? '', `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`, String(o.message ?? '').trim()];
    },
  },
  persistentvolumeclaims: {
    columns: [['Name', 'string', 0, 'name'], ['Status', 'string'], ['Volume', 'string'], ['Capacity', 'string'], ['Access Modes', 'string'], ['StorageClass', 'string'], ['VolumeAttributesClass', 'string'], ['Age', 'string'], ['VolumeMode', 'string', 1]],
    row(o, now) {
      const modes = (o.status?.accessModes ?? []).map((m: string) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(',');
      return [o.metadata!.name!, o.status?.phase ?? '', o.spec?.volumeName ?? '', o.status?.capacity?.storage ?? '', modes, o.spec?.storageClassName ?? '<unset>', '<unset>', age(o, now), o.spec?.volumeMode ?? 'Filesystem'];
    },
  },
  'coordination.k8s.io/leases': {
    columns: [['Name', 'string', 0, 'name'], ['Holder', 'string'], ['Age', 'string']],
    row(o, now) {
      return [o.metadata!.name!, o.spec?.holderIdentity ?? '', age(o, now)];
    },
  },
  'rbac.authorization.k8s.io/clusterroles': {
    columns: [['Name', 'string', 0, 'name'], ['Created At', 'date']],
    row(o) {
      return [o.metadata!.name!, o.metadata?.creationTimestamp ?? ''];
    },
  },
  'rbac.authorization.k8s.io/roles': {
    columns: [['Name', 'string', 0, 'name'], ['Created At', 'date']],
    row(o) {
      return [o.metadata!.name!, o.metadata?.creationTimestamp ?? ''];
    },
  },
  'rbac.authorization.k8s.io/clusterrolebindings': {
    columns: [['Name', 'string', 0, 'name'], ['Role', 'string'], ['Age', 'string'], ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    row(o, now) {
      const subj: any[] = o.subjects ?? [];
      return [o.metadata!.name!, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), subj.filter((s) => s.kind === 'User').map((s) => s.name).join(', '), subj.filter((s) => s.kind === 'Group').map((s) => s.name).join(', '), subj.filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace}/${s.name}`).join(', ')];
    },
  },
  'rbac.authorization.k8s.io/rolebindings': {
    columns: [['Name', 'string', 0, 'name'], ['Role', 'string'], ['Age', 'string'], ['Users', 'string', 1], ['Groups', 'string', 1], ['ServiceAccounts', 'string', 1]],
    row(o, now) {
      const subj: any[] = o.subjects ?? [];
      return [o.metadata!.name!, `${o.roleRef?.kind}/${o.roleRef?.name}`, age(o, now), subj.filter((s) => s.kind === 'User').map((s) => s.name).join(', '), subj.filter((s) => s.kind === 'Group').map((s) => s.name).join(', '), subj.filter((s) => s.kind === 'ServiceAccount').map((s) => `${s.namespace}/${s.name}`).join(', ')];
    },
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [['Name', 'string', 0, 'name'], ['Age', 'string']],
  row(o, now) {
    return [o.metadata!.name!, age(o, now)];
  },
};

const DESCRIPTIONS: Record<string, string> = {
  Name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  Age: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
};

/** A custom-resource printer from additionalPrinterColumns. */
export type PrinterColumns = Array<{ name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }>;

const customPrinters = new WeakMap<Resource, Printer>();

function cellOf(v: unknown, type: string, now: number): Cell {
  if (v === undefined || v === null) return '<none>' as Cell;
  if (type === 'date' && typeof v === 'string') return humanDuration(now - Date.parse(v));
  if (type === 'integer' || type === 'number') return typeof v === 'number' ? v : Number(v);
  if (type === 'boolean') return typeof v === 'boolean' ? v : v === 'true';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function printerFor(res: Resource): Printer {
  if (res.custom) {
    let p = customPrinters.get(res);
    if (!p) {
      const cols = res.custom.printerColumns;
      p = {
        columns: [['Name', 'string', 0, 'name'], ...cols.map((c) => [c.name, c.type === 'date' ? 'date' : c.type, c.priority ?? 0, c.format ?? ''] as [string, string, number, string])],
        row(o, now) {
          return [o.metadata!.name!, ...cols.map((c) => cellOf(readJsonPath(o, c.jsonPath), c.type, now))];
        },
      };
      customPrinters.set(res, p);
    }
    return p;
  }
  return PRINTERS[res.storageResource] ?? DEFAULT_PRINTER;
}

export function columnDefinitions(res: Resource): ColumnDefinition[] {
  return printerFor(res).columns.map(([name, type, priority, format]) => ({ name, type, format: format ?? '', description: DESCRIPTIONS[name] ?? name, priority: priority ?? 0 }));
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: KObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

/** Builds a meta.k8s.io/v1 Table for objects of one resource. */
export function toTable(res: Resource, objs: KObject[], nowMs: number, include: IncludeObject, listMeta: Record<string, unknown> = {}, withColumns = true): Record<string, unknown> {
  const p = printerFor(res);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? columnDefinitions(res) : null,
    rows: objs.map((o) => {
      const r: Record<string, unknown> = { cells: p.row(o, nowMs) };
      const ob = rowObject(o, include);
      if (ob !== undefined) r.object = ob;
      return r;
    }),
  };
}
