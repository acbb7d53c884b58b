/**
 * Shared plumbing of the EKS provider: store keys, ARNs, errors with EKS's
 * wording, output conversion (private `_` fields stripped, timestamps as
 * Date) and nextToken pagination.
 *
 * Layout in AwsState (service `eks`, per account and region):
 *   cluster/<name>                         Cluster (model shape) + private fields
 *   nodegroup@<cluster>/<name>             Nodegroup
 *   fargate@<cluster>/<name>               FargateProfile
 *   addon@<cluster>/<name>                 Addon
 *   access@<cluster>/<principalArn>        AccessEntry + _policies
 *   idp@<cluster>/<name>                   OidcIdentityProviderConfig
 *   podid@<cluster>/<associationId>        PodIdentityAssociation
 *   capability@<cluster>/<name>            Capability
 *   update@<cluster>/<updateId>            Update + _target/_patch
 *   insights@<cluster>/state               insights refresh state
 *   eksa/<id>                              EksAnywhereSubscription
 *   token/<operation>:<clientRequestToken> idempotency records
 */
import { randomUUID } from 'node:crypto';
import { collectionPrefix, awsKey, type Scope } from '../core/state.ts';
import { awsError, type AwsServiceError, type RequestContext } from '../core/types.ts';

export const SERVICE = 'eks';

/** Kinds of per-cluster child collections. */
export type ChildKind = 'nodegroup' | 'fargate' | 'addon' | 'access' | 'idp' | 'podid' | 'capability' | 'update' | 'insights';

export function scopeOf(ctx: Pick<RequestContext, 'accountId' | 'region'>): Scope {
  return { accountId: ctx.accountId, region: ctx.region };
}

export function clusterKey(scope: Scope, name: string): string {
  return awsKey(scope, SERVICE, 'cluster', name);
}
export function clustersPrefix(scope: Scope): string {
  return collectionPrefix(scope, SERVICE, 'cluster');
}
export function childKey(scope: Scope, kind: ChildKind, cluster: string, id: string): string {
  return awsKey(scope, SERVICE, `${kind}@${cluster}`, id);
}
export function childPrefix(scope: Scope, kind: ChildKind, cluster: string): string {
  return collectionPrefix(scope, SERVICE, `${kind}@${cluster}`);
}
export function topKey(scope: Scope, type: string, id: string): string {
  return awsKey(scope, SERVICE, type, id);
}
export function topPrefix(scope: Scope, type: string): string {
  return collectionPrefix(scope, SERVICE, type);
}

export function arn(scope: Scope, resource: string): string {
  return `arn:aws:eks:${scope.region}:${scope.accountId}:${resource}`;
}

export function uuid(): string {
  return randomUUID();
}

// ---- errors -------------------------------------------------------------

export interface ErrFields {
  clusterName?: string;
  nodegroupName?: string;
  addonName?: string;
  fargateProfileName?: string;
  subscriptionId?: string;
}

export function invalidParameter(message: string, fields: ErrFields = {}): AwsServiceError {
  return awsError('InvalidParameterException', message, 400, { ...fields });
}
export function invalidRequest(message: string, fields: ErrFields = {}): AwsServiceError {
  return awsError('InvalidRequestException', message, 400, { ...fields });
}
export function notFound(message: string, fields: ErrFields = {}): AwsServiceError {
  return awsError('ResourceNotFoundException', message, 404, { ...fields });
}
export function inUse(message: string, fields: ErrFields = {}): AwsServiceError {
  return awsError('ResourceInUseException', message, 409, { ...fields });
}
export function limitExceeded(message: string, fields: ErrFields = {}): AwsServiceError {
  return awsError('ResourceLimitExceededException', message, 400, { ...fields });
}
export function clusterNotFound(name: string): AwsServiceError {
  return notFound(`No cluster found for name: ${name}.`, { clusterName: name });
}

// ---- output -------------------------------------------------------------

const TIMESTAMP_KEYS = new Set([
  'createdAt',
  'modifiedAt',
  'associatedAt',
  'activationExpiry',
  'lastRefreshTime',
  'lastTransitionTime',
  'effectiveDate',
  'expirationDate',
  'startedAt',
  'endedAt',
  'releaseDate',
  'endOfStandardSupportDate',
  'endOfExtendedSupportDate',
  'lastRequestTime',
]);

/**
 * out turns a stored document into the model's output shape: drops private
 * `_` members and undefined values and turns timestamp members (stored as
 * ISO strings) into Date.
 */
export function out<T = any>(doc: unknown): T {
  if (doc && typeof doc === 'object') {
    // Stored documents are immutable (writes replace them), so their output
    // form is computed once per revision.
    const hit = outCache.get(doc);
    if (hit) return hit as T;
    const o = convert(doc, '');
    outCache.set(doc, o as object);
    return o as T;
  }
  return convert(doc, '') as T;
}

