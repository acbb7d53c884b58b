/**
 * metadata.managedFields (structured-merge-diff's field sets in FieldsV1
 * form): which manager owns which fields. Update operations (POST, PUT,
 * PATCH) give their manager the fields they changed; Apply operations
 * (server-side apply) are handled in patch/apply.ts with the same sets.
 *
 * A field set is a set of paths; a path element is `f:<field>`,
 * `k:<json of list-map keys>` for keyed list elements, or `v:<json>` for set
 * elements. Atomic lists and scalars are leaves.
 */
import type { KObject } from '../../api/types.ts';
import { listStrategy } from '../patch/merge-keys.ts';

const SEP = '\u0001';
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Metadata fields that are identity or server-owned, never managed. */
const META_SKIP = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** Key element of a list item, or undefined when the list is atomic. */
export function itemElement(field: string, parent: string | undefined, item: unknown, sample: unknown): string | undefined {
  const ls = listStrategy(field, parent, sample);
  if (ls.strategy !== 'merge') return undefined;
  if (!ls.mergeKey) return `v:${JSON.stringify(item)}`;
  if (!isObj(item)) return undefined;
  const keys = ls.keys ?? [ls.mergeKey];
  const k: Record<string, unknown> = {};
  for (const key of keys) if (item[key] !== undefined) k[key] = item[key];
  return `k:${JSON.stringify(k)}`;
}

/** The key elements of every item of a non-empty list, or undefined when the list is atomic (an item has none). */
function listElements(field: string, parent: string | undefined, list: unknown[]): string[] | undefined {
  const sample = list[0];
  const els: string[] = [];
  for (const it of list) {
    const e = itemElement(field, parent, it, sample);
    if (e === undefined) return undefined;
    els.push(e);
  }
  return els;
}

/**
 * Leaf paths of a value with the value at each (for comparisons). Paths are
 * built as strings (elements joined by SEP): this runs on every write.
 */
export function leaves(obj: unknown, out = new Map<string, unknown>(), path = '', depth = 0, field?: string, parent?: string): Map<string, unknown> {
  if (isObj(obj)) {
    const keys = Object.keys(obj);
    // Maps below top-level fields own themselves too ('.'); empty top-level maps are leaves.
    if (depth >= 2) out.set(`${path}${SEP}.`, undefined);
    else if (depth === 1 && keys.length === 0) out.set(path, {});
    const inMeta = depth === 1 && path === 'f:metadata';
    for (const k of keys) {
      if (depth === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      if (inMeta && META_SKIP.has(k)) continue;
      const v = obj[k];
      if (v === undefined) continue;
      leaves(v, out, depth === 0 ? `f:${k}` : `${path}${SEP}f:${k}`, depth + 1, k, field);
    }
    return out;
  }
  if (Array.isArray(obj) && field !== undefined && obj.length > 0) {
    const els = listElements(field, parent, obj);
    if (els) {
      for (let i = 0; i < obj.length; i++) {
        const it = obj[i];
        const p = `${path}${SEP}${els[i]!}`;
        if (isObj(it)) leaves(it, out, p, depth + 1, field, parent);
        else out.set(p, it);
        out.set(`${p}${SEP}.`, undefined);
      }
      return out;
    }
  }
  out.set(path, obj);
  return out;
}

/** Converts a set of paths to the FieldsV1 JSON object. */
export function toFieldsV1(paths: Iterable<string>): Record<string, any> {
  const root: Record<string, any> = {};
  for (const p of paths) {
    if (p === '') continue;
    let cur = root;
    for (const el of p.split(SEP)) cur = cur[el] ??= {};
  }
  return root;
}

/**
 * The FieldsV1 of every field of an object: toFieldsV1(leaves(obj).keys()),
 * built as one walk without path strings (what a create records).
 */
export function fieldsOf(obj: unknown): Record<string, any> {
  const root: Record<string, any> = {};
  if (isObj(obj)) fieldsWalk(obj, root, 0, undefined, undefined, false);
  return root;
}

/** leaves() writing into `node`, the FieldsV1 object of the value's path (which exists). */
function fieldsWalk(obj: unknown, node: Record<string, any>, depth: number, field: string | undefined, parent: string | undefined, inMeta: boolean): void {
  if (isObj(obj)) {
    const keys = Object.keys(obj);
    if (depth >= 2) node['.'] ??= {};
    for (const k of keys) {
      if (depth === 0 && (k === 'apiVersion' || k === 'kind')) continue;
      if (inMeta && META_SKIP.has(k)) continue;
      const v = obj[k];
      if (v === undefined) continue;
      const key = `f:${k}`;
      const existed = node[key] !== undefined;
      const child = (node[key] ??= {});
      fieldsWalk(v, child, depth + 1, k, field, depth === 0 && k === 'metadata');
      // A top-level map whose members are all skipped has no path (a non-empty map is no leaf).
      if (!existed && depth === 0 && isObj(v) && Object.keys(v).length > 0 && Object.keys(child).length === 0) delete node[key];
    }
    return;
  }
  if (Array.isArray(obj) && field !== undefined && obj.length > 0) {
    const els = listElements(field, parent, obj);
    if (els) {
      for (let i = 0; i < obj.length; i++) {
        const it = obj[i];
        const child = (node[els[i]!] ??= {});
        if (isObj(it)) fieldsWalk(it, child, depth + 1, field, parent, false);
        child['.'] ??= {};
      }
    }
  }
  // Scalars, atomic lists and empty maps are leaves: the node itself.
}

/** Converts FieldsV1 back to a set of paths (leaves only). */
export function fromFieldsV1(f: Record<string, any> | undefined, prefix = '', out = new Set<string>()): Set<string> {
  if (!f) return out;
  for (const k of Object.keys(f)) {
    const v = f[k];
    const p = prefix === '' ? k : `${prefix}${SEP}${k}`;
    if (isObj(v) && Object.keys(v).length > 0) fromFieldsV1(v, p, out);
    else out.add(p);
  }
  return out;
}

/** Leaves of the top-level fields whose path starts with f:status (all a status write compares). */
function statusLeaves(obj: KObject): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const k of Object.keys(obj)) {
    const v = (obj as Record<string, unknown>)[k];
    if (k.startsWith('status') && v !== undefined) leaves(v, out, `f:${k}`, 1, k, undefined);
  }
  return out;
}

