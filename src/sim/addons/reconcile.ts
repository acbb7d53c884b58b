/**
 * How the EKS add-on manager writes an add-on's manifest over what a cluster
 * already has (pure functions, unit-tested): field paths in EKS's conflict
 * notation (`.spec.template.spec.containers[name="aws-node"].image`, lists of
 * named items keyed by name as server-side apply merges them), the
 * conflicts a resolveConflicts mode cares about, and the merge.
 *
 * - at creation, a field the manifest sets that an existing object holds
 *   with another value is a conflict (another manager owns it);
 * - at an update, a field is a conflict when the object's value differs
 *   both from the manifest and from what the add-on applied last (someone
 *   changed it);
 * - OVERWRITE writes the manifest's values; PRESERVE (updates) keeps the
 *   conflicting values; NONE fails on any conflict. Fields and named list
 *   items the manifest does not mention stay as they are, except those the
 *   previous apply set (and nobody changed since), which are removed.
 */
import type { KObject } from '../../kube/api/types.ts';

type Json = any;

const isObj = (v: Json): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNamedList = (v: Json): v is Array<{ name: string }> => Array.isArray(v) && v.length > 0 && v.every((x) => isObj(x) && typeof x.name === 'string');
const same = (a: Json, b: Json) => JSON.stringify(a) === JSON.stringify(b);

/** The parts of an object the add-on manages (its manifest's content). */
export const MANAGED_KEYS = ['spec', 'data', 'rules', 'roleRef', 'subjects'];

function managedView(o: KObject | undefined): Json {
  if (!o) return undefined;
  const v: Record<string, Json> = { metadata: { labels: o.metadata?.labels, annotations: o.metadata?.annotations } };
  for (const k of MANAGED_KEYS) if (k in o) v[k] = (o as any)[k];
  return v;
}

/**
 * conflictPaths lists the fields of `desired` that `existing` holds with
 * another value which `previous` (what was applied last; undefined at
 * creation) does not explain.
 */
export function conflictPaths(desired: KObject, existing: KObject, previous?: KObject): string[] {
  const out: string[] = [];
  const walk = (d: Json, e: Json, p: Json, path: string, hasPrev: boolean) => {
    if (e === undefined || d === undefined) return;
    if (isObj(d) && isObj(e)) {
      for (const k of Object.keys(d)) walk(d[k], e[k], isObj(p) ? p[k] : undefined, `${path}.${k}`, hasPrev);
      return;
    }
    if (isNamedList(d) && Array.isArray(e)) {
      for (const item of d) {
        const ei = e.find((x: Json) => isObj(x) && x.name === item.name);
        const pi = Array.isArray(p) ? p.find((x: Json) => isObj(x) && x.name === item.name) : undefined;
        walk(item, ei, pi, `${path}[name="${item.name}"]`, hasPrev);
      }
      return;
    }
    if (same(d, e)) return;
    if (hasPrev && same(e, p)) return; // unchanged since the last apply: ours to change
    out.push(path);
  };
  walk(managedView(desired), managedView(existing), managedView(previous), '', previous !== undefined);
  return out;
}

function getAt(o: Json, path: string): Json {
  for (const seg of splitPath(path)) {
    if (o === undefined) return undefined;
    o = typeof seg === 'string' ? o?.[seg] : Array.isArray(o) ? o.find((x: Json) => x?.name === seg.name) : undefined;
  }
  return o;
}

function setAt(o: Json, path: string, value: Json): void {
  const segs = splitPath(path);
  let cur = o;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    cur = typeof seg === 'string' ? cur?.[seg] : Array.isArray(cur) ? cur.find((x: Json) => x?.name === seg.name) : undefined;
    if (cur === undefined) return;
  }
  const last = segs[segs.length - 1]!;
  if (typeof last === 'string') {
    if (value === undefined) delete cur[last];
    else cur[last] = value;
  } else if (Array.isArray(cur)) {
    const i = cur.findIndex((x: Json) => x?.name === last.name);
    if (i >= 0 && value === undefined) cur.splice(i, 1);
    else if (i >= 0) cur[i] = value;
  }
}

