/**
 * The three patch formats of the Kubernetes API (apiserver's
 * endpoints/handlers/patch.go): JSON patch (RFC 6902, via fast-json-patch),
 * JSON merge patch (RFC 7386) and strategic merge patch (merge keys and
 * $patch / $retainKeys / $deleteFromPrimitiveList / $setElementOrder
 * directives, see merge-keys.ts).
 */
import { cloneJson } from '../../api/json-clone.ts';
import fjp from 'fast-json-patch';
import type { KObject } from '../../api/types.ts';
import { StatusError, newBadRequest } from '../errors.ts';
import { listStrategy } from './merge-keys.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

function unprocessable(message: string): StatusError {
  return new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Invalid', code: 422 });
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies an RFC 6902 JSON patch to a copy of obj (`owned`: obj is the caller's private copy, patched in place). */
export function applyJsonPatch(obj: KObject, patch: unknown, owned = false): KObject {
  if (!Array.isArray(patch)) throw newBadRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    // The document is a private copy either way: fast-json-patch need not copy it again (mutateDocument).
    const r = fjp.applyPatch(owned ? obj : cloneJson(obj), patch as fjp.Operation[], true, true);
    return r.newDocument as KObject;
  } catch (e) {
    const err = e as { name?: string; message?: string; operation?: { path?: string } };
    let msg = err.message?.split('\n')[0] ?? String(e);
    if (err.name === 'TEST_OPERATION_FAILED') msg = `testing value ${err.operation?.path} failed: test failed`;
    else if (err.name === 'OPERATION_PATH_UNRESOLVABLE' || err.name === 'OPERATION_PATH_CANNOT_ADD')
      msg = `doc is missing path: "${err.operation?.path}": missing value`;
    throw unprocessable(msg);
  }
}

/** RFC 7386 merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return cloneJson(patch);
  const out: Record<string, any> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Applies a JSON merge patch (RFC 7386) to a copy of obj (`owned`: obj is the caller's private copy, which the result may share). */
export function applyMergePatch(obj: KObject, patch: unknown, owned = false): KObject {
  if (!isObj(patch)) throw newBadRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  return mergePatch(owned ? obj : cloneJson(obj), patch) as KObject;
}

function keyMatches(item: any, mergeKey: string, val: unknown): boolean {
  return isObj(item) && item[mergeKey] === val;
}

function smpList(field: string, parent: string | undefined, cur: unknown, patch: unknown[], extra: Record<string, any>): unknown[] {
  const curList = Array.isArray(cur) ? cur : [];
  const sample = patch.find((x) => isObj(x) && !('$patch' in x)) ?? curList[0];
  const ls = listStrategy(field, parent, sample);
  // {$patch: replace} element: the list becomes the other elements.
  if (patch.some((x) => isObj(x) && x.$patch === 'replace')) {
    return patch.filter((x) => !(isObj(x) && x.$patch === 'replace')).map((x) => stripDirectives(x));
  }
  const deleteFromPrimitive: unknown[] = extra[`$deleteFromPrimitiveList/${field}`] ?? [];
  if (ls.strategy !== 'merge') return patch.map((x) => stripDirectives(x));
  if (!ls.mergeKey) {
    // A set of scalars.
    const out = curList.filter((x) => !deleteFromPrimitive.some((d) => d === x));
    for (const x of patch) if (!out.some((y) => y === x)) out.push(x);
    return out;
  }
  const mk = ls.mergeKey;
  const out = curList.map((x) => x);
  for (const p of patch) {
    if (!isObj(p)) {
      throw newBadRequest(`unable to find api field in struct for the list ${field}: elements must be objects with merge key ${mk}`);
    }
    const key = p[mk];
    if (key === undefined) throw newBadRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${mk}`);
    const idx = out.findIndex((x) => keyMatches(x, mk, key));
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpObject(out[idx], p, field);
    else out.push(stripDirectives(p));
  }
  return reorder(out, extra[`$setElementOrder/${field}`], mk);
}

function reorder(list: unknown[], order: unknown, mk: string | undefined): unknown[] {
  if (!Array.isArray(order)) return list;
  const pos = (x: any) => order.findIndex((o: any) => (isObj(o) && mk ? o[mk] === x?.[mk] : o === x));
  const inOrder = list.filter((x) => pos(x) >= 0).sort((a, b) => pos(a) - pos(b));
  const rest = list.filter((x) => pos(x) < 0);
  return [...inOrder, ...rest];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => !(isObj(x) && x.$patch === 'delete')).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Record<string, any> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

/** Strategic merge of a patch map into a current value; `field` is the name of the field holding them. */
function smpObject(cur: unknown, patch: Record<string, any>, field?: string): unknown {
  if (patch.$patch === 'replace') return stripDirectives(patch);
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, any> = isObj(cur) ? { ...cur } : {};
  const retain: string[] | undefined = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = smpList(k, field, out[k], v, patch);
    } else if (isObj(v)) {
      const r = smpObject(out[k], v, k);
      if (r === undefined) delete out[k];
      else out[k] = r;
    } else {
      out[k] = v;
    }
  }
  // $deleteFromPrimitiveList for lists that the patch does not otherwise touch.
  for (const [k, v] of Object.entries(patch)) {
    const m = /^\$deleteFromPrimitiveList\/(.+)$/.exec(k);
    if (m && !(m[1]! in patch) && Array.isArray(out[m[1]!])) out[m[1]!] = out[m[1]!].filter((x: unknown) => !(v as unknown[]).includes(x));
  }
  for (const [k, v] of Object.entries(patch)) {
    const m = /^\$setElementOrder\/(.+)$/.exec(k);
    if (m && !(m[1]! in patch) && Array.isArray(out[m[1]!])) {
      const f = m[1]!;
      out[f] = reorder(out[f], v, listStrategy(f, field, out[f][0]).mergeKey);
    }
  }
  if (Array.isArray(retain)) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

/** Applies a strategic merge patch to a copy of obj (`owned`: obj is the caller's private copy, which the result may share). */
export function applyStrategicMergePatch(obj: KObject, patch: unknown, owned = false): KObject {
  if (!isObj(patch)) throw newBadRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  return smpObject(owned ? obj : cloneJson(obj), patch) as KObject;
}
