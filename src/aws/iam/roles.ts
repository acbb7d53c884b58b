/** IAM roles: lifecycle, trust policy, boundary, tags and service-linked roles. */
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler, RequestContext } from '../core/types.ts';
import {
  byPathPrefix,
  iamError,
  nameTaken,
  normalizePath,
  nowIso,
  paginate,
  renderRole,
  validateTags,
  tagOperations,
} from './common.ts';
import { iamUniqueId } from './ids.ts';
import { iamCollection, iamKey, type InstanceProfileDoc, type RoleDoc, type Tag } from './model.ts';
import { principalNotFound } from './principal-policies.ts';
import { encodePolicy, validatePolicyDocument } from './policy-document.ts';
import { getPolicy } from './shared.ts';

/** Service-linked roles AWS defines for the services EKS stacks touch. */
const SERVICE_LINKED: Record<string, { name: string; policy: string; description: string }> = {
  'eks.amazonaws.com': { name: 'AWSServiceRoleForAmazonEKS', policy: 'arn:aws:iam::aws:policy/aws-service-role/AmazonEKSServiceRolePolicy', description: 'Allows Amazon EKS to call AWS services on your behalf.' },
  'eks-nodegroup.amazonaws.com': { name: 'AWSServiceRoleForAmazonEKSNodegroup', policy: 'arn:aws:iam::aws:policy/aws-service-role/AWSServiceRoleForAmazonEKSNodegroup', description: 'This policy allows Amazon EKS to create and manage Nodegroups' },
  'eks-fargate.amazonaws.com': { name: 'AWSServiceRoleForAmazonEKSForFargate', policy: 'arn:aws:iam::aws:policy/aws-service-role/AmazonEKSForFargateServiceRolePolicy', description: 'This policy grants necessary permissions to Amazon EKS to run fargate tasks' },
  'autoscaling.amazonaws.com': { name: 'AWSServiceRoleForAutoScaling', policy: 'arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy', description: 'Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling' },
  'elasticloadbalancing.amazonaws.com': { name: 'AWSServiceRoleForElasticLoadBalancing', policy: 'arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy', description: "Allows ELB to call AWS services on customer's behalf." },
  'spot.amazonaws.com': { name: 'AWSServiceRoleForEC2Spot', policy: 'arn:aws:iam::aws:policy/aws-service-role/AWSEC2SpotServiceRolePolicy', description: 'Default EC2 Spot Service Linked Role' },
};

const TRUST_POLICY_QUOTA = 2048;

