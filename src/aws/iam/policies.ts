/** Customer managed policies, their versions and tags; AWS managed policies are read-only. */
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler } from '../core/types.ts';
import {
  attachablePrincipals,
  attachmentCounts,
  awsManagedPolicies,
  checkPolicyArn,
  customerPolicies,
  d,
  iamError,
  nameTaken,
  noSuchEntity,
  normalizePath,
  nowIso,
  paginate,
  renderPolicy,
  usageCounts,
  validateTags,
  tagOperations,
} from './common.ts';
import { iamUniqueId } from './ids.ts';
import { arnAccount, iamKey, type PolicyDoc, type PolicyVersionDoc, type Tag } from './model.ts';
import { encodePolicy, validatePolicyDocument } from './policy-document.ts';
import { getPolicy } from './shared.ts';

const MAX_VERSIONS = 5;
const POLICY_SIZE_QUOTA = 6144;

/** checkPolicySize applies IAM's quota on managed policy documents (whitespace not counted). */
function checkPolicySize(text: string): void {
  if (text.replace(/\s/g, '').length > POLICY_SIZE_QUOTA) throw iamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${POLICY_SIZE_QUOTA}`);
}

function renderVersion(v: PolicyVersionDoc, withDocument: boolean): Record<string, unknown> {
  return { Document: withDocument ? v.Document : undefined, VersionId: v.VersionId, IsDefaultVersion: v.IsDefaultVersion, CreateDate: d(v.CreateDate) };
}

/** policyOperations returns the handlers for managed policies, their versions and tags. */
export function policyOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const load = (arn: string): PolicyDoc => {
    checkPolicyArn(arn);
    const p = getPolicy(state, arn);
    if (!p) throw noSuchEntity(`Policy ${arn} was not found.`);
    return p;
  };
  /** update changes a customer managed policy (AWS managed ones are not modifiable). */
  const update = async (arn: string, fn: (p: PolicyDoc) => void): Promise<PolicyDoc> => {
    const p = load(arn);
    const account = arnAccount(arn);
    if (account === 'aws') throw iamError('UnmodifiableEntity', `Policy ${arn} is an AWS managed policy and cannot be modified.`);
    return (await state.mutate<PolicyDoc>(iamKey(account!, 'policy', p.PolicyName), (cur) => {
      if (!cur) throw noSuchEntity(`Policy ${arn} was not found.`);
      fn(cur);
      return cur;
    }))!;
  };

  return {
    CreatePolicy: async (input, ctx) => {
      validatePolicyDocument(input.PolicyDocument, 'identity');
      checkPolicySize(input.PolicyDocument);
      validateTags(input.Tags);
      const path = normalizePath(input.Path);
      const exists = `A policy called ${input.PolicyName} already exists. Duplicate names are not allowed.`;
      const key = iamKey(ctx.accountId, 'policy', input.PolicyName);
      if (nameTaken(state, ctx.accountId, 'policy', 'PolicyName', input.PolicyName)) throw iamError('EntityAlreadyExists', exists);
      const now = nowIso(ctx);
      const policy: PolicyDoc = {
        PolicyName: input.PolicyName,
        PolicyId: iamUniqueId('ANPA'),
        Arn: `arn:aws:iam::${ctx.accountId}:policy${path}${input.PolicyName}`,
        Path: path,
        DefaultVersionId: 'v1',
        IsAttachable: true,
        Description: input.Description,
        CreateDate: now,
        UpdateDate: now,
        Tags: input.Tags?.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
        _versions: [{ VersionId: 'v1', Document: encodePolicy(input.PolicyDocument), IsDefaultVersion: true, CreateDate: now }],
        _nextVersion: 2,
      };
      try {
        await state.commit([{ op: 'create', key, doc: policy }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', exists);
        throw e;
      }
      const out = renderPolicy(state, ctx.accountId, policy);
      delete out.Description;
      return { Policy: out };
    },
    GetPolicy: (input, ctx) => ({ Policy: renderPolicy(state, ctx.accountId, load(input.PolicyArn)) }),
    DeletePolicy: async (input, ctx) => {
      const p = load(input.PolicyArn);
      if (arnAccount(p.Arn) === 'aws') throw iamError('UnmodifiableEntity', `Policy ${p.Arn} is an AWS managed policy and cannot be modified.`);
      const { attach, boundary } = attachmentCounts(state, ctx.accountId, p.Arn);
      if (attach > 0 || boundary > 0) throw iamError('DeleteConflict', 'Cannot delete a policy attached to entities.');
      if (p._versions.length > 1) {
        throw iamError(
          'DeleteConflict',
          "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        );
      }
      await state.commit([{ op: 'delete', key: iamKey(arnAccount(p.Arn)!, 'policy', p.PolicyName) }]);
      return {};
    },
    ListPolicies: (input, ctx) => {
      const scope: string = input.Scope ?? 'All';
      let list: PolicyDoc[] = [];
      if (scope === 'All' || scope === 'AWS') list.push(...awsManagedPolicies());
      if (scope === 'All' || scope === 'Local') list.push(...customerPolicies(state, ctx.accountId));
      if (input.PathPrefix) list = list.filter((p) => p.Path.startsWith(input.PathPrefix));
      if (input.OnlyAttached) {
        const { roles, users, groups } = attachablePrincipals(state, ctx.accountId);
        const attached = new Set([...roles, ...users, ...groups].flatMap((x) => x._attached));
        list = list.filter((p) => attached.has(p.Arn));
      }
      const { page, IsTruncated, Marker } = paginate(list, input);
      const counts = usageCounts(state, ctx.accountId);
      return { Policies: page.map((p) => renderPolicy(state, ctx.accountId, p, false, counts)), IsTruncated, Marker };
    },
    ListEntitiesForPolicy: (input, ctx) => {
      const p = load(input.PolicyArn);
      const { roles, users, groups } = attachablePrincipals(state, ctx.accountId);
      const filter: string | undefined = input.EntityFilter;
      const want = (kind: string) => !filter || filter === kind;
      const pathOk = (path: string) => !input.PathPrefix || path.startsWith(input.PathPrefix);
      return {
        PolicyRoles: want('Role') ? roles.filter((r) => r._attached.includes(p.Arn) && pathOk(r.Path)).map((r) => ({ RoleName: r.RoleName, RoleId: r.RoleId })) : [],
        PolicyUsers: want('User') ? users.filter((u) => u._attached.includes(p.Arn) && pathOk(u.Path)).map((u) => ({ UserName: u.UserName, UserId: u.UserId })) : [],
        PolicyGroups: want('Group') ? groups.filter((g) => g._attached.includes(p.Arn) && pathOk(g.Path)).map((g) => ({ GroupName: g.GroupName, GroupId: g.GroupId })) : [],
        IsTruncated: false,
      };
    },
    CreatePolicyVersion: async (input, ctx) => {
      validatePolicyDocument(input.PolicyDocument, 'identity');
      checkPolicySize(input.PolicyDocument);
      let created: PolicyVersionDoc | undefined;
      await update(input.PolicyArn, (p) => {
        if (p._versions.length >= MAX_VERSIONS) {
          throw iamError('LimitExceeded', 'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.');
        }
        const v: PolicyVersionDoc = { VersionId: `v${p._nextVersion}`, Document: encodePolicy(input.PolicyDocument), IsDefaultVersion: !!input.SetAsDefault, CreateDate: nowIso(ctx) };
        p._nextVersion++;
        if (v.IsDefaultVersion) {
          for (const x of p._versions) x.IsDefaultVersion = false;
          p.DefaultVersionId = v.VersionId;
          p.UpdateDate = v.CreateDate;
        }
        p._versions.push(v);
        created = v;
      });
      return { PolicyVersion: renderVersion(created!, false) };
    },
    GetPolicyVersion: (input) => {
      const p = load(input.PolicyArn);
      const v = p._versions.find((x) => x.VersionId === input.VersionId);
      if (!v) throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
      return { PolicyVersion: renderVersion(v, true) };
    },
    ListPolicyVersions: (input) => {
      const p = load(input.PolicyArn);
      const sorted = [...p._versions].sort((a, b) => Number(b.VersionId.slice(1)) - Number(a.VersionId.slice(1)));
      const { page, IsTruncated, Marker } = paginate(sorted, input);
      return { Versions: page.map((v) => renderVersion(v, false)), IsTruncated, Marker };
    },
    SetDefaultPolicyVersion: async (input, ctx) => {
      await update(input.PolicyArn, (p) => {
        const v = p._versions.find((x) => x.VersionId === input.VersionId);
        if (!v) throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
        for (const x of p._versions) x.IsDefaultVersion = x === v;
        p.DefaultVersionId = v.VersionId;
        p.UpdateDate = nowIso(ctx);
      });
      return {};
    },
    DeletePolicyVersion: async (input) => {
      await update(input.PolicyArn, (p) => {
        const v = p._versions.find((x) => x.VersionId === input.VersionId);
        if (!v) throw noSuchEntity(`Policy ${input.PolicyArn} version ${input.VersionId} does not exist or is not attachable.`);
        if (v.IsDefaultVersion) throw iamError('DeleteConflict', 'Cannot delete the default version of a policy.');
        p._versions = p._versions.filter((x) => x !== v);
      });
      return {};
    },
    ...tagOperations('Policy', { load: (i) => load(i.PolicyArn), update: (i, _ctx, fn) => update(i.PolicyArn, fn) }),
  };
}

