/**
 * The CEL environment of Kubernetes validation rules (CRD
 * `x-kubernetes-validations`): @marcbachmann/cel-js (standard CEL, macros,
 * optional types `self.?field` / `.orValue()` / `optional.of`) plus the
 * Kubernetes libraries of k8s.io/apiserver/pkg/cel/library and the cel-go
 * extensions the API server enables:
 *
 * - quantity: `quantity(s)`, `isQuantity(s)`, `sign`, `isInteger`, `asInteger`,
 *   `asApproximateFloat`, `add`/`sub` (quantity or int), `mul(int)`,
 *   `isGreaterThan`, `isLessThan`, `compareTo`, `==` by value;
 * - url: `url(s)`, `isURL(s)`, `getScheme`, `getHost`, `getHostname`, `getPort`,
 *   `getEscapedPath`, `getQuery`;
 * - ip / cidr: `ip(s)`, `isIP(s)`, `ip.isCanonical(s)`, `family`, `isUnspecified`,
 *   `isLoopback`, `isLinkLocalMulticast`, `isLinkLocalUnicast`,
 *   `isGlobalUnicast`, `cidr(s)`, `isCIDR(s)`, `containsIP`, `containsCIDR`, `ip()`,
 *   `masked`, `prefixLength`, `string(...)`, `==` by value;
 * - regex: `find`, `findAll` (with a limit);
 * - lists: `sum`, `min`, `max`, `indexOf`, `lastIndexOf`, `isSorted`;
 * - strings (cel-go ext v2+): `charAt`, `replace`, `reverse`, `format`,
 *   `strings.quote` (the others are built into cel-js);
 * - sets: `sets.contains`, `sets.equivalent`, `sets.intersects`;
 * - format: `format.dns1123Label()` (and the other named formats),
 *   `format.named(name)`, `<format>.validate(s)` (none, or the list of errors);
 * - semver: `semver(s[, normalize])`, `isSemver(s[, normalize])`, `major`,
 *   `minor`, `patch`, `isGreaterThan`, `isLessThan`, `compareTo`;
 * - image: `image(s)`, `isImage(s)`, `containsDigest`, `registry`,
 *   `repository`, `identifier`, `tag`, `digest`;
 * - two-variable comprehensions: `all`/`exists`/`existsOne(k, v, p)`,
 *   `transformList`/`transformMap(k, v, [filter,] e)` over lists and maps;
 * - authz: `authorizer.group(g).resource(r).namespace(ns).name(n).check(verb)`,
 *   `authorizer.path(p).check(verb)`, `authorizer.requestResource.check(verb)`,
 *   decisions' `allowed()`, `reason()`, `errored()`, `error()` (the
 *   `authorizer` variable is an admission policy's, a `CelAuthorizer`).
 *
 * List and map literals must be homogeneous, as in upstream's base environment.
 *
 * Errors keep upstream's messages ("quantities must match the regular
 * expression ...", "IP Address \"x\" parse error during conversion from
 * string: ...", "min called on empty list").
 */
import { Environment, Optional } from '@marcbachmann/cel-js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../validation.ts';

// ---------------------------------------------------------------- quantity

const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;
const BINARY_EXP: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_EXP: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const NANO = 1_000_000_000n;
const INT64_MAX = (1n << 63n) - 1n;
const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** A resource.Quantity: its exact value in nano-units (precision below 1n rounds up, as ParseQuantity). */
export class Quantity {
  constructor(readonly nanos: bigint) {}

  /** Parses a quantity string; throws upstream's format error. */
  static parse(s: string): Quantity {
    const m = QUANTITY_RE.exec(s);
    if (!m) throw new Error(QUANTITY_FORMAT_ERROR);
    const [, sign, num, bin, exp, dec] = m;
    const [whole, frac = ''] = num!.split('.');
    let n = BigInt(`${whole || '0'}${frac}`);
    let d = 10n ** BigInt(frac.length);
    if (bin) n <<= BINARY_EXP[bin]!;
    const e = exp !== undefined ? Number(exp) : dec ? DECIMAL_EXP[dec]! : 0;
    if (Math.abs(e) > 100) throw new Error(QUANTITY_FORMAT_ERROR);
    if (e >= 0) n *= 10n ** BigInt(e);
    else d *= 10n ** BigInt(-e);
    n *= NANO;
    let nanos = n / d;
    if (nanos * d !== n) nanos += 1n; // rounded up to the nano
    return new Quantity(sign === '-' ? -nanos : nanos);
  }

  static isValid(s: string): boolean {
    try {
      Quantity.parse(s);
      return true;
    } catch {
      return false;
    }
  }

  compare(o: Quantity): bigint {
    return this.nanos < o.nanos ? -1n : this.nanos > o.nanos ? 1n : 0n;
  }

  /** AsInt64: the integer value when the quantity is whole and fits an int64. */
  asInt64(): bigint | undefined {
    if (this.nanos % NANO !== 0n) return undefined;
    const v = this.nanos / NANO;
    return v > INT64_MAX || v < -INT64_MAX - 1n ? undefined : v;
  }

