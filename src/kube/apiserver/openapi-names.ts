/**
 * OpenAPI definition names as kube-apiserver publishes them: the Go package
 * path of each type (`io.k8s.api.core.v1.PodSpec`, `io.k8s.api.apps.v1.Deployment`,
 * `io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`,
 * `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition`,
 * `io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService`) and, for
 * custom resources, the reversed group (`com.example.v1.Pool`).
 *
 * Our schemas come from @kubernetes/client-node's model classes, whose names
 * carry the version but not the package (V1PodSpec); a class's package is
 * found from the kinds that reach it: meta types are a fixed list, classes
 * client-node prefixes (CoreV1Event, StorageV1TokenRequest) name theirs, every
 * other class belongs to the first built-in kind (core first) whose types
 * reach it.
 */
import { BUILTIN_RESOURCES, resourcesForVersion } from '../api/scheme.ts';
import { attributes, modelClassOf, unwrap } from './models.ts';

/** k8s.io/apimachinery/pkg/apis/meta/v1 types that client-node generates as V1 classes. */
const META = new Set(
  [
    'APIGroup', 'APIGroupList', 'APIResource', 'APIResourceList', 'APIVersions', 'Condition', 'DeleteOptions', 'FieldSelectorRequirement',
    'GroupVersionForDiscovery', 'LabelSelector', 'LabelSelectorRequirement', 'ListMeta', 'ManagedFieldsEntry', 'ObjectMeta', 'OwnerReference',
    'Preconditions', 'ServerAddressByClientCIDR', 'Status', 'StatusCause', 'StatusDetails', 'WatchEvent',
  ].map((k) => `V1${k}`),
);

/** Core v1 types no core kind reaches (only other groups' kinds use them). */
const CORE_ONLY_ELSEWHERE = new Set(['V1TopologySelectorTerm', 'V1TopologySelectorLabelRequirement']);

const PREFIXED = /^([A-Z][a-z]+)(V\d+(?:(?:alpha|beta)\d+)?)([A-Z].*)$/;
const VERSIONED = /^(V\d+(?:(?:alpha|beta)\d+)?)([A-Z].*)$/;

/** The Go package (last path element) of an API group: '' -> core, apps -> apps, rbac.authorization.k8s.io -> rbac. */
export function packageOfGroup(group: string): string {
  if (group === '') return 'core';
  if (group === 'internal.apiserver.k8s.io') return 'apiserverinternal';
  return group.split('.')[0]!;
}

/** The definition-name prefix of a package (without the version). */
function packagePath(pkg: string): string {
  switch (pkg) {
    case 'meta':
      return 'io.k8s.apimachinery.pkg.apis.meta';
    case 'apiextensions':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
    case 'apiregistration':
      return 'io.k8s.kube-aggregator.pkg.apis.apiregistration';
    case 'metrics':
      return 'io.k8s.metrics.pkg.apis.metrics';
    default:
      return `io.k8s.api.${pkg}`;
  }
}

let owners: Map<string, string> | undefined;

/** Package of every unprefixed model class reached from a built-in kind (built once the models are loaded). */
function ownerIndex(): Map<string, string> {
  if (owners) return owners;
  const m = new Map<string, string>();
  for (const c of CORE_ONLY_ELSEWHERE) m.set(c, 'core');
  const visitedPrefixed = new Set<string>();
  const claim = (cls: string, pkg: string) => {
    if (META.has(cls) || m.has(cls) || visitedPrefixed.has(cls)) return;
    const attrs = attributes(cls);
    if (!attrs) return;
    const p = PREFIXED.exec(cls);
    if (p) {
      // Its own package, and so the types it reaches.
      visitedPrefixed.add(cls);
      pkg = p[1]!.toLowerCase();
    } else m.set(cls, pkg);
    for (const a of attrs) claim(unwrap(a.type).inner, pkg);
  };
  const kinds: Array<[string, string]> = [];
  // Every built-in kind, and the deprecated group-versions older minors still serve (flowcontrol v1beta3).
  for (const r of [...BUILTIN_RESOURCES, ...resourcesForVersion('1.29')]) {
    const pkg = packageOfGroup(r.group);
    for (const k of [r.kind, r.listKind]) {
      const cls = modelClassOf(r.group, r.version, k);
      if (cls) kinds.push([cls, pkg]);
    }
    for (const s of r.subresources) {
      const sc = modelClassOf(s.group, s.version, s.kind);
      if (sc) kinds.push([sc, packageOfGroup(s.group)]);
    }
  }
  // Kinds belong to their own group first; then what each reaches, core first.
  for (const [cls, pkg] of kinds) if (!META.has(cls) && !PREFIXED.test(cls) && !m.has(cls)) m.set(cls, pkg);
  const seen = new Set<string>();
  for (const [cls, pkg] of kinds) {
    if (seen.has(cls)) continue;
    seen.add(cls);
    const p = PREFIXED.exec(cls);
    const own = p ? p[1]!.toLowerCase() : (m.get(cls) ?? pkg);
    for (const a of attributes(cls) ?? []) claim(unwrap(a.type).inner, own);
  }
  if (attributes('V1ObjectMeta')) owners = m; // complete only once the models are loaded
  return m;
}

/**
 * The definition name of a client-node model class:
 * V1DeploymentSpec -> io.k8s.api.apps.v1.DeploymentSpec,
 * V1ObjectMeta -> io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta,
 * CoreV1Event -> io.k8s.api.core.v1.Event.
 */
export function definitionName(cls: string): string {
  const p = PREFIXED.exec(cls);
  if (p) return `${packagePath(p[1]!.toLowerCase())}.${p[2]!.toLowerCase()}.${p[3]}`;
  const v = VERSIONED.exec(cls);
  if (!v) return `io.k8s.api.core.${cls}`;
  const pkg = META.has(cls) ? 'meta' : (ownerIndex().get(cls) ?? 'core');
  return `${packagePath(pkg)}.${v[1]!.toLowerCase()}.${v[2]}`;
}

/** The definition name of a custom resource kind: example.com v1 Pool -> com.example.v1.Pool. */
export function customDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}
