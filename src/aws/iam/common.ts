/**
 * Helpers shared by the IAM handlers: errors with IAM's codes and statuses,
 * Marker/MaxItems pagination, tag edits, and rendering stored documents
 * (ISO strings) as model outputs (Date).
 */
import type { AwsState } from '../core/state.ts';
import { awsError, type AwsServiceError, type OperationHandler, type RequestContext } from '../core/types.ts';
import { awsManagedPolicies } from './aws-managed-policies.ts';
import {
  iamCollection,
  type GroupDoc,
  type InstanceProfileDoc,
  type PolicyDoc,
  type RoleDoc,
  type Tag,
  type UserDoc,
} from './model.ts';

const STATUS: Record<string, number> = {
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  LimitExceeded: 409,
  MalformedPolicyDocument: 400,
  InvalidInput: 400,
  ValidationError: 400,
  UnmodifiableEntity: 400,
  PolicyNotAttachable: 400,
  ReportNotPresent: 410,
  ConcurrentModification: 409,
  AccessDenied: 403,
  ServiceFailure: 500,
};

/** iamError builds an error with IAM's status for its code. */
export function iamError(code: string, message: string): AwsServiceError {
  return awsError(code, message, STATUS[code] ?? 400);
}

export function noSuchEntity(message: string): AwsServiceError {
  return iamError('NoSuchEntity', message);
}

export function d(iso: string | undefined): Date | undefined {
  return iso === undefined ? undefined : new Date(iso);
}

export function nowIso(ctx: RequestContext): string {
  return ctx.now().toISOString();
}

/** paginate applies Marker/MaxItems (default 100) and returns the page fields IAM answers with. */
export function paginate<T>(items: T[], input: { Marker?: string; MaxItems?: number }): { page: T[]; IsTruncated: boolean; Marker?: string } {
  let start = 0;
  if (input.Marker) {
    const n = Number.parseInt(Buffer.from(input.Marker, 'base64').toString('utf8'), 10);
    if (!Number.isInteger(n) || n < 0) throw iamError('InvalidInput', 'Invalid Marker.');
    start = n;
  }
  const max = input.MaxItems ?? 100;
  const page = items.slice(start, start + max);
  const end = start + page.length;
  if (end < items.length) return { page, IsTruncated: true, Marker: Buffer.from(String(end)).toString('base64') };
  return { page, IsTruncated: false };
}

/** validateTags checks a tag list as IAM does (50 at most, keys unique case-insensitively). */
export function validateTags(tags: Tag[] | undefined): void {
  if (!tags) return;
  if (tags.length > 50) {
    throw iamError('LimitExceeded', 'Cannot exceed quota for TagsPerEntity: 50');
  }
  const seen = new Set<string>();
  for (const t of tags) {
    const k = t.Key.toLowerCase();
    if (seen.has(k)) throw iamError('InvalidInput', 'Duplicate tag keys found. Please note that Tag keys are case insensitive.');
    seen.add(k);
  }
}

/** mergeTags adds or replaces tags (keys compared case-insensitively, as IAM does). */
export function mergeTags(current: Tag[] | undefined, add: Tag[]): Tag[] {
  validateTags(add);
  const out = [...(current ?? [])];
  for (const t of add) {
    const i = out.findIndex((x) => x.Key.toLowerCase() === t.Key.toLowerCase());
    if (i >= 0) out[i] = { Key: t.Key, Value: t.Value };
    else out.push({ Key: t.Key, Value: t.Value });
  }
  if (out.length > 50) throw iamError('LimitExceeded', 'Cannot exceed quota for TagsPerEntity: 50');
  return out;
}

/**
 * tagOperations gives a taggable IAM resource its Tag<kind>, Untag<kind> and
 * List<kind>Tags operations: `load` reads the resource an input names
 * (throwing NoSuchEntity), `update` rewrites it with a mutation (same error).
 */
export function tagOperations<T extends { Tags?: Tag[] }>(
  kind: string,
  io: { load(input: any, ctx: RequestContext): T; update(input: any, ctx: RequestContext, fn: (doc: T) => void): Promise<unknown> },
): Record<string, OperationHandler> {
  return {
    [`Tag${kind}`]: async (input, ctx) => {
      await io.update(input, ctx, (d) => {
        d.Tags = mergeTags(d.Tags, input.Tags);
      });
      return {};
    },
    [`Untag${kind}`]: async (input, ctx) => {
      await io.update(input, ctx, (d) => {
        d.Tags = removeTags(d.Tags, input.TagKeys);
      });
      return {};
    },
    [`List${kind}Tags`]: (input, ctx) => {
      const { page, IsTruncated, Marker } = paginate(io.load(input, ctx).Tags ?? [], input);
      return { Tags: page, IsTruncated, Marker };
    },
  };
}

/** removeTags drops the tags with these keys (compared case-insensitively). */
export function removeTags(current: Tag[] | undefined, keys: string[]): Tag[] {
  const drop = new Set(keys.map((k) => k.toLowerCase()));
  return (current ?? []).filter((t) => !drop.has(t.Key.toLowerCase()));
}

export function tagsOut(tags: Tag[] | undefined): Tag[] | undefined {
  return tags && tags.length > 0 ? tags : undefined;
}

/**
 * nameTaken tells whether an entity of this type already has the name, compared
 * without regard to case as IAM does (Role "Admin" blocks "admin").
 */
export function nameTaken(state: AwsState, accountId: string, type: 'role' | 'user' | 'group' | 'policy' | 'instance-profile', field: string, name: string): boolean {
  if (state.get(`${iamCollection(accountId, type)}${encodeURIComponent(name)}`)) return true;
  const lower = name.toLowerCase();
  return state.list<Record<string, unknown>>(iamCollection(accountId, type)).some((d) => String(d[field]).toLowerCase() === lower);
}

