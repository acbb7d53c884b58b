/**
 * Server-side apply (apply-patch+yaml): merges a manager's applied
 * configuration into the live object, detects conflicts with fields other
 * managers own (409 unless force=true), removes fields the manager applied
 * before and no longer applies (unless someone else owns them), and records
 * the manager's Apply entry in managedFields.
 */
import { cloneJson } from '../../api/json-clone.ts';
import type { KObject } from '../../api/types.ts';
import { StatusError } from '../errors.ts';
import { fromFieldsV1, leaves, toFieldsV1 } from '../registry/managed-fields.ts';
import { applyStrategicMergePatch } from './patch.ts';

const SEP = '\u0001';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** ".spec.containers[name=\"x\"].image" from a field-set path. */
export function printPath(p: string): string {
  let s = '';
  for (const el of p.split(SEP)) {
    if (el === '.') continue;
    if (el.startsWith('f:')) s += `.${el.slice(2)}`;
    else if (el.startsWith('k:')) {
      const k = JSON.parse(el.slice(2)) as Record<string, unknown>;
      s += `[${Object.entries(k).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(',')}]`;
    } else if (el.startsWith('v:')) s += `[=${el.slice(2)}]`;
  }
  return s;
}

/**
 * Removes one owned path from obj. Leaves are deleted; a '.' (the map or list
 * item itself) is deleted only once nothing but its key fields is left, so
 * fields other managers own keep their parents. Key fields of list items are
 * never removed on their own (they are the item's identity).
 */
function removePath(obj: any, els: string[], whole: boolean, itemKey?: Record<string, unknown>): void {
  if (els.length === 0 || obj === undefined || obj === null) return;
  const [el, ...rest] = els;
  if (el === '.') return;
  const selfOnly = rest.length === 1 && rest[0] === '.';
  if (el!.startsWith('f:') && isObj(obj)) {
    const k = el!.slice(2);
    if (rest.length === 0) {
      if (itemKey && k in itemKey) return;
      delete obj[k];
    } else if (selfOnly) {
      const v = obj[k];
      if (whole || (isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0)) delete obj[k];
    } else removePath(obj[k], rest, whole);
  } else if (el!.startsWith('k:') && Array.isArray(obj)) {
    const key = JSON.parse(el!.slice(2)) as Record<string, unknown>;
    const idx = obj.findIndex((it) => isObj(it) && Object.entries(key).every(([a, b]) => it[a] === b));
    if (idx < 0) return;
    if (rest.length === 0 || selfOnly) {
      const it = obj[idx];
      if (rest.length === 0 || whole || Object.keys(it).every((f) => f in key)) obj.splice(idx, 1);
    } else removePath(obj[idx], rest, whole, key);
  } else if (el!.startsWith('v:') && Array.isArray(obj)) {
    const v = JSON.parse(el!.slice(2));
    const idx = obj.findIndex((it) => JSON.stringify(it) === JSON.stringify(v));
    if (idx >= 0) obj.splice(idx, 1);
  }
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  time: string;
  /** Subresource ('' or 'status'). */
  subresource?: string;
}

/**
 * Computes the object after `manager` applies `applied` to `live` (undefined
 * when the object does not exist yet). Throws a 409 Conflict StatusError
 * listing conflicting fields unless opts.force.
 */
