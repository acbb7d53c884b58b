/**
 * The built-in resources a cluster serves (kube-apiserver's scheme + REST
 * storage map): group/version/resource, kind, scope, verbs, short names,
 * categories and subresources, as discovery reports them for the served
 * Kubernetes version (1.29-1.32 share this set).
 *
 * A Resource is what the rest of the API server keys on. Custom resources
 * (CRDs) produce Resource values of the same shape at run time.
 */

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export interface Subresource {
  name: string;
  /** Kind answered by the subresource (group/version/kind). */
  group: string;
  version: string;
  kind: string;
  verbs: string[];
}

export interface Resource {
  group: string;
  version: string;
  /** Plural resource name (URL segment). */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: Verb[];
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Group/resource whose storage this version shares (e.g. autoscaling v1 HPA uses v2's). */
  storageResource: string;
  /** True when the object has a spec whose changes bump metadata.generation. */
  tracksGeneration: boolean;
  /** Whether this version is the group's preferred version. */
  preferred: boolean;
  /** Resources answered without storage (reviews); creates are not persisted. */
  virtual?: boolean;
  /** Set for custom resources. */
  crd?: boolean;
  /** Deprecated group-versions upstream still serves: when they were deprecated, removed and by what replaced. */
  deprecation?: Deprecation;
  /** For custom resources: what the CustomResourceDefinition says about this version. */
  custom?: CustomResourceInfo;
}

/** Upstream's deprecation of a served group-version (k8s.io/apiserver's `WarningMessage`). */
export interface Deprecation {
  /** Minor that deprecated it ("1.29"). */
  deprecatedIn: string;
  /** First minor that no longer serves it ("1.32"); absent when no removal is scheduled. */
  removedIn?: string;
  /** The version to use instead ("flowcontrol.apiserver.k8s.io/v1"), with its kind. */
  replacement?: { apiVersion: string; kind: string; since: string };
}

/** A served version of a CustomResourceDefinition. */
export interface CustomResourceInfo {
  /** openAPIV3Schema of the version (structural). */
  schema?: Record<string, any>;
  statusSubresource: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  printerColumns: Array<{ name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }>;
  /** Name of the CRD. */
  crdName: string;
}

/** apiVersion string of a group/version: "v1" for core, "apps/v1" otherwise. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

const RW = ['get', 'patch', 'update'];

function sub(name: string, kind: string, gv = '', verbs: string[] = RW): Omit<Subresource, 'group' | 'version'> & { gv: string } {
  return { name, kind, verbs, gv };
}

/**
 * Table rows: "group/version resource Kind scope shortNames categories subresources verbs".
 * scope: N namespaced, C cluster. Lists are comma separated, '-' for none.
 * Subresource tokens: status, scale, and the named special ones below.
 */
const TABLE = `
v1 bindings Binding N - - - create
v1 componentstatuses ComponentStatus C cs - - get,list
v1 configmaps ConfigMap N cm - - *
v1 endpoints Endpoints N ep - - *
v1 events Event N ev - - *
v1 limitranges LimitRange N limits - - *
v1 namespaces Namespace C ns - status,finalize create,delete,get,list,patch,update,watch
v1 nodes Node C no - status,proxy *
v1 persistentvolumeclaims PersistentVolumeClaim N pvc - status *
v1 persistentvolumes PersistentVolume C pv - status *
v1 pods Pod N po all status,binding,eviction,log,exec,attach,portforward,ephemeralcontainers,proxy *
v1 podtemplates PodTemplate N - - - *
v1 replicationcontrollers ReplicationController N rc all status,scale *
v1 resourcequotas ResourceQuota N quota - status *
v1 secrets Secret N - - - *
v1 serviceaccounts ServiceAccount N sa - token *
v1 services Service N svc all status,proxy create,delete,deletecollection,get,list,patch,update,watch
admissionregistration.k8s.io/v1 mutatingwebhookconfigurations MutatingWebhookConfiguration C - api-extensions - *
admissionregistration.k8s.io/v1 validatingadmissionpolicies ValidatingAdmissionPolicy C - api-extensions status *
admissionregistration.k8s.io/v1 validatingadmissionpolicybindings ValidatingAdmissionPolicyBinding C - api-extensions - *
admissionregistration.k8s.io/v1 validatingwebhookconfigurations ValidatingWebhookConfiguration C - api-extensions - *
apiextensions.k8s.io/v1 customresourcedefinitions CustomResourceDefinition C crd,crds api-extensions status *
apiregistration.k8s.io/v1 apiservices APIService C - api-extensions status *
apps/v1 controllerrevisions ControllerRevision N - - - *
apps/v1 daemonsets DaemonSet N ds all status *
apps/v1 deployments Deployment N deploy all status,scale *
apps/v1 replicasets ReplicaSet N rs all status,scale *
apps/v1 statefulsets StatefulSet N sts all status,scale *
authentication.k8s.io/v1 selfsubjectreviews SelfSubjectReview C - - - create
authentication.k8s.io/v1 tokenreviews TokenReview C - - - create
authorization.k8s.io/v1 localsubjectaccessreviews LocalSubjectAccessReview N - - - create
authorization.k8s.io/v1 selfsubjectaccessreviews SelfSubjectAccessReview C - - - create
authorization.k8s.io/v1 selfsubjectrulesreviews SelfSubjectRulesReview C - - - create
authorization.k8s.io/v1 subjectaccessreviews SubjectAccessReview C - - - create
autoscaling/v2 horizontalpodautoscalers HorizontalPodAutoscaler N hpa all status *
autoscaling/v1 horizontalpodautoscalers HorizontalPodAutoscaler N hpa all status *
batch/v1 cronjobs CronJob N cj all status *
batch/v1 jobs Job N - all status *
certificates.k8s.io/v1 certificatesigningrequests CertificateSigningRequest C csr - status,approval *
coordination.k8s.io/v1 leases Lease N - - - *
discovery.k8s.io/v1 endpointslices EndpointSlice N - - - *
events.k8s.io/v1 events Event N ev - - *
flowcontrol.apiserver.k8s.io/v1 flowschemas FlowSchema C - - status *
flowcontrol.apiserver.k8s.io/v1 prioritylevelconfigurations PriorityLevelConfiguration C - - status *
networking.k8s.io/v1 ingressclasses IngressClass C - - - *
networking.k8s.io/v1 ingresses Ingress N ing - status *
networking.k8s.io/v1 networkpolicies NetworkPolicy N netpol - - *
node.k8s.io/v1 runtimeclasses RuntimeClass C - - - *
policy/v1 poddisruptionbudgets PodDisruptionBudget N pdb - status *
rbac.authorization.k8s.io/v1 clusterrolebindings ClusterRoleBinding C - - - *
rbac.authorization.k8s.io/v1 clusterroles ClusterRole C - - - *
rbac.authorization.k8s.io/v1 rolebindings RoleBinding N - - - *
rbac.authorization.k8s.io/v1 roles Role N - - - *
scheduling.k8s.io/v1 priorityclasses PriorityClass C pc - - *
storage.k8s.io/v1 csidrivers CSIDriver C - - - *
storage.k8s.io/v1 csinodes CSINode C - - - *
storage.k8s.io/v1 csistoragecapacities CSIStorageCapacity N - - - *
storage.k8s.io/v1 storageclasses StorageClass C sc - - *
storage.k8s.io/v1 volumeattachments VolumeAttachment C - - status *
`;

const SPECIAL_SUBS: Record<string, ReturnType<typeof sub>> = {
  scale: sub('scale', 'Scale', 'autoscaling/v1'),
  binding: sub('binding', 'Binding', 'v1', ['create']),
  eviction: sub('eviction', 'Eviction', 'policy/v1', ['create']),
  log: sub('log', 'Pod', '', ['get']),
  exec: sub('exec', 'PodExecOptions', 'v1', ['create', 'get']),
  attach: sub('attach', 'PodAttachOptions', 'v1', ['create', 'get']),
  portforward: sub('portforward', 'PodPortForwardOptions', 'v1', ['create', 'get']),
  ephemeralcontainers: sub('ephemeralcontainers', 'Pod', '', RW),
  proxy: sub('proxy', 'PodProxyOptions', 'v1', ['create', 'delete', 'get', 'patch', 'update']),
  finalize: sub('finalize', 'Namespace', '', ['update']),
  token: sub('token', 'TokenRequest', 'authentication.k8s.io/v1', ['create']),
  approval: sub('approval', 'CertificateSigningRequest', '', RW),
};

/** Resources whose spec changes bump metadata.generation (their strategies set it). */
const GENERATION = new Set([
  'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs',
  'replicationcontrollers', 'policy/poddisruptionbudgets', 'networking.k8s.io/ingresses', 'networking.k8s.io/networkpolicies',
  'apiextensions.k8s.io/customresourcedefinitions', 'autoscaling/horizontalpodautoscalers', 'admissionregistration.k8s.io/validatingadmissionpolicies',
  'flowcontrol.apiserver.k8s.io/flowschemas', 'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations', 'storage.k8s.io/volumeattachments',
  'networking.k8s.io/ingressclasses', 'persistentvolumes', 'persistentvolumeclaims',
]);

/** Lower-cased singular of a kind (discovery's singularName). */
export function singularOf(kind: string): string {
  return kind.toLowerCase();
}

function parseTable(): Resource[] {
  const out: Resource[] = [];
  const seenGroup = new Set<string>();
  for (const line of TABLE.trim().split('\n')) {
    const [gv, resource, kind, scope, shorts, cats, subs, verbs] = line.trim().split(/\s+/) as string[];
    const slash = gv!.lastIndexOf('/');
    const group = slash < 0 ? '' : gv!.slice(0, slash);
    const version = slash < 0 ? gv! : gv!.slice(slash + 1);
    const preferred = !seenGroup.has(group);
    seenGroup.add(group);
    const subresources: Subresource[] = [];
    for (const s of subs === '-' ? [] : subs!.split(',')) {
      if (s === 'status') subresources.push({ name: 'status', group, version, kind: kind!, verbs: RW });
      else {
        const sp = SPECIAL_SUBS[s];
        if (!sp) throw new Error(`unknown subresource ${s}`);
        const [sg, sv] = sp.gv === '' ? [group, version] : sp.gv.includes('/') ? sp.gv.split('/') : ['', sp.gv];
        subresources.push({ name: sp.name, group: sg!, version: sv!, kind: sp.kind, verbs: sp.verbs });
      }
    }
    // events.k8s.io Events share core Events' storage (converted on the way in and out).
    const gr = group === 'events.k8s.io' ? resource! : group ? `${group}/${resource}` : resource!;
    out.push({
      group,
      version,
      resource: resource!,
      singular: singularOf(kind!),
      kind: kind!,
      listKind: `${kind}List`,
      namespaced: scope === 'N',
      verbs: verbs === '*' ? [...ALL_VERBS] : (verbs!.split(',') as Verb[]),
      shortNames: shorts === '-' ? [] : shorts!.split(','),
      categories: cats === '-' ? [] : cats!.split(','),
      subresources,
      storageResource: gr,
      tracksGeneration: GENERATION.has(gr),
      preferred,
      virtual: group === 'authentication.k8s.io' || group === 'authorization.k8s.io' || resource === 'bindings' || resource === 'componentstatuses' ? true : undefined,
    });
  }
  return out;
}

/** Every built-in resource, in discovery order (groups in priority order, preferred version first). */
export const BUILTIN_RESOURCES: readonly Resource[] = parseTable();

/**
 * Deprecated group-versions upstream serves by default in some of the minors
 * EKS offers (1.29-1.35), each with the minors that serve it. Beta APIs new
 * since 1.24 are off by default upstream, so flowcontrol v1beta3 (1.26-1.31)
 * is the one deprecated group-version served. Core v1 Endpoints is deprecated
 * from 1.33 (warnings, no removal scheduled).
 */
const DEPRECATED: ReadonlyArray<{ base: [string, string, string]; version: string; servedFrom: string; deprecation: Deprecation }> = [
  ...['flowschemas', 'prioritylevelconfigurations'].map((resource) => ({
    base: ['flowcontrol.apiserver.k8s.io', 'v1', resource] as [string, string, string],
    version: 'v1beta3',
    servedFrom: '1.26',
    deprecation: { deprecatedIn: '1.29', removedIn: '1.32', replacement: { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: resource === 'flowschemas' ? 'FlowSchema' : 'PriorityLevelConfiguration', since: '1.29' } },
  })),
  { base: ['', 'v1', 'endpoints'], version: 'v1', servedFrom: '1.0', deprecation: { deprecatedIn: '1.33', replacement: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', since: '1.21' } } },
];

function minor(v: string): number {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? Number(m[1]) * 1000 + Number(m[2]) : 0;
}

/**
 * The built-in resources a cluster of a Kubernetes version ("1.31") serves:
 * BUILTIN_RESOURCES plus the deprecated group-versions that minor still
 * serves (marked with `deprecation` once deprecated).
 */
export function resourcesForVersion(kubernetesVersion: string): Resource[] {
  const v = minor(kubernetesVersion);
  const out = [...BUILTIN_RESOURCES];
  for (const d of DEPRECATED) {
    if (v < minor(d.servedFrom) || (d.deprecation.removedIn && v >= minor(d.deprecation.removedIn))) continue;
    const i = out.findIndex((r) => r.group === d.base[0] && r.version === d.base[1] && r.resource === d.base[2]);
    if (i < 0) continue;
    const base = out[i]!;
    const deprecation = v >= minor(d.deprecation.deprecatedIn) ? d.deprecation : undefined;
    if (d.version === base.version) {
      if (deprecation) out[i] = { ...base, deprecation };
      continue;
    }
    const subresources = base.subresources.map((s) => (s.group === base.group && s.version === base.version ? { ...s, version: d.version } : s));
    // After the preferred version's resources of the group, in discovery order.
    let at = i + 1;
    while (at < out.length && out[at]!.group === base.group && out[at]!.version === base.version) at++;
    out.splice(at, 0, { ...base, version: d.version, preferred: false, subresources, ...(deprecation ? { deprecation } : {}) });
  }
  return out;
}

/** The `Warning` text upstream sends for a deprecated group-version's kind. */
export function deprecationWarning(r: Resource): string | undefined {
  const d = r.deprecation;
  if (!d) return undefined;
  let msg = `${apiVersionOf(r.group, r.version)} ${r.kind} is deprecated in v${d.deprecatedIn}+`;
  if (d.removedIn) msg += `, unavailable in v${d.removedIn}+`;
  if (d.replacement) msg += `; use ${d.replacement.apiVersion} ${d.replacement.kind}`;
  return msg;
}

/** The ordered group list for discovery (core first, then as kube-apiserver orders them by priority). */
export const GROUP_ORDER: readonly string[] = [
  '', 'apiregistration.k8s.io', 'apps', 'events.k8s.io', 'authentication.k8s.io', 'authorization.k8s.io', 'autoscaling', 'batch',
  'certificates.k8s.io', 'networking.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'admissionregistration.k8s.io',
  'apiextensions.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'discovery.k8s.io', 'flowcontrol.apiserver.k8s.io',
];

/**
 * A lookup table of resources: built-ins plus, per cluster, custom resources.
 */
export class Scheme {
  private readonly byGvr = new Map<string, Resource>();
  private readonly list: Resource[] = [];

  constructor(resources: readonly Resource[] = BUILTIN_RESOURCES) {
    for (const r of resources) this.add(r);
  }

  add(r: Resource): void {
    const k = `${r.group}/${r.version}/${r.resource}`;
    if (!this.byGvr.has(k)) this.list.push(r);
    else this.list[this.list.findIndex((x) => `${x.group}/${x.version}/${x.resource}` === k)] = r;
    this.byGvr.set(k, r);
  }

  remove(group: string, resource: string): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const r = this.list[i]!;
      if (r.group === group && r.resource === resource) {
        this.list.splice(i, 1);
        this.byGvr.delete(`${r.group}/${r.version}/${r.resource}`);
      }
    }
  }

  /** Removes one group-version of a resource. */
  removeVersion(group: string, version: string, resource: string): void {
    const k = `${group}/${version}/${resource}`;
    if (!this.byGvr.delete(k)) return;
    const i = this.list.findIndex((x) => `${x.group}/${x.version}/${x.resource}` === k);
    if (i >= 0) this.list.splice(i, 1);
  }

  get(group: string, version: string, resource: string): Resource | undefined {
    return this.byGvr.get(`${group}/${version}/${resource}`);
  }

  /** The preferred version's Resource of a group/resource. */
  preferred(group: string, resource: string): Resource | undefined {
    let first: Resource | undefined;
    for (const r of this.list) {
      if (r.group !== group || r.resource !== resource) continue;
      if (r.preferred) return r;
      first ??= r;
    }
    return first;
  }

  /** Finds the resource for a kind in a group/version. */
  byKind(group: string, version: string, kind: string): Resource | undefined {
    return this.list.find((r) => r.group === group && r.version === version && r.kind === kind);
  }

  all(): readonly Resource[] {
    return this.list;
  }

  /** Groups with their versions in preference order. */
  groups(): Array<{ name: string; versions: string[] }> {
    const m = new Map<string, string[]>();
    for (const r of this.list) {
      const vs = m.get(r.group) ?? [];
      if (!vs.includes(r.version)) {
        if (r.preferred) vs.unshift(r.version);
        else vs.push(r.version);
      }
      m.set(r.group, vs);
    }
    const order = (g: string) => {
      const i = GROUP_ORDER.indexOf(g);
      return i < 0 ? GROUP_ORDER.length : i;
    };
    return [...m.entries()]
      .map(([name, versions]) => ({ name, versions }))
      .sort((a, b) => order(a.name) - order(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
