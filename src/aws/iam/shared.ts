/**
 * What other services may read from IAM (STS, EKS, EC2, the gateway's SigV4
 * verification). These functions read the state cache synchronously and
 * return stored documents (timestamps as ISO strings, AssumeRolePolicyDocument
 * URL-encoded); treat them as read-only.
 */
import type { AwsState } from '../core/state.ts';
import { awsManagedPolicy } from './aws-managed-policies.ts';
import {
  accessKeyKey,
  arnAccount,
  iamKey,
  oidcProviderId,
  type AccessKeyDoc,
  type InstanceProfileDoc,
  type OidcProviderDoc,
  type PolicyDoc,
  type RoleDoc,
} from './model.ts';

export type { AccessKeyDoc, InstanceProfileDoc, OidcProviderDoc, PolicyDoc, RoleDoc } from './model.ts';

/** getRole returns the role named roleName in accountId, or undefined. */
export function getRole(state: AwsState, accountId: string, roleName: string): RoleDoc | undefined {
  return state.get<RoleDoc>(iamKey(accountId, 'role', roleName));
}

/**
 * getRoleByArn returns the role an ARN names (arn:aws:iam::<account>:role/<path>/<name>),
 * or undefined when the ARN is malformed, the role is missing, or its path differs.
 */
export function getRoleByArn(state: AwsState, arn: string): RoleDoc | undefined {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):role(\/.*\/|\/)([\w+=,.@-]+)$/.exec(arn);
  if (!m) return undefined;
  const role = getRole(state, m[1]!, m[3]!);
  return role && role.Arn === arn ? role : undefined;
}

/** roleTrustPolicy returns the role's trust policy as parsed JSON. */
export function roleTrustPolicy(role: RoleDoc): unknown {
  return JSON.parse(decodeURIComponent(role.AssumeRolePolicyDocument));
}

/** getOidcProviderByUrl returns the account's IAM OIDC provider for an issuer URL (with or without https://). */
export function getOidcProviderByUrl(state: AwsState, accountId: string, url: string): OidcProviderDoc | undefined {
  return state.get<OidcProviderDoc>(iamKey(accountId, 'oidc-provider', oidcProviderId(url)));
}

/** getOidcProviderByArn returns the provider an arn:aws:iam::<account>:oidc-provider/<url> names. */
export function getOidcProviderByArn(state: AwsState, arn: string): OidcProviderDoc | undefined {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):oidc-provider\/(.+)$/.exec(arn);
  if (!m) return undefined;
  return getOidcProviderByUrl(state, m[1]!, m[2]!);
}

/** findAccessKey returns a long-term access key (any account) by its id, or undefined. */
export function findAccessKey(state: AwsState, accessKeyId: string): AccessKeyDoc | undefined {
  return state.get<AccessKeyDoc>(accessKeyKey(accessKeyId));
}

/** getInstanceProfile returns an instance profile by name. */
export function getInstanceProfile(state: AwsState, accountId: string, name: string): InstanceProfileDoc | undefined {
  return state.get<InstanceProfileDoc>(iamKey(accountId, 'instance-profile', name));
}

/** getInstanceProfileByArn returns the instance profile an ARN names, or undefined. */
export function getInstanceProfileByArn(state: AwsState, arn: string): InstanceProfileDoc | undefined {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):instance-profile(\/.*\/|\/)([\w+=,.@-]+)$/.exec(arn);
  if (!m) return undefined;
  const p = getInstanceProfile(state, m[1]!, m[3]!);
  return p && p.Arn === arn ? p : undefined;
}

/** getPolicy returns a customer managed policy or an AWS managed policy by ARN. */
export function getPolicy(state: AwsState, arn: string): PolicyDoc | undefined {
  const account = arnAccount(arn);
  if (account === 'aws') return awsManagedPolicy(arn);
  if (!account) return undefined;
  const m = /:policy(\/.*\/|\/)([\w+=,.@-]+)$/.exec(arn);
  if (!m) return undefined;
  const p = state.get<PolicyDoc>(iamKey(account, 'policy', m[2]!));
  return p && p.Arn === arn ? p : undefined;
}

/** policyExists tells whether a managed policy ARN (customer or AWS) resolves. */
export function policyExists(state: AwsState, arn: string): boolean {
  return getPolicy(state, arn) !== undefined;
}

/** attachedRolePolicyArns lists the managed policy ARNs attached to a role. */
export function attachedRolePolicyArns(role: RoleDoc): string[] {
  return [...role._attached];
}
