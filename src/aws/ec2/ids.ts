/**
 * EC2 resource ids: a type prefix, a dash and 17 lowercase hex digits
 * (vpc-0a1b2c3d4e5f67890), as EC2 issues them since 2018.
 */
import { randomBytes } from 'node:crypto';

/** newId returns a fresh id such as `vpc-0123456789abcdef0`. */
export function newId(prefix: string): string {
  return `${prefix}-0${randomBytes(8).toString('hex')}`;
}

/** newHex returns n random lowercase hex digits. */
export function newHex(n: number): string {
  return randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}
