/**
 * The IAM side of a cluster as eksctl makes it: the cluster service role
 * (AmazonEKSClusterPolicy, AmazonEKSVPCResourceController), node instance
 * roles (AmazonEKSWorkerNodePolicy, AmazonEKS_CNI_Policy,
 * AmazonEC2ContainerRegistryReadOnly, AmazonSSMManagedInstanceCore), the
 * Fargate pod execution role (AmazonEKSFargatePodExecutionRolePolicy), the
 * IAM OIDC provider of the cluster's issuer, and IRSA roles trusted through
 * it (`system:serviceaccount:<ns>:<name>`). Roles are tagged with the
 * cluster and named `eksctl-<cluster>-...` so `delete cluster` finds them.
 */
import { X509Certificate } from 'node:crypto';
import type { CliContext } from './context.ts';
import type { Created } from './network.ts';
import { clusterTags, roleName, stackName, TAG_CLUSTER, toTagList } from './names.ts';
import { ADDON_POLICIES, grantsOf, managedPoliciesOf, putInlinePolicies } from './policies.ts';

const POLICY = (name: string) => `arn:aws:iam::aws:policy/${name}`;
export const CLUSTER_POLICIES = [POLICY('AmazonEKSClusterPolicy'), POLICY('AmazonEKSVPCResourceController')];
export const NODE_POLICIES = [POLICY('AmazonEKSWorkerNodePolicy'), POLICY('AmazonEKS_CNI_Policy'), POLICY('AmazonEC2ContainerRegistryReadOnly'), POLICY('AmazonSSMManagedInstanceCore')];
export const FARGATE_POLICIES = [POLICY('AmazonEKSFargatePodExecutionRolePolicy')];

const trust = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...statement }] });
const serviceTrust = (...services: string[]) => trust({ Principal: { Service: services.length === 1 ? services[0] : services }, Action: ['sts:AssumeRole', 'sts:TagSession'] });

export interface RoleSpec {
  name: string;
  trustPolicy: string;
  policies: string[];
  tags: Record<string, string>;
  permissionsBoundary?: string;
  /** Named grants (withAddonPolicies / wellKnownPolicies): managed policies attached, statements put inline. */
  grants?: ReturnType<typeof grantsOf>;
  /** An inline policy document (eksctl's attachPolicy). */
  attachPolicy?: unknown;
}

/** createRole creates a role and attaches its managed policies; returns its ARN. */
export async function createRole(ctx: CliContext, spec: RoleSpec, created: Created): Promise<string> {
  const r = await ctx.aws.call('iam', 'CreateRole', { RoleName: spec.name, AssumeRolePolicyDocument: spec.trustPolicy, Tags: toTagList(spec.tags), PermissionsBoundary: spec.permissionsBoundary });
  created(`IAM role ${spec.name}`);
  const managed = [...new Set([...spec.policies, ...managedPoliciesOf(spec.grants ?? [])])];
  await Promise.all([...managed.map((p) => ctx.aws.call('iam', 'AttachRolePolicy', { RoleName: spec.name, PolicyArn: p })), putInlinePolicies(ctx, spec.name, spec.grants ?? [], spec.attachPolicy)]);
  return r.Role.Arn;
}

/** clusterRoleSpec: the service role (iam.serviceRolePermissionsBoundary, iam.vpcResourceControllerPolicy honoured). */
export function clusterRoleSpec(cluster: string, iam: { serviceRolePermissionsBoundary?: string; vpcResourceControllerPolicy?: boolean } = {}, userTags?: Record<string, string>): RoleSpec {
  return {
    name: roleName(stackName(cluster, 'cluster'), 'ServiceRole'),
    trustPolicy: serviceTrust('eks.amazonaws.com'),
    policies: iam.vpcResourceControllerPolicy === false ? CLUSTER_POLICIES.slice(0, 1) : CLUSTER_POLICIES,
    tags: clusterTags(cluster, userTags),
    permissionsBoundary: iam.serviceRolePermissionsBoundary,
  };
}

/**
 * nodeRoleSpec: a node group's instance role. As in eksctl, iam.attachPolicyARNs
 * replaces the default node policies; withAddonPolicies and attachPolicy add
 * to them; instanceRoleName and instanceRolePermissionsBoundary are honoured.
 */
export function nodeRoleSpec(cluster: string, ng: { name: string; iam?: Record<string, any> }, userTags?: Record<string, string>): RoleSpec {
  const iam = ng.iam ?? {};
  return {
    name: iam.instanceRoleName ?? roleName(stackName(cluster, `nodegroup-${ng.name}`), 'NodeInstanceRole'),
    trustPolicy: trust({ Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    policies: iam.attachPolicyARNs?.length ? iam.attachPolicyARNs : NODE_POLICIES,
    tags: { ...clusterTags(cluster, userTags), 'alpha.eksctl.io/nodegroup-name': ng.name },
    permissionsBoundary: iam.instanceRolePermissionsBoundary,
    grants: grantsOf(iam.withAddonPolicies, ADDON_POLICIES, `${ng.name}: iam.withAddonPolicies`),
    attachPolicy: iam.attachPolicy,
  };
}

export function fargateRoleSpec(cluster: string, userTags?: Record<string, string>): RoleSpec {
  return { name: roleName(stackName(cluster, 'cluster'), 'FargatePodExecutionRole'), trustPolicy: serviceTrust('eks-fargate-pods.amazonaws.com'), policies: FARGATE_POLICIES, tags: clusterTags(cluster, userTags) };
}

/** issuerHostPath is the issuer URL without https:// (the IAM provider's id, and the condition key prefix). */
export function issuerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, '');
}

