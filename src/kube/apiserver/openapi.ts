/**
 * /openapi/v2 and /openapi/v3: the API's paths and operations, with the
 * query parameters each verb accepts and x-kubernetes-group-version-kind, so
 * that kubectl finds server-side field validation (fieldValidation on PATCH)
 * and schema-aware clients can discover operations. Schemas (v3 components,
 * v2 definitions) come from the client-node models of the built-in types;
 * /openapi/v2 is also served as gnostic protobuf (see openapi-proto.ts).
 */
import { createHash } from 'node:crypto';
import { type Resource, type Scheme, apiVersionOf } from '../api/scheme.ts';
import { attributes, modelClassOf, modelDocs, modelsReady, unwrap } from './models.ts';
import { customDefinitionName, definitionName as schemaName } from './openapi-names.ts';
import { encodeOpenApiV2 } from './openapi-proto.ts';
import { listStrategy } from './patch/merge-keys.ts';

type Op = Record<string, unknown>;

const Q = (name: string, type = 'string', uniqueItems = true) => ({ name, in: 'query', uniqueItems, schema: { type } });
const Q2 = (name: string, type = 'string') => ({ name, in: 'query', type, uniqueItems: true });

const LIST_PARAMS = ['allowWatchBookmarks:boolean', 'continue', 'fieldSelector', 'labelSelector', 'limit:integer', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents:boolean', 'timeoutSeconds:integer', 'watch:boolean'];
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_PARAMS = [...WRITE_PARAMS, 'force:boolean'];
const DELETE_PARAMS = ['dryRun', 'gracePeriodSeconds:integer', 'orphanDependents:boolean', 'propagationPolicy'];

function params(list: string[], v3: boolean): unknown[] {
  return list.map((s) => {
    const [n, t] = s.split(':');
    return v3 ? Q(n!, t ?? 'string') : Q2(n!, t ?? 'string');
  });
}

function gvk(r: Resource, kind = r.kind, group = r.group, version = r.version) {
  return { group, kind, version };
}

function operations(r: Resource, v3: boolean): Record<string, Record<string, Op>> {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const coll = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const item = `${coll}/{name}`;
  const pathParams = [{ name: 'name', in: 'path', required: true, ...(v3 ? { schema: { type: 'string' } } : { type: 'string' }) }];
  const nsParam = r.namespaced ? [{ name: 'namespace', in: 'path', required: true, ...(v3 ? { schema: { type: 'string' } } : { type: 'string' }) }] : [];
  const tag = `${r.group || 'core'}_${r.version}`;
  const op = (action: string, id: string, extra: unknown[], kind = r.kind, group = r.group, version = r.version): Op => ({
    tags: [tag],
    operationId: id,
    parameters: extra,
    responses: { '200': { description: 'OK' }, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r, kind, group, version),
  });
  const K = r.kind;
  const Ns = r.namespaced ? 'Namespaced' : '';
  const out: Record<string, Record<string, Op>> = {};
  const c: Record<string, Op> = {};
  const i: Record<string, Op> = {};
  if (r.verbs.includes('list')) c.get = op('list', `list${Ns}${K}`, params(LIST_PARAMS, v3));
  if (r.verbs.includes('create')) c.post = op('post', `create${Ns}${K}`, params(WRITE_PARAMS, v3));
  if (r.verbs.includes('deletecollection')) c.delete = op('deletecollection', `deleteCollection${Ns}${K}`, params([...DELETE_PARAMS, ...LIST_PARAMS], v3));
  if (r.verbs.includes('get')) i.get = op('get', `read${Ns}${K}`, []);
  if (r.verbs.includes('update')) i.put = op('put', `replace${Ns}${K}`, params(WRITE_PARAMS, v3));
  if (r.verbs.includes('patch')) i.patch = op('patch', `patch${Ns}${K}`, params(PATCH_PARAMS, v3));
  if (r.verbs.includes('delete')) i.delete = op('delete', `delete${Ns}${K}`, params(DELETE_PARAMS, v3));
  if (Object.keys(c).length) out[coll] = { ...c, parameters: nsParam as unknown as Op };
  if (Object.keys(i).length) out[item] = { ...i, parameters: [...pathParams, ...nsParam] as unknown as Op };
  for (const s of r.subresources) {
    const p: Record<string, Op> = {};
    const kind = s.kind;
    if (s.verbs.includes('get')) p.get = op('get', `read${Ns}${K}${s.name}`, [], kind, s.group, s.version);
    if (s.verbs.includes('update')) p.put = op('put', `replace${Ns}${K}${s.name}`, params(WRITE_PARAMS, v3), kind, s.group, s.version);
    if (s.verbs.includes('patch')) p.patch = op('patch', `patch${Ns}${K}${s.name}`, params(PATCH_PARAMS, v3), kind, s.group, s.version);
    if (s.verbs.includes('create')) p.post = op('post', `create${Ns}${K}${s.name}`, params(WRITE_PARAMS, v3), kind, s.group, s.version);
    if (Object.keys(p).length) out[`${item}/${s.name}`] = { ...p, parameters: [...pathParams, ...nsParam] as unknown as Op };
  }
  return out;
}

/** A number per custom resource schema object (a changed CRD schema is a new object). */
const schemaIds = new WeakMap<object, number>();
let nextSchemaId = 1;
function schemaId(schema: object | undefined): number {
  if (!schema) return 0;
  let id = schemaIds.get(schema);
  if (id === undefined) schemaIds.set(schema, (id = nextSchemaId++));
  return id;
}

/** The /openapi/v3 root: one entry per group/version with its document's URL. */
export function openapiV3Root(scheme: Scheme, urlPrefix: string, gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const g of scheme.groups()) {
    for (const v of g.versions) {
      const key = g.name ? `apis/${g.name}/${v}` : `api/${v}`;
      const rs = scheme.all().filter((r) => r.group === g.name && r.version === v);
      // Changes whenever the document does (kubectl caches documents by URL).
      const hash = createHash('sha512')
        .update(`${gitVersion}/${modelsReady()}/${key}/${rs.map((r) => `${r.resource}/${r.verbs.join('.')}/${r.subresources.map((s) => s.name).join('.')}/${r.custom ? schemaId(r.custom.schema) : ''}`).join(',')}`)
        .digest('hex')
        .toUpperCase()
        .slice(0, 128);
      paths[key] = { serverRelativeURL: `${urlPrefix}/openapi/v3/${key}?hash=${hash}` };
    }
  }
  paths['version'] = { serverRelativeURL: `${urlPrefix}/openapi/v3/version?hash=0` };
  return { paths };
}

