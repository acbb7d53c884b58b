/**
 * Per-resource strategies (kube-apiserver's pkg/registry/<group>/<resource>/strategy.go
 * plus the scheme's defaulting functions): what the generic store calls to
 * default, prepare, validate and expose selectable fields of each built-in.
 * Resources without an entry get the default strategy (metadata only).
 */
import { type FieldError, fieldErr } from '../errors.ts';
import type { KObject } from '../../api/types.ts';
import type { Resource } from '../../api/scheme.ts';
import { labelSelectorFromObject, matchLabels } from '../selectors.ts';
import { crdStrategy, customStrategy } from '../crd.ts';
import { admissionPolicyBindingStrategy, admissionPolicyStrategy, webhookConfigurationErrors } from '../validating-admission-policy.ts';
import { validateCronJobSchedule } from '../../../sim/controllers/cron-schedule.ts';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isPathSegmentName, type NameValidator, validateLabels } from '../validation.ts';

export interface Strategy {
  /** Name rule for metadata.name. */
  name: NameValidator;
  /** Scheme defaulting (SetDefaults_*), applied on every write. */
  defaults?(obj: KObject): void;
  /** PrepareForCreate: reset status and server-owned fields. */
  prepareForCreate?(obj: KObject): void;
  /** PrepareForUpdate of the main resource (status is kept from old by the store when the resource has a status subresource). */
  prepareForUpdate?(obj: KObject, old: KObject): void;
  validate?(obj: KObject): FieldError[];
  validateUpdate?(obj: KObject, old: KObject): FieldError[];
  /** Selectable fields beyond metadata.name / metadata.namespace. */
  fields?(obj: KObject): Record<string, string>;
  /** PUT of a missing object creates it. */
  allowCreateOnUpdate?: boolean;
  /** Delete answers with the deleted object rather than a Status. */
  returnDeletedObject?: boolean;
}

const nameSubdomain: NameValidator = isDNS1123Subdomain;

// ---------------------------------------------------------------- pod spec defaults

function hasTagOrDigest(image: string): { tag: string | undefined; digest: boolean } {
  if (image.includes('@')) return { tag: undefined, digest: true };
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  return { tag: colon >= 0 ? image.slice(colon + 1) : undefined, digest: false };
}

function defaultContainer(c: any): void {
  if (!c || typeof c !== 'object') return;
  if (c.imagePullPolicy === undefined && typeof c.image === 'string') {
    const { tag, digest } = hasTagOrDigest(c.image);
    c.imagePullPolicy = !digest && (tag === undefined || tag === 'latest') ? 'Always' : 'IfNotPresent';
  }
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  if (Array.isArray(c.ports)) for (const p of c.ports) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  if (Array.isArray(c.env)) {
    for (const e of c.env) {
      if (e?.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
    }
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!probe || typeof probe !== 'object') continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP', probe.httpGet.path ??= '/';
  }
}

/** SetDefaults for a PodSpec (used for pods and for every pod template). */
export function defaultPodSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    if (Array.isArray(list)) for (const c of list) defaultContainer(c);
  }
  if (spec.hostNetwork && Array.isArray(spec.containers)) {
    for (const c of spec.containers) for (const p of c?.ports ?? []) p.hostPort ??= p.containerPort;
  }
  if (Array.isArray(spec.volumes)) {
    for (const v of spec.volumes) {
      if (!v || typeof v !== 'object') continue;
      if (v.secret) v.secret.defaultMode ??= 420;
      if (v.configMap) v.configMap.defaultMode ??= 420;
      if (v.downwardAPI) v.downwardAPI.defaultMode ??= 420;
      if (v.projected) v.projected.defaultMode ??= 420;
      if (v.hostPath) v.hostPath.type ??= '';
      const keys = Object.keys(v).filter((k) => k !== 'name');
      if (keys.length === 0) v.emptyDir = {};
    }
  }
}