function changedPaths(a: Map<string, unknown>, old: KObject | undefined, subresource: string): Set<string> {
  const status = subresource === 'status';
  const b = old ? (status ? statusLeaves(old) : leaves(old)) : new Map<string, unknown>();
  const out = new Set<string>();
  for (const [p, v] of a) {
    if (status && !p.startsWith('f:status')) continue;
    if (!b.has(p)) out.add(p);
    else {
      const w = b.get(p);
      if (w !== v && (typeof v !== 'object' || v === null || JSON.stringify(w) !== JSON.stringify(v))) out.add(p);
    }
  }
  return out;
}

/**
 * Records an Update (or Apply) by `manager` on next (old = previous state):
 * the manager's entry gains the changed fields; other managers lose ownership
 * of fields that no longer exist. No manager: nothing changes.
 */
export function recordManagedFields(next: KObject, old: KObject | undefined, manager: string | undefined, operation: 'Update' | 'Apply', time: string, subresource = ''): void {
  const meta = (next.metadata ??= {});
  if (!manager) {
    if (old?.metadata?.managedFields && meta.managedFields === undefined) meta.managedFields = old.metadata.managedFields;
    return;
  }
  if (operation === 'Apply') return; // apply.ts sets the entry itself.
  if (!old && (meta.managedFields ?? []).length === 0) {
    // A create without entries: the manager owns every field (as the general path below computes).
    const fieldsV1 = fieldsOf(next);
    const mine: Record<string, any> = { manager, operation: 'Update', apiVersion: next.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1 };
    if (subresource) mine.subresource = subresource;
    meta.managedFields = Object.keys(fieldsV1).length > 0 ? [mine] : [];
    return;
  }
  if (updateByTree(next, old, manager, time, subresource)) return;
  updateByPaths(next, old, manager, time, subresource);
}

/**
 * An Update's managed fields over path strings (leaves, fromFieldsV1,
 * toFieldsV1): the reference construction, and what updateByTree falls back
 * to for objects or entries with keys it cannot map to paths one to one.
 */
export function updateByPaths(next: KObject, old: KObject | undefined, manager: string, time: string, subresource = ''): void {
  const meta = (next.metadata ??= {});
  // Entries are copied shallowly: their fieldsV1 objects are replaced, never mutated.
  const entries: Array<Record<string, any>> = (meta.managedFields ?? old?.metadata?.managedFields ?? []).map((e: Record<string, any>) => ({ ...e }));
  const nextLeaves = leaves(next);
  const changed = changedPaths(nextLeaves, old, subresource);
  const present = nextLeaves;
  let mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === subresource);
  for (const e of entries) {
    const set = fromFieldsV1(e.fieldsV1);
    const kept: string[] = [];
    for (const p of set) if (present.has(p) && !(e !== mine && e.operation === 'Update' && changed.has(p))) kept.push(p);
    if (kept.length !== set.size) e.fieldsV1 = toFieldsV1(kept);
  }
  if (!mine) {
    if (changed.size === 0) {
      meta.managedFields = entries.filter((e) => Object.keys(e.fieldsV1 ?? {}).length > 0);
      return;
    }
    mine = { manager, operation: 'Update', apiVersion: next.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {} };
    if (subresource) mine.subresource = subresource;
    entries.push(mine);
  }
  const set = fromFieldsV1(mine.fieldsV1);
  const size = set.size;
  for (const p of changed) set.add(p);
  // The manager already owning every changed field keeps its fieldsV1 as is.
  if (set.size !== size) mine.fieldsV1 = toFieldsV1(set);
  mine.time = time;
  mine.apiVersion = next.apiVersion;
  meta.managedFields = entries.filter((e) => Object.keys(e.fieldsV1 ?? {}).length > 0);
}

