/**
 * Private IPv4 allocation in a subnet. A subnet document keeps a bitmap of
 * used host offsets (`_ipBits`, base64) and their count (`_used`). AWS
 * reserves the first four addresses and the last one of every subnet, so a
 * subnet of n addresses has n - 5 available.
 */
import { type Cidr, formatIpv4, parseCidr, parseIpv4 } from './cidr.ts';
import { ec2Error } from './errors.ts';
import type { Doc } from './store.ts';

export const RESERVED_PER_SUBNET = 5;

/** availableIps returns AvailableIpAddressCount of a stored subnet. */
export function availableIps(subnet: Doc): number {
  const c = parseCidr(subnet.CidrBlock)!;
  return Math.max(0, c.size - RESERVED_PER_SUBNET - (subnet._used ?? 0));
}

function bitsOf(subnet: Doc, c: Cidr): Buffer {
  const n = Math.ceil(c.size / 8);
  const b = Buffer.alloc(n);
  if (subnet._ipBits) Buffer.from(subnet._ipBits as string, 'base64').copy(b);
  return b;
}

function reserved(off: number, size: number): boolean {
  return off < 4 || off === size - 1;
}

/**
 * allocateIps marks `count` free addresses (or exactly `wanted`) used in a
 * subnet document (modified in place) and returns them. Throws
 * InsufficientFreeAddressesInSubnet when the subnet cannot satisfy the
 * request, InvalidIPAddress.InUse / InvalidParameterValue for a wanted
 * address that is taken or outside the subnet. The document is unchanged on error.
 */
export function allocateIps(subnet: Doc, count: number, wanted: string[] = []): string[] {
  const c = parseCidr(subnet.CidrBlock)!;
  const bits = bitsOf(subnet, c);
  const res: number[] = [];
  const take = (off: number) => {
    bits[off >> 3] |= 1 << (off & 7);
    res.push(off);
  };
  const isUsed = (off: number) => (bits[off >> 3]! & (1 << (off & 7))) !== 0;
  for (const w of wanted) {
    const ip = parseIpv4(w);
    if (ip === undefined || ip < c.base || ip >= c.base + c.size) {
      throw ec2Error('InvalidParameterValue', `Address ${w} does not fall within the subnet's address range`);
    }
    const off = ip - c.base;
    if (reserved(off, c.size)) throw ec2Error('InvalidParameterValue', `Address ${w} is in subnet's reserved address range`);
    if (isUsed(off) || res.includes(off)) throw ec2Error('InvalidIPAddress.InUse', `Address ${w} is in use.`);
    take(off);
  }
  let need = count - wanted.length;
  if (need > c.size - RESERVED_PER_SUBNET - (subnet._used ?? 0) - wanted.length) {
    throw ec2Error(
      'InsufficientFreeAddressesInSubnet',
      `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
    );
  }
  // Scan from a rotating cursor so that a released address is not handed out again at once.
  let off = subnet._cursor ?? 4;
  for (let scanned = 0; need > 0 && scanned < c.size; scanned++, off++) {
    if (off >= c.size - 1) off = 4;
    if (!isUsed(off)) {
      take(off);
      need--;
    }
  }
  if (need > 0) {
    throw ec2Error(
      'InsufficientFreeAddressesInSubnet',
      `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
    );
  }
  subnet._cursor = off;
  subnet._ipBits = bits.toString('base64');
  subnet._used = (subnet._used ?? 0) + res.length;
  return res.map((o) => formatIpv4(c.base + o));
}

/** releaseIps frees addresses in a subnet document (modified in place); unknown ones are ignored. */
export function releaseIps(subnet: Doc, ips: string[]): void {
  const c = parseCidr(subnet.CidrBlock)!;
  const bits = bitsOf(subnet, c);
  let freed = 0;
  for (const s of ips) {
    const ip = parseIpv4(s);
    if (ip === undefined || ip < c.base || ip >= c.base + c.size) continue;
    const off = ip - c.base;
    const m = 1 << (off & 7);
    if (bits[off >> 3]! & m) {
      bits[off >> 3] &= ~m;
      freed++;
    }
  }
  subnet._ipBits = bits.toString('base64');
  subnet._used = Math.max(0, (subnet._used ?? 0) - freed);
}

/** ipInUse tells whether an address of the subnet is allocated. */
export function ipInUse(subnet: Doc, s: string): boolean {
  const c = parseCidr(subnet.CidrBlock)!;
  const ip = parseIpv4(s);
  if (ip === undefined || ip < c.base || ip >= c.base + c.size) return false;
  const off = ip - c.base;
  if (!subnet._ipBits) return false;
  const b = Buffer.from(subnet._ipBits as string, 'base64');
  return ((b[off >> 3] ?? 0) & (1 << (off & 7))) !== 0;
}
