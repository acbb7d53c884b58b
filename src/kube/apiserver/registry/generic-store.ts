/**
 * The generic registry of one cluster (apiserver's registry/generic/registry
 * Store): create, get, list, update (guaranteedUpdate with optimistic
 * concurrency), delete (finalizers, graceful deletion, preconditions) for any
 * resource, with the per-resource Strategy supplying defaults and validation.
 *
 * Objects are stored as JSON without resourceVersion under
 * `/k8s/<uid>/registry/<group/>resource/<ns>/<name>`; the store revision of
 * the last write is the resourceVersion. Reads come from the watch cache.
 */
import { cloneJson, isPlainJson, jsonCopy } from '../../api/json-clone.ts';
import { randomUUID } from 'node:crypto';
import { type Backend, type KeyValue, isStoreError } from '../../../store/backend.ts';
import type { Clock } from '../../../sim/clock.ts';
import { type ClusterInfo, storePrefix } from '../../types.ts';
import { type Resource, type Scheme, apiVersionOf } from '../../api/scheme.ts';
import type { KObject, Status } from '../../api/types.ts';
import { parseResourceVersion } from '../../api/versioner.ts';
import { STORAGE_VERSIONS, convertObject } from '../../api/conversion.ts';
import {
  type FieldError,
  type StatusError,
  OBJECT_MODIFIED,
  fieldErr,
  interpretStoreError,
  newAlreadyExists,
  newBadRequest,
  newConflict,
  newForbidden,
  newInvalid,
  newNotFound,
  newResourceExpired,
  newTimeout,
  successStatus,
} from '../errors.ts';
import { type FieldSelector, type LabelSelector, matchFields, matchLabels } from '../selectors.ts';
import { validateObjectMeta } from '../validation.ts';
import { type CacheEntry, WatchCache, encodedJson } from './watch-cache.ts';
import { ServiceAllocator } from './service-allocator.ts';
import { selectableFields, strategyFor } from './strategies.ts';
import { recordManagedFields } from './managed-fields.ts';
import { admitPodCreate, admitPodSecurity, significantPodUpdate } from '../admission.ts';
import type { PodAdmissionPlugin } from '../pod-admission-plugins.ts';
import { admitLimitRanges, admitPvcLimitRanges, admitQuota } from '../quota.ts';
import { runWebhooks, type WebhookUserInfo } from '../webhooks.ts';