  toString(): string {
    const abs = this.nanos < 0n ? -this.nanos : this.nanos;
    const whole = abs / NANO;
    const frac = (abs % NANO).toString().padStart(9, '0').replace(/0+$/, '');
    return `${this.nanos < 0n ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
  }
}

// --------------------------------------------------------------------- url

/** A URL as Go's url.URL sees an absolute URI or absolute path. */
export class KubeURL {
  constructor(
    readonly scheme: string,
    readonly host: string,
    readonly path: string,
    readonly rawQuery: string,
  ) {}

  /** url.ParseRequestURI semantics (absolute URI or absolute path); throws upstream's message. */
  static parse(s: string): KubeURL {
    const fail = (why: string): never => {
      throw new Error(`URL parse error during conversion from string: parse ${JSON.stringify(s)}: ${why}`);
    };
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(s)) fail('net/url: invalid control character in URL');
    const noFrag = s.split('#')[0]!;
    if (noFrag.startsWith('/')) {
      const [path, ...q] = noFrag.split('?');
      return new KubeURL('', '', path!, q.join('?'));
    }
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(noFrag);
    if (!m) return fail('invalid URI for request');
    const scheme = m[1]!.toLowerCase();
    let rest = m[2]!;
    let host = '';
    if (rest.startsWith('//')) {
      rest = rest.slice(2);
      const end = rest.search(/[/?]/);
      const authority = end < 0 ? rest : rest.slice(0, end);
      rest = end < 0 ? '' : rest.slice(end);
      host = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
      if (host.startsWith('[')) {
        const close = host.indexOf(']');
        if (close < 0) fail('missing \']\' in host');
        const after = host.slice(close + 1);
        if (after && !/^:\d*$/.test(after)) fail(`invalid port ${JSON.stringify(after)} after host`);
      } else {
        const colon = host.lastIndexOf(':');
        if (colon >= 0 && !/^\d*$/.test(host.slice(colon + 1))) fail(`invalid port ${JSON.stringify(host.slice(colon))} after host`);
        if (/[\s<>"{}|\\^`]/.test(host)) fail(`invalid character ${JSON.stringify(host.match(/[\s<>"{}|\\^`]/)![0])} in host name`);
      }
    } else if (!rest.startsWith('/')) {
      // An opaque URI ("mailto:x") has no path for a request.
      if (rest === '') fail('invalid URI for request');
    }
    const [path, ...q] = rest.split('?');
    return new KubeURL(scheme, host, path!, q.join('?'));
  }

  static isValid(s: string): boolean {
    try {
      KubeURL.parse(s);
      return true;
    } catch {
      return false;
    }
  }

  hostname(): string {
    if (this.host.startsWith('[')) return this.host.slice(1, this.host.indexOf(']'));
    const colon = this.host.lastIndexOf(':');
    return colon >= 0 ? this.host.slice(0, colon) : this.host;
  }

  port(): string {
    const h = this.host.startsWith('[') ? this.host.slice(this.host.indexOf(']') + 1) : this.host;
    const colon = h.lastIndexOf(':');
    return colon >= 0 ? h.slice(colon + 1) : '';
  }

  escapedPath(): string {
    // Go keeps a valid escaped form as given, else escapes the decoded path.
    return /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/.test(this.path) ? this.path : encodeURI(safeDecode(this.path));
  }

  query(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (!this.rawQuery) return out;
    for (const part of this.rawQuery.split('&')) {
      if (!part || part.includes(';')) continue;
      const eq = part.indexOf('=');
      const k = safeDecode((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
      const v = eq < 0 ? '' : safeDecode(part.slice(eq + 1).replace(/\+/g, ' '));
      (out[k] ??= []).push(v);
    }
    return out;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ------------------------------------------------------------------ ip/cidr

/** A netip.Addr (no zone, no IPv4-mapped IPv6): family and value. */
export class IP {
  constructor(
    readonly family: 4 | 6,
    readonly value: bigint,
  ) {}

  get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** netip.ParseAddr, with Kubernetes' refusals of zones and IPv4-mapped IPv6. */
  static parse(s: string): IP {
    const r = parseAddr(s);
    if (typeof r === 'string') {
      if (r === 'zone') throw new Error(`IP address ${JSON.stringify(s)} with zone value is not allowed`);
      throw new Error(`IP Address ${JSON.stringify(s)} parse error during conversion from string: ParseAddr(${JSON.stringify(s)}): ${r}`);
    }
    if (r.family === 6 && r.value >> 32n === 0xffffn) throw new Error(`IPv4-mapped IPv6 address ${JSON.stringify(s)} is not allowed`);
    return r;
  }

  static isValid(s: string): boolean {
    try {
      IP.parse(s);
      return true;
    } catch {
      return false;
    }
  }

  toString(): string {
    if (this.family === 4) return [24n, 16n, 8n, 0n].map((sh) => String((this.value >> sh) & 255n)).join('.');
    const groups = Array.from({ length: 8 }, (_, i) => Number((this.value >> BigInt((7 - i) * 16)) & 0xffffn));
    // RFC 5952: the longest run (2+) of zero groups becomes "::", the first one on a tie.
    let best = -1;
    let bestLen = 1;
    for (let i = 0; i < 8; ) {
      if (groups[i] !== 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen) {
        best = i;
        bestLen = j - i;
      }
      i = j;
    }
    const hex = (a: number[]) => a.map((g) => g.toString(16)).join(':');
    if (best < 0) return hex(groups);
    return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
  }

  in(prefix: bigint, bits: number, family: 4 | 6): boolean {
    if (family !== this.family) return false;
    const shift = BigInt(this.bits - bits);
    return this.value >> shift === prefix >> shift;
  }
}

function parseV4(s: string): bigint | string {
  const parts = s.split('.');
  if (parts.length < 4) return 'IPv4 address too short';
  if (parts.length > 4) return 'IPv4 address too long';
  let v = 0n;
  for (const p of parts) {
    if (p === '') return 'IPv4 field must have at least one digit';
    if (!/^\d+$/.test(p)) return `unexpected character`;
    if (p.length > 1 && p.startsWith('0')) return 'IPv4 field has octet with leading zero';
    const n = Number(p);
    if (n > 255) return 'IPv4 field has value >255';
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseAddr(s: string): IP | string {
  if (s === '') return 'unable to parse IP';
  if (s.includes('%')) return s.includes(':') ? 'zone' : 'unexpected character';
  if (!s.includes(':')) {
    const v = parseV4(s);
    return typeof v === 'string' ? v : new IP(4, v);
  }
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const v = parseV4(s.slice(lastColon + 1));
    if (typeof v === 'string') return v;
    tailV4 = v;
    // Keep a "::" just before the IPv4 part; drop a single separating ':'.
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return 'multiple :: in address';
  const groupsOf = (h: string) => (h === '' ? [] : h.split(':'));
  const left = groupsOf(halves[0]!);
  const right = halves.length === 2 ? groupsOf(halves[1]!) : [];
  const want = tailV4 !== undefined ? 6 : 8;
  const have = left.length + right.length;
  if (halves.length === 1 ? have !== want : have >= want) return have < want ? 'address string too short' : 'address string too long';
  const groups: bigint[] = [];
  for (const g of [...left, ...(halves.length === 2 ? Array(want - have).fill('0') : []), ...right]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return g.length > 4 ? 'each colon-separated field must have at most 4 hex digits' : 'unexpected character';
    groups.push(BigInt(`0x${g}`));
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  if (tailV4 !== undefined) v = (v << 32n) | tailV4;
  return new IP(6, v);
}

/** A netip.Prefix: its address (not masked) and prefix length. */
export class CIDR {
  constructor(
    readonly ip: IP,
    readonly bits: number,
  ) {}

  static parse(s: string): CIDR {
    const wrap = (why: string): never => {
      throw new Error(`network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix(${JSON.stringify(s)}): ${why}`);
    };
    const slash = s.lastIndexOf('/');
    if (slash < 0) return wrap('no \'/\'');
    const addr = s.slice(0, slash);
    const bitsStr = s.slice(slash + 1);
    if (addr.includes('%')) return wrap('IPv6 zones cannot be present in a prefix');
    const ip = parseAddr(addr);
    if (typeof ip === 'string') return wrap(`ParseAddr(${JSON.stringify(addr)}): ${ip}`);
    if (!/^\d+$/.test(bitsStr) || (bitsStr.length > 1 && bitsStr.startsWith('0'))) return wrap(`bad bits after slash: ${JSON.stringify(bitsStr)}`);
    const bits = Number(bitsStr);
    if (bits > ip.bits) return wrap('prefix length out of range');
    if (ip.family === 6 && ip.value >> 32n === 0xffffn) throw new Error(`network address parse error during conversion from string: IPv4-mapped IPv6 address ${JSON.stringify(s)} is not allowed`);
    return new CIDR(ip, bits);
  }

  static isValid(s: string): boolean {
    try {
      CIDR.parse(s);
      return true;
    } catch {
      return false;
    }
  }

  masked(): CIDR {
    const shift = BigInt(this.ip.bits - this.bits);
    return new CIDR(new IP(this.ip.family, (this.ip.value >> shift) << shift), this.bits);
  }

  containsIP(ip: IP): boolean {
    return ip.in(this.ip.value, this.bits, this.ip.family);
  }

  containsCIDR(o: CIDR): boolean {
    return o.ip.in(this.ip.value, this.bits, this.ip.family) && this.bits <= o.bits;
  }

  toString(): string {
    return `${this.ip}/${this.bits}`;
  }
}

// ------------------------------------------------------------------- lists

/** CEL ordering of comparable values (int, uint, double, bool, string, bytes, duration, timestamp). */
function compareValues(a: unknown, b: unknown): number {
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && 'seconds' in a && 'seconds' in b) {
    const x = a as { seconds: bigint; nanos: number };
    const y = b as { seconds: bigint; nanos: number };
    return x.seconds !== y.seconds ? (x.seconds < y.seconds ? -1 : 1) : Math.sign(x.nanos - y.nanos);
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && 'value' in a && 'value' in b) return compareValues((a as { value: unknown }).value, (b as { value: unknown }).value);
  throw new Error(`no such overload: ${typeof a} < ${typeof b}`);
}

function celEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'bigint' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'bigint') return a === Number(b);
  if (a instanceof Quantity && b instanceof Quantity) return a.nanos === b.nanos;
  if (a instanceof IP && b instanceof IP) return a.family === b.family && a.value === b.value;
  if (a instanceof CIDR && b instanceof CIDR) return a.bits === b.bits && celEquals(a.ip, b.ip);
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => celEquals(x, b[i]));
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if ('seconds' in a && 'seconds' in b) return compareValues(a, b) === 0;
    if ('value' in a && 'value' in b && Object.keys(a).length === 0) return (a as { value: unknown }).value === (b as { value: unknown }).value;
    const ka = a instanceof Map ? [...a.keys()] : Object.keys(a);
    const kb = b instanceof Map ? [...b.keys()] : Object.keys(b);
    const get = (o: object, k: unknown) => (o instanceof Map ? o.get(k) : (o as Record<string, unknown>)[k as string]);
    return ka.length === kb.length && ka.every((k) => kb.includes(k) && celEquals(get(a, k), get(b, k)));
  }
  return false;
}

function sum(list: unknown[]): unknown {
  if (list.length === 0) return 0n;
  let acc: any = list[0];
  for (const x of list.slice(1)) {
    if (typeof acc === 'bigint' && typeof x === 'bigint') {
      acc = acc + x;
      if (acc > INT64_MAX || acc < -INT64_MAX - 1n) throw new Error('integer overflow');
    } else if (typeof acc === 'number' && typeof x === 'number') acc = acc + x;
    else if (acc && typeof acc.addDuration === 'function') acc = acc.addDuration(x);
    else throw new Error('no such overload');
  }
  return acc;
}

function extreme(name: 'min' | 'max', list: unknown[]): unknown {
  if (list.length === 0) throw new Error(`${name} called on empty list`);
  let r = list[0];
  for (const x of list.slice(1)) {
    const c = compareValues(r, x);
    if ((name === 'min' && c > 0) || (name === 'max' && c < 0)) r = x;
  }
  return r;
}

// ----------------------------------------------------------------- strings

/** cel-go ext strings `format`: %s %d %f %e %b %o %x %X %% with an optional precision. */
function formatString(fmt: string, args: unknown[]): string {
  let i = 0;
  return fmt.replace(/%(?:\.(\d+))?([sdfeboxX%])/g, (_, prec: string | undefined, verb: string) => {
    if (verb === '%') return '%';
    if (i >= args.length) throw new Error(`index ${i} out of range`);
    const a = args[i++];
    switch (verb) {
      case 's':
        return toCelString(a);
      case 'd':
        if (typeof a !== 'bigint' && !(typeof a === 'number' && Number.isInteger(a))) throw new Error('error during formatting: decimal clause can only be used on integers');
        return String(a);
      case 'f':
        return Number(a).toFixed(prec ? Number(prec) : 6);
      case 'e':
        return Number(a).toExponential(prec ? Number(prec) : 6).replace(/e([+-])(\d)$/, 'e$10$2');
      case 'b':
        return BigInt(a as bigint).toString(2);
      case 'o':
        return BigInt(a as bigint).toString(8);
      case 'x':
      case 'X': {
        const s = typeof a === 'string' ? Buffer.from(a).toString('hex') : a instanceof Uint8Array ? Buffer.from(a).toString('hex') : BigInt(a as bigint).toString(16);
        return verb === 'X' ? s.toUpperCase() : s;
      }
      default:
        return '';
    }
  });
}

function toCelString(a: unknown): string {
  if (a === null) return 'null';
  if (typeof a === 'string') return a;
  if (Array.isArray(a)) return `[${a.map(toCelString).join(', ')}]`;
  if (a instanceof Date) return a.toISOString().replace('.000Z', 'Z');
  if (a instanceof Uint8Array) return Buffer.from(a).toString('utf8');
  if (a && typeof a === 'object' && !(a instanceof Quantity || a instanceof IP || a instanceof CIDR)) {
    if ('seconds' in a) return `${String((a as { valueOf(): number }).valueOf() / 1000)}s`;
    const entries = a instanceof Map ? [...a.entries()] : Object.entries(a);
    return `{${entries.map(([k, v]) => `${toCelString(k)}: ${toCelString(v)}`).join(', ')}}`;
  }
  return String(a);
}

/** strings.quote: a CEL string literal for s. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\v') out += '\\v';
    else if (ch === '\x07') out += '\\a';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function regex(re: string): RegExp {
  try {
    return new RegExp(re, 'gu');
  } catch (e) {
    throw new Error(`given regex is invalid: ${(e as Error).message}`);
  }
}

// ------------------------------------------------------------------ format

/** A named format of the Kubernetes format library (`format.dns1123Label()`, `format.named("uuid")`). */
export class KubeFormat {
  constructor(
    readonly name: string,
    readonly validate: (s: string) => string[],
  ) {}
}

const maskTrailingDash = (s: string) => (s.length > 1 && s.endsWith('-') ? s.slice(0, -1) : s);
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[1-5][0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** The formats of k8s.io/apiserver/pkg/cel/library/format.go. */
const FORMATS: Record<string, KubeFormat> = {
  dns1123Label: new KubeFormat('DNS1123Label', isDNS1123Label),
  dns1123Subdomain: new KubeFormat('DNS1123Subdomain', isDNS1123Subdomain),
  dns1035Label: new KubeFormat('DNS1035Label', isDNS1035Label),
  qualifiedName: new KubeFormat('QualifiedName', isQualifiedName),
  dns1123LabelPrefix: new KubeFormat('DNS1123LabelPrefix', (s) => isDNS1123Label(maskTrailingDash(s))),
  dns1123SubdomainPrefix: new KubeFormat('DNS1123SubdomainPrefix', (s) => isDNS1123Subdomain(maskTrailingDash(s))),
  dns1035LabelPrefix: new KubeFormat('DNS1035LabelPrefix', (s) => isDNS1035Label(maskTrailingDash(s))),
  labelValue: new KubeFormat('LabelValue', isValidLabelValue),
  uri: new KubeFormat('URI', (s) => {
    try {
      KubeURL.parse(s);
      return [];
    } catch (e) {
      return [(e as Error).message.replace('URL parse error during conversion from string: ', '')];
    }
  }),
  uuid: new KubeFormat('uuid', (s) => (UUID_RE.test(s) ? [] : ['does not match the UUID format'])),
  byte: new KubeFormat('byte', (s) => (/^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0 ? [] : ['invalid base64'])),
  date: new KubeFormat('date', (s) => (DATE_RE.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) ? [] : ['invalid date'])),
  datetime: new KubeFormat('datetime', (s) => (DATETIME_RE.test(s) && !Number.isNaN(Date.parse(s.replace(' ', 'T'))) ? [] : ['invalid datetime'])),
};

// ------------------------------------------------------------------- authz

/** Attributes the authz library asks about (authorizer.Attributes). */
export interface AuthzAttributes {
  verb: string;
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  path?: string;
}

/** What answers the authz library's checks: the requesting user's authorizer. */
export type AuthzCheck = (a: AuthzAttributes) => { allowed: boolean; reason: string };

/** A decision of the authz library (`.allowed()`, `.reason()`, `.errored()`, `.error()`). */
export class AuthzDecision {
  constructor(
    readonly allowed: boolean,
    readonly reason: string,
    readonly error = '',
  ) {}
}

/** `authorizer`: the requesting user's authorizer; `authorizer.requestResource` is the request's resource. */
export class CelAuthorizer {
  readonly requestResource: AuthzResource | undefined;
  constructor(
    readonly check: AuthzCheck | undefined,
    request?: { group: string; resource: string; subresource: string; namespace: string; name: string },
  ) {
    this.requestResource = request ? new AuthzResource(this, request.group, request.resource, request.subresource, request.namespace, request.name) : undefined;
  }

  decide(a: AuthzAttributes): AuthzDecision {
    if (!this.check) return new AuthzDecision(false, '', 'no authorizer for this request');
    try {
      const d = this.check(a);
      return new AuthzDecision(d.allowed, d.reason);
    } catch (e) {
      return new AuthzDecision(false, '', (e as Error).message);
    }
  }
}

export class AuthzGroup {
  constructor(
    readonly authz: CelAuthorizer,
    readonly group: string,
  ) {}
}

export class AuthzPath {
  constructor(
    readonly authz: CelAuthorizer,
    readonly path: string,
  ) {}
}

export class AuthzResource {
  constructor(
    readonly authz: CelAuthorizer,
    readonly group: string,
    readonly resource: string,
    readonly subresource = '',
    readonly namespace = '',
    readonly name = '',
  ) {}

  with(k: 'subresource' | 'namespace' | 'name', v: string): AuthzResource {
    const r = { subresource: this.subresource, namespace: this.namespace, name: this.name, [k]: v };
    return new AuthzResource(this.authz, this.group, this.resource, r.subresource, r.namespace, r.name);
  }
}

// ------------------------------------------------------------------ semver

/** A semantic version (blang/semver's Version). */
export class Semver {
  constructor(
    readonly major: bigint,
    readonly minor: bigint,
    readonly patch: bigint,
    readonly pre: string[],
    readonly build: string[],
  ) {}

  /** semver.Parse with blang/semver's messages; `normalize` as Kubernetes' normalizeAndParse. */
  static parse(input: string, normalize = false): Semver {
    let str = input;
    if (normalize) {
      str = str.startsWith('v') ? str.slice(1) : str;
      const parts = splitN(str, '.', 3).map((p) => {
        if (p.length <= 1) return p;
        const t = p.replace(/^0+/, '');
        return t.length === 0 || !/^[0-9]/.test(t) ? `0${t}` : t;
      });
      if (parts.length < 3) {
        if (/[+-]/.test(parts[parts.length - 1]!)) throw new Error('short version cannot contain PreRelease/Build meta data');
        while (parts.length < 3) parts.push('0');
      }
      str = parts.join('.');
    }
    if (str.length === 0) throw new Error('Version string empty');
    const parts = splitN(str, '.', 3);
    if (parts.length !== 3) throw new Error('No Major.Minor.Patch elements found');
    const num = (p: string, what: string): bigint => {
      if (!/^[0-9]+$/.test(p)) throw new Error(`Invalid character(s) found in ${what.toLowerCase()} number ${JSON.stringify(p)}`);
      if (p.length > 1 && p.startsWith('0')) throw new Error(`${what} number must not contain leading zeroes ${JSON.stringify(p)}`);
      return BigInt(p);
    };
    const major = num(parts[0]!, 'Major');
    const minor = num(parts[1]!, 'Minor');
    let rest = parts[2]!;
    let build: string[] = [];
    let pre: string[] = [];
    const plus = rest.indexOf('+');
    if (plus >= 0) {
      build = rest.slice(plus + 1).split('.');
      rest = rest.slice(0, plus);
      for (const b of build) if (!/^[0-9A-Za-z-]+$/.test(b)) throw new Error(b === '' ? 'Build meta data is empty' : `Invalid character(s) found in build meta data ${JSON.stringify(b)}`);
    }
    const dash = rest.indexOf('-');
    if (dash >= 0) {
      pre = rest.slice(dash + 1).split('.');
      rest = rest.slice(0, dash);
      for (const p of pre) {
        if (p === '') throw new Error('Prerelease is empty');
        if (!/^[0-9A-Za-z-]+$/.test(p)) throw new Error(`Invalid character(s) found in prerelease ${JSON.stringify(p)}`);
        if (/^[0-9]+$/.test(p) && p.length > 1 && p.startsWith('0')) throw new Error(`Numeric PreRelease version must not contain leading zeroes ${JSON.stringify(p)}`);
      }
    }
    const patch = num(rest, 'Patch');
    return new Semver(major, minor, patch, pre, build);
  }

  compare(o: Semver): bigint {
    for (const [a, b] of [[this.major, o.major], [this.minor, o.minor], [this.patch, o.patch]] as const) if (a !== b) return a < b ? -1n : 1n;
    if (this.pre.length === 0 || o.pre.length === 0) return this.pre.length === o.pre.length ? 0n : this.pre.length === 0 ? 1n : -1n;
    for (let i = 0; i < Math.min(this.pre.length, o.pre.length); i++) {
      const a = this.pre[i]!;
      const b = o.pre[i]!;
      if (a === b) continue;
      const an = /^[0-9]+$/.test(a);
      const bn = /^[0-9]+$/.test(b);
      if (an && bn) return BigInt(a) < BigInt(b) ? -1n : 1n;
      if (an !== bn) return an ? -1n : 1n;
      return a < b ? -1n : 1n;
    }
    return this.pre.length === o.pre.length ? 0n : this.pre.length < o.pre.length ? -1n : 1n;
  }
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

// ------------------------------------------------------------------- image

/** An image reference as go-containerregistry's name.ParseReference reads it (Kubernetes' image library, 1.33+). */
export class ImageRef {
  constructor(
    readonly registry: string,
    readonly repository: string,
    readonly tag: string,
    readonly digest: string,
  ) {}

  get identifier(): string {
    return this.digest || this.tag;
  }

  static parse(s: string): ImageRef {
    const bad = (): never => {
      throw new Error(`could not parse reference: ${s}`);
    };
    let name = s;
    let tag = '';
    let digest = '';
    const at = s.indexOf('@');
    if (at >= 0) {
      name = s.slice(0, at);
      digest = s.slice(at + 1);
      if (!/^sha256:[a-f0-9]{64}$/.test(digest)) bad();
      const colon = name.lastIndexOf(':');
      if (colon > name.lastIndexOf('/')) name = name.slice(0, colon); // a tag next to a digest is dropped
    } else {
      const colon = name.lastIndexOf(':');
      if (colon > name.lastIndexOf('/')) {
        tag = name.slice(colon + 1);
        name = name.slice(0, colon);
        if (!/^[\w][\w.-]{0,127}$/.test(tag)) bad();
      } else tag = 'latest';
    }
    const parts = name.split('/');
    let registry = 'index.docker.io';
    if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost')) {
      registry = parts.shift()!;
      if (!/^[a-zA-Z0-9.-]+(:[0-9]+)?$/.test(registry)) bad();
      if (registry === 'docker.io') registry = 'index.docker.io';
    }
    let repository = parts.join('/');
    if (repository === '' || parts.some((p) => p === '') || !/^[a-z0-9_.\-/]+$/.test(repository)) bad();
    if (registry === 'index.docker.io' && !repository.includes('/')) repository = `library/${repository}`;
    return new ImageRef(registry, repository, tag, digest);
  }
}

// ------------------------------------------------- two-variable comprehensions

type TwoVarKind = 'all' | 'exists' | 'existsOne' | 'transformList' | 'transformMap';

/**
 * cel-go's ext.TwoVarComprehensions (Kubernetes 1.32+): `all(k, v, p)`,
 * `exists(k, v, p)`, `existsOne(k, v, p)`, `transformList(k, v, [filter,] e)`,
 * `transformMap(k, v, [filter,] e)` over lists (index, element) and maps
 * (key, value), as macros over cel-js's evaluator contexts.
 */
function twoVarMacro(kind: TwoVarKind, filtered: boolean) {
  return ({ ast, args, receiver }: { ast: any; args: any[]; receiver: any }) => {
    const ident = (n: any) => {
      if (n?.op !== 'id') throw new Error(`${kind}() invalid iteration variable`);
      return n.args as string;
    };
    return {
      ast,
      receiver,
      k: ident(args[0]),
      v: ident(args[1]),
      filter: filtered ? args[2] : undefined,
      expr: filtered ? args[3] : args[2],
      ctx1: undefined as any,
      ctx2: undefined as any,
      typeCheck(checker: any, m: any, ctx: any) {
        checker.check(m.receiver, ctx);
        const dyn = checker.getType('dyn');
        m.ctx1 = ctx.forkWithVariable(m.k, dyn);
        m.ctx2 = m.ctx1.forkWithVariable(m.v, dyn);
        if (m.filter) checker.check(m.filter, m.ctx2);
        checker.check(m.expr, m.ctx2);
        m.ast.setMeta?.('async', false);
        return checker.getType(kind === 'transformList' ? 'list<dyn>' : kind === 'transformMap' ? 'map<dyn, dyn>' : 'bool');
      },
      evaluate(ev: any, m: any, ctx: any) {
        const recv = ev.run(m.receiver, ctx);
        let entries: Array<[unknown, unknown]>;
        if (Array.isArray(recv)) entries = recv.map((x, i) => [BigInt(i), x]);
        else if (recv instanceof Map) entries = [...recv.entries()];
        else if (recv && typeof recv === 'object') entries = Object.entries(recv);
        else throw new Error(`${kind}() requires a list or a map`);
        let count = 0;
        const list: unknown[] = [];
        const map = new Map<unknown, unknown>();
        for (const [k, v] of entries) {
          const c1 = m.ctx1.reuse(ctx).setIterValue(k, ev);
          const c2 = m.ctx2.reuse(c1).setIterValue(v, ev);
          if (m.filter && ev.run(m.filter, c2) !== true) continue;
          const r = ev.run(m.expr, c2);
          switch (kind) {
            case 'all':
              if (r !== true) return false;
              break;
            case 'exists':
              if (r === true) return true;
              break;
            case 'existsOne':
              if (r === true) count++;
              break;
            case 'transformList':
              list.push(r);
              break;
            case 'transformMap':
              map.set(k, r);
              break;
          }
        }
        if (kind === 'all') return true;
        if (kind === 'exists') return false;
        if (kind === 'existsOne') return count === 1;
        if (kind === 'transformList') return list;
        // String keys as a plain object (cel-js's usual map); other keys (list indexes) keep their type in a Map.
        return [...map.keys()].every((k) => typeof k === 'string') ? Object.fromEntries(map) : map;
      },
    };
  };
}

// ---------------------------------------------------------------- escaping

const CEL_RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

/**
 * A property name as CEL rules see it (k8s.io/apiserver/pkg/cel's Escape):
 * `__` -> `__underscores__`, `.` -> `__dot__`, `-` -> `__dash__`,
 * `/` -> `__slash__`, reserved words -> `__word__`; undefined when the name
 * cannot be accessed from CEL.
 */
export function escapeCelField(name: string): string | undefined {
  if (CEL_RESERVED.has(name)) return `__${name}__`;
  if (!/^[a-zA-Z_.\-/][a-zA-Z0-9_.\-/]*$/.test(name)) return undefined;
  return name.replace(/__/g, '__underscores__').replace(/\./g, '__dot__').replace(/-/g, '__dash__').replace(/\//g, '__slash__');
}

/**
 * The expression with the global `has(` macro renamed `h_s(` (same length:
 * error positions are kept), outside string literals: cel-js's own has()
 * accepts only selections on an identifier chain, CEL's any `e.f`.
 */
function rewriteHas(expr: string): string {
  if (!expr.includes('has')) return expr;
  let out = '';
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'") {
      const raw = i > 0 && /[rR]/.test(expr[i - 1]!) && (i < 2 || !/[A-Za-z0-9_]/.test(expr[i - 2]!));
      const triple = expr.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      let j = i + q.length;
      while (j < expr.length && !expr.startsWith(q, j)) j += !raw && expr[j] === '\\' ? 2 : 1;
      j = Math.min(expr.length, j + q.length);
      out += expr.slice(i, j);
      i = j;
      continue;
    }
    if (expr.startsWith('has', i) && (i === 0 || !/[A-Za-z0-9_.]/.test(expr[i - 1]!)) && /^\s*\(/.test(expr.slice(i + 3))) {
      out += 'h_s';
      i += 3;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** CEL's has(e.f) for any e: true when e (a map or object) has f; errors of e propagate. */
function hasMacro({ ast, args }: { ast: any; args: any[] }) {
  const sel = args[0];
  if (sel?.op !== '.' && sel?.op !== '.?') throw new Error('invalid argument to has() macro');
  return {
    ast,
    base: sel.args[0],
    field: sel.args[1] as string,
    typeCheck(checker: any, m: any, ctx: any) {
      checker.check(m.base, ctx);
      m.ast.setMeta?.('async', false);
      return checker.getType('bool');
    },
    evaluate(ev: any, m: any, ctx: any) {
      const v = ev.run(m.base, ctx);
      if (v instanceof Map) return v.has(m.field);
      if (v && typeof v === 'object') return Object.hasOwn(v, m.field) && (v as Record<string, unknown>)[m.field] !== undefined;
      throw new Error(`no such overload: has() on ${v === null ? 'null' : typeof v}`);
    },
  };
}

// ------------------------------------------------------------- environment

class IpNamespace {}
class FormatNamespace {}
class StringsNamespace {}
class SetsNamespace {}

const toInt = (n: number) => BigInt(n);

function build(): Environment {
  // Homogeneous aggregate literals, as upstream's base environment (cel.HomogeneousAggregateLiterals).
  const env = new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true, homogeneousAggregateLiterals: true });
  // quantity
  env.registerType('Quantity', Quantity);
  env.registerFunction('quantity(string): Quantity', (s: string) => Quantity.parse(s));
  env.registerFunction('isQuantity(string): bool', (s: string) => Quantity.isValid(s));
  env.registerFunction('sign(Quantity): int', (q: Quantity) => (q.nanos > 0n ? 1n : q.nanos < 0n ? -1n : 0n));
  env.registerFunction('Quantity.sign(): int', (q: Quantity) => (q.nanos > 0n ? 1n : q.nanos < 0n ? -1n : 0n));
  env.registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: Quantity, b: Quantity) => a.compare(b) === 1n);
  env.registerFunction('Quantity.isLessThan(Quantity): bool', (a: Quantity, b: Quantity) => a.compare(b) === -1n);
  env.registerFunction('Quantity.compareTo(Quantity): int', (a: Quantity, b: Quantity) => a.compare(b));
  env.registerFunction('Quantity.asApproximateFloat(): double', (q: Quantity) => Number(q.nanos) / 1e9);
  env.registerFunction('Quantity.isInteger(): bool', (q: Quantity) => q.asInt64() !== undefined);
  env.registerFunction('Quantity.asInteger(): int', (q: Quantity) => {
    const v = q.asInt64();
    if (v === undefined) throw new Error('cannot convert value to integer');
    return v;
  });
  env.registerFunction('Quantity.add(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.nanos + b.nanos));
  env.registerFunction('Quantity.add(int): Quantity', (a: Quantity, b: bigint) => new Quantity(a.nanos + b * NANO));
  env.registerFunction('Quantity.sub(Quantity): Quantity', (a: Quantity, b: Quantity) => new Quantity(a.nanos - b.nanos));
  env.registerFunction('Quantity.sub(int): Quantity', (a: Quantity, b: bigint) => new Quantity(a.nanos - b * NANO));
  env.registerFunction('Quantity.mul(int): Quantity', (a: Quantity, b: bigint) => new Quantity(a.nanos * b));
  env.registerOperator('Quantity == Quantity', (a: Quantity, b: Quantity) => a.nanos === b.nanos);

  // url
  env.registerType('URL', KubeURL);
  env.registerFunction('url(string): URL', (s: string) => KubeURL.parse(s));
  env.registerFunction('isURL(string): bool', (s: string) => KubeURL.isValid(s));
  env.registerFunction('URL.getScheme(): string', (u: KubeURL) => u.scheme);
  env.registerFunction('URL.getHost(): string', (u: KubeURL) => u.host);
  env.registerFunction('URL.getHostname(): string', (u: KubeURL) => u.hostname());
  env.registerFunction('URL.getPort(): string', (u: KubeURL) => u.port());
  env.registerFunction('URL.getEscapedPath(): string', (u: KubeURL) => u.escapedPath());
  env.registerFunction('URL.getQuery(): map<string, list<string>>', (u: KubeURL) => u.query());

  // ip / cidr
  env.registerType('IP', IP);
  env.registerType('CIDR', CIDR);
  env.registerType('IpNamespace', IpNamespace);
  env.registerFunction('ip(string): IP', (s: string) => IP.parse(s));
  env.registerFunction('isIP(string): bool', (s: string) => IP.isValid(s));
  env.registerFunction('IpNamespace.isCanonical(string): bool', (_: unknown, s: string) => IP.parse(s).toString() === s);
  env.registerFunction('string(IP): string', (ip: IP) => ip.toString());
  env.registerFunction('IP.family(): int', (ip: IP) => toInt(ip.family));
  env.registerFunction('IP.isUnspecified(): bool', (ip: IP) => ip.value === 0n);
  env.registerFunction('IP.isLoopback(): bool', (ip: IP) => (ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n));
  env.registerFunction('IP.isLinkLocalMulticast(): bool', (ip: IP) => (ip.family === 4 ? ip.value >> 8n === 0xe00000n : ((ip.value >> 112n) & 0xff0fn) === 0xff02n));
  env.registerFunction('IP.isLinkLocalUnicast(): bool', (ip: IP) => (ip.family === 4 ? ip.value >> 16n === 0xa9fen : ip.value >> 118n === 0x3fan));
  env.registerFunction('IP.isGlobalUnicast(): bool', (ip: IP) => {
    if (ip.family === 4) {
      if (ip.value === 0xffffffffn || ip.value === 0n || ip.value >> 24n === 127n || ip.value >> 28n === 0xen || ip.value >> 16n === 0xa9fen) return false;
      return true;
    }
    return !(ip.value === 0n || ip.value === 1n || ip.value >> 120n === 0xffn || ip.value >> 118n === 0x3fan);
  });
  env.registerOperator('IP == IP', (a: IP, b: IP) => celEquals(a, b));
  env.registerFunction('cidr(string): CIDR', (s: string) => CIDR.parse(s));
  env.registerFunction('isCIDR(string): bool', (s: string) => CIDR.isValid(s));
  env.registerFunction('string(CIDR): string', (c: CIDR) => c.toString());
  env.registerFunction('CIDR.containsIP(IP): bool', (c: CIDR, ip: IP) => c.containsIP(ip));
  env.registerFunction('CIDR.containsIP(string): bool', (c: CIDR, s: string) => c.containsIP(IP.parse(s)));
  env.registerFunction('CIDR.containsCIDR(CIDR): bool', (c: CIDR, o: CIDR) => c.containsCIDR(o));
  env.registerFunction('CIDR.containsCIDR(string): bool', (c: CIDR, s: string) => c.containsCIDR(CIDR.parse(s)));
  env.registerFunction('CIDR.ip(): IP', (c: CIDR) => c.ip);
  env.registerFunction('CIDR.masked(): CIDR', (c: CIDR) => c.masked());
  env.registerFunction('CIDR.prefixLength(): int', (c: CIDR) => toInt(c.bits));
  env.registerOperator('CIDR == CIDR', (a: CIDR, b: CIDR) => celEquals(a, b));
  env.registerConstant('ip', 'IpNamespace', new IpNamespace());

  // regex (matches(s, re) is also a global function in CEL)
  env.registerFunction('matches(string, string): bool', (s: string, re: string) => regex(re).test(s));
  env.registerFunction('string.find(string): string', (s: string, re: string) => regex(re).exec(s)?.[0] ?? '');
  env.registerFunction('string.findAll(string): list<string>', (s: string, re: string) => [...s.matchAll(regex(re))].map((m) => m[0]));
  env.registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => {
    const all = [...s.matchAll(regex(re))].map((m) => m[0]);
    return n < 0n ? all : all.slice(0, Number(n));
  });

  // lists
  env.registerFunction('list.sum(): dyn', (l: unknown[]) => sum(l));
  env.registerFunction('list.min(): dyn', (l: unknown[]) => extreme('min', l));
  env.registerFunction('list.max(): dyn', (l: unknown[]) => extreme('max', l));
  env.registerFunction('list.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compareValues(l[i - 1], x) <= 0));
  env.registerFunction('list.indexOf(dyn): int', (l: unknown[], x: unknown) => toInt(l.findIndex((y) => celEquals(y, x))));
  env.registerFunction('list.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => {
    for (let i = l.length - 1; i >= 0; i--) if (celEquals(l[i], x)) return toInt(i);
    return -1n;
  });

  // strings
  env.registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
    const cps = [...s];
    if (i < 0n || i > BigInt(cps.length)) throw new Error(`index out of range: ${i}`);
    return cps[Number(i)] ?? '';
  });
  env.registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  env.registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
    if (n < 0n) return s.split(a).join(b);
    const parts = s.split(a);
    const k = Math.min(Number(n), parts.length - 1);
    return parts.slice(0, k + 1).join(b) + (k + 1 < parts.length ? a + parts.slice(k + 1).join(a) : '');
  });
  env.registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''));
  env.registerFunction('string.format(list): string', (s: string, args: unknown[]) => formatString(s, args));
  env.registerType('StringsNamespace', StringsNamespace);
  env.registerConstant('strings', 'StringsNamespace', new StringsNamespace());
  env.registerFunction('StringsNamespace.quote(string): string', (_: unknown, s: string) => quote(s));

  // format (1.31+)
  env.registerType('Format', KubeFormat);
  env.registerType('FormatNamespace', FormatNamespace);
  env.registerConstant('format', 'FormatNamespace', new FormatNamespace());
  for (const [name, f] of Object.entries(FORMATS)) env.registerFunction(`FormatNamespace.${name}(): Format`, () => f);
  env.registerFunction('FormatNamespace.named(string): optional<Format>', (_: unknown, name: string) => (Object.hasOwn(FORMATS, name) ? Optional.of(FORMATS[name]) : Optional.none()));
  env.registerFunction('Format.validate(string): optional<list<string>>', (f: KubeFormat, s: string) => {
    const errs = f.validate(s);
    return errs.length === 0 ? Optional.none() : Optional.of(errs);
  });

  // authz (admission policies' `authorizer` variable)
  env.registerType('Authorizer', CelAuthorizer);
  env.registerType('AuthzGroup', AuthzGroup);
  env.registerType('AuthzPath', AuthzPath);
  env.registerType('AuthzResource', AuthzResource);
  env.registerType('AuthzDecision', AuthzDecision);
  env.registerFunction('Authorizer.group(string): AuthzGroup', (a: CelAuthorizer, g: string) => new AuthzGroup(a, g));
  env.registerFunction('Authorizer.path(string): AuthzPath', (a: CelAuthorizer, p: string) => new AuthzPath(a, p));
  env.registerFunction('AuthzGroup.resource(string): AuthzResource', (g: AuthzGroup, r: string) => new AuthzResource(g.authz, g.group, r));
  env.registerFunction('AuthzResource.subresource(string): AuthzResource', (r: AuthzResource, v: string) => r.with('subresource', v));
  env.registerFunction('AuthzResource.namespace(string): AuthzResource', (r: AuthzResource, v: string) => r.with('namespace', v));
  env.registerFunction('AuthzResource.name(string): AuthzResource', (r: AuthzResource, v: string) => r.with('name', v));
  env.registerFunction('AuthzResource.check(string): AuthzDecision', (r: AuthzResource, verb: string) =>
    r.authz.decide({ verb, resourceRequest: true, apiGroup: r.group, resource: r.resource, ...(r.subresource ? { subresource: r.subresource } : {}), ...(r.namespace ? { namespace: r.namespace } : {}), ...(r.name ? { name: r.name } : {}) }),
  );
  env.registerFunction('AuthzPath.check(string): AuthzDecision', (p: AuthzPath, verb: string) => p.authz.decide({ verb, resourceRequest: false, path: p.path }));
  env.registerFunction('AuthzDecision.allowed(): bool', (d: AuthzDecision) => d.allowed);
  env.registerFunction('AuthzDecision.reason(): string', (d: AuthzDecision) => d.reason);
  env.registerFunction('AuthzDecision.errored(): bool', (d: AuthzDecision) => d.error !== '');
  env.registerFunction('AuthzDecision.error(): string', (d: AuthzDecision) => d.error);

  // semver (1.33+)
  env.registerType('Semver', Semver);
  env.registerFunction('semver(string): Semver', (v: string) => Semver.parse(v));
  env.registerFunction('semver(string, bool): Semver', (v: string, n: boolean) => Semver.parse(v, n));
  const isSemver = (v: string, n: boolean) => {
    try {
      Semver.parse(v, n);
      return true;
    } catch {
      return false;
    }
  };
  env.registerFunction('isSemver(string): bool', (v: string) => isSemver(v, false));
  env.registerFunction('isSemver(string, bool): bool', (v: string, n: boolean) => isSemver(v, n));
  env.registerFunction('Semver.major(): int', (v: Semver) => v.major);
  env.registerFunction('Semver.minor(): int', (v: Semver) => v.minor);
  env.registerFunction('Semver.patch(): int', (v: Semver) => v.patch);
  env.registerFunction('Semver.isGreaterThan(Semver): bool', (a: Semver, b: Semver) => a.compare(b) === 1n);
  env.registerFunction('Semver.isLessThan(Semver): bool', (a: Semver, b: Semver) => a.compare(b) === -1n);
  env.registerFunction('Semver.compareTo(Semver): int', (a: Semver, b: Semver) => a.compare(b));
  env.registerOperator('Semver == Semver', (a: Semver, b: Semver) => a.compare(b) === 0n && a.build.join('.') === b.build.join('.'));

  // Standard conversions cel-js lacks: string(duration) ("3600s"), string(timestamp) (RFC 3339), int(timestamp) (Unix seconds).
  env.registerFunction('string(google.protobuf.Duration): string', (d: { seconds: bigint; nanos: number }) => {
    const neg = d.seconds < 0n || d.nanos < 0;
    const s = d.seconds < 0n ? -d.seconds : d.seconds;
    const n = Math.abs(d.nanos);
    return `${neg ? '-' : ''}${s}${n ? `.${String(n).padStart(9, '0').replace(/0+$/, '')}` : ''}s`;
  });
  env.registerFunction('string(google.protobuf.Timestamp): string', (t: Date) => t.toISOString().replace(/\.(\d*?)0*Z$/, (_m, d: string) => (d ? `.${d}Z` : 'Z')));
  env.registerFunction('int(google.protobuf.Timestamp): int', (t: Date) => BigInt(Math.floor(t.getTime() / 1000)));

  // An optional compared with null (heterogeneous equality: different types are not equal).
  env.registerOperator('optional<dyn> == null', () => false);

  // has(e.f) for any e (expressions are rewritten to call h_s, see rewriteHas)
  env.registerFunction('h_s(ast): bool', hasMacro);

  // image (1.33+)
  env.registerType('Image', ImageRef);
  env.registerFunction('image(string): Image', (v: string) => ImageRef.parse(v));
  env.registerFunction('isImage(string): bool', (v: string) => {
    try {
      ImageRef.parse(v);
      return true;
    } catch {
      return false;
    }
  });
  env.registerFunction('Image.containsDigest(): bool', (i: ImageRef) => i.digest !== '');
  env.registerFunction('Image.registry(): string', (i: ImageRef) => i.registry);
  env.registerFunction('Image.repository(): string', (i: ImageRef) => i.repository);
  env.registerFunction('Image.identifier(): string', (i: ImageRef) => i.identifier);
  env.registerFunction('Image.tag(): string', (i: ImageRef) => i.tag);
  env.registerFunction('Image.digest(): string', (i: ImageRef) => i.digest);

  // two-variable comprehensions (1.32+)
  env.registerFunction('list.all(ast, ast, ast): bool', twoVarMacro('all', false));
  env.registerFunction('list.exists(ast, ast, ast): bool', twoVarMacro('exists', false));
  env.registerFunction('list.existsOne(ast, ast, ast): bool', twoVarMacro('existsOne', false));
  env.registerFunction('list.exists_one(ast, ast, ast): bool', twoVarMacro('existsOne', false));
  env.registerFunction('list.transformList(ast, ast, ast): list<dyn>', twoVarMacro('transformList', false));
  env.registerFunction('list.transformList(ast, ast, ast, ast): list<dyn>', twoVarMacro('transformList', true));
  env.registerFunction('list.transformMap(ast, ast, ast): map<dyn, dyn>', twoVarMacro('transformMap', false));
  env.registerFunction('list.transformMap(ast, ast, ast, ast): map<dyn, dyn>', twoVarMacro('transformMap', true));

  // sets
  env.registerType('SetsNamespace', SetsNamespace);
  env.registerConstant('sets', 'SetsNamespace', new SetsNamespace());
  env.registerFunction('SetsNamespace.contains(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((x) => a.some((y) => celEquals(x, y))));
  env.registerFunction('SetsNamespace.equivalent(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.every((x) => a.some((y) => celEquals(x, y))) && a.every((x) => b.some((y) => celEquals(x, y))));
  env.registerFunction('SetsNamespace.intersects(list, list): bool', (_: unknown, a: unknown[], b: unknown[]) => b.some((x) => a.some((y) => celEquals(x, y))));
  return env;
}

let shared: Environment | undefined;
let sharedOptionalOldSelf: Environment | undefined;

/** The shared environment (built once: registering the libraries is the expensive part). */
export function kubeCelEnvironment(): Environment {
  return (shared ??= build());
}

/** The environment of `optionalOldSelf` rules: `oldSelf` is an `optional<dyn>`. */
function optionalOldSelfEnvironment(): Environment {
  return (sharedOptionalOldSelf ??= kubeCelEnvironment().clone().registerVariable('oldSelf', 'optional<dyn>'));
}

/** A compiled rule: call it with the variables (`self`, `oldSelf`). */
export type CelProgram = (vars: Record<string, unknown>) => unknown;

/**
 * Compiles an expression in the Kubernetes environment: parse, then a type
 * check with every variable dynamic (unknown functions and wrong overloads
 * are compile errors, as upstream); with `optionalOldSelf`, `oldSelf` is an
 * optional. Throws the compile error.
 */
export function compileCel(expr: string, opts: { optionalOldSelf?: boolean } = {}): CelProgram {
  const env = opts.optionalOldSelf ? optionalOldSelfEnvironment() : kubeCelEnvironment();
  const source = rewriteHas(expr);
  const program = env.parse(source);
  const checked = env.check(source);
  if (!checked.valid) throw checked.error ?? new Error('type check failed');
  return program as unknown as CelProgram;
}

const PRIMITIVE_TYPES = new Set(['int', 'uint', 'double', 'string', 'bool', 'bytes', 'duration', 'timestamp', 'google.protobuf.Duration', 'google.protobuf.Timestamp']);

/**
 * The CEL type of a structural schema node, declaring object types on env
 * (fields by property); `dyn` where the shape is open (preserve-unknown-fields,
 * int-or-string, embedded resources, objects without properties).
 */
function declareSchemaType(env: Environment, schema: Record<string, any> | undefined, names: { next: number }, root = false): string {
  if (!schema || typeof schema !== 'object') return 'dyn';
  if (schema['x-kubernetes-int-or-string'] || schema['x-kubernetes-embedded-resource']) return 'dyn';
  switch (schema.type) {
    case 'integer':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    case 'string':
      return schema.format === 'byte' ? 'bytes' : schema.format === 'duration' ? 'google.protobuf.Duration' : schema.format === 'date' || schema.format === 'date-time' ? 'google.protobuf.Timestamp' : 'string';
    case 'array':
      return `list<${declareSchemaType(env, schema.items, names)}>`;
    case 'object': {
      if (schema['x-kubernetes-preserve-unknown-fields']) return 'dyn';
      if (schema.additionalProperties && typeof schema.additionalProperties === 'object') return `map<string, ${declareSchemaType(env, schema.additionalProperties, names)}>`;
      if (!schema.properties && !root) return 'dyn';
      const fields: Record<string, string> = {};
      for (const [k, ps] of Object.entries<Record<string, any>>(schema.properties ?? {})) {
        const name = escapeCelField(k);
        if (name) fields[name] = declareSchemaType(env, ps, names);
      }
      if (root) {
        // At the root, self has apiVersion, kind and metadata.name/generateName (upstream).
        const meta = `Schema${names.next++}`;
        env.registerType(meta, { fields: { name: 'string', generateName: 'string' } });
        Object.assign(fields, { apiVersion: 'string', kind: 'string', metadata: meta });
      }
      const name = `Schema${names.next++}`;
      env.registerType(name, { fields });
      return name;
    }
    default:
      return 'dyn';
  }
}

/**
 * Type-checks a validation rule against the schema node it is declared on
 * (self and oldSelf typed from it) and returns the errors upstream's typed
 * compilation reports that the dynamic check cannot see: a field the schema
 * does not declare (`undefined field 'x'`) and operators over mismatched
 * primitive types. Other typed-check findings are left to the dynamic check.
 */
export function schemaTypeErrors(expr: string, schema: Record<string, any>, opts: { root?: boolean; optionalOldSelf?: boolean } = {}): string | undefined {
  const env = kubeCelEnvironment().clone();
  let selfType: string;
  try {
    selfType = declareSchemaType(env, schema, { next: 1 }, !!opts.root);
    env.registerVariable('self', selfType);
    env.registerVariable('oldSelf', opts.optionalOldSelf ? `optional<${selfType}>` : selfType);
  } catch {
    return undefined; // a schema shape we cannot type: leave it to the dynamic check
  }
  let r: { valid: boolean; error?: { message: string } };
  try {
    r = env.check(rewriteHas(expr));
  } catch {
    return undefined;
  }
  if (r.valid || !r.error) return undefined;
  const err = r.error as { message: string; summary?: string; range?: { start: number } };
  const msg = err.summary ?? err.message.split('\n')[0]!;
  const at = (m: string) => celErrorText(expr, { summary: m, range: err.range });
  const key = /^No such key: (.+)$/.exec(msg);
  if (key) {
    // cel-go points at the selection's '.'.
    const start = err.range?.start;
    const dot = typeof start === 'number' && expr[start - 1] === '.' ? start - 1 : start;
    return celErrorText(expr, { summary: `undefined field '${key[1]}'`, range: dot === undefined ? undefined : { start: dot } });
  }
  const op = /^no such overload: (\S+) (\S+) (\S+)$/.exec(msg);
  if (op && PRIMITIVE_TYPES.has(op[1]!) && PRIMITIVE_TYPES.has(op[3]!)) return at(`found no matching overload for '_${op[2]}_' applied to '(${op[1]}, ${op[3]})'`);
  return undefined;
}

/**
 * A compile error as cel-go prints it after "ERROR: ":
 * `<input>:1:5: undefined field 'x'` then the source line and a caret.
 */
export function celErrorText(expr: string, e: { message?: string; summary?: string; range?: { start: number } }): string {
  const summary = e.summary ?? String(e.message ?? '').split('\n')[0]!;
  const start = e.range?.start;
  if (typeof start !== 'number' || start < 0 || start > expr.length) return `<input>: ${summary}`;
  const before = expr.slice(0, start);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const col = start - lineStart;
  const src = expr.split('\n')[line - 1] ?? '';
  return `<input>:${line}:${col + 1}: ${summary}\n | ${src}\n | ${'.'.repeat(col)}^`;
}