function defaultTemplate(tpl: any): void {
  if (!tpl || typeof tpl !== 'object') return;
  tpl.metadata ??= {};
  if (tpl.metadata.creationTimestamp === undefined) tpl.metadata.creationTimestamp = null;
  defaultPodSpec(tpl.spec);
}

function qosClass(spec: any): string {
  let requests = 0;
  let limits = 0;
  let guaranteed = true;
  let anything = false;
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    const r = c?.resources ?? {};
    for (const res of ['cpu', 'memory']) {
      const req = r.requests?.[res];
      const lim = r.limits?.[res];
      if (req !== undefined) requests++, (anything = true);
      if (lim !== undefined) limits++, (anything = true);
      if (lim === undefined || (req !== undefined && String(req) !== String(lim))) guaranteed = false;
    }
  }
  if (!anything) return 'BestEffort';
  return guaranteed && limits > 0 ? 'Guaranteed' : 'Burstable';
}

// ---------------------------------------------------------------- pod validation

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateContainers(list: any, path: string, required: boolean, names: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  if (list === undefined || list === null || (Array.isArray(list) && list.length === 0)) {
    if (required) errs.push(fieldErr.required(path, ''));
    return errs;
  }
  if (!Array.isArray(list)) return [fieldErr.typeInvalid(path, list, 'must be an array')];
  list.forEach((c: any, i: number) => {
    const p = `${path}[${i}]`;
    if (!c?.name) errs.push(fieldErr.required(`${p}.name`, ''));
    else {
      for (const m of isDNS1123Label(c.name)) errs.push(fieldErr.invalid(`${p}.name`, c.name, m));
      if (names.has(c.name)) errs.push(fieldErr.duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    if (!c?.image) errs.push(fieldErr.required(`${p}.image`, ''));
    if (c?.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) errs.push(fieldErr.notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
    (c?.ports ?? []).forEach((port: any, j: number) => {
      const pp = `${p}.ports[${j}]`;
      const n = port?.containerPort;
      if (n === undefined) errs.push(fieldErr.required(`${pp}.containerPort`, ''));
      else if (!Number.isInteger(n) || n < 1 || n > 65535) errs.push(fieldErr.invalid(`${pp}.containerPort`, n, 'must be between 1 and 65535, inclusive'));
      if (port?.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errs.push(fieldErr.notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
      if (port?.name !== undefined) {
        if (port.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || !/[a-z]/.test(port.name))
          errs.push(fieldErr.invalid(`${pp}.name`, port.name, 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'));
      }
    });
    (c?.env ?? []).forEach((e: any, j: number) => {
      if (!e?.name) errs.push(fieldErr.required(`${p}.env[${j}].name`, ''));
    });
  });
  return errs;
}

/** ValidatePodSpec (the common subset). */
export function validatePodSpec(spec: any, path: string, restartPolicies = RESTART_POLICIES): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec || typeof spec !== 'object') return [fieldErr.required(`${path}.containers`, '')];
  const names = new Set<string>();
  errs.push(...validateContainers(spec.containers, `${path}.containers`, true, names));
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, false, names));
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy)) errs.push(fieldErr.notSupported(`${path}.restartPolicy`, spec.restartPolicy, restartPolicies));
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) errs.push(fieldErr.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0)
    errs.push(fieldErr.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0))
    errs.push(fieldErr.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  const vols = new Set<string>();
  (spec.volumes ?? []).forEach((v: any, i: number) => {
    if (!v?.name) errs.push(fieldErr.required(`${path}.volumes[${i}].name`, ''));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(fieldErr.invalid(`${path}.volumes[${i}].name`, v.name, m));
      if (vols.has(v.name)) errs.push(fieldErr.duplicate(`${path}.volumes[${i}].name`, v.name));
      vols.add(v.name);
    }
  });
  (spec.containers ?? []).forEach((c: any, i: number) => {
    (c?.volumeMounts ?? []).forEach((m: any, j: number) => {
      if (m?.name && !vols.has(m.name)) errs.push(fieldErr.notFound(`${path}.containers[${i}].volumeMounts[${j}].name`, m.name));
      if (!m?.mountPath) errs.push(fieldErr.required(`${path}.containers[${i}].volumeMounts[${j}].mountPath`, ''));
    });
  });
  if (spec.serviceAccountName) for (const m of isDNS1123Subdomain(spec.serviceAccountName)) errs.push(fieldErr.invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
  if (spec.nodeSelector) errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  return errs;
}