/** Resources whose objects are or hold pod specs (Pod Security admission). */
const POD_TEMPLATE_OWNERS = new Set(['pods', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets', 'apps/daemonsets', 'batch/jobs', 'batch/cronjobs', 'replicationcontrollers', 'podtemplates']);

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  /** 'Update' | 'Apply' (managedFields operation). */
  operation?: 'Update' | 'Apply';
  /** Subresource being written ('status', 'scale', ...), '' for the main resource. */
  subresource?: string;
  /** Admission warnings for the response's Warning header are appended here. */
  warnings?: string[];
  /** (auth) Admission that depends on the requesting user (RBAC escalation prevention, kube/authz/escalation.ts; aws-auth warnings); throws a StatusError to reject, appends to `warnings`. */
  admitRequest?(op: 'create' | 'update', res: Resource, obj: KObject, old: KObject | undefined, warnings: string[] | undefined): void;
  /** The requesting user, as admission webhooks see it (AdmissionReview.request.userInfo); writes without a request leave it out. */
  userInfo?: WebhookUserInfo;
  /**
   * The caller neither changes nor keeps the returned object (reading it at
   * once, as the API server does to answer, is fine): the watch cache keeps
   * the written object as its entry instead of a copy (when it is plain
   * JSON, isPlainJson). In-process writers that drop the result, and the
   * API server's create, update and patch handlers.
   */
  handOff?: boolean;
}

export interface ListOptions {
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: CacheEntry[];
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

/** metav1.DeleteOptions (the fields the registry reads). */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  dryRun?: string[];
}

export interface DeleteResult {
  /** The object (deleted, or marked for deletion) or a Success Status. */
  body: KObject | Status;
  /** True when the key was removed from the store. */
  deleted: boolean;
  obj: KObject;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/** How long Events live (kube-apiserver's default --event-ttl). */
export const EVENT_TTL_SECONDS = 3600;

/** Upstream's SimpleNameGenerator: base + 5 random characters. */
export function generateName(base: string): string {
  const b = base.length > 58 ? base.slice(0, 58) : base;
  let s = '';
  for (let i = 0; i < 5; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return b + s;
}

/** RFC 3339 timestamp with second precision, as metav1.Time serializes. */
export function timestamp(d: Date): string {
  // Every write stamps one or two times, mostly within the same second as the last: remembered.
  const sec = Math.floor(d.getTime() / 1000);
  if (sec === lastStampSecond && lastStamp !== undefined) return lastStamp;
  // toISOString ends in ".sssZ": drop the milliseconds.
  const s = d.toISOString();
  lastStamp = `${s.slice(0, s.length - 5)}Z`;
  lastStampSecond = sec;
  return lastStamp;
}
let lastStampSecond = NaN;
let lastStamp: string | undefined;

/** Deep equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as any)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as any)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!jsonEqual((a as any)[k], (b as any)[k])) return false;
  return true;
}

function decode(kv: KeyValue, rev = kv.modRevision): KObject {
  const o = JSON.parse(kv.value) as KObject;
  o.metadata ??= {};
  o.metadata.resourceVersion = String(rev);
  return o;
}

function encode(obj: KObject): string {
  const rv = obj.metadata?.resourceVersion;
  if (rv === undefined) return JSON.stringify(obj);
  delete obj.metadata!.resourceVersion;
  const s = JSON.stringify(obj);
  obj.metadata!.resourceVersion = rv;
  return s;
}

/** What a change of bumps metadata.generation: spec, or for custom resources everything but metadata and status. */
function specOf(res: Resource, o: KObject): unknown {
  if (!res.crd) return o.spec;
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** managedFields without their timestamps (an apply that changes nothing but the time is a no-op). */
function stripTime(o: KObject): unknown {
  return (o.metadata?.managedFields ?? []).map((e: Record<string, any>) => ({ ...e, time: undefined }));
}

/** An object's stored JSON (without metadata.resourceVersion) and the offset where its metadata's members start (-1: no metadata object). */
interface Encoded {
  value: string;
  metaAt: number;
}

/**
 * encode, remembering where metadata's members start, so that the JSON with
 * the resourceVersion of the write (the response, the watch cache's memo) is
 * one splice of the stored JSON instead of a second serialization. The
 * output is JSON.stringify(obj)'s: the same members in the same order.
 */
function encodeWithMeta(obj: KObject): Encoded {
  const m = obj.metadata;
  const rv = m?.resourceVersion;
  if (rv !== undefined) delete m!.resourceVersion;
  let out = '{';
  let metaAt = -1;
  for (const k of Object.keys(obj)) {
    const j = JSON.stringify((obj as Record<string, unknown>)[k]);
    if (j === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${JSON.stringify(k)}:`;
    if (k === 'metadata' && j.charCodeAt(0) === 123) metaAt = out.length + 1;
    out += j;
  }
  if (rv !== undefined) m!.resourceVersion = rv;
  return { value: `${out}}`, metaAt };
}

/** The JSON of an encoded object at a revision (metadata.resourceVersion first in metadata), undefined without metadata. */
function jsonAtRevision(e: Encoded, rev: number): string | undefined {
  if (e.metaAt < 0) return undefined;
  const v = e.value;
  return `${v.slice(0, e.metaAt)}"resourceVersion":"${rev}"${v.charCodeAt(e.metaAt) === 125 ? '' : ','}${v.slice(e.metaAt)}`;
}

/** JSON of objects a write returned, as written (see writtenJson). */
const written = new WeakMap<KObject, string>();

/**
 * The JSON of an object that create or update just returned (equal to
 * JSON.stringify of it), when the registry has it: the API server answers
 * with it instead of serializing the object again. Undefined for other
 * objects. Valid only while the object is not changed.
 */
export function writtenJson(obj: KObject): string | undefined {
  return written.get(obj);
}

function withoutVolatile(o: KObject): KObject {
  const c = { ...o, metadata: { ...o.metadata } };
  delete c.metadata.resourceVersion;
  delete c.metadata.managedFields;
  return c;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');
}

function decodeContinue(s: string): ContinueToken {
  try {
    const j = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (j.v !== 'meta.k8s.io/v1' || typeof j.rv !== 'number' || typeof j.start !== 'string') throw new Error('bad');
    return { rv: j.rv, start: j.start };
  } catch {
    throw newBadRequest(`continue key is not valid: ${s}`);
  }
}

const EXPIRED_CONTINUE =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';

export interface RegistryDeps {
  backend: Backend;
  clock: Clock;
  cluster: ClusterInfo;
  scheme: Scheme;
  /** Pod create admission contributed from outside the API server (run in order). */
  podAdmission?: readonly PodAdmissionPlugin[];
}

/** Hooks other parts of the API server install (admission, controllers). */
export interface RegistryHooks {
  /** Validating admission run before every create/update (throw a StatusError to reject). */
  admit?(op: 'create' | 'update', res: Resource, obj: KObject, old?: KObject): Promise<void> | void;
}

export class ClusterRegistry {
  readonly backend: Backend;
  readonly clock: Clock;
  readonly cluster: ClusterInfo;
  readonly scheme: Scheme;
  /** `/k8s/<uid>/registry/` */
  readonly prefix: string;
  readonly cache: WatchCache;
  readonly services: ServiceAllocator;
  hooks: RegistryHooks = {};
  readonly podAdmission: readonly PodAdmissionPlugin[];
  /** Revision of the newest write this registry made (reads wait for the cache to reach it). */
  lastWrite = 0;
  /**
   * Writes in flight by key: the stored JSON and the object it encodes, which
   * the watch cache copies (jsonCopy, several times cheaper than JSON.parse)
   * when the write's event arrives with that value. The object is not
   * changed between its encoding and the write's event (the registry awaits
   * the store).
   */
  private readonly pendingWrites = new Map<string, { value: string; obj: KObject; handOff: boolean }>();

  constructor(deps: RegistryDeps) {
    this.backend = deps.backend;
    this.clock = deps.clock;
    this.cluster = deps.cluster;
    this.scheme = deps.scheme;
    this.podAdmission = deps.podAdmission ?? [];
    this.prefix = `${storePrefix(deps.cluster)}registry/`;
    this.cache = new WatchCache(deps.backend, this.prefix);
    this.cache.written = (kv) => {
      const p = this.pendingWrites.get(kv.key);
      if (p === undefined || p.value !== kv.value) return undefined;
      this.pendingWrites.delete(kv.key);
      const o = p.handOff && isPlainJson(p.obj) ? p.obj : jsonCopy(p.obj);
      (o.metadata ??= {}).resourceVersion = String(kv.modRevision);
      return o;
    };
    this.services = new ServiceAllocator(deps.cluster.serviceIpv4Cidr, () => this.cache.list('services', '').map((e) => e.obj));
  }

  private leaseCache: { id: number; until: number } | undefined;

  /**
   * Events expire after EVENT_TTL_SECONDS (kube-apiserver's --event-ttl, 1h):
   * they are attached to a store lease shared by the events of one minute.
   */
  private async eventLease(): Promise<number | undefined> {
    const now = Date.now();
    if (this.leaseCache && now < this.leaseCache.until) return this.leaseCache.id;
    try {
      const id = await this.backend.grantLease(EVENT_TTL_SECONDS + 60);
      this.leaseCache = { id, until: now + 60_000 };
      return id;
    } catch {
      return undefined;
    }
  }

  keyFor(res: Resource, ns: string, name: string): string {
    return res.namespaced ? `${this.prefix}${res.storageResource}/${ns}/${name}` : `${this.prefix}${res.storageResource}/${name}`;
  }

  listPrefix(res: Resource, ns: string): string {
    return res.namespaced && ns ? `${this.prefix}${res.storageResource}/${ns}/` : `${this.prefix}${res.storageResource}/`;
  }

  /** Drops a write's pending entry if the cache did not take it (a failed write, or its event came first). */
  private forgetPending(key: string, value: string): void {
    if (this.pendingWrites.get(key)?.value === value) this.pendingWrites.delete(key);
  }

  private noteWrite(rev: number): void {
    if (rev > this.lastWrite) this.lastWrite = rev;
  }

  /** Waits until the cache reflects every write this registry made. */
  async fresh(): Promise<void> {
    await this.cache.ready();
    if (this.cache.rev < this.lastWrite) await this.cache.waitFor(this.lastWrite);
  }

  /** Object for a request's version (converted when versions share storage). */
  forVersion(res: Resource, obj: KObject): KObject {
    const av = apiVersionOf(res.group, res.version);
    if (obj.apiVersion === av && obj.kind === res.kind) return obj;
    return convertObject(obj, av, res.kind);
  }

  /** Object in the version its resource is stored as. */
  private toStorage(res: Resource, obj: KObject): KObject {
    const sv = STORAGE_VERSIONS[res.storageResource];
    if (!sv || obj.apiVersion === sv) return obj;
    return convertObject(obj, sv, res.kind);
  }

  /** JSON of an entry for a request's version (cached serialization when versions agree). */
  entryJson(res: Resource, e: CacheEntry): string {
    const av = apiVersionOf(res.group, res.version);
    if (e.obj.apiVersion === av && e.obj.kind === res.kind) return encodedJson(e);
    return JSON.stringify(this.forVersion(res, e.obj));
  }

  /**
   * The object a write returns, with its JSON at the write's revision made
   * once: remembered for the response (writtenJson) and given to the watch
   * cache's entry of that revision, which would otherwise serialize it again
   * for the next get, list or watcher.
   */
  private result(res: Resource, key: string, obj: KObject, enc: Encoded, rev: number): KObject {
    const out = this.forVersion(res, obj);
    const json = jsonAtRevision(enc, rev);
    if (json === undefined) return out;
    if (out === obj) written.set(obj, json);
    // The store delivered the write's event to the cache before resolving the write.
    const e = this.cache.get(key);
    if (e && e.rev === rev && e.json === undefined) e.json = json;
    return out;
  }

  // ------------------------------------------------------------------ reads

  /** get: from the cache (consistent with our writes) or, with rv, at least that revision. */
  async get(res: Resource, ns: string, name: string, resourceVersion?: string): Promise<CacheEntry> {
    const rv = parseResourceVersion(resourceVersion);
    if (rv === undefined) throw newBadRequest(`invalid resource version: ${resourceVersion}`);
    await this.fresh();
    if (rv > this.cache.rev) {
      if (!(await this.cache.waitFor(rv))) throw newTimeout(`Too large resource version: ${rv}, current: ${this.cache.rev}`, 1);
    }
    const e = this.cache.get(this.keyFor(res, ns, name));
    if (!e) throw newNotFound(res, name);
    return e;
  }

  /** Reads one object from the store (the source of truth), undefined when absent. */
  async getFromStore(res: Resource, ns: string, name: string): Promise<{ obj: KObject; kv: KeyValue } | undefined> {
    const g = await this.backend.get(this.keyFor(res, ns, name));
    return g.kv ? { obj: decode(g.kv), kv: g.kv } : undefined;
  }

  private matcher(res: Resource, opts: ListOptions): ((o: KObject) => boolean) | null {
    const ls = opts.labelSelector ?? [];
    const fs = opts.fieldSelector ?? [];
    if (ls.length === 0 && fs.length === 0) return null;
    return (o) => matchLabels(ls, o.metadata?.labels) && (fs.length === 0 || matchFields(fs, selectableFields(res, o)));
  }

  /** list with upstream resourceVersion / resourceVersionMatch / limit / continue semantics. */
  async list(res: Resource, ns: string, opts: ListOptions): Promise<ListResult> {
    const match = this.matcher(res, opts);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const rvMatch = opts.resourceVersionMatch ?? '';
    const rvStr = opts.resourceVersion ?? '';
    if (rvMatch && rvMatch !== 'Exact' && rvMatch !== 'NotOlderThan') {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [fieldErr.notSupported('resourceVersionMatch', rvMatch, ['Exact', 'NotOlderThan'])]);
    }
    const rv = parseResourceVersion(rvStr);
    if (rv === undefined) throw newBadRequest(`invalid resource version: ${rvStr}`);
    if (rvMatch && rvStr === '') {
      throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided')]);
    }
    if (opts.continue) {
      if (rvStr !== '' ) throw newBadRequest('specifying resource version is not allowed when using continue');
      const t = decodeContinue(opts.continue);
      return this.storeList(res, ns, match, limit, t.rv, t.start);
    }
    if (rvMatch === 'Exact') {
      if (rv === 0) throw newInvalid({ group: 'meta.k8s.io', kind: 'ListOptions' }, '', [fieldErr.forbidden('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]);
      return this.storeList(res, ns, match, limit, rv, '');
    }
    if (limit > 0 && rvStr === '') return this.storeList(res, ns, match, limit, 0, '');
    if (limit > 0 && rv > 0 && rvMatch === '') return this.storeList(res, ns, match, limit, rv, '');
    // Served from the watch cache.
    if (rvStr === '') await this.fresh();
    else await this.cache.ready();
    if (rv > this.cache.rev && !(await this.cache.waitFor(rv))) throw newTimeout(`Too large resource version: ${rv}, current: ${this.cache.rev}`, 1);
    const items: CacheEntry[] = [];
    for (const e of this.cache.list(res.storageResource, res.namespaced ? ns : '')) if (!match || match(e.obj)) items.push(e);
    return { items, revision: this.cache.rev };
  }

  private async storeList(res: Resource, ns: string, match: ((o: KObject) => boolean) | null, limit: number, rev: number, start: string): Promise<ListResult> {
    const prefix = this.listPrefix(res, ns);
    let after: string | undefined = start ? prefix + (start.endsWith('\0') ? start.slice(0, -1) : start) : undefined;
    const items: CacheEntry[] = [];
    let revision = rev;
    let more = false;
    let remaining: number | undefined;
    const noFilter = match === null;
    for (;;) {
      let r;
      try {
        r = await this.backend.range({ prefix, after, limit: limit > 0 ? Math.max(limit - items.length, noFilter ? 0 : 100) : 0, revision: revision || undefined });
      } catch (e) {
        if (isStoreError(e, 'Compacted')) {
          if (start) throw newResourceExpired(EXPIRED_CONTINUE);
          throw newResourceExpired(`The resourceVersion for the provided list is too old.`);
        }
        if (isStoreError(e, 'FutureRevision')) throw newTimeout(`Too large resource version: ${revision}, current: ${await this.backend.currentRevision()}`, 1);
        throw interpretStoreError(e, res, '');
      }
      revision = r.revision;
      let i = 0;
      for (; i < r.kvs.length; i++) {
        const kv = r.kvs[i]!;
        after = kv.key;
        // The watch cache's entry of the same revision is the same object, already decoded and
        // usually serialized (a page of 500 pods otherwise costs a parse and a stringify each).
        const cached = this.cache.get(kv.key);
        const entry: CacheEntry = cached !== undefined && cached.rev === kv.modRevision ? cached : { key: kv.key, rev: kv.modRevision, obj: decode(kv) };
        if (match && !match(entry.obj)) continue;
        items.push(entry);
        if (limit > 0 && items.length >= limit) break;
      }
      if (limit > 0 && items.length >= limit) {
        more = i < r.kvs.length - 1 || r.more;
        if (more && noFilter) remaining = r.count - (i + 1);
        break;
      }
      if (!r.more) break;
    }
    const out: ListResult = { items, revision };
    if (more && after !== undefined) {
      out.continue = encodeContinue({ rv: revision, start: after.slice(prefix.length) + '\0' });
      if (remaining !== undefined && remaining > 0) out.remainingItemCount = remaining;
    }
    return out;
  }

  // ------------------------------------------------------------------ create

  private checkKind(res: Resource, obj: KObject, allowOtherVersions = false): void {
    const want = apiVersionOf(res.group, res.version);
    if (obj.kind === undefined || obj.kind === '') obj.kind = res.kind;
    if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = want;
    if (obj.kind !== res.kind) {
      throw newBadRequest(`the object provided is unrecognized (${obj.kind}) for the resource (${res.resource})`);
    }
    if (obj.apiVersion !== want) {
      const g = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
      if (!allowOtherVersions || g !== res.group) {
        throw newBadRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${want})`);
      }
      obj.apiVersion = want;
    }
  }

  private async namespaceLifecycle(res: Resource, ns: string, name: string): Promise<void> {
    if (!res.namespaced) return;
    await this.fresh();
    const nsRes = this.scheme.get('', 'v1', 'namespaces')!;
    let nsObj = this.cache.get(this.keyFor(nsRes, '', ns))?.obj;
    if (!nsObj) nsObj = (await this.getFromStore(nsRes, '', ns))?.obj;
    if (!nsObj) throw newNotFound({ group: '', resource: 'namespaces' }, ns);
    if (nsObj.status?.phase === 'Terminating' || nsObj.metadata?.deletionTimestamp) {
      throw newForbidden(res, name, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  private validate(res: Resource, obj: KObject, old?: KObject): void {
    const st = strategyFor(res);
    const errs: FieldError[] = validateObjectMeta(obj.metadata ?? {}, res.namespaced, st.name);
    if (old) {
      if (old.metadata?.deletionTimestamp) {
        const oldF = new Set(old.metadata.finalizers ?? []);
        for (const f of obj.metadata?.finalizers ?? []) {
          if (!oldF.has(f)) {
            errs.push(fieldErr.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{"${f}"}`));
            break;
          }
        }
      }
      errs.push(...(st.validateUpdate ? st.validateUpdate(obj, old) : (st.validate?.(obj) ?? [])));
    } else {
      errs.push(...(st.validate?.(obj) ?? []));
    }
    if (errs.length > 0) throw newInvalid({ group: res.group, kind: res.kind }, obj.metadata?.name ?? '', errs);
  }

  /** Create (POST). `obj` is owned by the registry (it is mutated). */
  async create(res: Resource, ns: string, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw newBadRequest('Object \'Kind\' is missing in the request body');
    this.checkKind(res, input, true);
    const obj = this.toStorage(res, input);
    const meta = (obj.metadata ??= {});
    if (res.namespaced) {
      if (meta.namespace && ns && meta.namespace !== ns) {
        throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = ns || meta.namespace;
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    const st = strategyFor(res);
    st.defaults?.(obj);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (res.tracksGeneration || res.crd) meta.generation = 1;
    else delete meta.generation;
    st.prepareForCreate?.(obj);
    await this.namespaceLifecycle(res, meta.namespace ?? '', meta.name!);
    if (res.storageResource === 'pods') {
      await admitPodCreate(this, obj);
      for (const plugin of this.podAdmission) await plugin.admit({ reg: this, pod: obj, dryRun: !!opts.dryRun });
      admitLimitRanges(this, obj);
    }
    if (res.storageResource === 'persistentvolumeclaims') admitPvcLimitRanges(this, obj);
    await runWebhooks(this, 'mutating', 'CREATE', res, '', obj, undefined, !!opts.dryRun, opts.userInfo);
    if (POD_TEMPLATE_OWNERS.has(res.storageResource)) admitPodSecurity(this, res, obj, opts.warnings);
    this.validate(res, obj);
    let release: (() => void) | undefined;
    if (res.storageResource === 'services') {
      const a = this.services.allocate(obj);
      release = a.release;
      if (a.errors.length > 0) throw newInvalid({ group: '', kind: 'Service' }, meta.name!, a.errors);
    }
    try {
      if (res.namespaced) admitQuota(this, res, obj);
      await runWebhooks(this, 'validating', 'CREATE', res, '', obj, undefined, !!opts.dryRun, opts.userInfo, opts.warnings);
      await this.hooks.admit?.('create', res, obj);
      opts.admitRequest?.('create', res, obj, undefined, opts.warnings);
      // The status of a resource with a status subresource is a reset field of the main resource (upstream's
      // ResetFieldsStrategy): its creator does not own it (the view shares obj's metadata, where the entry lands).
      let owned = obj;
      if (obj.status !== undefined && res.subresources.some((s) => s.name === 'status')) {
        owned = { ...obj };
        delete owned.status;
      }
      recordManagedFields(owned, undefined, opts.fieldManager, opts.operation ?? 'Update', timestamp(this.clock.now()));
      if (opts.dryRun) {
        return this.forVersion(res, obj);
      }
      const key = this.keyFor(res, meta.namespace ?? '', meta.name!);
      try {
        const lease = res.storageResource === 'events' ? await this.eventLease() : undefined;
        const enc = encodeWithMeta(obj);
        this.pendingWrites.set(key, { value: enc.value, obj, handOff: !!opts.handOff });
        let w;
        try {
          w = await this.backend.create(key, enc.value, lease ? { lease } : {});
        } finally {
          this.forgetPending(key, enc.value);
        }
        this.noteWrite(w.revision);
        meta.resourceVersion = String(w.revision);
        return this.result(res, key, obj, enc, w.revision);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw newAlreadyExists(res, meta.name!);
        throw interpretStoreError(e, res, meta.name!);
      }
    } finally {
      release?.();
    }
  }

  // ------------------------------------------------------------------ update

  /**
   * guaranteedUpdate: reads the current object, lets tryUpdate produce the
   * desired one, and writes it with a compare-and-swap, retrying on conflicts
   * unless the desired object names a resourceVersion (then 409 Conflict).
   * tryUpdate receives a private copy (undefined when absent) that it may
   * mutate and return; the object it returns is owned by the registry from
   * then on (it is mutated). No-op updates are not written. Returns the
   * stored object and whether it was created; with a status subresource the
   * returned object shares everything but metadata and status with the
   * watch cache's copy (treat it as read-only, as the cache's objects).
   *
   * In-process writers only: `readOnlyCurrent` hands tryUpdate the watch
   * cache's object itself instead of a copy (tryUpdate must not change it and
   * returns a new object with its own metadata, sharing what it keeps);
   * `storageOnly` writes as upstream's raw storage GuaranteedUpdate does
   * (the pods/binding subresource): no strategy defaults, admission,
   * validation or managed fields.
   */
  async guaranteedUpdate(
    res: Resource,
    ns: string,
    name: string,
    tryUpdate: (cur: KObject | undefined) => KObject | Promise<KObject>,
    opts: WriteOptions & { createIfMissing?: boolean; readOnlyCurrent?: boolean; storageOnly?: boolean } = {},
  ): Promise<{ obj: KObject; created: boolean }> {
    const key = this.keyFor(res, ns, name);
    const st = strategyFor(res);
    const sub = opts.subresource ?? '';
    const hasStatus = res.subresources.some((s) => s.name === 'status');
    for (let attempt = 0; ; attempt++) {
      // The watch cache's copy saves a store read (upstream's cachedExistingObject): a stale
      // copy fails the compare-and-swap, and the next attempt reads the store.
      const cached = attempt === 0 && res.storageResource !== 'events' ? this.cache.get(key) : undefined;
      const fromCache = cached !== undefined;
      const kv = cached ? undefined : (await this.backend.get(key)).kv;
      const cur = cached ? cached.obj : kv ? decode(kv) : undefined;
      const modRev = cached ? cached.rev : (kv?.modRevision ?? 0);
      const lease = kv?.lease ?? 0;
      if (!cur && !(opts.createIfMissing || st.allowCreateOnUpdate) ) throw newNotFound(res, name);
      // A tryUpdate that takes no argument (a plain PUT) does not need a private copy of the current object.
      let desired = await tryUpdate(cur && tryUpdate.length > 0 ? this.forVersion(res, opts.readOnlyCurrent ? cur : cloneJson(cur)) : undefined);
      if (!desired || typeof desired !== 'object' || Array.isArray(desired)) throw newBadRequest('Object \'Kind\' is missing in the request body');
      if (opts.readOnlyCurrent && cur && (desired === cur || desired.metadata === cur.metadata)) throw new Error('guaranteedUpdate: readOnlyCurrent tryUpdate returned the current object or its metadata');
      desired.metadata ??= {};
      if (desired.metadata.name !== undefined && desired.metadata.name !== name) {
        throw newBadRequest(`the name of the object (${desired.metadata.name}) does not match the name on the URL (${name})`);
      }
      if (res.namespaced && desired.metadata.namespace && desired.metadata.namespace !== ns) {
        throw newBadRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (!cur) {
        if (sub) throw newNotFound(res, name);
        desired.metadata.name = name;
        const rvc = desired.metadata.resourceVersion;
        if (rvc && rvc !== '0') throw newNotFound(res, name);
        try {
          return { obj: await this.create(res, ns, desired, opts), created: true };
        } catch (e) {
          if ((e as StatusError).status?.reason === 'AlreadyExists' && attempt < 5) continue;
          throw e;
        }
      }
      const wantRv = parseResourceVersion(desired.metadata.resourceVersion);
      if (wantRv === undefined) {
        throw newInvalid({ group: res.group, kind: res.kind }, name, [fieldErr.invalid('metadata.resourceVersion', desired.metadata.resourceVersion, 'must be specified for an update')]);
      }
      if (wantRv !== 0 && wantRv !== modRev) {
        if (fromCache) continue;
        throw newConflict(res, name, OBJECT_MODIFIED);
      }
      this.checkKind(res, desired, true);
      desired = this.toStorage(res, desired);
      let next: KObject;
      if (sub === 'status') {
        // Only metadata is written below (and by managed fields); spec and the rest are shared
        // with the current object, which nothing mutates (mutating webhooks replace top-level
        // fields of `next`, never fields inside them).
        next = { ...cur, metadata: cloneJson(cur.metadata), status: desired.status };
      } else if (sub === 'finalize' && res.storageResource === 'namespaces') {
        next = cloneJson(cur);
        next.spec = { ...(next.spec ?? {}), finalizers: desired.spec?.finalizers ?? [] };
      } else {
        next = desired;
        if (hasStatus && sub === '') next.status = cur.status;
        if (next.status === undefined) delete next.status;
        if (!opts.storageOnly) {
          st.defaults?.(next);
          st.prepareForUpdate?.(next, cur);
        }
      }
      // System fields are owned by the server.
      const m = next.metadata!;
      const om = cur.metadata!;
      m.name = om.name;
      if (res.namespaced) m.namespace = om.namespace;
      else delete m.namespace;
      m.uid = om.uid;
      m.creationTimestamp = om.creationTimestamp;
      if (om.deletionTimestamp) m.deletionTimestamp = om.deletionTimestamp;
      else delete m.deletionTimestamp;
      if (om.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      else delete m.deletionGracePeriodSeconds;
      if (om.generation !== undefined) {
        m.generation = om.generation;
        if (sub !== 'status' && (res.tracksGeneration || res.crd)) {
          if (!jsonEqual(specOf(res, next), specOf(res, cur))) m.generation = om.generation + 1;
        }
      } else delete m.generation;
      if (res.storageResource === 'services' && sub === '') {
        const a = this.services.allocate(next, cur);
        a.release();
        if (a.errors.length > 0) throw newInvalid({ group: '', kind: 'Service' }, name, a.errors);
      }
      if (!opts.storageOnly) {
        await runWebhooks(this, 'mutating', 'UPDATE', res, sub, next, cur, !!opts.dryRun, opts.userInfo);
        // Pod Security on updates as upstream: pods when an image (or seccomp) changes, or ephemeral containers; workload templates warn.
        if (POD_TEMPLATE_OWNERS.has(res.storageResource)) {
          const isPod = res.storageResource === 'pods';
          if ((sub === '' && (!isPod || significantPodUpdate(next, cur))) || (isPod && sub === 'ephemeralcontainers')) admitPodSecurity(this, res, next, opts.warnings);
        }
        this.validate(res, next, cur);
        // LimitRange bounds PVC requests on update too (pods' containers are immutable, upstream skips them).
        if (res.storageResource === 'persistentvolumeclaims' && sub === '') admitPvcLimitRanges(this, next);
        // ResourceQuota charges updates that raise usage (service type/node ports, PVC expansion, pod resources).
        if (res.namespaced && (sub === '' || sub === 'resize')) admitQuota(this, res, next, cur);
        await runWebhooks(this, 'validating', 'UPDATE', res, sub, next, cur, !!opts.dryRun, opts.userInfo, opts.warnings);
        await this.hooks.admit?.('update', res, next, cur);
        opts.admitRequest?.('update', res, next, cur, opts.warnings);
      }
      if (!jsonEqual(withoutVolatile(next), withoutVolatile(cur))) {
        if (!opts.storageOnly) recordManagedFields(next, cur, opts.fieldManager, opts.operation ?? 'Update', timestamp(this.clock.now()), sub);
      } else if (opts.operation !== 'Apply' || jsonEqual(stripTime(next), stripTime(cur))) {
        // A no-op against the cache's copy is confirmed against the store (the copy may be stale).
        if (fromCache) continue;
        return { obj: this.forVersion(res, cur), created: false };
      }
      if (opts.dryRun) return { obj: this.forVersion(res, next), created: false };
      try {
        if (m.deletionTimestamp && (m.finalizers ?? []).length === 0 && (m.deletionGracePeriodSeconds ?? 0) === 0 && !(res.storageResource === 'namespaces' && (next.spec?.finalizers ?? []).length > 0)) {
          const w = await this.backend.delete(key, { expectedModRevision: modRev });
          this.noteWrite(w.revision);
          m.resourceVersion = String(w.revision);
          return { obj: this.forVersion(res, next), created: false };
        }
        const enc = encodeWithMeta(next);
        this.pendingWrites.set(key, { value: enc.value, obj: next, handOff: !!opts.handOff });
        let w;
        try {
          w = await this.backend.update(key, enc.value, { expectedModRevision: modRev, lease: lease || undefined });
        } finally {
          this.forgetPending(key, enc.value);
        }
        this.noteWrite(w.revision);
        m.resourceVersion = String(w.revision);
        return { obj: this.result(res, key, next, enc, w.revision), created: false };
      } catch (e) {
        if ((isStoreError(e, 'Conflict') || isStoreError(e, 'KeyNotFound')) && (fromCache || (wantRv === 0 && attempt < 20))) continue;
        if (isStoreError(e, 'Conflict') || isStoreError(e, 'KeyNotFound')) throw newConflict(res, name, OBJECT_MODIFIED);
        throw interpretStoreError(e, res, name);
      }
    }
  }

  /** update (PUT) of the main resource or a subresource. */
  update(res: Resource, ns: string, name: string, obj: KObject, opts: WriteOptions = {}): Promise<{ obj: KObject; created: boolean }> {
    return this.guaranteedUpdate(res, ns, name, () => cloneJson(obj), opts);
  }

  // ------------------------------------------------------------------ delete

  /** delete with preconditions, finalizers, propagation policy and graceful deletion. */
  async delete(res: Resource, ns: string, name: string, opts: DeleteOptions = {}, wopts: WriteOptions = {}): Promise<DeleteResult> {
    const key = this.keyFor(res, ns, name);
    const st = strategyFor(res);
    const dryRun = wopts.dryRun || (opts.dryRun ?? []).includes('All');
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 1;
    for (let attempt = 0; ; attempt++) {
      const g = await this.backend.get(key);
      if (!g.kv) throw newNotFound(res, name);
      const cur = decode(g.kv);
      // Admission webhooks see DELETE with the object as oldObject (object is null).
      await runWebhooks(this, 'mutating', 'DELETE', res, '', cur, cur, dryRun, wopts.userInfo);
      await runWebhooks(this, 'validating', 'DELETE', res, '', cur, cur, dryRun, wopts.userInfo);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== cur.metadata!.uid) {
        throw newConflict(res, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata!.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata!.resourceVersion) {
        throw newConflict(res, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata!.resourceVersion}`);
      }
      const next = cloneJson(cur);
      const m = next.metadata!;
      // Propagation policy becomes a finalizer for the garbage collector.
      let policy = opts.propagationPolicy;
      if (!policy && opts.orphanDependents !== undefined) policy = opts.orphanDependents ? 'Orphan' : 'Background';
      const fins = new Set<string>(m.finalizers ?? []);
      if (policy === 'Orphan') {
        fins.delete('foregroundDeletion');
        fins.add('orphan');
      } else if (policy === 'Foreground') {
        fins.delete('orphan');
        fins.add('foregroundDeletion');
      } else if (policy === 'Background') {
        fins.delete('orphan');
        fins.delete('foregroundDeletion');
      }
      // Graceful deletion (pods): only scheduled, non-terminal pods wait.
      let grace = 0;
      if (res.storageResource === 'pods') {
        const phase = cur.status?.phase;
        const wants = opts.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
        grace = cur.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed' ? wants : 0;
        if (m.deletionGracePeriodSeconds !== undefined && m.deletionGracePeriodSeconds < grace) grace = m.deletionGracePeriodSeconds;
      }
      const nsFinalizers = res.storageResource === 'namespaces' && (next.spec?.finalizers ?? []).length > 0;
      if (res.storageResource === 'namespaces' && (nsFinalizers || fins.size > 0)) next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      const pending = fins.size > 0 || grace > 0 || nsFinalizers;
      if (pending) {
        const already = !!m.deletionTimestamp;
        const finsChanged = !jsonEqual([...fins], m.finalizers ?? []);
        if (!already || finsChanged || (m.deletionGracePeriodSeconds ?? 0) > grace || next.status?.phase !== cur.status?.phase) {
          const now = this.clock.nowMs();
          if (!already || (m.deletionGracePeriodSeconds ?? 0) > grace) {
            m.deletionTimestamp = timestamp(new Date(now + grace * 1000));
            m.deletionGracePeriodSeconds = grace;
          }
          if (fins.size > 0) m.finalizers = [...fins];
          else delete m.finalizers;
          if (!already && m.generation !== undefined) m.generation += 1;
          if (dryRun) return { body: next, deleted: false, obj: next };
          try {
            const w = await this.backend.update(key, encode(next), { expectedModRevision: g.kv.modRevision, lease: g.kv.lease || undefined });
            this.noteWrite(w.revision);
            m.resourceVersion = String(w.revision);
          } catch (e) {
            if (isStoreError(e, 'Conflict') && attempt < 20) continue;
            throw interpretStoreError(e, res, name);
          }
        }
        return { body: this.forVersion(res, next), deleted: false, obj: next };
      }
      if (dryRun) return { body: st.returnDeletedObject ? this.forVersion(res, cur) : this.deletedStatus(res, cur), deleted: true, obj: cur };
      try {
        const w = await this.backend.delete(key, { expectedModRevision: g.kv.modRevision });
        this.noteWrite(w.revision);
      } catch (e) {
        if ((isStoreError(e, 'Conflict') || isStoreError(e, 'KeyNotFound')) && attempt < 20) continue;
        throw interpretStoreError(e, res, name);
      }
      return { body: st.returnDeletedObject ? this.forVersion(res, cur) : this.deletedStatus(res, cur), deleted: true, obj: cur };
    }
  }

  private deletedStatus(res: Resource, obj: KObject): Status {
    return successStatus({ name: obj.metadata?.name, group: res.group || undefined, kind: res.resource, uid: obj.metadata?.uid });
  }

  /** deletecollection: deletes every object matching the list options; returns them. */
  async deleteCollection(res: Resource, ns: string, listOpts: ListOptions, opts: DeleteOptions, wopts: WriteOptions = {}): Promise<KObject[]> {
    const l = await this.list(res, ns, { ...listOpts, limit: 0, continue: undefined });
    const out: KObject[] = [];
    for (const e of l.items) {
      try {
        const r = await this.delete(res, e.obj.metadata?.namespace ?? '', e.obj.metadata!.name!, opts, wopts);
        out.push(r.obj);
      } catch (err) {
        if ((err as StatusError).status?.reason !== 'NotFound') throw err;
      }
    }
    return out;
  }
}