/** k8s.io/apimachinery/pkg/util/intstr.IntOrString, a primitive definition fields refer to (as upstream). */
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** k8s.io/apimachinery/pkg/api/resource.Quantity. */
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** Fields of type Quantity (or map of Quantity) upstream, which client-node's models type as strings. */
const QUANTITY_FIELDS = new Set([
  'V1ResourceRequirements.limits', 'V1ResourceRequirements.requests', 'V1VolumeResourceRequirements.limits', 'V1VolumeResourceRequirements.requests',
  'V1ResourceQuotaSpec.hard', 'V1ResourceQuotaStatus.hard', 'V1ResourceQuotaStatus.used',
  'V1LimitRangeItem.max', 'V1LimitRangeItem.min', 'V1LimitRangeItem._default', 'V1LimitRangeItem.default', 'V1LimitRangeItem.defaultRequest', 'V1LimitRangeItem.maxLimitRequestRatio',
  'V1NodeStatus.capacity', 'V1NodeStatus.allocatable', 'V1PersistentVolumeSpec.capacity', 'V1PersistentVolumeClaimStatus.capacity', 'V1PersistentVolumeClaimStatus.allocatedResources',
  'V1PodSpec.overhead', 'V1Overhead.podFixed', 'V1EmptyDirVolumeSource.sizeLimit', 'V1ResourceFieldSelector.divisor', 'V1ContainerStatus.allocatedResources',
  'V1CSIStorageCapacity.capacity', 'V1CSIStorageCapacity.maximumVolumeSize',
  'V2MetricTarget.value', 'V2MetricTarget.averageValue', 'V2MetricValueStatus.value', 'V2MetricValueStatus.averageValue',
]);