/** removedPaths: what `previous` set that `desired` no longer sets (object keys, named list items). */
export function removedPaths(desired: KObject, previous: KObject): string[] {
  const out: string[] = [];
  const walk = (d: Json, p: Json, path: string) => {
    if (p === undefined) return;
    if (d === undefined) {
      out.push(path);
      return;
    }
    if (isObj(d) && isObj(p)) {
      for (const k of Object.keys(p)) walk(d[k], p[k], `${path}.${k}`);
      return;
    }
    if (isNamedList(p) && Array.isArray(d)) {
      for (const item of p) walk(d.find((x: Json) => isObj(x) && x.name === item.name), item, `${path}[name="${item.name}"]`);
    }
  };
  walk(managedView(desired), managedView(previous), '');
  return out;
}

function splitPath(path: string): Array<string | { name: string }> {
  const out: Array<string | { name: string }> = [];
  const re = /\.([^.[]+)|\[name="([^"]*)"\]/g;
  for (let m = re.exec(path); m; m = re.exec(path)) out.push(m[1] !== undefined ? m[1] : { name: m[2]! });
  return out;
}

/** deepMerge writes `d` over `e`: objects key by key, named lists item by item (env items replaced whole), other values replaced. */
export function deepMerge(e: Json, d: Json, key = ''): Json {
  if (isObj(d) && isObj(e)) {
    const r: Record<string, Json> = { ...e };
    for (const k of Object.keys(d)) r[k] = deepMerge(e[k], d[k], k);
    return r;
  }
  if (isNamedList(d) && Array.isArray(e)) {
    const r = d.map((item) => {
      const ei = e.find((x: Json) => isObj(x) && x.name === item.name);
      return ei && key !== 'env' ? deepMerge(ei, item) : structuredClone(item);
    });
    for (const x of e) if (!(isObj(x) && d.some((i) => i.name === x.name))) r.push(x);
    return r;
  }
  return structuredClone(d);
}

/**
 * mergeManifest returns `existing` with `desired` applied (labels and
 * annotations merged, the managed keys deep-merged), keeping the values at
 * `keep` paths (PRESERVE).
 */
export function mergeManifest(existing: KObject, desired: KObject, keep: string[] = [], previous?: KObject): KObject {
  const next = structuredClone(existing);
  next.metadata ??= {};
  next.metadata.labels = { ...(existing.metadata?.labels ?? {}), ...(desired.metadata?.labels ?? {}) };
  if (desired.metadata?.annotations || existing.metadata?.annotations) next.metadata.annotations = { ...(existing.metadata?.annotations ?? {}), ...(desired.metadata?.annotations ?? {}) };
  for (const k of MANAGED_KEYS) if (k in desired) (next as any)[k] = deepMerge((existing as any)[k], (desired as any)[k], k);
  const view = { metadata: next.metadata, ...Object.fromEntries(MANAGED_KEYS.filter((k) => k in next).map((k) => [k, (next as any)[k]])) };
  const old = managedView(existing);
  for (const p of keep) setAt(view, p, structuredClone(getAt(old, p)));
  // What the last apply set and this one does not is removed, unless someone changed it since.
  if (previous) {
    const prevView = managedView(previous);
    for (const p of removedPaths(desired, previous)) {
      if (same(getAt(old, p), getAt(prevView, p))) setAt(view, p, undefined);
    }
  }
  return next;
}

/** kindRef names an object as EKS's conflict messages do: `DaemonSet.apps aws-node`, `ConfigMap coredns`. */
export function kindRef(group: string, obj: KObject): string {
  return `${obj.kind}${group ? `.${group}` : ''} ${obj.metadata?.name}`;
}

/** The ConfigurationConflict message of EKS. */
export function conflictMessage(conflicts: Array<{ ref: string; path: string }>): string {
  return `Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts:\n${conflicts.map((c) => `${c.ref} - ${c.path}`).join('\n')}`;
}