function validateTemplate(tpl: any, path: string, selector: any, restartPolicies?: string[]): FieldError[] {
  const errs: FieldError[] = [];
  if (!tpl || typeof tpl !== 'object') return [fieldErr.required(path, '')];
  errs.push(...validateLabels(tpl.metadata?.labels, `${path}.metadata.labels`));
  errs.push(...validatePodSpec(tpl.spec, `${path}.spec`, restartPolicies));
  if (selector !== undefined) {
    const sel = labelSelectorFromObject(selector);
    const labels = tpl.metadata?.labels ?? {};
    if (sel && !matchLabels(sel, labels))
      errs.push(fieldErr.invalid(`${path}.metadata.labels`, goMap(labels), '`selector` does not match template `labels`'));
  }
  return errs;
}

/** Go's %#v of map[string]string, as upstream messages print labels. */
function goMap(m: Record<string, string>): unknown {
  return { __go: `map[string]string{${Object.keys(m).sort().map((k) => `"${k}":"${m[k]}"`).join(', ')}}` };
}

function validateSelector(sel: any, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [fieldErr.required(path, '')];
  const errs: FieldError[] = [];
  if (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0)
    errs.push(fieldErr.invalid(path, sel, 'empty selector is invalid for deployment'));
  errs.push(...validateLabels(sel.matchLabels, `${path}.matchLabels`));
  return errs;
}

function nonNegative(obj: any, field: string, path: string, errs: FieldError[]): void {
  const v = obj?.[field];
  if (v !== undefined && v !== null && (typeof v !== 'number' || v < 0)) errs.push(fieldErr.invalid(`${path}.${field}`, v, 'must be greater than or equal to 0'));
}

function immutable(errs: FieldError[], a: unknown, b: unknown, path: string): void {
  if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) errs.push(fieldErr.invalid(path, a, 'field is immutable'));
}

// ---------------------------------------------------------------- strategies

const clearStatus = (obj: KObject) => {
  delete obj.status;
};

const pod: Strategy = {
  name: nameSubdomain,
  returnDeletedObject: true,
  defaults(obj) {
    defaultPodSpec(obj.spec);
    // Requests default to limits, key by key, on Pods only (upstream's SetDefaults_Pod; not on pod templates).
    for (const c of [...(obj.spec?.containers ?? []), ...(obj.spec?.initContainers ?? [])]) {
      const limits = c?.resources?.limits;
      if (!limits || typeof limits !== 'object') continue;
      const requests = (c.resources.requests ??= {});
      for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
    }
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', qosClass: qosClass(obj.spec) };
  },
  validate(obj) {
    return validatePodSpec(obj.spec, 'spec');
  },
  validateUpdate(obj, old) {
    // A status write keeps the stored spec itself (upstream validates only status there).
    if (obj.spec === old.spec) return [];
    const errs = validatePodSpec(obj.spec, 'spec');
    const strip = (s: any) => {
      const c = structuredClone(s ?? {});
      for (const l of [c.containers, c.initContainers]) for (const x of l ?? []) delete x.image;
      delete c.activeDeadlineSeconds;
      delete c.tolerations;
      delete c.terminationGracePeriodSeconds;
      delete c.ephemeralContainers;
      if (!old.spec?.nodeName) delete c.nodeName;
      return c;
    };
    if (JSON.stringify(strip(obj.spec)) !== JSON.stringify(strip(old.spec)))
      errs.push(
        fieldErr.forbidden(
          'spec',
          'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
        ),
      );
    return errs;
  },
  fields(obj) {
    return {
      'spec.nodeName': obj.spec?.nodeName ?? '',
      'spec.restartPolicy': obj.spec?.restartPolicy ?? '',
      'spec.schedulerName': obj.spec?.schedulerName ?? '',
      'spec.serviceAccountName': obj.spec?.serviceAccountName ?? '',
      'spec.hostNetwork': String(!!obj.spec?.hostNetwork),
      'status.phase': obj.status?.phase ?? '',
      'status.podIP': obj.status?.podIP ?? '',
      'status.nominatedNodeName': obj.status?.nominatedNodeName ?? '',
    };
  },
};

