/** Instance profiles: the role container EC2 instances (and node groups) launch with. */
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler } from '../core/types.ts';
import {
  byPathPrefix,
  iamError,
  nameTaken,
  noSuchEntity,
  normalizePath,
  nowIso,
  paginate,
  renderInstanceProfile,
  validateTags,
  tagOperations,
} from './common.ts';
import { iamUniqueId } from './ids.ts';
import { iamCollection, iamKey, type InstanceProfileDoc, type RoleDoc, type Tag } from './model.ts';
import { principalNotFound } from './principal-policies.ts';

/** instanceProfileOperations returns the handlers for instance profiles. */
export function instanceProfileOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const notFound = (name: string) => noSuchEntity(`Instance Profile ${name} cannot be found.`);
  const load = (accountId: string, name: string): InstanceProfileDoc => {
    const p = state.get<InstanceProfileDoc>(iamKey(accountId, 'instance-profile', name));
    if (!p) throw notFound(name);
    return p;
  };
  const update = async (accountId: string, name: string, fn: (p: InstanceProfileDoc) => void): Promise<void> => {
    await state.mutate<InstanceProfileDoc>(iamKey(accountId, 'instance-profile', name), (cur) => {
      if (!cur) throw notFound(name);
      fn(cur);
      return cur;
    });
  };
  const loadRole = (accountId: string, name: string): RoleDoc => {
    const r = state.get<RoleDoc>(iamKey(accountId, 'role', name));
    if (!r) throw principalNotFound('Role', name);
    return r;
  };

  return {
    CreateInstanceProfile: async (input, ctx) => {
      validateTags(input.Tags);
      const path = normalizePath(input.Path);
      const exists = `Instance Profile ${input.InstanceProfileName} already exists.`;
      const key = iamKey(ctx.accountId, 'instance-profile', input.InstanceProfileName);
      if (nameTaken(state, ctx.accountId, 'instance-profile', 'InstanceProfileName', input.InstanceProfileName)) throw iamError('EntityAlreadyExists', exists);
      const p: InstanceProfileDoc = {
        Path: path,
        InstanceProfileName: input.InstanceProfileName,
        InstanceProfileId: iamUniqueId('AIPA'),
        Arn: `arn:aws:iam::${ctx.accountId}:instance-profile${path}${input.InstanceProfileName}`,
        CreateDate: nowIso(ctx),
        Tags: input.Tags?.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
        _roles: [],
      };
      try {
        await state.commit([{ op: 'create', key, doc: p }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', exists);
        throw e;
      }
      return { InstanceProfile: renderInstanceProfile(state, ctx.accountId, p) };
    },
    GetInstanceProfile: (input, ctx) => ({
      InstanceProfile: renderInstanceProfile(state, ctx.accountId, load(ctx.accountId, input.InstanceProfileName)),
    }),
    ListInstanceProfiles: (input, ctx) => {
      const all = byPathPrefix(state.list<InstanceProfileDoc>(iamCollection(ctx.accountId, 'instance-profile')), input.PathPrefix);
      const { page, IsTruncated, Marker } = paginate(all, input);
      return { InstanceProfiles: page.map((p) => renderInstanceProfile(state, ctx.accountId, p)), IsTruncated, Marker };
    },
    ListInstanceProfilesForRole: (input, ctx) => {
      loadRole(ctx.accountId, input.RoleName);
      const all = state.list<InstanceProfileDoc>(iamCollection(ctx.accountId, 'instance-profile')).filter((p) => p._roles.includes(input.RoleName));
      const { page, IsTruncated, Marker } = paginate(all, input);
      return { InstanceProfiles: page.map((p) => renderInstanceProfile(state, ctx.accountId, p)), IsTruncated, Marker };
    },
    DeleteInstanceProfile: async (input, ctx) => {
      const p = load(ctx.accountId, input.InstanceProfileName);
      if (p._roles.length) throw iamError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.');
      await state.commit([{ op: 'delete', key: iamKey(ctx.accountId, 'instance-profile', p.InstanceProfileName) }]);
      return {};
    },
    AddRoleToInstanceProfile: async (input, ctx) => {
      load(ctx.accountId, input.InstanceProfileName);
      loadRole(ctx.accountId, input.RoleName);
      await update(ctx.accountId, input.InstanceProfileName, (p) => {
        if (p._roles.includes(input.RoleName)) {
          throw iamError('LimitExceeded', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
        }
        if (p._roles.length >= 1) throw iamError('LimitExceeded', 'Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1');
        p._roles.push(input.RoleName);
      });
      return {};
    },
    RemoveRoleFromInstanceProfile: async (input, ctx) => {
      const p = load(ctx.accountId, input.InstanceProfileName);
      loadRole(ctx.accountId, input.RoleName);
      if (!p._roles.includes(input.RoleName)) throw principalNotFound('Role', input.RoleName);
      await update(ctx.accountId, input.InstanceProfileName, (cur) => {
        cur._roles = cur._roles.filter((r) => r !== input.RoleName);
      });
      return {};
    },
    ...tagOperations('InstanceProfile', { load: (i, ctx) => load(ctx.accountId, i.InstanceProfileName), update: (i, ctx, fn) => update(ctx.accountId, i.InstanceProfileName, fn) }),
  };
}
