/**
 * How IAM resources are kept in AwsState: one document per entity in the
 * model's own output shape (Role, User, Group, Policy, InstanceProfile, ...)
 * plus private `_` fields, under
 * `/aws/iam/<account>/global/<type>/<name>`. Access keys are account-less
 * (`/aws/iam/_/global/access-key/<AccessKeyId>`) so that STS and SigV4
 * verification find them from the key id alone.
 *
 * Timestamps are ISO-8601 strings in the store; handlers turn them into Date
 * when answering.
 */
import { awsKey, collectionPrefix, GLOBAL_REGION, type Scope } from '../core/state.ts';

export const IAM = 'iam';

export type Tag = { Key: string; Value: string };

/** Inline policies of a principal: name -> URL-encoded document. */
export type InlinePolicies = Record<string, string>;

export interface RoleDoc {
  Path: string;
  RoleName: string;
  RoleId: string;
  Arn: string;
  CreateDate: string;
  /** URL-encoded JSON, as IAM returns it. */
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  PermissionsBoundary?: { PermissionsBoundaryType: 'Policy'; PermissionsBoundaryArn: string };
  Tags?: Tag[];
  RoleLastUsed?: { LastUsedDate?: string; Region?: string };
  /** ARNs of attached managed policies, in attach order. */
  _attached: string[];
  _inline: InlinePolicies;
}

export interface UserDoc {
  Path: string;
  UserName: string;
  UserId: string;
  Arn: string;
  CreateDate: string;
  PermissionsBoundary?: { PermissionsBoundaryType: 'Policy'; PermissionsBoundaryArn: string };
  Tags?: Tag[];
  _attached: string[];
  _inline: InlinePolicies;
  /** Names of the groups the user is in. */
  _groups: string[];
  /** Console login profile (the password itself is not kept). */
  _loginProfile?: { CreateDate: string; PasswordResetRequired: boolean };
}

export interface GroupDoc {
  Path: string;
  GroupName: string;
  GroupId: string;
  Arn: string;
  CreateDate: string;
  _attached: string[];
  _inline: InlinePolicies;
}

export interface PolicyVersionDoc {
  VersionId: string;
  /** URL-encoded JSON. */
  Document: string;
  IsDefaultVersion: boolean;
  CreateDate: string;
}

export interface PolicyDoc {
  PolicyName: string;
  PolicyId: string;
  Arn: string;
  Path: string;
  DefaultVersionId: string;
  IsAttachable: boolean;
  Description?: string;
  CreateDate: string;
  UpdateDate: string;
  Tags?: Tag[];
  _versions: PolicyVersionDoc[];
  _nextVersion: number;
}

export interface InstanceProfileDoc {
  Path: string;
  InstanceProfileName: string;
  InstanceProfileId: string;
  Arn: string;
  CreateDate: string;
  Tags?: Tag[];
  /** Role names in the profile (at most one, as in AWS). */
  _roles: string[];
}

export interface OidcProviderDoc {
  /** Without the https:// scheme, as GetOpenIDConnectProvider returns it. */
  Url: string;
  Arn: string;
  ClientIDList: string[];
  ThumbprintList: string[];
  CreateDate: string;
  Tags?: Tag[];
}

export interface SamlProviderDoc {
  Name: string;
  Arn: string;
  SAMLMetadataDocument: string;
  SAMLProviderUUID: string;
  CreateDate: string;
  ValidUntil: string;
  AssertionEncryptionMode?: string;
  Tags?: Tag[];
}

/** Account-wide settings: the password policy and the account alias. */
export interface AccountSettingsDoc {
  PasswordPolicy?: Record<string, unknown>;
  AccountAlias?: string;
  /** When GenerateCredentialReport last ran (ISO). */
  CredentialReportAt?: string;
}

/** The shared access-key document (see the project brief's conventions). */
export interface AccessKeyDoc {
  AccessKeyId: string;
  SecretAccessKey: string;
  UserName: string;
  Status: 'Active' | 'Inactive';
  CreateDate: string;
  AccountId: string;
  _lastUsed?: { LastUsedDate: string; ServiceName: string; Region: string };
}

/** The scope of IAM entities of one account. */
export function iamScope(accountId: string): Scope {
  return { accountId, region: GLOBAL_REGION };
}

/** The account-less scope of access keys. */
export const ACCESS_KEY_SCOPE: Scope = { accountId: '_', region: GLOBAL_REGION };

export type IamType = 'role' | 'user' | 'group' | 'policy' | 'instance-profile' | 'oidc-provider' | 'saml-provider' | 'account';

export function iamKey(accountId: string, type: IamType, id: string): string {
  return awsKey(iamScope(accountId), IAM, type, id);
}

export function iamCollection(accountId: string, type: IamType): string {
  return collectionPrefix(iamScope(accountId), IAM, type);
}

export function accessKeyKey(accessKeyId: string): string {
  return awsKey(ACCESS_KEY_SCOPE, IAM, 'access-key', accessKeyId);
}

export const ACCESS_KEY_COLLECTION = collectionPrefix(ACCESS_KEY_SCOPE, IAM, 'access-key');

/** oidcProviderId turns a provider URL (with or without https://) into its id (host/path, no trailing slash). */
export function oidcProviderId(url: string): string {
  return url.replace(/^https:\/\//, '').replace(/\/+$/, '');
}

/** The account id inside an IAM ARN (arn:aws:iam::<account>:...), or undefined. */
export function arnAccount(arn: string): string | undefined {
  const m = /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}|aws):/.exec(arn);
  return m?.[1];
}
