/**
 * Unknown-field detection for fieldValidation=Strict|Warn (what upstream's
 * strict decoder reports as `unknown field "spec.foo"`), from field lists of
 * the main built-in types. Types without a list here are not checked below
 * their top level; custom resources are not checked here.
 */
import type { Resource } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { type StatusError, fieldErr, newInvalid } from './errors.ts';
import { modelClassOf, unknownModelFields } from './models.ts';

type Shape = { [field: string]: Shape | 'leaf' | ['list', Shape] | 'map' };

const L = 'leaf' as const;
const leafs = (...names: string[]): Shape => Object.fromEntries(names.map((n) => [n, L]));

const META: Shape = leafs('name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields');

const CONTAINER: Shape = leafs('name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty', 'targetContainerName');

const POD_SPEC: Shape = {
  ...leafs('volumes', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector', 'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations', 'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates', 'resourceClaims', 'resources'),
  containers: ['list', CONTAINER],
  initContainers: ['list', CONTAINER],
  ephemeralContainers: ['list', CONTAINER],
};

const TEMPLATE: Shape = { metadata: META, spec: POD_SPEC };

const TOP: Record<string, Shape> = {
  Pod: { spec: POD_SPEC, status: L } as Shape,
  PodTemplate: { template: TEMPLATE },
  Deployment: { spec: { ...leafs('replicas', 'selector', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'), template: TEMPLATE }, status: L },
  ReplicaSet: { spec: { ...leafs('replicas', 'selector', 'minReadySeconds'), template: TEMPLATE }, status: L },
  StatefulSet: { spec: { ...leafs('replicas', 'selector', 'serviceName', 'volumeClaimTemplates', 'podManagementPolicy', 'updateStrategy', 'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals'), template: TEMPLATE }, status: L },
  DaemonSet: { spec: { ...leafs('selector', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'), template: TEMPLATE }, status: L },
  Job: { spec: { ...leafs('parallelism', 'completions', 'activeDeadlineSeconds', 'podFailurePolicy', 'successPolicy', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes', 'selector', 'manualSelector', 'ttlSecondsAfterFinished', 'completionMode', 'suspend', 'podReplacementPolicy', 'managedBy'), template: TEMPLATE }, status: L },
  Service: { spec: leafs('ports', 'selector', 'clusterIP', 'clusterIPs', 'type', 'externalIPs', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges', 'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses', 'sessionAffinityConfig', 'ipFamilies', 'ipFamilyPolicy', 'allocateLoadBalancerNodePorts', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution'), status: L },
  ConfigMap: leafs('data', 'binaryData', 'immutable'),
  Secret: leafs('data', 'stringData', 'type', 'immutable'),
  ServiceAccount: leafs('secrets', 'imagePullSecrets', 'automountServiceAccountToken'),
  Endpoints: leafs('subsets'),
  EndpointSlice: leafs('addressType', 'endpoints', 'ports'),
  Event: leafs('involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance', 'regarding', 'note', 'reportingController', 'deprecatedSource', 'deprecatedFirstTimestamp', 'deprecatedLastTimestamp', 'deprecatedCount'),
  Role: leafs('rules'),
  ClusterRole: leafs('rules', 'aggregationRule'),
  RoleBinding: leafs('subjects', 'roleRef'),
  ClusterRoleBinding: leafs('subjects', 'roleRef'),
  PriorityClass: leafs('value', 'globalDefault', 'description', 'preemptionPolicy'),
  StorageClass: leafs('provisioner', 'parameters', 'reclaimPolicy', 'mountOptions', 'allowVolumeExpansion', 'volumeBindingMode', 'allowedTopologies'),
  RuntimeClass: leafs('handler', 'overhead', 'scheduling'),
  MutatingWebhookConfiguration: leafs('webhooks'),
  ValidatingWebhookConfiguration: leafs('webhooks'),
  ControllerRevision: leafs('data', 'revision'),
  CSIStorageCapacity: leafs('nodeTopology', 'storageClassName', 'capacity', 'maximumVolumeSize'),
  Binding: leafs('target'),
  ComponentStatus: leafs('conditions'),
};

function walk(shape: Shape, v: unknown, path: string, out: string[]): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const s = shape[k];
    const p = path ? `${path}.${k}` : k;
    if (s === undefined) out.push(p);
    else if (s === 'leaf' || s === 'map') continue;
    else if (Array.isArray(s)) {
      if (Array.isArray(x)) x.forEach((it, i) => walk(s[1], it, `${p}[${i}]`, out));
    } else walk(s, x, p, out);
  }
}

/** Paths of fields the type does not have ("spec.containers[0].imagee"). */
function walkSchema(schema: Record<string, any> | undefined, v: unknown, path: string, out: string[], root = false): void {
  if (!schema || !v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    if (schema.items) v.forEach((x, i) => walkSchema(schema.items, x, `${path}[${i}]`, out));
    return;
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && !schema.properties) return;
  const props: Record<string, any> = schema.properties ?? {};
  const addl = schema.additionalProperties;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (root && (k === 'apiVersion' || k === 'kind')) continue;
    const p = path ? `${path}.${k}` : k;
    if (root && k === 'metadata') {
      walk(META, x, p, out);
      continue;
    }
    if (props[k]) walkSchema(props[k], x, p, out);
    else if (addl && typeof addl === 'object') walkSchema(addl, x, p, out);
    else if (addl !== true && schema['x-kubernetes-preserve-unknown-fields'] !== true) out.push(p);
  }
}

export function unknownFields(r: Resource, obj: KObject, prefix = ''): string[] {
  if (r.crd) {
    const out: string[] = [];
    walkSchema(r.custom?.schema, obj, prefix, out, true);
    return out;
  }
  const cls = modelClassOf(r.group, r.version, r.kind);
  if (cls) {
    const out: string[] = [];
    unknownModelFields(cls, obj, prefix, out);
    return out;
  }
  const own = TOP[r.kind] ?? leafs('spec', 'status');
  const shape: Shape = { apiVersion: L, kind: L, metadata: META, ...own };
  const out: string[] = [];
  walk(shape, obj, prefix, out);
  return out;
}

/** A JSON value printed as Go's fmt "%+v" prints its decoded form (map[a:1 b:[x y]], keys sorted). */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `map[${Object.keys(o)
      .sort()
      .map((k) => `${k}:${goValue(o[k])}`)
      .join(' ')}]`;
  }
  if (typeof v === 'number' && !Number.isInteger(v)) {
    // Go's %v of a float64: shortest form, exponent below 1e-4 or from 1e21.
    const s = String(v);
    return s.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return String(v);
}

/**
 * Upstream's answer to unknown fields in a patch under fieldValidation=Strict:
 * 422 Invalid on field "patch" with the strict decoding error; the value is
 * the patch as Go prints it for a strategic merge patch, the patched object's
 * JSON for merge and JSON patches (kubectl: `The request is invalid: patch: ...`).
 */
export function strictPatchError(value: string, unknown: string[]): StatusError {
  return newInvalid({ group: '', kind: '' }, '', [fieldErr.invalid('patch', value, `strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`)]);
}