const deployment: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    const s = (obj.spec ??= {});
    s.replicas ??= 1;
    s.strategy ??= {};
    s.strategy.type ??= 'RollingUpdate';
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      s.strategy.rollingUpdate.maxUnavailable ??= '25%';
      s.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    s.revisionHistoryLimit ??= 10;
    s.progressDeadlineSeconds ??= 600;
    defaultTemplate(s.template);
  },
  prepareForCreate: clearStatus,
  validate(obj) {
    const s = obj.spec ?? {};
    const errs: FieldError[] = [];
    nonNegative(s, 'replicas', 'spec', errs);
    errs.push(...validateSelector(s.selector, 'spec.selector'));
    errs.push(...validateTemplate(s.template, 'spec.template', s.selector, ['Always']));
    const st = s.strategy?.type;
    if (st !== undefined && st !== 'RollingUpdate' && st !== 'Recreate') errs.push(fieldErr.notSupported('spec.strategy.type', st, ['Recreate', 'RollingUpdate']));
    if (st === 'Recreate' && s.strategy.rollingUpdate) errs.push(fieldErr.forbidden('spec.strategy.rollingUpdate', 'may not be specified when strategy `type` is \'Recreate\''));
    nonNegative(s, 'revisionHistoryLimit', 'spec', errs);
    nonNegative(s, 'minReadySeconds', 'spec', errs);
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = deployment.validate!(obj);
    immutable(errs, obj.spec?.selector, old.spec?.selector, 'spec.selector');
    return errs;
  },
};

function workload(extraDefaults: (s: any) => void, restartPolicies = ['Always'], selectorImmutable = true): Strategy {
  const st: Strategy = {
    name: nameSubdomain,
    defaults(obj) {
      const s = (obj.spec ??= {});
      extraDefaults(s);
      defaultTemplate(s.template);
    },
    prepareForCreate: clearStatus,
    validate(obj) {
      const s = obj.spec ?? {};
      const errs: FieldError[] = [];
      nonNegative(s, 'replicas', 'spec', errs);
      errs.push(...validateSelector(s.selector, 'spec.selector'));
      errs.push(...validateTemplate(s.template, 'spec.template', s.selector, restartPolicies));
      return errs;
    },
    validateUpdate(obj, old) {
      const errs = st.validate!(obj);
      if (selectorImmutable) immutable(errs, obj.spec?.selector, old.spec?.selector, 'spec.selector');
      return errs;
    },
  };
  return st;
}