/**
 * ensureOidcProvider creates the IAM OIDC provider for the cluster's issuer
 * (client id sts.amazonaws.com, thumbprint of the issuer's CA) unless one
 * exists; returns its ARN.
 */
export async function ensureOidcProvider(ctx: CliContext, cluster: string, issuer: string, caData: string, created: Created, userTags?: Record<string, string>): Promise<string> {
  const want = issuerHostPath(issuer);
  const list = (await ctx.aws.call('iam', 'ListOpenIDConnectProviders', {})).OpenIDConnectProviderList ?? [];
  const found = list.find((p: any) => String(p.Arn).endsWith(`:oidc-provider/${want}`));
  if (found) return found.Arn;
  let thumbprint = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';
  try {
    thumbprint = new X509Certificate(Buffer.from(caData, 'base64')).fingerprint.replace(/:/g, '').toLowerCase();
  } catch {
    /* keep the well-known thumbprint */
  }
  const r = await ctx.aws.call('iam', 'CreateOpenIDConnectProvider', { Url: issuer, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [thumbprint], Tags: toTagList(clusterTags(cluster, userTags)) });
  created(`IAM OIDC provider ${r.OpenIDConnectProviderArn}`);
  return r.OpenIDConnectProviderArn;
}

/** podIdentityTrustPolicy trusts the EKS Pod Identity agent (pods.eks.amazonaws.com). */
export function podIdentityTrustPolicy(): string {
  return serviceTrust('pods.eks.amazonaws.com');
}

/** irsaTrustPolicy trusts one service account through the cluster's OIDC provider. */
export function irsaTrustPolicy(providerArn: string, issuer: string, namespace: string, name: string): string {
  const hp = issuerHostPath(issuer);
  return trust({
    Principal: { Federated: providerArn },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${hp}:aud`]: 'sts.amazonaws.com', [`${hp}:sub`]: `system:serviceaccount:${namespace}:${name}` } },
  });
}

/** clusterRoles lists the roles created for `cluster` (name prefix, then the cluster tag). */
export async function clusterRoles(ctx: CliContext, cluster: string): Promise<string[]> {
  const prefix = `eksctl-${cluster}-`.slice(0, 40);
  const names: string[] = [];
  let Marker: string | undefined;
  do {
    const r = await ctx.aws.call('iam', 'ListRoles', { Marker, MaxItems: 1000 });
    for (const role of r.Roles ?? []) if (String(role.RoleName).startsWith(prefix)) names.push(role.RoleName);
    Marker = r.IsTruncated ? r.Marker : undefined;
  } while (Marker);
  const mine = await Promise.all(
    names.map(async (n) => {
      const tags = (await ctx.aws.call('iam', 'ListRoleTags', { RoleName: n })).Tags ?? [];
      return tags.some((t: any) => t.Key === TAG_CLUSTER && t.Value === cluster) ? n : undefined;
    }),
  );
  return mine.filter((n): n is string => n !== undefined);
}

/** deleteRole detaches every policy, removes it from instance profiles (deleting those), and deletes the role. */
export async function deleteRole(ctx: CliContext, name: string): Promise<void> {
  const iam = (op: string, input: Record<string, unknown>) => ctx.aws.call('iam', op, input);
  const attached = (await iam('ListAttachedRolePolicies', { RoleName: name })).AttachedPolicies ?? [];
  await Promise.all(attached.map((p: any) => iam('DetachRolePolicy', { RoleName: name, PolicyArn: p.PolicyArn })));
  const inline = (await iam('ListRolePolicies', { RoleName: name })).PolicyNames ?? [];
  await Promise.all(inline.map((p: string) => iam('DeleteRolePolicy', { RoleName: name, PolicyName: p })));
  const profiles = (await iam('ListInstanceProfilesForRole', { RoleName: name })).InstanceProfiles ?? [];
  for (const p of profiles) {
    await iam('RemoveRoleFromInstanceProfile', { InstanceProfileName: p.InstanceProfileName, RoleName: name });
    await iam('DeleteInstanceProfile', { InstanceProfileName: p.InstanceProfileName });
  }
  await iam('DeleteRole', { RoleName: name });
}

/** deleteOidcProvider removes the IAM OIDC provider of an issuer, if present. */
export async function deleteOidcProvider(ctx: CliContext, issuer: string): Promise<boolean> {
  const want = issuerHostPath(issuer);
  const list = (await ctx.aws.call('iam', 'ListOpenIDConnectProviders', {})).OpenIDConnectProviderList ?? [];
  const found = list.find((p: any) => String(p.Arn).endsWith(`:oidc-provider/${want}`));
  if (!found) return false;
  await ctx.aws.call('iam', 'DeleteOpenIDConnectProvider', { OpenIDConnectProviderArn: found.Arn });
  return true;
}
