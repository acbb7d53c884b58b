/**
 * IPv4 address and CIDR arithmetic for VPCs, subnets, routes and security
 * group rules. Addresses are unsigned 32-bit numbers.
 */

/** A parsed IPv4 CIDR block. `base` is the network address (host bits zero). */
export interface Cidr {
  base: number;
  prefix: number;
  /** Number of addresses in the block. */
  size: number;
}

/** parseIpv4 returns the address as a number, or undefined when it is not a dotted quad. */
export function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

/** formatIpv4 renders an address number as a dotted quad. */
export function formatIpv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * parseCidr parses "a.b.c.d/n". With `strict`, host bits must be zero (as
 * EC2 requires for VPC and subnet blocks); otherwise they are masked off.
 */
export function parseCidr(s: string, strict = true): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m) return undefined;
  const ip = parseIpv4(m[1]!);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const base = Math.floor(ip / size) * size;
  if (strict && base !== ip) return undefined;
  return { base, prefix, size };
}

/** cidrString renders a block. */
export function cidrString(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** cidrContains is true when inner lies entirely within outer. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && inner.base + inner.size <= outer.base + outer.size;
}

/** cidrOverlaps is true when the blocks share an address. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

/** ipInCidr is true when the address lies in the block. */
export function ipInCidr(ip: number, c: Cidr): boolean {
  return ip >= c.base && ip < c.base + c.size;
}
