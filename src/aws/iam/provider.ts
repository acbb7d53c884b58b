/**
 * The IAM provider (query protocol, global: every entity lives in region
 * `global` of the caller's account). Handlers are grouped by entity in
 * roles.ts, users-groups.ts, policies.ts, principal-policies.ts,
 * instance-profiles.ts and oidc-providers.ts.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { AwsProvider, OperationHandler } from '../core/types.ts';
import { accountOperations } from './account.ts';
import { attachablePrincipals, customerPolicies, d, renderGroup, renderInstanceProfile, renderPolicy, renderRole, renderUser, usageCounts } from './common.ts';
import { instanceProfileOperations } from './instance-profiles.ts';
import { iamCollection, type InstanceProfileDoc, type PolicyDoc } from './model.ts';
import { oidcProviderOperations } from './oidc-providers.ts';
import { policyOperations } from './policies.ts';
import { principalPolicyOperations } from './principal-policies.ts';
import { roleOperations } from './roles.ts';
import { getPolicy } from './shared.ts';
import { userGroupOperations } from './users-groups.ts';

function authorizationOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const inline = (m: Record<string, string>) => Object.entries(m).map(([PolicyName, PolicyDocument]) => ({ PolicyName, PolicyDocument }));
  const attached = (arns: string[]) => arns.map((a) => ({ PolicyName: a.slice(a.lastIndexOf('/') + 1), PolicyArn: a }));
  return {
    GetAccountAuthorizationDetails: (input, ctx) => {
      const filter: string[] = input.Filter ?? [];
      const want = (f: string) => filter.length === 0 || filter.includes(f);
      const { roles, users, groups } = attachablePrincipals(state, ctx.accountId);
      const profiles = state.list<InstanceProfileDoc>(iamCollection(ctx.accountId, 'instance-profile'));
      const used = new Set([...roles, ...users, ...groups].flatMap((x) => x._attached));
      const policies: PolicyDoc[] = [...customerPolicies(state, ctx.accountId)];
      for (const arn of used) {
        const p = getPolicy(state, arn);
        if (p && arn.includes(':aws:policy/')) policies.push(p);
      }
      const counts = usageCounts(state, ctx.accountId);
      return {
        UserDetailList: want('User')
          ? users.map((u) => ({ ...renderUser(u), GroupList: u._groups, AttachedManagedPolicies: attached(u._attached), UserPolicyList: inline(u._inline) }))
          : [],
        GroupDetailList: want('Group') ? groups.map((g) => ({ ...renderGroup(g), AttachedManagedPolicies: attached(g._attached), GroupPolicyList: inline(g._inline) })) : [],
        RoleDetailList:
          want('Role')
            ? roles.map((r) => ({
                ...renderRole(r),
                InstanceProfileList: profiles.filter((p) => p._roles.includes(r.RoleName)).map((p) => renderInstanceProfile(state, ctx.accountId, p)),
                AttachedManagedPolicies: attached(r._attached),
                RolePolicyList: inline(r._inline),
              }))
            : [],
        Policies: policies
          .filter((p) => (p.Arn.includes(':aws:policy/') ? want('AWSManagedPolicy') : want('LocalManagedPolicy')))
          .map((p) => ({
            ...renderPolicy(state, ctx.accountId, p, false, counts),
            PolicyVersionList: p._versions.map((v) => ({ Document: v.Document, VersionId: v.VersionId, IsDefaultVersion: v.IsDefaultVersion, CreateDate: d(v.CreateDate) })),
          })),
        IsTruncated: false,
      };
    },
    GetAccountSummary: (_input, ctx) => {
      const { roles, users, groups } = attachablePrincipals(state, ctx.accountId);
      const policies = customerPolicies(state, ctx.accountId);
      return {
        SummaryMap: {
          Users: users.length,
          UsersQuota: 5000,
          Groups: groups.length,
          GroupsQuota: 300,
          Roles: roles.length,
          RolesQuota: 1000,
          Policies: policies.length,
          PoliciesQuota: 1500,
          PolicyVersionsInUse: policies.reduce((n, p) => n + p._versions.length, 0),
          PolicyVersionsInUseQuota: 10000,
          VersionsPerPolicyQuota: 5,
          InstanceProfiles: state.list(iamCollection(ctx.accountId, 'instance-profile')).length,
          InstanceProfilesQuota: 1000,
          Providers: state.list(iamCollection(ctx.accountId, 'oidc-provider')).length,
          AttachedPoliciesPerRoleQuota: 10,
          AttachedPoliciesPerUserQuota: 10,
          AttachedPoliciesPerGroupQuota: 10,
          AccessKeysPerUserQuota: 2,
          GroupsPerUserQuota: 10,
          PolicySizeQuota: 6144,
          RolePolicySizeQuota: 10240,
          UserPolicySizeQuota: 2048,
          GroupPolicySizeQuota: 5120,
          AssumeRolePolicySizeQuota: 2048,
          MFADevices: 0,
          MFADevicesInUse: 0,
          AccountMFAEnabled: 0,
          AccountAccessKeysPresent: 0,
          AccountSigningCertificatesPresent: 0,
          ServerCertificates: 0,
          ServerCertificatesQuota: 20,
          SigningCertificatesPerUserQuota: 2,
          GlobalEndpointTokenVersion: 1,
        },
      };
    },
  };
}

/** createIamProvider builds the IAM provider. */
export function createIamProvider(deps: AwsDeps): AwsProvider {
  return {
    service: 'iam',
    operations: {
      ...roleOperations(deps),
      ...userGroupOperations(deps),
      ...policyOperations(deps),
      ...principalPolicyOperations(deps, 'Role'),
      ...principalPolicyOperations(deps, 'User'),
      ...principalPolicyOperations(deps, 'Group'),
      ...instanceProfileOperations(deps),
      ...oidcProviderOperations(deps),
      ...authorizationOperations(deps),
      ...accountOperations(deps),
    },
  };
}