function propSchema(type: string, format: string, add: (cls: string) => string, v2 = false): Record<string, any> {
  const t = unwrap(type);
  if (t.kind === 'array') return { type: 'array', items: propSchema(t.inner, '', add, v2) };
  if (t.kind === 'map') return { type: 'object', additionalProperties: propSchema(t.inner, '', add, v2) };
  if (v2) {
    // Swagger 2.0 as upstream publishes it: direct $refs, IntOrString as a
    // string with format int-or-string, free-form values without a type.
    if (type === 'IntOrString') return { $ref: `#/definitions/${add(INT_OR_STRING)}` };
    if (type === 'any' || type === 'object') return {};
    if (attributes(type)) return { $ref: `#/definitions/${add(type)}` };
  }
  switch (type) {
    case 'string':
      return format ? { type: 'string', format } : { type: 'string' };
    case 'number':
      return format === 'double' ? { type: 'number', format: 'double' } : { type: 'integer', format: format || 'int64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return { type: 'string', format: 'date-time' };
    case 'IntOrString':
      return { allOf: [{ $ref: `#/components/schemas/${add(INT_OR_STRING)}` }] };
    case 'any':
    case 'object':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
    default:
      if (attributes(type)) return { allOf: [{ $ref: `#/components/schemas/${add(type)}` }] };
      return { type: 'object' };
  }
}

/**
 * Component schemas for the kinds of a group/version and every type they
 * reach (custom resources: their CRD's schema); with v2, swagger 2.0
 * definitions.
 */
function componentSchemas(rs: readonly Resource[], v2 = false): Record<string, unknown> {
  const schemas: Record<string, any> = {};
  const add = (cls: string): string => {
    if (cls === INT_OR_STRING) {
      schemas[INT_OR_STRING] ??= {
        description:
          'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
        // v3: no type (kubectl explain then names it IntOrString), as kube-openapi's OpenAPIV3OneOfTypes.
        ...(v2 ? { type: 'string', format: 'int-or-string' } : { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }),
      };
      return INT_OR_STRING;
    }
    if (cls === QUANTITY) {
      schemas[QUANTITY] ??= {
        description:
          'Quantity is a fixed-point representation of a number. It provides convenient marshaling/unmarshaling in JSON and YAML, in addition to String() and AsInt64() accessors.',
        ...(v2 ? { type: 'string' } : { oneOf: [{ type: 'string' }, { type: 'number' }] }),
      };
      return QUANTITY;
    }
    const name = schemaName(cls);
    if (schemas[name]) return name;
    schemas[name] = { type: 'object' };
    const properties: Record<string, unknown> = {};
    const docs = modelDocs(cls);
    for (const a of attributes(cls) ?? []) {
      let ps = propSchema(a.type, a.format, add, v2);
      if (QUANTITY_FIELDS.has(`${cls}.${a.baseName}`)) {
        // client-node types resource.Quantity as string; upstream refers to the Quantity definition.
        const ref = v2 ? { $ref: `#/definitions/${add(QUANTITY)}` } : { allOf: [{ $ref: `#/components/schemas/${add(QUANTITY)}` }] };
        ps = unwrap(a.type).kind === 'map' ? { type: 'object', additionalProperties: v2 ? ref : { $ref: `#/components/schemas/${QUANTITY}` } } : ref;
      }
      const d = docs?.fields.get(a.baseName);
      if (d) ps = { description: d, ...ps };
      const t = unwrap(a.type);
      if (t.kind === 'array') {
        // Patch strategies and list types (what kubectl's client-side apply and SSA clients read).
        const sample = t.inner === 'V1ContainerPort' ? { containerPort: 1 } : t.inner === 'V1ServicePort' ? { port: 1 } : undefined;
        const ls = listStrategy(a.baseName, undefined, sample);
        if (ls.strategy === 'merge') {
          ps['x-kubernetes-patch-strategy'] = 'merge';
          if (ls.mergeKey) {
            ps['x-kubernetes-patch-merge-key'] = ls.mergeKey;
            ps['x-kubernetes-list-type'] = 'map';
            ps['x-kubernetes-list-map-keys'] = ls.keys ?? [ls.mergeKey];
          } else ps['x-kubernetes-list-type'] = 'set';
        } else ps['x-kubernetes-list-type'] = 'atomic';
      }
      properties[a.baseName] = ps;
    }
    const required = docs?.required.filter((f) => f in properties);
    schemas[name] = { description: docs?.description ?? '', ...(required?.length ? { required } : {}), type: 'object', properties };
    return name;
  };
  for (const r of rs) {
    if (r.custom) {
      customSchemas(r, v2, add('V1ObjectMeta'), add('V1ListMeta'), schemas);
      continue;
    }
    if (r.group === 'metrics.k8s.io') {
      metricsSchemas(r, v2, add('V1ObjectMeta'), add('V1ListMeta'), add(QUANTITY), schemas);
      continue;
    }
    const cls = modelClassOf(r.group, r.version, r.kind);
    if (!cls) continue;
    const name = add(cls);
    schemas[name]['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.kind, version: r.version }];
    const listCls = modelClassOf(r.group, r.version, r.listKind);
    if (listCls) schemas[add(listCls)]['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.listKind, version: r.version }];
  }
  return schemas;
}

const API_VERSION_DESC =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_DESC =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

/**
 * Upstream's v2 form of a structural schema (apiextensions' ToStructuralOpenAPIV2):
 * no allOf/oneOf/anyOf/not; nullable and x-kubernetes-preserve-unknown-fields
 * nodes lose their type, properties and items (kubectl cannot cope with them);
 * an array without items loses its type; nullable properties are not required.
 */
function toV2Schema(s: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...s };
  delete out.allOf;
  delete out.oneOf;
  delete out.anyOf;
  delete out.not;
  if (out.nullable) {
    delete out.type;
    delete out.nullable;
    delete out.items;
    delete out.properties;
  }
  if (out['x-kubernetes-preserve-unknown-fields']) {
    delete out.items;
    delete out.properties;
    if (out.type === 'object') delete out.type;
  }
  if (out.type === 'array' && !out.items) delete out.type;
  if (out.properties) {
    const props: Record<string, any> = {};
    for (const [k, v] of Object.entries(out.properties as Record<string, any>)) {
      props[k] = toV2Schema(v);
      if (v?.nullable && Array.isArray(out.required)) out.required = out.required.filter((x: string) => x !== k);
    }
    out.properties = props;
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  }
  if (out.items && typeof out.items === 'object' && !Array.isArray(out.items)) out.items = toV2Schema(out.items);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    if (out.additionalProperties.nullable) delete out.required;
    out.additionalProperties = toV2Schema(out.additionalProperties);
  }
  return out;
}

/**
 * metrics.k8s.io's NodeMetrics and PodMetrics (and lists) as metrics-server
 * publishes them through aggregation (io.k8s.metrics.pkg.apis.metrics.<v>.*),
 * so that `kubectl explain nodemetrics` works.
 */
function metricsSchemas(r: Resource, v2: boolean, meta: string, listMeta: string, quantity: string, schemas: Record<string, any>): void {
  const ref = (name: string) => (v2 ? { $ref: `#/definitions/${name}` } : { allOf: [{ $ref: `#/components/schemas/${name}` }] });
  const pkg = `io.k8s.metrics.pkg.apis.metrics.${r.version}`;
  const usage = { type: 'object', additionalProperties: v2 ? { $ref: `#/definitions/${quantity}` } : { $ref: `#/components/schemas/${quantity}` } };
  const common = {
    apiVersion: { description: API_VERSION_DESC, type: 'string' },
    kind: { description: KIND_DESC, type: 'string' },
    metadata: ref(meta),
    timestamp: { type: 'string', format: 'date-time' },
    window: { type: 'string' },
  };
  let properties: Record<string, unknown>;
  let required: string[];
  if (r.kind === 'PodMetrics') {
    schemas[`${pkg}.ContainerMetrics`] ??= { type: 'object', required: ['name', 'usage'], properties: { name: { type: 'string' }, usage } };
    properties = { ...common, containers: { type: 'array', items: v2 ? { $ref: `#/definitions/${pkg}.ContainerMetrics` } : { $ref: `#/components/schemas/${pkg}.ContainerMetrics` }, 'x-kubernetes-list-type': 'atomic' } };
    required = ['timestamp', 'window', 'containers'];
  } else {
    properties = { ...common, usage };
    required = ['timestamp', 'window', 'usage'];
  }
  schemas[`${pkg}.${r.kind}`] = { type: 'object', required, properties, 'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.kind, version: r.version }] };
  schemas[`${pkg}.${r.listKind}`] = {
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: { description: API_VERSION_DESC, type: 'string' },
      items: { type: 'array', items: v2 ? { $ref: `#/definitions/${pkg}.${r.kind}` } : { $ref: `#/components/schemas/${pkg}.${r.kind}` } },
      kind: { description: KIND_DESC, type: 'string' },
      metadata: ref(listMeta),
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.listKind, version: r.version }],
  };
}