const replicaset = workload((s) => {
  s.replicas ??= 1;
});
const statefulset = workload((s) => {
  s.replicas ??= 1;
  s.podManagementPolicy ??= 'OrderedReady';
  s.updateStrategy ??= {};
  s.updateStrategy.type ??= 'RollingUpdate';
  if (s.updateStrategy.type === 'RollingUpdate') {
    s.updateStrategy.rollingUpdate ??= {};
    s.updateStrategy.rollingUpdate.partition ??= 0;
  }
  s.revisionHistoryLimit ??= 10;
  s.persistentVolumeClaimRetentionPolicy ??= {};
  s.persistentVolumeClaimRetentionPolicy.whenDeleted ??= 'Retain';
  s.persistentVolumeClaimRetentionPolicy.whenScaled ??= 'Retain';
  for (const t of s.volumeClaimTemplates ?? []) {
    t.spec ??= {};
    t.spec.volumeMode ??= 'Filesystem';
    t.status ??= { phase: 'Pending' };
  }
});
const daemonset = workload((s) => {
  s.updateStrategy ??= {};
  s.updateStrategy.type ??= 'RollingUpdate';
  if (s.updateStrategy.type === 'RollingUpdate') {
    s.updateStrategy.rollingUpdate ??= {};
    s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    s.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  s.revisionHistoryLimit ??= 10;
});
const replicationcontroller: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    const s = (obj.spec ??= {});
    s.replicas ??= 1;
    const labels = s.template?.metadata?.labels;
    if (!s.selector && labels) s.selector = { ...labels };
    if (obj.metadata && !obj.metadata.labels && labels) obj.metadata.labels = { ...labels };
    defaultTemplate(s.template);
  },
  prepareForCreate: clearStatus,
  validate(obj) {
    const s = obj.spec ?? {};
    const errs: FieldError[] = [];
    nonNegative(s, 'replicas', 'spec', errs);
    if (!s.selector || Object.keys(s.selector).length === 0) errs.push(fieldErr.required('spec.selector', ''));
    errs.push(...validateTemplate(s.template, 'spec.template', s.selector ? { matchLabels: s.selector } : undefined, ['Always']));
    return errs;
  },
  fields(obj) {
    return { 'status.replicas': String(obj.status?.replicas ?? 0) };
  },
};

const job: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    const s = (obj.spec ??= {});
    if (s.completions === undefined && s.parallelism === undefined) {
      s.completions = 1;
      s.parallelism = 1;
    }
    s.parallelism ??= 1;
    s.backoffLimit ??= s.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
    s.completionMode ??= 'NonIndexed';
    s.suspend ??= false;
    s.manualSelector ??= undefined;
    if (s.manualSelector === undefined) delete s.manualSelector;
    s.podReplacementPolicy ??= s.template?.spec?.restartPolicy === 'Never' || !s.podFailurePolicy ? 'TerminatingOrFailed' : 'Failed';
    defaultTemplate(s.template);
  },
  prepareForCreate(obj) {
    delete obj.status;
    const s = obj.spec ?? {};
    if (!s.manualSelector && obj.metadata?.uid) {
      const uid = obj.metadata.uid;
      const name = obj.metadata.name;
      s.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
      const tpl = (s.template ??= {});
      tpl.metadata ??= {};
      tpl.metadata.labels = {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': name,
        'controller-uid': uid,
        'job-name': name,
        ...(tpl.metadata.labels ?? {}),
      };
    }
  },
  validate(obj) {
    const s = obj.spec ?? {};
    const errs: FieldError[] = [];
    nonNegative(s, 'parallelism', 'spec', errs);
    nonNegative(s, 'completions', 'spec', errs);
    nonNegative(s, 'backoffLimit', 'spec', errs);
    if (s.selector === undefined) errs.push(fieldErr.required('spec.selector', ''));
    const tplErrs = validateTemplate(s.template, 'spec.template', s.selector, ['OnFailure', 'Never']);
    errs.push(...tplErrs);
    if (s.template?.spec && s.template.spec.restartPolicy === undefined) errs.push(fieldErr.required('spec.template.spec.restartPolicy', ''));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = job.validate!(obj);
    immutable(errs, obj.spec?.selector, old.spec?.selector, 'spec.selector');
    immutable(errs, obj.spec?.completions, old.spec?.completions, 'spec.completions');
    return errs;
  },
  fields(obj) {
    return { 'status.successful': String(obj.status?.succeeded ?? 0) };
  },
};