export function serverSideApply(live: KObject | undefined, applied: KObject, opts: ApplyOptions, gr: { group: string; resource: string }): KObject {
  const appliedLeaves = leaves(applied);
  const entries: Array<Record<string, any>> = cloneJson(live?.metadata?.managedFields ?? []);
  const sub = opts.subresource ?? '';
  const isMine = (e: Record<string, any>) => e.manager === opts.manager && e.operation === 'Apply' && (e.subresource ?? '') === sub;
  const forcedAway = new Set<string>();
  if (live) {
    const liveLeaves = leaves(live);
    const conflicts: Array<{ manager: string; apiVersion: string; path: string; op: string }> = [];
    for (const e of entries) {
      if (isMine(e)) continue;
      const set = fromFieldsV1(e.fieldsV1);
      for (const [p, v] of appliedLeaves) {
        if (p.endsWith('.') || !set.has(p)) continue;
        if (JSON.stringify(liveLeaves.get(p)) !== JSON.stringify(v)) {
          if (opts.force) forcedAway.add(p);
          else conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: p, op: e.operation });
        }
      }
    }
    // A server-side apply after client-side applies (lastAppliedManager): conflicts on
    // fields whose live value is still what the last-applied annotation says are taken over.
    const lastApplied = live.metadata?.annotations?.[LAST_APPLIED];
    if (conflicts.length > 0 && lastApplied) {
      let la: Map<string, unknown> | undefined;
      try {
        la = leaves(JSON.parse(lastApplied));
      } catch {
        la = undefined;
      }
      if (la) {
        const allowed = conflicts.filter((c) => la!.has(c.path) && JSON.stringify(la!.get(c.path)) === JSON.stringify(liveLeaves.get(c.path)));
        if (allowed.length === conflicts.length) {
          for (const c of allowed) forcedAway.add(c.path);
          conflicts.length = 0;
        }
      }
    }
    if (conflicts.length > 0) {
      const n = conflicts.length;
      const lines = conflicts.map((c) => `conflict with "${c.manager}"${c.op === 'Update' ? ` using ${c.apiVersion}` : ''}: ${printPath(c.path)}`);
      const msg = n === 1 ? `Apply failed with 1 conflict: ${lines[0]}` : `Apply failed with ${n} conflicts: ${lines.join('\n')}`;
      throw new StatusError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: msg,
        reason: 'Conflict',
        details: {
          name: live.metadata?.name,
          group: gr.group || undefined,
          kind: gr.resource,
          causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"${c.op === 'Update' ? ` using ${c.apiVersion}` : ''}`, field: printPath(c.path) })),
        },
        code: 409,
      });
    }
  }
  const { metadata: am, ...rest } = applied;
  const patch: KObject = { ...rest, metadata: { ...(am?.labels ? { labels: am.labels } : {}), ...(am?.annotations ? { annotations: am.annotations } : {}), ...(am?.finalizers ? { finalizers: am.finalizers } : {}), ...(am?.ownerReferences ? { ownerReferences: am.ownerReferences } : {}) } };
  const base: KObject = live ? cloneJson(live) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: { ...(am ?? {}) } };
  const merged = applyStrategicMergePatch(base, patch);
  // Fields this manager applied before and no longer applies, owned by no one else, are removed.
  const mine = entries.find(isMine);
  if (mine && live) {
    const prev = fromFieldsV1(mine.fieldsV1);
    const others = new Set<string>();
    for (const e of entries) if (!isMine(e)) for (const p of fromFieldsV1(e.fieldsV1)) others.add(p);
    const removed = [...prev].filter((p) => !appliedLeaves.has(p) && !others.has(p)).sort((a, b) => b.length - a.length);
    const otherList = [...others];
    for (const p of removed) {
      // A map or list item this manager owned goes as a whole (with unowned defaulted
      // fields) unless another manager owns something inside it.
      const whole = p.endsWith(`${SEP}.`) && !otherList.some((o) => o.startsWith(p.slice(0, -1)));
      removePath(merged, p.split(SEP), whole);
    }
  }
  // Ownership: the manager owns exactly what it applied; forced fields leave other managers.
  const next: Array<Record<string, any>> = [];
  for (const e of entries) {
    if (isMine(e)) continue;
    if (forcedAway.size > 0) {
      const set = [...fromFieldsV1(e.fieldsV1)].filter((p) => !forcedAway.has(p));
      e.fieldsV1 = toFieldsV1(set);
    }
    if (Object.keys(e.fieldsV1 ?? {}).length > 0) next.push(e);
  }
  const entry: Record<string, any> = { manager: opts.manager, operation: 'Apply', apiVersion: applied.apiVersion, time: opts.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedLeaves.keys()) };
  if (sub) entry.subresource = sub;
  next.push(entry);
  merged.metadata ??= {};
  merged.metadata.managedFields = next;
  // lastAppliedUpdater: keep kubectl's last-applied annotation in step with the applied config.
  if (live?.metadata?.annotations?.[LAST_APPLIED] !== undefined && sub === '') {
    const cfg = cloneJson(applied);
    if (cfg.metadata?.annotations) delete cfg.metadata.annotations[LAST_APPLIED];
    merged.metadata.annotations = { ...(merged.metadata.annotations ?? {}), [LAST_APPLIED]: JSON.stringify(cfg) + '\n' };
  }
  return merged;
}