// ---------------------------------------------------------------- the same over trees

/** A path of leaves(): its node is marked, with the leaf's value. */
const HAS = Symbol('leaf');
const VAL = Symbol('value');
/** A marked node whose path changed (changedPaths). */
const CHANGED = Symbol('changed');

type PNode = { [el: string]: PNode; [HAS]?: true; [VAL]?: unknown; [CHANGED]?: true };

/** Thrown when a key cannot be told apart from a path (the empty key, or one holding SEP): updateByPaths decides. */
const AMBIGUOUS = new Error('ambiguous managed-fields key');

function childOf(node: PNode, el: string): PNode {
  let c = node[el];
  if (c === undefined) node[el] = c = {} as PNode;
  return c;
}

function markLeaf(node: PNode, v: unknown): void {
  node[HAS] = true;
  node[VAL] = v;
}

/** leaves() as a tree: every path of leaves(obj) is a marked node (with its value); statusOnly keeps top-level status* fields (statusLeaves). */
function pathTree(obj: unknown, node: PNode, depth: number, field: string | undefined, parent: string | undefined, inMeta: boolean, statusOnly: boolean): void {
  if (isObj(obj)) {
    const keys = Object.keys(obj);
    if (depth >= 2) markLeaf(childOf(node, '.'), undefined);
    else if (depth === 1 && keys.length === 0) markLeaf(node, {});
    for (const k of keys) {
      if (depth === 0 && (k === 'apiVersion' || k === 'kind' || (statusOnly && !k.startsWith('status')))) continue;
      if (inMeta && META_SKIP.has(k)) continue;
      const v = obj[k];
      if (v === undefined) continue;
      if (k.includes(SEP)) throw AMBIGUOUS;
      pathTree(v, childOf(node, `f:${k}`), depth + 1, k, field, depth === 0 && k === 'metadata', false);
    }
    return;
  }
  if (Array.isArray(obj) && field !== undefined && obj.length > 0) {
    const els = listElements(field, parent, obj);
    if (els) {
      for (let i = 0; i < obj.length; i++) {
        const it = obj[i];
        const c = childOf(node, els[i]!);
        if (isObj(it)) pathTree(it, c, depth + 1, field, parent, false, false);
        else markLeaf(c, it);
        markLeaf(childOf(c, '.'), undefined);
      }
      return;
    }
  }
  markLeaf(node, obj);
}

/** changedPaths over trees: marks changed nodes of `a` and returns their paths (as elements) in leaves() order. */
function markChanged(a: PNode, b: PNode | undefined, stack: string[], statusOnly: boolean, out: string[][]): void {
  for (const el of Object.keys(a)) {
    if (statusOnly && stack.length === 0 && !el.startsWith('f:status')) continue;
    const an = a[el]!;
    const bn = b?.[el];
    stack.push(el);
    if (an[HAS]) {
      const v = an[VAL];
      let changed = bn === undefined || !bn[HAS];
      if (!changed) {
        const w = bn![VAL];
        changed = w !== v && (typeof v !== 'object' || v === null || JSON.stringify(w) !== JSON.stringify(v));
      }
      if (changed) {
        an[CHANGED] = true;
        out.push(stack.slice());
      }
    }
    markChanged(an, bn, stack, false, out);
    stack.pop();
  }
}

/** A FieldsV1 object a tree walk can read (fromFieldsV1 would read anything else differently). */
function checkFields(f: unknown): void {
  if (f === undefined || f === null) return;
  if (!isObj(f)) throw AMBIGUOUS;
  for (const k of Object.keys(f)) {
    if (k === '' || k === '__proto__' || k.includes(SEP)) throw AMBIGUOUS;
    const v = f[k];
    if (isObj(v)) checkFields(v);
  }
}

