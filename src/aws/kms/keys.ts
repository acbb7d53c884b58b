/**
 * Key lookup and the symmetric ciphertext format.
 *
 * A ciphertext blob is: version byte 0x02, u16 length + UTF-8 key ARN, u16
 * key material number (rotations add materials; old ones still decrypt),
 * 12-byte IV, 16-byte GCM tag, then the AES-256-GCM ciphertext (version 0x01
 * blobs have no material number and use material 0). The additional
 * authenticated data binds the key ARN and the encryption context (sorted
 * key=value pairs), so a blob decrypts only under the same key and context,
 * and any changed byte fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { AwsState } from '../core/state.ts';
import { awsError } from '../core/types.ts';
import { aliasKey, keyKey, type AliasDoc, type KeyDoc } from './model.ts';

const KEY_ID_RE = /^(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KEY_ARN_RE = /^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN_RE = /^arn:aws[\w-]*:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

/** aliasArn builds an alias ARN. */
export function aliasArnOf(accountId: string, region: string, aliasName: string): string {
  return `arn:aws:kms:${region}:${accountId}:${aliasName}`;
}

/** keyArnOf builds a key ARN. */
export function keyArnOf(accountId: string, region: string, keyId: string): string {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

/** resolveKey finds a key by id, key ARN, alias name or alias ARN; undefined when none. */
export function resolveKey(state: AwsState, accountId: string, region: string, ref: string): KeyDoc | undefined {
  let m = KEY_ARN_RE.exec(ref);
  if (m) return state.get<KeyDoc>(keyKey(m[2]!, m[1]!, m[3]!));
  m = ALIAS_ARN_RE.exec(ref);
  if (m) {
    const a = state.get<AliasDoc>(aliasKey(m[2]!, m[1]!, m[3]!));
    return a?.TargetKeyId ? state.get<KeyDoc>(keyKey(m[2]!, m[1]!, a.TargetKeyId)) : undefined;
  }
  if (ref.startsWith('alias/')) {
    const a = state.get<AliasDoc>(aliasKey(accountId, region, ref));
    return a?.TargetKeyId ? state.get<KeyDoc>(keyKey(accountId, region, a.TargetKeyId)) : undefined;
  }
  return state.get<KeyDoc>(keyKey(accountId, region, ref));
}

/** requireKey resolves a key reference or throws KMS's NotFoundException. */
export function requireKey(state: AwsState, accountId: string, region: string, ref: string): KeyDoc {
  const key = resolveKey(state, accountId, region, ref);
  if (key) return key;
  if (ALIAS_ARN_RE.test(ref)) throw awsError('NotFoundException', `Alias ${ref} is not found.`);
  if (ref.startsWith('alias/')) throw awsError('NotFoundException', `Alias ${aliasArnOf(accountId, region, ref)} is not found.`);
  if (KEY_ARN_RE.test(ref)) throw awsError('NotFoundException', `Key '${ref}' does not exist`);
  if (!KEY_ID_RE.test(ref)) throw awsError('NotFoundException', `Invalid keyId ${ref}`);
  throw awsError('NotFoundException', `Key '${keyArnOf(accountId, region, ref)}' does not exist`);
}

/** assertUsable throws DisabledException / KMSInvalidStateException unless the key is Enabled. */
export function assertUsable(key: KeyDoc): void {
  if (key.KeyState === 'Enabled') return;
  if (key.KeyState === 'Disabled') throw awsError('DisabledException', `${key.Arn} is disabled.`);
  if (key.KeyState === 'PendingDeletion') throw awsError('KMSInvalidStateException', `${key.Arn} is pending deletion.`);
  throw awsError('KMSInvalidStateException', `${key.Arn} is ${key.KeyState.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}.`);
}

/** usableKey resolves a key that must be an enabled symmetric ENCRYPT_DECRYPT key. */
export function usableKey(state: AwsState, accountId: string, region: string, ref: string): KeyDoc {
  const key = requireKey(state, accountId, region, ref);
  assertUsable(key);
  if (key.KeyUsage !== 'ENCRYPT_DECRYPT' || !key._secret) {
    throw awsError('InvalidKeyUsageException', `${key.Arn} key usage is ${key.KeyUsage} which is not valid for this operation.`);
  }
  return key;
}

function aad(keyArn: string, context: Record<string, string>): Buffer {
  const pairs = Object.keys(context)
    .sort()
    .map((k) => `${k.length}:${k}=${String(context[k]).length}:${context[k]}`);
  return Buffer.from(`${keyArn}\n${pairs.join('\n')}`, 'utf8');
}

/** materialNumber is the number of a key's current material. */
export function materialNumber(key: KeyDoc): number {
  return key._oldSecrets?.length ?? 0;
}

function materialSecret(key: KeyDoc, n: number): string | undefined {
  const current = materialNumber(key);
  if (n === current) return key._secret;
  return n < current ? key._oldSecrets![n] : undefined;
}

/** encryptBlob encrypts plaintext under a symmetric key's current material, binding the encryption context. */
export function encryptBlob(key: KeyDoc, plaintext: Buffer, context: Record<string, string> = {}): Buffer {
  const secret = Buffer.from(key._secret!, 'base64');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', secret, iv);
  cipher.setAAD(aad(key.Arn, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const arn = Buffer.from(key.Arn, 'utf8');
  const head = Buffer.alloc(3);
  head[0] = 2;
  head.writeUInt16BE(arn.length, 1);
  const material = Buffer.alloc(2);
  material.writeUInt16BE(materialNumber(key));
  return Buffer.concat([head, arn, material, iv, cipher.getAuthTag(), body]);
}

/** parseBlob splits a blob into its parts, or undefined if it is not ours. */
function parseBlob(blob: Buffer): { arn: string; material: number; iv: Buffer; tag: Buffer; body: Buffer } | undefined {
  if (!Buffer.isBuffer(blob) || blob.length < 3 || (blob[0] !== 1 && blob[0] !== 2)) return undefined;
  const n = blob.readUInt16BE(1);
  let at = 3 + n;
  if (blob.length < at) return undefined;
  const arn = blob.subarray(3, at).toString('utf8');
  if (!KEY_ARN_RE.test(arn)) return undefined;
  let material = 0;
  if (blob[0] === 2) {
    if (blob.length < at + 2) return undefined;
    material = blob.readUInt16BE(at);
    at += 2;
  }
  if (blob.length < at + 28) return undefined;
  return { arn, material, iv: blob.subarray(at, at + 12), tag: blob.subarray(at + 12, at + 28), body: blob.subarray(at + 28) };
}

/** blobKeyArn reads the key ARN a ciphertext blob names, or undefined if the blob is not ours. */
export function blobKeyArn(blob: Buffer): string | undefined {
  return parseBlob(blob)?.arn;
}

/**
 * decryptBlob opens a blob made by encryptBlob. Malformed blobs, tampering
 * and a wrong encryption context all give InvalidCiphertextException; the
 * key must exist and be usable.
 */
export function decryptBlob(
  state: AwsState,
  accountId: string,
  region: string,
  blob: Buffer,
  context: Record<string, string> = {},
  expectedKeyRef?: string,
): { KeyId: string; Plaintext: Buffer } {
  if (!Buffer.isBuffer(blob)) blob = Buffer.from(blob as Uint8Array);
  const parts = parseBlob(blob);
  if (!parts) throw awsError('InvalidCiphertextException', '');
  const [, blobRegion, blobAccount, blobKeyId] = KEY_ARN_RE.exec(parts.arn)!;
  // KMS keys are regional: a ciphertext only opens in its key's region.
  if (blobRegion !== region) throw awsError('InvalidCiphertextException', '');
  const key = state.get<KeyDoc>(keyKey(blobAccount!, blobRegion!, blobKeyId!));
  if (!key || !key._secret) throw awsError('InvalidCiphertextException', '');
  if (expectedKeyRef !== undefined) {
    const want = requireKey(state, accountId, region, expectedKeyRef);
    if (want.Arn !== key.Arn) {
      throw awsError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
  }
  assertUsable(key);
  const secret = materialSecret(key, parts.material);
  if (!secret) throw awsError('InvalidCiphertextException', '');
  try {
    const d = createDecipheriv('aes-256-gcm', Buffer.from(secret, 'base64'), parts.iv);
    d.setAAD(aad(key.Arn, context));
    d.setAuthTag(parts.tag);
    return { KeyId: key.Arn, Plaintext: Buffer.concat([d.update(parts.body), d.final()]) };
  } catch {
    throw awsError('InvalidCiphertextException', '');
  }
}