const outCache = new WeakMap<object, object>();

function convert(v: unknown, key: string): unknown {
  if (Array.isArray(v)) return v.map((x) => convert(x, ''));
  if (v && typeof v === 'object' && !(v instanceof Date) && !Buffer.isBuffer(v)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('_') || x === undefined || x === null) continue;
      o[k] = convert(x, k);
    }
    return o;
  }
  if (typeof v === 'string' && TIMESTAMP_KEYS.has(key)) return new Date(v);
  return v;
}

export function iso(ctx: { now(): Date }): string {
  return ctx.now().toISOString();
}

// ---- pagination ---------------------------------------------------------

/**
 * paginate returns one page of items (already in order) after the opaque
 * nextToken, at most maxResults (default and cap from the model: 100).
 * Tokens are base64url of the last returned position; an invalid token
 * answers InvalidParameterException as EKS does.
 */
export function paginate<T>(items: T[], keyOf: (t: T) => string, maxResults: number | undefined, nextToken: string | undefined, max = 100): { page: T[]; nextToken?: string } {
  const limit = Math.min(maxResults ?? max, max);
  if (maxResults !== undefined && (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max)) {
    throw invalidParameter(`maxResults needs to be 1 - ${max}`);
  }
  let start = 0;
  if (nextToken) {
    let after: string;
    try {
      const decoded = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8')) as { a?: unknown };
      if (typeof decoded.a !== 'string') throw new Error('bad');
      after = decoded.a;
    } catch {
      throw invalidParameter('The nextToken provided is invalid.');
    }
    start = items.findIndex((t) => keyOf(t) > after);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  const more = start + limit < items.length;
  return { page, nextToken: more ? Buffer.from(JSON.stringify({ a: keyOf(page[page.length - 1]!) })).toString('base64url') : undefined };
}

// ---- validation helpers -------------------------------------------------

/** EKS tag rules: at most 50 tags, keys 1-128 chars not starting with aws:, values up to 256. */
export function validateTags(tags: Record<string, string> | undefined): void {
  if (!tags) return;
  const keys = Object.keys(tags);
  if (keys.length > 50) throw awsError('BadRequestException', 'Tags cannot contain more than 50 keys', 400);
  for (const k of keys) {
    if (k.toLowerCase().startsWith('aws:')) throw invalidParameter(`Tag key ${k} cannot start with aws:`);
    if (k.length < 1 || k.length > 128) throw invalidParameter(`Tag key ${k} must be between 1 and 128 characters`);
    if (String(tags[k]).length > 256) throw invalidParameter(`Tag value for key ${k} must be at most 256 characters`);
  }
}

/** What every EKS handler module is built with. */
export interface EksContext {
  deps: import('../core/deps.ts').AwsDeps;
  lc: import('./lifecycle.ts').Lifecycle;
  refs: import('./refs.ts').Refs;
}

/**
 * idempotent runs a create/update call once per clientRequestToken: a retry
 * with the same token (and operation and resource) returns the first
 * call's response instead of acting again, as EKS does.
 */
export async function idempotent(e: EksContext, ctx: RequestContext, resource: string, token: string | undefined, fn: () => Promise<unknown>): Promise<any> {
  if (!token) return out(await fn());
  const key = topKey(scopeOf(ctx), 'token', `${ctx.operation}:${resource}:${token}`);
  const seen = e.deps.state.get<{ raw: unknown; createdAt: string }>(key);
  if (seen && Date.parse(seen.createdAt) >= e.deps.clock.nowMs() - TOKEN_TTL_MS) return out(seen.raw);
  const raw = await fn();
  await e.deps.state.commit([{ op: 'put', key, doc: { raw: stripPrivate(raw), createdAt: iso(ctx), _k: key } }]);
  if (++tokenWrites % 256 === 0) await sweepTokens(e, ctx);
  return out(raw);
}

let tokenWrites = 0;
/** Tokens are remembered for a day of simulated time; older ones are swept now and then. */
const TOKEN_TTL_MS = 24 * 3600_000;

async function sweepTokens(e: EksContext, ctx: RequestContext): Promise<void> {
  const cutoff = e.deps.clock.nowMs() - TOKEN_TTL_MS;
  const keys = e.deps.state
    .list<{ createdAt: string; _k?: string }>(topPrefix(scopeOf(ctx), 'token'))
    .filter((d) => d._k && Date.parse(d.createdAt) < cutoff)
    .map((d) => d._k!);
  if (keys.length) await e.deps.state.commit(keys.map((key) => ({ op: 'delete' as const, key })));
}

function stripPrivate(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (k, x) => (k.startsWith('_') ? undefined : x)));
}