/** normalizePath defaults a path to "/". */
export function normalizePath(path: string | undefined): string {
  return path ?? '/';
}

export function byPathPrefix<T extends { Path: string }>(items: T[], prefix: string | undefined): T[] {
  return prefix ? items.filter((x) => x.Path.startsWith(prefix)) : items;
}

export function renderRole(r: RoleDoc, full = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    Path: r.Path,
    RoleName: r.RoleName,
    RoleId: r.RoleId,
    Arn: r.Arn,
    CreateDate: d(r.CreateDate),
    AssumeRolePolicyDocument: r.AssumeRolePolicyDocument,
    Description: r.Description,
    MaxSessionDuration: r.MaxSessionDuration,
  };
  if (full) {
    out.PermissionsBoundary = r.PermissionsBoundary;
    out.Tags = tagsOut(r.Tags);
    out.RoleLastUsed = r.RoleLastUsed ? { LastUsedDate: d(r.RoleLastUsed.LastUsedDate), Region: r.RoleLastUsed.Region } : {};
  }
  return out;
}

export function renderUser(u: UserDoc, full = true): Record<string, unknown> {
  return {
    Path: u.Path,
    UserName: u.UserName,
    UserId: u.UserId,
    Arn: u.Arn,
    CreateDate: d(u.CreateDate),
    ...(full ? { PermissionsBoundary: u.PermissionsBoundary, Tags: tagsOut(u.Tags) } : {}),
  };
}

export function renderGroup(g: GroupDoc): Record<string, unknown> {
  return { Path: g.Path, GroupName: g.GroupName, GroupId: g.GroupId, Arn: g.Arn, CreateDate: d(g.CreateDate) };
}

export function renderInstanceProfile(state: AwsState, accountId: string, p: InstanceProfileDoc): Record<string, unknown> {
  const roles = p._roles
    .map((n) => state.get<RoleDoc>(`${iamCollection(accountId, 'role')}${encodeURIComponent(n)}`))
    .filter((r): r is RoleDoc => r !== undefined)
    .map((r) => renderRole(r, false));
  return {
    Path: p.Path,
    InstanceProfileName: p.InstanceProfileName,
    InstanceProfileId: p.InstanceProfileId,
    Arn: p.Arn,
    CreateDate: d(p.CreateDate),
    Roles: roles,
    Tags: tagsOut(p.Tags),
  };
}

/** Principals of an account that can have managed policies attached. */
export function attachablePrincipals(state: AwsState, accountId: string): { roles: RoleDoc[]; users: UserDoc[]; groups: GroupDoc[] } {
  return {
    roles: state.list<RoleDoc>(iamCollection(accountId, 'role')),
    users: state.list<UserDoc>(iamCollection(accountId, 'user')),
    groups: state.list<GroupDoc>(iamCollection(accountId, 'group')),
  };
}

/** Attachment and boundary-use counts per policy ARN. */
export type UsageCounts = Map<string, { attach: number; boundary: number }>;

/** usageCounts counts, in one pass over the account's principals, how often each policy is attached or used as a boundary. */
export function usageCounts(state: AwsState, accountId: string): UsageCounts {
  const { roles, users, groups } = attachablePrincipals(state, accountId);
  const out: UsageCounts = new Map();
  const at = (arn: string) => {
    let c = out.get(arn);
    if (!c) out.set(arn, (c = { attach: 0, boundary: 0 }));
    return c;
  };
  for (const p of [...roles, ...users, ...groups]) for (const a of new Set(p._attached)) at(a).attach++;
  for (const p of [...roles, ...users]) if (p.PermissionsBoundary) at(p.PermissionsBoundary.PermissionsBoundaryArn).boundary++;
  return out;
}

/** attachmentCounts counts the principals of the account a policy is attached to (and boundary uses). */
export function attachmentCounts(state: AwsState, accountId: string, arn: string): { attach: number; boundary: number } {
  return usageCounts(state, accountId).get(arn) ?? { attach: 0, boundary: 0 };
}

/** renderPolicy renders a Policy; pass counts from usageCounts when rendering many. */
export function renderPolicy(state: AwsState, accountId: string, p: PolicyDoc, withTags = true, counts?: UsageCounts): Record<string, unknown> {
  const c = (counts ?? usageCounts(state, accountId)).get(p.Arn) ?? { attach: 0, boundary: 0 };
  return {
    PolicyName: p.PolicyName,
    PolicyId: p.PolicyId,
    Arn: p.Arn,
    Path: p.Path,
    DefaultVersionId: p.DefaultVersionId,
    AttachmentCount: c.attach,
    PermissionsBoundaryUsageCount: c.boundary,
    IsAttachable: p.IsAttachable,
    Description: p.Description,
    CreateDate: d(p.CreateDate),
    UpdateDate: d(p.UpdateDate),
    ...(withTags ? { Tags: tagsOut(p.Tags) } : {}),
  };
}

/** customerPolicies lists the account's own managed policies. */
export function customerPolicies(state: AwsState, accountId: string): PolicyDoc[] {
  return state.list<PolicyDoc>(iamCollection(accountId, 'policy'));
}

export { awsManagedPolicies };

/** validArn checks the general shape of a policy ARN for Attach*Policy. */
export function checkPolicyArn(arn: string): void {
  if (!/^arn:aws[\w-]*:iam::(\d{12}|aws):policy\/.+/.test(arn)) throw iamError('InvalidInput', `ARN ${arn} is not valid.`);
}

/** The name of the IAM user a caller ARN names (arn:aws:iam::<acct>:user/<path>/<name>), if any. */
export function callerUserName(ctx: RequestContext): string | undefined {
  const m = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(ctx.callerArn ?? '');
  return m?.[1];
}