const cronjob: Strategy = {
  name: (n) => (n.length > 52 ? ['must be no more than 52 characters'] : isDNS1123Subdomain(n)),
  defaults(obj) {
    const s = (obj.spec ??= {});
    s.concurrencyPolicy ??= 'Allow';
    s.suspend ??= false;
    s.successfulJobsHistoryLimit ??= 3;
    s.failedJobsHistoryLimit ??= 1;
    const js = s.jobTemplate?.spec;
    if (js) {
      js.template && defaultTemplate(js.template);
    }
  },
  prepareForCreate: clearStatus,
  validate(obj) {
    const s = obj.spec ?? {};
    const errs: FieldError[] = [];
    if (!s.schedule) errs.push(fieldErr.required('spec.schedule', ''));
    // Schedule and timeZone as the API server checks them (src/sim/controllers/cron-schedule.ts).
    for (const p of validateCronJobSchedule(s.schedule ? String(s.schedule) : '* * * * *', s.timeZone)) errs.push(fieldErr.invalid(p.field, p.value, p.detail));
    const cp = s.concurrencyPolicy;
    if (cp !== undefined && !['Allow', 'Forbid', 'Replace'].includes(cp)) errs.push(fieldErr.notSupported('spec.concurrencyPolicy', cp, ['Allow', 'Forbid', 'Replace']));
    if (!s.jobTemplate) errs.push(fieldErr.required('spec.jobTemplate', ''));
    else errs.push(...validateTemplate(s.jobTemplate.spec?.template, 'spec.jobTemplate.spec.template', undefined, ['OnFailure', 'Never']));
    return errs;
  },
};

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

const service: Strategy = {
  name: isDNS1035Label,
  defaults(obj) {
    const s = (obj.spec ??= {});
    s.type ??= 'ClusterIP';
    if (s.type !== 'ExternalName') {
      s.sessionAffinity ??= 'None';
      s.internalTrafficPolicy ??= 'Cluster';
    }
    if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && !s.externalTrafficPolicy) s.externalTrafficPolicy = 'Cluster';
    if (s.type === 'LoadBalancer') s.allocateLoadBalancerNodePorts ??= true;
    for (const p of s.ports ?? []) {
      if (!p || typeof p !== 'object') continue;
      p.protocol ??= 'TCP';
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
    if (s.sessionAffinity === 'ClientIP') {
      s.sessionAffinityConfig ??= {};
      s.sessionAffinityConfig.clientIP ??= {};
      s.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
    }
  },
  prepareForCreate(obj) {
    obj.status = { loadBalancer: {} };
  },
  validate(obj) {
    const s = obj.spec ?? {};
    const errs: FieldError[] = [];
    if (!SERVICE_TYPES.includes(s.type)) errs.push(fieldErr.notSupported('spec.type', s.type, SERVICE_TYPES));
    if (s.type === 'ExternalName') {
      if (!s.externalName) errs.push(fieldErr.required('spec.externalName', ''));
    } else if (!Array.isArray(s.ports) || s.ports.length === 0) {
      if (s.clusterIP !== 'None') errs.push(fieldErr.required('spec.ports', ''));
    }
    const names = new Set<string>();
    const multi = (s.ports ?? []).length > 1;
    (s.ports ?? []).forEach((p: any, i: number) => {
      const pp = `spec.ports[${i}]`;
      if (multi && !p?.name) errs.push(fieldErr.required(`${pp}.name`, ''));
      if (p?.name) {
        for (const m of isDNS1123Label(p.name)) errs.push(fieldErr.invalid(`${pp}.name`, p.name, m));
        if (names.has(p.name)) errs.push(fieldErr.duplicate(`${pp}.name`, p.name));
        names.add(p.name);
      }
      if (!Number.isInteger(p?.port) || p.port < 1 || p.port > 65535) errs.push(fieldErr.invalid(`${pp}.port`, p?.port ?? 0, 'must be between 1 and 65535, inclusive'));
      if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol)) errs.push(fieldErr.notSupported(`${pp}.protocol`, p.protocol, PROTOCOLS));
      if (p?.nodePort !== undefined && s.type === 'ClusterIP') errs.push(fieldErr.forbidden(`${pp}.nodePort`, 'may not be used when `type` is \'ClusterIP\''));
    });
    const aff = s.sessionAffinity;
    if (aff !== undefined && aff !== 'None' && aff !== 'ClientIP') errs.push(fieldErr.notSupported('spec.sessionAffinity', aff, ['ClientIP', 'None']));
    if (s.selector) errs.push(...validateLabels(s.selector, 'spec.selector'));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = service.validate!(obj);
    const oldIP = old.spec?.clusterIP;
    if (oldIP && obj.spec?.type !== 'ExternalName' && old.spec?.type !== 'ExternalName' && obj.spec?.clusterIP !== oldIP)
      errs.push(fieldErr.invalid('spec.clusterIPs[0]', obj.spec?.clusterIP ?? '', 'may not change once set'));
    return errs;
  },
};