/** Whether every leaf of `f` (fromFieldsV1's) is kept; keep(node) decides for the leaf's node in the path tree. */
function allKept(f: Record<string, any>, t: PNode | undefined, keep: (n: PNode | undefined) => boolean): boolean {
  for (const k of Object.keys(f)) {
    const v = f[k];
    const n = t?.[k];
    if (isObj(v) && Object.keys(v).length > 0) {
      if (!allKept(v, n, keep)) return false;
    } else if (!keep(n)) return false;
  }
  return true;
}

/** toFieldsV1 of the kept leaves of `f`, in their order (undefined: none kept). */
function prunedFields(f: Record<string, any>, t: PNode | undefined, keep: (n: PNode | undefined) => boolean): Record<string, any> | undefined {
  let out: Record<string, any> | undefined;
  for (const k of Object.keys(f)) {
    const v = f[k];
    const n = t?.[k];
    let c: Record<string, any> | undefined;
    if (isObj(v) && Object.keys(v).length > 0) c = prunedFields(v, n, keep);
    else if (keep(n)) c = {};
    if (c !== undefined) (out ??= {})[k] = c;
  }
  return out;
}

/** toFieldsV1(fromFieldsV1(f)): the same tree with every leaf an empty object. */
function normalFields(f: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = {};
  for (const k of Object.keys(f)) {
    const v = f[k];
    out[k] = isObj(v) && Object.keys(v).length > 0 ? normalFields(v) : {};
  }
  return out;
}

/** Whether a path is a leaf of FieldsV1 `f` (in fromFieldsV1(f)). */
function hasLeaf(f: unknown, path: string[]): boolean {
  let cur: unknown = f;
  for (const el of path) {
    if (!isObj(cur) || Object.keys(cur).length === 0) return false;
    cur = cur[el];
    if (cur === undefined) return false;
  }
  return !isObj(cur) || Object.keys(cur).length === 0;
}

/**
 * updateByPaths computed over trees (no path strings): the same entries, in
 * the same order, with the same FieldsV1 key order. False (nothing changed)
 * when a key is ambiguous as a path; the caller then uses updateByPaths.
 */
function updateByTree(next: KObject, old: KObject | undefined, manager: string, time: string, subresource: string): boolean {
  const meta = (next.metadata ??= {});
  const source: unknown[] = meta.managedFields ?? old?.metadata?.managedFields ?? [];
  const present: PNode = {};
  const before: PNode | undefined = old ? {} : undefined;
  const status = subresource === 'status';
  const changed: string[][] = [];
  try {
    for (const e of source) if (isObj(e)) checkFields(e.fieldsV1);
    else return false;
    pathTree(next, present, 0, undefined, undefined, false, false);
    if (old) pathTree(old, before!, 0, undefined, undefined, false, status);
  } catch (err) {
    if (err === AMBIGUOUS) return false;
    throw err;
  }
  markChanged(present, before, [], status, changed);
  // Entries are copied shallowly: their fieldsV1 objects are replaced, never mutated.
  const entries: Array<Record<string, any>> = source.map((e) => ({ ...(e as Record<string, any>) }));
  let mine = entries.find((e) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === subresource);
  const keepPresent = (n: PNode | undefined) => n !== undefined && n[HAS] === true;
  const keepUnchanged = (n: PNode | undefined) => n !== undefined && n[HAS] === true && n[CHANGED] !== true;
  for (const e of entries) {
    const f = e.fieldsV1;
    if (!isObj(f)) continue;
    const keep = e !== mine && e.operation === 'Update' ? keepUnchanged : keepPresent;
    if (!allKept(f, present, keep)) e.fieldsV1 = prunedFields(f, present, keep) ?? {};
  }
  if (!mine) {
    if (changed.length === 0) {
      meta.managedFields = entries.filter((e) => Object.keys(e.fieldsV1 ?? {}).length > 0);
      return true;
    }
    mine = { manager, operation: 'Update', apiVersion: next.apiVersion, time, fieldsType: 'FieldsV1', fieldsV1: {} };
    if (subresource) mine.subresource = subresource;
    entries.push(mine);
  }
  // The manager already owning every changed field keeps its fieldsV1 as is.
  if (!changed.every((p) => hasLeaf(mine!.fieldsV1, p))) {
    const f = isObj(mine.fieldsV1) ? normalFields(mine.fieldsV1) : {};
    for (const p of changed) {
      let cur = f;
      for (const el of p) cur = cur[el] ??= {};
    }
    mine.fieldsV1 = f;
  }
  mine.time = time;
  mine.apiVersion = next.apiVersion;
  meta.managedFields = entries.filter((e) => Object.keys(e.fieldsV1 ?? {}).length > 0);
  return true;
}
