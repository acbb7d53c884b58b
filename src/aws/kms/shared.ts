/**
 * What other services may use from KMS: key lookup and envelope encryption
 * (EKS secrets encryption wraps a data key with the cluster's KMS key).
 * Errors are KMS's own AwsServiceErrors (NotFoundException,
 * DisabledException, KMSInvalidStateException, InvalidCiphertextException).
 */
import type { AwsState } from '../core/state.ts';
import { decryptBlob, encryptBlob, resolveKey, usableKey } from './keys.ts';
import type { KeyDoc } from './model.ts';
import { randomBytes } from 'node:crypto';

export type { KeyDoc } from './model.ts';

/**
 * getKey resolves a key id, key ARN, alias name (alias/x) or alias ARN in
 * the given account and region (an ARN's own account and region win).
 * Returns undefined when nothing matches.
 */
export function getKey(state: AwsState, accountId: string, region: string, arnOrId: string): KeyDoc | undefined {
  return resolveKey(state, accountId, region, arnOrId);
}

/** Alias kept for callers written against the brief's name. */
export const getKeyByArnOrId = getKey;

/** A fresh data key: plaintext for immediate use, ciphertext to store. */
export interface DataKey {
  KeyId: string;
  Plaintext: Buffer;
  CiphertextBlob: Buffer;
}

/**
 * generateDataKey makes a fresh 32-byte data key and returns it with its
 * ciphertext under the KMS key (throws NotFound/Disabled/InvalidState as KMS does).
 */
export function generateDataKey(
  state: AwsState,
  accountId: string,
  region: string,
  keyId: string,
  encryptionContext: Record<string, string> = {},
): DataKey {
  const key = usableKey(state, accountId, region, keyId);
  const plaintext = randomBytes(32);
  return { KeyId: key.Arn, Plaintext: plaintext, CiphertextBlob: encryptBlob(key, plaintext, encryptionContext) };
}

/** decrypt opens a ciphertext blob made by Encrypt/GenerateDataKey (the blob names its key). */
export function decrypt(
  state: AwsState,
  accountId: string,
  region: string,
  ciphertext: Buffer,
  encryptionContext: Record<string, string> = {},
): { KeyId: string; Plaintext: Buffer } {
  return decryptBlob(state, accountId, region, ciphertext, encryptionContext);
}

/** encrypt encrypts up to 4096 bytes under a key. */
export function encrypt(
  state: AwsState,
  accountId: string,
  region: string,
  keyId: string,
  plaintext: Buffer,
  encryptionContext: Record<string, string> = {},
): { KeyId: string; CiphertextBlob: Buffer } {
  const key = usableKey(state, accountId, region, keyId);
  return { KeyId: key.Arn, CiphertextBlob: encryptBlob(key, plaintext, encryptionContext) };
}
