/**
 * How KMS keys are kept: `/aws/kms/<account>/<region>/key/<KeyId>` holding
 * the model's KeyMetadata plus private fields (the key material, policy,
 * tags, rotation flag, grants). Aliases: `.../alias/<alias name>` holding the
 * model's AliasListEntry.
 *
 * Timestamps are ISO strings in the store; handlers answer Date.
 */
import { awsKey, collectionPrefix, type Scope } from '../core/state.ts';

export const KMS = 'kms';

export interface KmsTag {
  TagKey: string;
  TagValue: string;
}

export interface GrantDoc {
  KeyId: string;
  GrantId: string;
  Name?: string;
  CreationDate: string;
  GranteePrincipal: string;
  RetiringPrincipal?: string;
  IssuingAccount: string;
  Operations: string[];
  Constraints?: Record<string, unknown>;
  _token: string;
}

export interface KeyDoc {
  AWSAccountId: string;
  KeyId: string;
  Arn: string;
  CreationDate: string;
  Enabled: boolean;
  Description: string;
  KeyUsage: string;
  KeyState: string;
  DeletionDate?: string;
  PendingDeletionWindowInDays?: number;
  Origin: string;
  KeyManager: 'CUSTOMER' | 'AWS';
  CustomerMasterKeySpec: string;
  KeySpec: string;
  EncryptionAlgorithms?: string[];
  SigningAlgorithms?: string[];
  KeyAgreementAlgorithms?: string[];
  MultiRegion: boolean;
  /** Base64 of the current 32-byte AES key material (symmetric keys). */
  _secret?: string;
  /** Earlier key materials after rotations, oldest first; material number i is _oldSecrets[i], the current one is _oldSecrets.length. */
  _oldSecrets?: string[];
  /** Completed rotations (ListKeyRotations). */
  _rotations?: { RotationDate: string; RotationType: 'AUTOMATIC' | 'ON_DEMAND'; KeyMaterialId: string }[];
  /** When automatic rotation next happens (ISO), while enabled. */
  _nextRotation?: string;
  /** PEM private key (asymmetric keys). */
  _privateKeyPem?: string;
  _publicKeyDer?: string;
  _policy: string;
  _tags: KmsTag[];
  _rotation: boolean;
  _rotationPeriodInDays?: number;
  _grants: GrantDoc[];
}

export interface AliasDoc {
  AliasName: string;
  AliasArn: string;
  TargetKeyId?: string;
  CreationDate: string;
  LastUpdatedDate: string;
}

export function kmsScope(accountId: string, region: string): Scope {
  return { accountId, region };
}

export function keyKey(accountId: string, region: string, keyId: string): string {
  return awsKey(kmsScope(accountId, region), KMS, 'key', keyId);
}

export function aliasKey(accountId: string, region: string, aliasName: string): string {
  return awsKey(kmsScope(accountId, region), KMS, 'alias', aliasName);
}

export function keyCollection(accountId: string, region: string): string {
  return collectionPrefix(kmsScope(accountId, region), KMS, 'key');
}

export function aliasCollection(accountId: string, region: string): string {
  return collectionPrefix(kmsScope(accountId, region), KMS, 'alias');
}