/** checkTrustPolicySize applies IAM's default quota on trust policies (whitespace not counted). */
function checkTrustPolicySize(text: string): void {
  if (text.replace(/\s/g, '').length > TRUST_POLICY_QUOTA) throw iamError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_QUOTA}`);
}

function checkBoundary(deps: AwsDeps, arn: string | undefined): RoleDoc['PermissionsBoundary'] {
  if (!arn) return undefined;
  if (!getPolicy(deps.state, arn)) throw iamError('InvalidInput', `Scope ARN: ${arn} does not exist or is not attachable.`);
  return { PermissionsBoundaryType: 'Policy', PermissionsBoundaryArn: arn };
}

async function createRoleDoc(deps: AwsDeps, ctx: RequestContext, role: RoleDoc): Promise<void> {
  if (nameTaken(deps.state, ctx.accountId, 'role', 'RoleName', role.RoleName)) throw iamError('EntityAlreadyExists', `Role with name ${role.RoleName} already exists.`);
  try {
    await deps.state.commit([{ op: 'create', key: iamKey(ctx.accountId, 'role', role.RoleName), doc: role }]);
  } catch (e) {
    if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', `Role with name ${role.RoleName} already exists.`);
    throw e;
  }
}

/** roleOperations returns the handlers for roles, their trust policies, boundaries, tags and service-linked roles. */
export function roleOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const load = (accountId: string, name: string): RoleDoc => {
    const r = state.get<RoleDoc>(iamKey(accountId, 'role', name));
    if (!r) throw principalNotFound('Role', name);
    return r;
  };
  const update = async (accountId: string, name: string, fn: (r: RoleDoc) => void): Promise<RoleDoc> => {
    const out = await state.mutate<RoleDoc>(iamKey(accountId, 'role', name), (cur) => {
      if (!cur) throw principalNotFound('Role', name);
      fn(cur);
      return cur;
    });
    return out!;
  };

  return {
    CreateRole: async (input, ctx) => {
      validatePolicyDocument(input.AssumeRolePolicyDocument, 'trust');
      checkTrustPolicySize(input.AssumeRolePolicyDocument);
      validateTags(input.Tags);
      const path = normalizePath(input.Path);
      const role: RoleDoc = {
        Path: path,
        RoleName: input.RoleName,
        RoleId: iamUniqueId('AROA'),
        Arn: `arn:aws:iam::${ctx.accountId}:role${path}${input.RoleName}`,
        CreateDate: nowIso(ctx),
        AssumeRolePolicyDocument: encodePolicy(input.AssumeRolePolicyDocument),
        Description: input.Description,
        MaxSessionDuration: input.MaxSessionDuration ?? 3600,
        PermissionsBoundary: checkBoundary(deps, input.PermissionsBoundary),
        Tags: input.Tags && input.Tags.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
        _attached: [],
        _inline: {},
      };
      await createRoleDoc(deps, ctx, role);
      const out = renderRole(role);
      delete out.RoleLastUsed;
      return { Role: out };
    },
    GetRole: (input, ctx) => ({ Role: renderRole(load(ctx.accountId, input.RoleName)) }),
    ListRoles: (input, ctx) => {
      const roles = byPathPrefix(state.list<RoleDoc>(iamCollection(ctx.accountId, 'role')), input.PathPrefix);
      const { page, IsTruncated, Marker } = paginate(roles, input);
      return { Roles: page.map((r) => renderRole(r, false)), IsTruncated, Marker };
    },
    DeleteRole: async (input, ctx) => {
      const role = load(ctx.accountId, input.RoleName);
      if (role.Path.startsWith('/aws-service-role/')) {
        throw iamError('UnmodifiableEntity', `Cannot perform the operation on the protected role '${role.RoleName}' - this role is only modifiable by AWS`);
      }
      const profiles = state.list<InstanceProfileDoc>(iamCollection(ctx.accountId, 'instance-profile'));
      if (profiles.some((p) => p._roles.includes(role.RoleName))) {
        throw iamError('DeleteConflict', 'Cannot delete entity, must remove roles from instance profile first.');
      }
      if (role._attached.length) throw iamError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
      if (Object.keys(role._inline).length) throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      await state.commit([{ op: 'delete', key: iamKey(ctx.accountId, 'role', role.RoleName), expectedRevision: state.revision(iamKey(ctx.accountId, 'role', role.RoleName)) }]);
      return {};
    },
    UpdateRole: async (input, ctx) => {
      await update(ctx.accountId, input.RoleName, (r) => {
        if (input.Description !== undefined) r.Description = input.Description;
        if (input.MaxSessionDuration !== undefined) r.MaxSessionDuration = input.MaxSessionDuration;
      });
      return {};
    },
    UpdateRoleDescription: async (input, ctx) => {
      const r = await update(ctx.accountId, input.RoleName, (cur) => {
        cur.Description = input.Description;
      });
      return { Role: renderRole(r) };
    },
    UpdateAssumeRolePolicy: async (input, ctx) => {
      load(ctx.accountId, input.RoleName);
      validatePolicyDocument(input.PolicyDocument, 'trust');
      checkTrustPolicySize(input.PolicyDocument);
      await update(ctx.accountId, input.RoleName, (r) => {
        r.AssumeRolePolicyDocument = encodePolicy(input.PolicyDocument);
      });
      return {};
    },
    PutRolePermissionsBoundary: async (input, ctx) => {
      load(ctx.accountId, input.RoleName);
      const b = checkBoundary(deps, input.PermissionsBoundary);
      await update(ctx.accountId, input.RoleName, (r) => {
        r.PermissionsBoundary = b;
      });
      return {};
    },
    DeleteRolePermissionsBoundary: async (input, ctx) => {
      await update(ctx.accountId, input.RoleName, (r) => {
        delete r.PermissionsBoundary;
      });
      return {};
    },
    ...tagOperations('Role', { load: (i, ctx) => load(ctx.accountId, i.RoleName), update: (i, ctx, fn) => update(ctx.accountId, i.RoleName, fn) }),
    CreateServiceLinkedRole: async (input, ctx) => {
      const service: string = input.AWSServiceName;
      const known = SERVICE_LINKED[service];
      const base = known?.name ?? `AWSServiceRoleFor${service.split('.')[0]!.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`;
      if (input.CustomSuffix && known && service.startsWith('eks')) {
        throw iamError('InvalidInput', `Custom suffix is not allowed for ${service}`);
      }
      const name = input.CustomSuffix ? `${base}_${input.CustomSuffix}` : base;
      if (nameTaken(deps.state, ctx.accountId, 'role', 'RoleName', name)) {
        throw iamError('InvalidInput', `Service role name ${name} has been taken in this account, please try a different suffix.`);
      }
      const path = `/aws-service-role/${service}/`;
      const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: [service] }, Action: ['sts:AssumeRole'] }] });
      const role: RoleDoc = {
        Path: path,
        RoleName: name,
        RoleId: iamUniqueId('AROA'),
        Arn: `arn:aws:iam::${ctx.accountId}:role${path}${name}`,
        CreateDate: nowIso(ctx),
        AssumeRolePolicyDocument: encodePolicy(trust),
        Description: input.Description ?? known?.description,
        MaxSessionDuration: 3600,
        _attached: known ? [known.policy] : [],
        _inline: {},
      };
      await createRoleDoc(deps, ctx, role);
      const out = renderRole(role);
      delete out.RoleLastUsed;
      return { Role: out };
    },
    DeleteServiceLinkedRole: async (input, ctx) => {
      const role = load(ctx.accountId, input.RoleName);
      await state.commit([{ op: 'delete', key: iamKey(ctx.accountId, 'role', role.RoleName) }]);
      return { DeletionTaskId: `task/aws-service-role/${role.Path.split('/')[2]}/${role.RoleName}/${role.RoleId}` };
    },
    GetServiceLinkedRoleDeletionStatus: (_input) => ({ Status: 'SUCCEEDED' }),
  };
}