const namespace: Strategy = {
  name: isDNS1123Label,
  returnDeletedObject: true,
  defaults(obj) {
    obj.metadata ??= {};
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
  },
  prepareForCreate(obj) {
    obj.spec = { finalizers: ['kubernetes'] };
    obj.status = { phase: 'Active' };
  },
  prepareForUpdate(obj, old) {
    obj.spec = old.spec;
  },
  validate(obj) {
    return [];
  },
  fields(obj) {
    return { 'status.phase': obj.status?.phase ?? '' };
  },
};

const secret: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    obj.type ??= 'Opaque';
    if (obj.stringData && typeof obj.stringData === 'object') {
      obj.data ??= {};
      for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
      delete obj.stringData;
    }
  },
  validate(obj) {
    const errs: FieldError[] = [];
    let total = 0;
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k))
        errs.push(fieldErr.invalid(`data[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) errs.push(fieldErr.invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
      else total += (v.length * 3) / 4;
    }
    if (total > 1024 * 1024) errs.push({ type: 'FieldValueTooLong', field: 'data', detail: 'may not be more than 1048576 bytes' });
    if (obj.type === 'kubernetes.io/service-account-token' && !obj.metadata?.annotations?.['kubernetes.io/service-account.name'])
      errs.push(fieldErr.required('metadata.annotations[kubernetes.io/service-account.name]', ''));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = secret.validate!(obj);
    if (obj.type !== old.type) errs.push(fieldErr.invalid('type', obj.type, 'field is immutable'));
    if (old.immutable && JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {})) errs.push(fieldErr.forbidden('data', 'field is immutable when `immutable` is set'));
    return errs;
  },
  fields(obj) {
    return { type: obj.type ?? '' };
  },
};

const configmap: Strategy = {
  name: nameSubdomain,
  validate(obj) {
    const errs: FieldError[] = [];
    for (const field of ['data', 'binaryData']) {
      for (const k of Object.keys(obj[field] ?? {})) {
        if (!/^[-._a-zA-Z0-9]+$/.test(k))
          errs.push(fieldErr.invalid(`${field}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      }
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) if (typeof v !== 'string') errs.push(fieldErr.typeInvalid(`data.${k}`, v, 'must be a string'));
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = configmap.validate!(obj);
    if (old.immutable && (JSON.stringify(obj.data ?? {}) !== JSON.stringify(old.data ?? {}) || obj.immutable !== true))
      errs.push(fieldErr.forbidden('data', 'field is immutable when `immutable` is set'));
    return errs;
  },
};

const node: Strategy = {
  name: nameSubdomain,
  allowCreateOnUpdate: false,
  fields(obj) {
    return { 'spec.unschedulable': String(!!obj.spec?.unschedulable) };
  },
};

