/**
 * Discovery documents: legacy (/api APIVersions, /apis APIGroupList,
 * /apis/<g> APIGroup, /api/v1 and /apis/<g>/<v> APIResourceList) and
 * aggregated discovery v2 (APIGroupDiscoveryList, which kubectl 1.32 asks for
 * first), all computed from a Scheme.
 */
import { createHash } from 'node:crypto';
import { type Resource, type Scheme, apiVersionOf } from '../api/scheme.ts';

/** Media type of aggregated discovery v2 responses. */
export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

/** True when the Accept header asks for aggregated discovery v2. */
export function wantsAggregated(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const p = part.replace(/\s+/g, '');
    return p.includes('as=APIGroupDiscoveryList') && p.includes('g=apidiscovery.k8s.io') && p.includes('v=v2') && !p.includes('v=v2beta1');
  });
}

function storageVersionHash(r: Resource): string {
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest('base64').slice(0, 11);
}

function apiResources(scheme: Scheme, group: string, version: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const r of scheme.all()) {
    if (r.group !== group || r.version !== version) continue;
    const e: Record<string, unknown> = { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs };
    if (r.shortNames.length) e.shortNames = r.shortNames;
    if (r.categories.length) e.categories = r.categories;
    if (!r.virtual) e.storageVersionHash = storageVersionHash(r);
    out.push(e);
    for (const s of r.subresources) {
      const se: Record<string, unknown> = { name: `${r.resource}/${s.name}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group !== r.group || s.version !== r.version) {
        se.group = s.group;
        se.version = s.version;
      }
      out.push(se);
    }
  }
  return out.sort((a, b) => ((a.name as string) < (b.name as string) ? -1 : 1));
}

/** /api/v1 or /apis/<g>/<v> (undefined when the group/version is not served). */
export function resourceList(scheme: Scheme, group: string, version: string): Record<string, unknown> | undefined {
  const resources = apiResources(scheme, group, version);
  if (resources.length === 0) return undefined;
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

/** /api */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupDoc(g: { name: string; versions: string[] }): Record<string, unknown> {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** /apis */
export function apiGroupList(scheme: Scheme): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: scheme.groups().filter((g) => g.name !== '').map(groupDoc) };
}

/** /apis/<group> */
export function apiGroup(scheme: Scheme, group: string): Record<string, unknown> | undefined {
  const g = scheme.groups().find((x) => x.name === group);
  if (!g || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(g) };
}

function aggregatedResources(scheme: Scheme, group: string, version: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const r of scheme.all()) {
    if (r.group !== group || r.version !== version) continue;
    const e: Record<string, unknown> = {
      resource: r.resource,
      responseKind: { group: r.group, version: r.version, kind: r.kind },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singular,
      verbs: r.verbs,
    };
    if (r.shortNames.length) e.shortNames = r.shortNames;
    if (r.categories.length) e.categories = r.categories;
    if (r.subresources.length) {
      e.subresources = r.subresources.map((s) => ({ subresource: s.name, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs }));
    }
    out.push(e);
  }
  return out.sort((a, b) => ((a.resource as string) < (b.resource as string) ? -1 : 1));
}

/** Aggregated discovery for /api (legacy=true) or /apis. */
export function aggregatedDiscovery(scheme: Scheme, legacy: boolean): Record<string, unknown> {
  const items = scheme
    .groups()
    .filter((g) => (legacy ? g.name === '' : g.name !== ''))
    .map((g) => ({
      metadata: legacy ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
      versions: g.versions.map((v) => ({ version: v, resources: aggregatedResources(scheme, g.name, v), freshness: 'Current' })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: 'apidiscovery.k8s.io/v2', metadata: {}, items };
}
