/**
 * Identifiers IAM hands out: unique ids (AROA/AIDA/ANPA/AGPA/AIPA + 17
 * uppercase alphanumerics), access key ids (AKIA + 16) and secrets (40).
 */
import { randomBytes } from 'node:crypto';

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function pick(alphabet: string, n: number): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

/** Prefixes of IAM unique ids per entity type. */
export type IamIdPrefix = 'AROA' | 'AIDA' | 'ANPA' | 'AGPA' | 'AIPA';

/** iamUniqueId makes an id such as AROA + 17 uppercase alphanumerics (21 characters). */
export function iamUniqueId(prefix: IamIdPrefix): string {
  return prefix + pick(UPPER_ALNUM, 17);
}

/** accessKeyId makes a long-term access key id: AKIA + 16 characters. */
export function newAccessKeyId(): string {
  return 'AKIA' + pick(UPPER_ALNUM, 16);
}

/** newSecretAccessKey makes a 40-character secret access key. */
export function newSecretAccessKey(): string {
  return pick(SECRET_CHARS, 40);
}