const event: Strategy = {
  name: nameSubdomain,
  allowCreateOnUpdate: true,
  fields(obj) {
    const io = obj.involvedObject ?? obj.regarding ?? {};
    return {
      'involvedObject.kind': io.kind ?? '',
      'involvedObject.namespace': io.namespace ?? '',
      'involvedObject.name': io.name ?? '',
      'involvedObject.uid': io.uid ?? '',
      'involvedObject.apiVersion': io.apiVersion ?? '',
      'involvedObject.resourceVersion': io.resourceVersion ?? '',
      'involvedObject.fieldPath': io.fieldPath ?? '',
      'regarding.kind': io.kind ?? '',
      'regarding.name': io.name ?? '',
      'regarding.namespace': io.namespace ?? '',
      reason: obj.reason ?? '',
      reportingComponent: obj.reportingComponent ?? '',
      source: obj.source?.component ?? obj.reportingController ?? '',
      type: obj.type ?? '',
    };
  },
};

const pvc: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    obj.spec ??= {};
    obj.spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
};
const pv: Strategy = {
  name: nameSubdomain,
  defaults(obj) {
    obj.spec ??= {};
    obj.spec.persistentVolumeReclaimPolicy ??= 'Retain';
    obj.spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
};
const lease: Strategy = { name: nameSubdomain, allowCreateOnUpdate: false };
const endpoints: Strategy = { name: nameSubdomain, allowCreateOnUpdate: true };
const rbacName: Strategy = { name: isPathSegmentName };
const hpa: Strategy = { name: nameSubdomain, prepareForCreate: clearStatus };
const pdb: Strategy = { name: nameSubdomain, prepareForCreate: clearStatus };
const ingress: Strategy = { name: nameSubdomain, prepareForCreate: clearStatus };

const STRATEGIES: Record<string, Strategy> = {
  pods: pod,
  services: service,
  namespaces: namespace,
  secrets: secret,
  configmaps: configmap,
  nodes: node,
  events: event,
  'events.k8s.io/events': event,
  endpoints,
  persistentvolumeclaims: pvc,
  persistentvolumes: pv,
  replicationcontrollers: replicationcontroller,
  'apps/deployments': deployment,
  'apps/replicasets': replicaset,
  'apps/statefulsets': statefulset,
  'apps/daemonsets': daemonset,
  'batch/jobs': job,
  'batch/cronjobs': cronjob,
  'coordination.k8s.io/leases': lease,
  'rbac.authorization.k8s.io/clusterroles': rbacName,
  'rbac.authorization.k8s.io/clusterrolebindings': rbacName,
  'rbac.authorization.k8s.io/roles': rbacName,
  'rbac.authorization.k8s.io/rolebindings': rbacName,
  'autoscaling/horizontalpodautoscalers': hpa,
  'policy/poddisruptionbudgets': pdb,
  'networking.k8s.io/ingresses': ingress,
  'apiextensions.k8s.io/customresourcedefinitions': crdStrategy,
  'admissionregistration.k8s.io/validatingadmissionpolicies': { name: nameSubdomain, ...admissionPolicyStrategy },
  'admissionregistration.k8s.io/validatingwebhookconfigurations': { name: nameSubdomain, validate: webhookConfigurationErrors },
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': { name: nameSubdomain, validate: webhookConfigurationErrors },
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': { name: nameSubdomain, ...admissionPolicyBindingStrategy },
};

const DEFAULT_STRATEGY: Strategy = { name: nameSubdomain };

/** The strategy of a resource (by its storage resource). */
export function strategyFor(res: Resource): Strategy {
  if (res.custom) return customStrategy(res);
  return STRATEGIES[res.storageResource] ?? DEFAULT_STRATEGY;
}

/** The selectable fields of an object: metadata.name, metadata.namespace and the resource's own. */
export function selectableFields(res: Resource, obj: KObject): Record<string, string> {
  const base: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
  if (res.namespaced) base['metadata.namespace'] = obj.metadata?.namespace ?? '';
  const extra = strategyFor(res).fields?.(obj);
  return extra ? Object.assign(base, extra) : base;
}

/** Field names a field selector may use for a resource. */
export function supportedFieldLabels(res: Resource): Set<string> {
  const probe = selectableFields(res, { metadata: {} });
  return new Set(Object.keys(probe));
}