/**
 * A custom resource's definitions as the apiextensions-apiserver publishes
 * them: `<reversed group>.<version>.<Kind>` (the version's structural schema
 * with apiVersion/kind described and metadata a reference to ObjectMeta) and
 * `<...>.<Kind>List`, each with its x-kubernetes-group-version-kind.
 */
function customSchemas(r: Resource, v2: boolean, meta: string, listMeta: string, schemas: Record<string, any>): void {
  const ref = (name: string) => (v2 ? { $ref: `#/definitions/${name}` } : { allOf: [{ $ref: `#/components/schemas/${name}` }] });
  const name = customDefinitionName(r.group, r.version, r.kind);
  let sch: Record<string, any> = structuredClone(r.custom!.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  // Embedded resources (x-kubernetes-embedded-resource) get apiVersion, kind and an ObjectMeta metadata, as upstream's builder adds them.
  const embed = (n: any, top: boolean): void => {
    if (!n || typeof n !== 'object') return;
    if (!top && n['x-kubernetes-embedded-resource']) {
      n.properties ??= {};
      n.properties.apiVersion ??= { type: 'string' };
      n.properties.kind ??= { type: 'string' };
      n.properties.metadata = ref(meta);
    }
    for (const c of Object.values(n.properties ?? {})) embed(c, false);
    if (n.items && typeof n.items === 'object') embed(n.items, false);
    if (n.additionalProperties && typeof n.additionalProperties === 'object') embed(n.additionalProperties, false);
  };
  embed(sch, true);
  if (v2) sch = toV2Schema(sch);
  const props: Record<string, unknown> = { apiVersion: { description: API_VERSION_DESC, type: 'string' }, kind: { description: KIND_DESC, type: 'string' } };
  props.metadata = v2 ? { ...ref(meta), description: 'Standard object\'s metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' } : { ...ref(meta), default: {}, description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" };
  if (!sch['x-kubernetes-preserve-unknown-fields'] || sch.properties) Object.assign(props, Object.fromEntries(Object.entries(sch.properties ?? {}).filter(([k]) => k !== 'apiVersion' && k !== 'kind' && k !== 'metadata')));
  if (!(v2 && sch['x-kubernetes-preserve-unknown-fields'])) sch.properties = props;
  if (!sch.type && !(v2 && sch['x-kubernetes-preserve-unknown-fields'])) sch.type = 'object';
  sch['x-kubernetes-group-version-kind'] = [{ group: r.group, kind: r.kind, version: r.version }];
  schemas[name] = sch;
  const listName = customDefinitionName(r.group, r.version, r.listKind);
  schemas[listName] = {
    description: `${r.listKind} is a list of ${r.kind}`,
    required: ['items'],
    type: 'object',
    properties: {
      apiVersion: { description: API_VERSION_DESC, type: 'string' },
      items: { description: `List of ${r.resource}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: v2 ? { $ref: `#/definitions/${name}` } : { $ref: `#/components/schemas/${name}` } },
      kind: { description: KIND_DESC, type: 'string' },
      metadata: { ...ref(listMeta), ...(v2 ? {} : { default: {} }), description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds' },
    },
    'x-kubernetes-group-version-kind': [{ group: r.group, kind: r.listKind, version: r.version }],
  };
}

/** The /openapi/v3/<api|apis/g>/<v> document, undefined when not served. */
export function openapiV3Doc(scheme: Scheme, key: string, gitVersion: string): Record<string, unknown> | undefined {
  const m = /^(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(key);
  if (!m) return undefined;
  const group = m[1] ? '' : m[2]!;
  const version = m[1] ?? m[3]!;
  const rs = scheme.all().filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const r of rs) Object.assign(paths, operations(r, true));
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: gitVersion }, paths, components: { schemas: componentSchemas(rs) } };
}

interface V2Cache {
  key: string;
  doc: Record<string, unknown>;
  proto?: Buffer;
}
const v2Cache = new WeakMap<Scheme, V2Cache>();

function v2Entry(scheme: Scheme, gitVersion: string): V2Cache {
  const key = `${gitVersion}|${modelsReady()}|${scheme
    .all()
    .map((r) => `${r.group}/${r.version}/${r.resource}/${r.verbs.join('.')}/${r.subresources.map((s) => s.name).join('.')}/${r.custom ? schemaId(r.custom.schema) : ''}`)
    .join(',')}`;
  const hit = v2Cache.get(scheme);
  if (hit?.key === key) return hit;
  const paths: Record<string, unknown> = {};
  const rs = scheme.all();
  for (const r of rs) Object.assign(paths, operations(r, false));
  const doc = { swagger: '2.0', info: { title: 'Kubernetes', version: gitVersion }, paths, definitions: componentSchemas(rs, true) };
  const entry: V2Cache = { key, doc };
  v2Cache.set(scheme, entry);
  return entry;
}

/**
 * The /openapi/v2 swagger document: paths, and definitions of the built-in
 * kinds with x-kubernetes-group-version-kind and patch/list extensions (once
 * the models are loaded). Cached per scheme until its resources change; the
 * result is shared, callers must not mutate it.
 */
export function openapiV2(scheme: Scheme, gitVersion: string): Record<string, unknown> {
  return v2Entry(scheme, gitVersion).doc;
}

/** The same document as gnostic's protobuf openapi.v2.Document, cached alongside. */
export function openapiV2Proto(scheme: Scheme, gitVersion: string): Buffer {
  const e = v2Entry(scheme, gitVersion);
  return (e.proto ??= encodeOpenApiV2(e.doc));
}

export { apiVersionOf };
