/** IAM users, groups, group membership and users' access keys. */
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler, RequestContext } from '../core/types.ts';
import {
  byPathPrefix,
  callerUserName,
  d,
  iamError,
  nameTaken,
  noSuchEntity,
  normalizePath,
  nowIso,
  paginate,
  renderGroup,
  renderUser,
  validateTags,
  tagOperations,
} from './common.ts';
import { iamUniqueId, newAccessKeyId, newSecretAccessKey } from './ids.ts';
import {
  ACCESS_KEY_COLLECTION,
  accessKeyKey,
  iamCollection,
  iamKey,
  type AccessKeyDoc,
  type GroupDoc,
  type Tag,
  type UserDoc,
} from './model.ts';
import { principalNotFound } from './principal-policies.ts';
import { getPolicy } from './shared.ts';

const MAX_ACCESS_KEYS = 2;

/** userGroupOperations returns the handlers for users, groups, membership, login profiles and access keys. */
export function userGroupOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const loadUser = (accountId: string, name: string): UserDoc => {
    const u = state.get<UserDoc>(iamKey(accountId, 'user', name));
    if (!u) throw principalNotFound('User', name);
    return u;
  };
  const loadGroup = (accountId: string, name: string): GroupDoc => {
    const g = state.get<GroupDoc>(iamKey(accountId, 'group', name));
    if (!g) throw principalNotFound('Group', name);
    return g;
  };
  const updateUser = async (accountId: string, name: string, fn: (u: UserDoc) => void): Promise<UserDoc> =>
    (await state.mutate<UserDoc>(iamKey(accountId, 'user', name), (cur) => {
      if (!cur) throw principalNotFound('User', name);
      fn(cur);
      return cur;
    }))!;
  const userKeys = (accountId: string, userName: string): AccessKeyDoc[] =>
    state.list<AccessKeyDoc>(ACCESS_KEY_COLLECTION).filter((k) => k.AccountId === accountId && k.UserName === userName);
  /** The user an access-key operation acts on: the named user, or the caller. */
  const targetUser = (ctx: RequestContext, name: string | undefined): UserDoc => {
    const n = name ?? callerUserName(ctx);
    if (!n) throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
    return loadUser(ctx.accountId, n);
  };
  const create = async (key: string, doc: unknown, exists: string): Promise<void> => {
    try {
      await state.commit([{ op: 'create', key, doc }]);
    } catch (e) {
      if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', exists);
      throw e;
    }
  };

  return {
    CreateUser: async (input, ctx) => {
      validateTags(input.Tags);
      const path = normalizePath(input.Path);
      const exists = `User with name ${input.UserName} already exists.`;
      if (nameTaken(state, ctx.accountId, 'user', 'UserName', input.UserName)) throw iamError('EntityAlreadyExists', exists);
      let boundary: UserDoc['PermissionsBoundary'];
      if (input.PermissionsBoundary) {
        if (!getPolicy(state, input.PermissionsBoundary)) throw iamError('InvalidInput', `Scope ARN: ${input.PermissionsBoundary} does not exist or is not attachable.`);
        boundary = { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: input.PermissionsBoundary };
      }
      const user: UserDoc = {
        Path: path,
        UserName: input.UserName,
        UserId: iamUniqueId('AIDA'),
        Arn: `arn:aws:iam::${ctx.accountId}:user${path}${input.UserName}`,
        CreateDate: nowIso(ctx),
        PermissionsBoundary: boundary,
        Tags: input.Tags?.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
        _attached: [],
        _inline: {},
        _groups: [],
      };
      await create(iamKey(ctx.accountId, 'user', user.UserName), user, exists);
      return { User: renderUser(user) };
    },
    GetUser: (input, ctx) => {
      const name = input.UserName ?? callerUserName(ctx);
      if (!name && !/:root$/.test(ctx.callerArn ?? '') && ctx.callerArn) {
        throw iamError('ValidationError', 'Must specify userName when calling with non-User credentials');
      }
      if (!name) {
        // The root user of the account.
        return { User: { Path: '/', UserName: undefined, UserId: ctx.accountId, Arn: `arn:aws:iam::${ctx.accountId}:root`, CreateDate: new Date(0) } };
      }
      return { User: renderUser(loadUser(ctx.accountId, name)) };
    },
    ListUsers: (input, ctx) => {
      const users = byPathPrefix(state.list<UserDoc>(iamCollection(ctx.accountId, 'user')), input.PathPrefix);
      const { page, IsTruncated, Marker } = paginate(users, input);
      return { Users: page.map((u) => renderUser(u, false)), IsTruncated, Marker };
    },
    UpdateUser: async (input, ctx) => {
      const u = loadUser(ctx.accountId, input.UserName);
      if (!input.NewUserName && !input.NewPath) return {};
      const next: UserDoc = structuredClone(u);
      if (input.NewPath) next.Path = input.NewPath;
      if (input.NewUserName) next.UserName = input.NewUserName;
      next.Arn = `arn:aws:iam::${ctx.accountId}:user${next.Path}${next.UserName}`;
      if (next.UserName === u.UserName) {
        await state.commit([{ op: 'put', key: iamKey(ctx.accountId, 'user', u.UserName), doc: next }]);
        return {};
      }
      if (state.get(iamKey(ctx.accountId, 'user', next.UserName))) throw iamError('EntityAlreadyExists', `User with name ${next.UserName} already exists.`);
      const keys = userKeys(ctx.accountId, u.UserName).map((k) => ({ op: 'put' as const, key: accessKeyKey(k.AccessKeyId), doc: { ...k, UserName: next.UserName } }));
      await state.commit([
        { op: 'delete', key: iamKey(ctx.accountId, 'user', u.UserName) },
        { op: 'create', key: iamKey(ctx.accountId, 'user', next.UserName), doc: next },
        ...keys,
      ]);
      return {};
    },
    DeleteUser: async (input, ctx) => {
      const u = loadUser(ctx.accountId, input.UserName);
      if (userKeys(ctx.accountId, u.UserName).length) throw iamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
      if (u._loginProfile) throw iamError('DeleteConflict', 'Cannot delete entity, must delete login profile first.');
      if (u._groups.length) throw iamError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      if (u._attached.length) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (Object.keys(u._inline).length) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      await state.commit([{ op: 'delete', key: iamKey(ctx.accountId, 'user', u.UserName) }]);
      return {};
    },
    ...tagOperations('User', { load: (i, ctx) => loadUser(ctx.accountId, i.UserName), update: (i, ctx, fn) => updateUser(ctx.accountId, i.UserName, fn) }),
    PutUserPermissionsBoundary: async (input, ctx) => {
      loadUser(ctx.accountId, input.UserName);
      if (!getPolicy(state, input.PermissionsBoundary)) throw iamError('InvalidInput', `Scope ARN: ${input.PermissionsBoundary} does not exist or is not attachable.`);
      await updateUser(ctx.accountId, input.UserName, (u) => {
        u.PermissionsBoundary = { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: input.PermissionsBoundary };
      });
      return {};
    },
    DeleteUserPermissionsBoundary: async (input, ctx) => {
      await updateUser(ctx.accountId, input.UserName, (u) => {
        delete u.PermissionsBoundary;
      });
      return {};
    },

    CreateLoginProfile: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      if (u._loginProfile) throw iamError('EntityAlreadyExists', `Login Profile for user ${u.UserName} already exists.`);
      const profile = { CreateDate: nowIso(ctx), PasswordResetRequired: !!input.PasswordResetRequired };
      await updateUser(ctx.accountId, u.UserName, (cur) => {
        cur._loginProfile = profile;
      });
      return { LoginProfile: { UserName: u.UserName, CreateDate: d(profile.CreateDate), PasswordResetRequired: profile.PasswordResetRequired } };
    },
    GetLoginProfile: (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      if (!u._loginProfile) throw noSuchEntity(`Login Profile for User ${u.UserName} cannot be found.`);
      return { LoginProfile: { UserName: u.UserName, CreateDate: d(u._loginProfile.CreateDate), PasswordResetRequired: u._loginProfile.PasswordResetRequired } };
    },
    UpdateLoginProfile: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      if (!u._loginProfile) throw noSuchEntity(`Login Profile for User ${u.UserName} cannot be found.`);
      await updateUser(ctx.accountId, u.UserName, (cur) => {
        if (cur._loginProfile && input.PasswordResetRequired !== undefined) cur._loginProfile.PasswordResetRequired = input.PasswordResetRequired;
      });
      return {};
    },
    DeleteLoginProfile: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      if (!u._loginProfile) throw noSuchEntity(`Login Profile for User ${u.UserName} cannot be found.`);
      await updateUser(ctx.accountId, u.UserName, (cur) => {
        delete cur._loginProfile;
      });
      return {};
    },
    // Credentials localeks does not issue: always empty lists for an existing user
    // (terraform's force_destroy walks them).
    ListSSHPublicKeys: (input, ctx) => {
      targetUser(ctx, input.UserName);
      return { SSHPublicKeys: [], IsTruncated: false };
    },
    ListServiceSpecificCredentials: (input, ctx) => {
      if (input.UserName) loadUser(ctx.accountId, input.UserName);
      return { ServiceSpecificCredentials: [], IsTruncated: false };
    },
    ListMFADevices: (input, ctx) => {
      if (input.UserName) loadUser(ctx.accountId, input.UserName);
      return { MFADevices: [], IsTruncated: false };
    },
    ListVirtualMFADevices: () => ({ VirtualMFADevices: [], IsTruncated: false }),
    ListSigningCertificates: (input, ctx) => {
      if (input.UserName) loadUser(ctx.accountId, input.UserName);
      return { Certificates: [], IsTruncated: false };
    },

    CreateGroup: async (input, ctx) => {
      const path = normalizePath(input.Path);
      const exists = `Group with name ${input.GroupName} already exists.`;
      if (nameTaken(state, ctx.accountId, 'group', 'GroupName', input.GroupName)) throw iamError('EntityAlreadyExists', exists);
      const group: GroupDoc = {
        Path: path,
        GroupName: input.GroupName,
        GroupId: iamUniqueId('AGPA'),
        Arn: `arn:aws:iam::${ctx.accountId}:group${path}${input.GroupName}`,
        CreateDate: nowIso(ctx),
        _attached: [],
        _inline: {},
      };
      await create(iamKey(ctx.accountId, 'group', group.GroupName), group, exists);
      return { Group: renderGroup(group) };
    },
    GetGroup: (input, ctx) => {
      const g = loadGroup(ctx.accountId, input.GroupName);
      const members = state.list<UserDoc>(iamCollection(ctx.accountId, 'user')).filter((u) => u._groups.includes(g.GroupName));
      const { page, IsTruncated, Marker } = paginate(members, input);
      return { Group: renderGroup(g), Users: page.map((u) => renderUser(u, false)), IsTruncated, Marker };
    },
    ListGroups: (input, ctx) => {
      const groups = byPathPrefix(state.list<GroupDoc>(iamCollection(ctx.accountId, 'group')), input.PathPrefix);
      const { page, IsTruncated, Marker } = paginate(groups, input);
      return { Groups: page.map(renderGroup), IsTruncated, Marker };
    },
    UpdateGroup: async (input, ctx) => {
      const g = loadGroup(ctx.accountId, input.GroupName);
      const next: GroupDoc = structuredClone(g);
      if (input.NewPath) next.Path = input.NewPath;
      if (input.NewGroupName) next.GroupName = input.NewGroupName;
      next.Arn = `arn:aws:iam::${ctx.accountId}:group${next.Path}${next.GroupName}`;
      if (next.GroupName === g.GroupName) {
        await state.commit([{ op: 'put', key: iamKey(ctx.accountId, 'group', g.GroupName), doc: next }]);
        return {};
      }
      if (state.get(iamKey(ctx.accountId, 'group', next.GroupName))) throw iamError('EntityAlreadyExists', `Group with name ${next.GroupName} already exists.`);
      const members = state
        .list<UserDoc>(iamCollection(ctx.accountId, 'user'))
        .filter((u) => u._groups.includes(g.GroupName))
        .map((u) => ({ op: 'put' as const, key: iamKey(ctx.accountId, 'user', u.UserName), doc: { ...u, _groups: u._groups.map((x) => (x === g.GroupName ? next.GroupName : x)) } }));
      await state.commit([
        { op: 'delete', key: iamKey(ctx.accountId, 'group', g.GroupName) },
        { op: 'create', key: iamKey(ctx.accountId, 'group', next.GroupName), doc: next },
        ...members,
      ]);
      return {};
    },
    DeleteGroup: async (input, ctx) => {
      const g = loadGroup(ctx.accountId, input.GroupName);
      if (state.list<UserDoc>(iamCollection(ctx.accountId, 'user')).some((u) => u._groups.includes(g.GroupName))) {
        throw iamError('DeleteConflict', 'Cannot delete entity, must remove users from group first.');
      }
      if (g._attached.length) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (Object.keys(g._inline).length) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      await state.commit([{ op: 'delete', key: iamKey(ctx.accountId, 'group', g.GroupName) }]);
      return {};
    },
    AddUserToGroup: async (input, ctx) => {
      loadGroup(ctx.accountId, input.GroupName);
      await updateUser(ctx.accountId, input.UserName, (u) => {
        if (!u._groups.includes(input.GroupName)) u._groups.push(input.GroupName);
      });
      return {};
    },
    RemoveUserFromGroup: async (input, ctx) => {
      loadGroup(ctx.accountId, input.GroupName);
      const u = loadUser(ctx.accountId, input.UserName);
      if (!u._groups.includes(input.GroupName)) {
        throw noSuchEntity(`User ${input.UserName} does not belong to group ${input.GroupName}.`);
      }
      await updateUser(ctx.accountId, input.UserName, (cur) => {
        cur._groups = cur._groups.filter((g) => g !== input.GroupName);
      });
      return {};
    },
    ListGroupsForUser: (input, ctx) => {
      const u = loadUser(ctx.accountId, input.UserName);
      const groups = u._groups.map((n) => state.get<GroupDoc>(iamKey(ctx.accountId, 'group', n))).filter((g): g is GroupDoc => !!g);
      const { page, IsTruncated, Marker } = paginate(groups, input);
      return { Groups: page.map(renderGroup), IsTruncated, Marker };
    },

    CreateAccessKey: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      if (userKeys(ctx.accountId, u.UserName).length >= MAX_ACCESS_KEYS) {
        throw iamError('LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${MAX_ACCESS_KEYS}`);
      }
      const key: AccessKeyDoc = {
        AccessKeyId: newAccessKeyId(),
        SecretAccessKey: newSecretAccessKey(),
        UserName: u.UserName,
        Status: 'Active',
        CreateDate: nowIso(ctx),
        AccountId: ctx.accountId,
      };
      await state.commit([{ op: 'create', key: accessKeyKey(key.AccessKeyId), doc: key }]);
      return {
        AccessKey: { UserName: key.UserName, AccessKeyId: key.AccessKeyId, Status: key.Status, SecretAccessKey: key.SecretAccessKey, CreateDate: d(key.CreateDate) },
      };
    },
    ListAccessKeys: (input, ctx) => {
      // The root user's own keys are not emulated: its list is empty.
      if (!input.UserName && /:root$/.test(ctx.callerArn ?? '')) return { AccessKeyMetadata: [], IsTruncated: false };
      const u = targetUser(ctx, input.UserName);
      const { page, IsTruncated, Marker } = paginate(userKeys(ctx.accountId, u.UserName), input);
      return {
        AccessKeyMetadata: page.map((k) => ({ UserName: k.UserName, AccessKeyId: k.AccessKeyId, Status: k.Status, CreateDate: d(k.CreateDate) })),
        IsTruncated,
        Marker,
      };
    },
    UpdateAccessKey: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      const k = userKeys(ctx.accountId, u.UserName).find((x) => x.AccessKeyId === input.AccessKeyId);
      if (!k) throw noSuchEntity(`The Access Key with id ${input.AccessKeyId} cannot be found`);
      await state.commit([{ op: 'put', key: accessKeyKey(k.AccessKeyId), doc: { ...k, Status: input.Status } }]);
      return {};
    },
    DeleteAccessKey: async (input, ctx) => {
      const u = targetUser(ctx, input.UserName);
      const k = userKeys(ctx.accountId, u.UserName).find((x) => x.AccessKeyId === input.AccessKeyId);
      if (!k) throw noSuchEntity(`The Access Key with id ${input.AccessKeyId} cannot be found`);
      await state.commit([{ op: 'delete', key: accessKeyKey(k.AccessKeyId) }]);
      return {};
    },
    GetAccessKeyLastUsed: (input, ctx) => {
      const k = state.get<AccessKeyDoc>(accessKeyKey(input.AccessKeyId));
      if (!k || k.AccountId !== ctx.accountId) throw iamError('AccessDenied', 'Access Denied');
      return {
        UserName: k.UserName,
        AccessKeyLastUsed: k._lastUsed
          ? { LastUsedDate: d(k._lastUsed.LastUsedDate), ServiceName: k._lastUsed.ServiceName, Region: k._lastUsed.Region }
          : { ServiceName: 'N/A', Region: 'N/A' },
      };
    },
  };
}
