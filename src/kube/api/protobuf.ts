/**
 * Decoding of Kubernetes protobuf bodies (`application/vnd.kubernetes.protobuf`)
 * into the JSON objects the registry takes.
 *
 * A body is the 4 bytes `k8s\0` followed by a runtime.Unknown
 * {typeMeta {apiVersion, kind}, raw, contentEncoding, contentType}; `raw` is
 * the typed object (e.g. apps/v1 Deployment) without its TypeMeta. Field
 * numbers, wire types, JSON names, inlining and omitempty come from the table
 * `protobuf-table.json`, generated from upstream's generated.proto files and Go
 * struct tags by scripts/gen-kube-proto.py (never edited by hand).
 *
 * The result is what encoding/json would print for the same Go value: zero
 * scalars of non-pointer `omitempty` fields are left out, inlined structs are
 * merged into their parent, and the well-known types take their JSON form
 * (Time/MicroTime as RFC 3339 or null, Duration as "1h0m0s", Quantity and
 * IntOrString as string or number, RawExtension/FieldsV1/apiextensions JSON as
 * the embedded JSON, JSON-schema unions (OrArray/OrBool/OrStringArray) as
 * their MarshalJSON, []byte as base64, ExtraValue-style wrappers as arrays).
 */
import { readFileSync } from 'node:fs';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4-byte prefix of every Kubernetes protobuf body. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** A table row: [field number, JSON name, type, flags, map key type?]. */
type Row = [number, string, string, number, string?];

interface Table {
  packages: Record<string, string>;
  lists: string[];
  messages: Record<string, Row[]>;
}

const REPEATED = 1;
const MAP = 2;
const OMIT_ZERO = 4;
const INLINE = 8;

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const DURATION = `${META}.Duration`;
const FIELDS_V1 = `${META}.FieldsV1`;
const QUANTITY = 'k8s.io.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const RAW_EXTENSION = 'k8s.io.apimachinery.pkg.runtime.RawExtension';
const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';
const AX = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
const AX_JSON = `${AX}.JSON`;
const AX_PROPS = `${AX}.JSONSchemaProps`;
const AX_OR_ARRAY = `${AX}.JSONSchemaPropsOrArray`;
const AX_OR_BOOL = `${AX}.JSONSchemaPropsOrBool`;
const AX_OR_STRINGS = `${AX}.JSONSchemaPropsOrStringArray`;
/** Go's zero time.Time in Unix seconds (January 1, year 1 UTC). */
const ZERO_TIME_SECONDS = -62135596800;

/** A body that is not valid Kubernetes protobuf, or of a type not in the table. */
export class ProtobufDecodeError extends Error {
  /** True when the bytes are fine but the kind has no protobuf form here (callers answer 415). */
  readonly unsupportedKind: boolean;
  constructor(message: string, unsupportedKind = false) {
    super(message);
    this.name = 'ProtobufDecodeError';
    this.unsupportedKind = unsupportedKind;
  }
}

interface Compiled {
  byNumber: Map<number, Row>;
}

let table: Table | undefined;
let byGroupVersion: Map<string, string> | undefined;
let lists: Set<string> | undefined;
const compiled = new Map<string, Compiled>();

function load(): Table {
  if (!table) {
    table = JSON.parse(readFileSync(new URL('./protobuf-table.json', import.meta.url), 'utf8')) as Table;
    byGroupVersion = new Map(Object.entries(table.packages).map(([pkg, gv]) => [gv, pkg]));
    lists = new Set(table.lists);
  }
  return table;
}

function message(type: string): Compiled | undefined {
  let c = compiled.get(type);
  if (c) return c;
  const rows = load().messages[type];
  if (!rows) return undefined;
  c = { byNumber: new Map(rows.map((r) => [r[0], r])) };
  compiled.set(type, c);
  return c;
}

/**
 * The protobuf message of a kind in a group/version (`apps/v1`, `Deployment`),
 * or undefined. Options kinds (DeleteOptions, ...) that every group version
 * registers resolve to meta.k8s.io/v1's.
 */
export function messageTypeOf(apiVersion: string, kind: string): string | undefined {
  const t = load();
  const pkg = byGroupVersion!.get(apiVersion);
  if (pkg && t.messages[`${pkg}.${kind}`]) return `${pkg}.${kind}`;
  if (t.messages[`${META}.${kind}`] && /Options$/.test(kind)) return `${META}.${kind}`;
  return undefined;
}

/** A cursor over protobuf wire bytes. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint; 8 bytes and more are summed exactly as a two's complement int64 (negative numbers take 10). */
  varint(): number {
    let result = 0;
    let mult = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufDecodeError('unexpected end of data in varint');
      const b = this.buf[this.pos++]!;
      if (i >= 7) return this.bigTail(result, mult, b, i);
      result += (b & 0x7f) * mult;
      if ((b & 0x80) === 0) return result;
      mult *= 128;
    }
    throw new ProtobufDecodeError('varint too long');
  }

  /** Finishes a long varint exactly (two's complement int64: negative numbers take 10 bytes). */
  private bigTail(low: number, mult: number, b: number, i: number): number {
    let v = BigInt(low) + BigInt(b & 0x7f) * BigInt(mult);
    let shift = BigInt(7 * (i + 1));
    while (b & 0x80) {
      if (this.pos >= this.end) throw new ProtobufDecodeError('unexpected end of data in varint');
      b = this.buf[this.pos++]!;
      v += BigInt(b & 0x7f) << shift;
      shift += 7n;
    }
    v = BigInt.asIntN(64, v);
    return Number(v);
  }

  bytes(): Buffer {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) throw new ProtobufDecodeError('length-delimited field runs past the end of its message');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufDecodeError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new ProtobufDecodeError('field runs past the end of its message');
  }
}

function scalarFromVarint(type: string, v: number): unknown {
  switch (type) {
    case 'bool':
      return v !== 0;
    case 'int32':
      return v >= 0x80000000 && v <= 0xffffffff ? v - 0x100000000 : v;
    case 'sint32':
    case 'sint64':
      return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    default:
      return v;
  }
}

function readScalar(r: Reader, type: string, wire: number): unknown {
  switch (wire) {
    case 0:
      return scalarFromVarint(type, r.varint());
    case 1: {
      const at = r.pos;
      r.pos += 8;
      if (r.pos > r.end) throw new ProtobufDecodeError('unexpected end of data');
      if (type === 'double') return r.buf.readDoubleLE(at);
      if (type === 'sfixed64') return Number(r.buf.readBigInt64LE(at));
      return Number(r.buf.readBigUInt64LE(at));
    }
    case 5: {
      const at = r.pos;
      r.pos += 4;
      if (r.pos > r.end) throw new ProtobufDecodeError('unexpected end of data');
      if (type === 'float') return r.buf.readFloatLE(at);
      if (type === 'sfixed32') return r.buf.readInt32LE(at);
      return r.buf.readUInt32LE(at);
    }
    case 2: {
      const b = r.bytes();
      if (type === 'string') return b.toString('utf8');
      if (type === 'bytes') return b.toString('base64');
      throw new ProtobufDecodeError(`length-delimited data for a ${type} field`);
    }
    default:
      throw new ProtobufDecodeError(`unsupported wire type ${wire}`);
  }
}

const SCALARS = new Set(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'double', 'float', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function rfc3339(seconds: number, nanos: number, micro: boolean): string | null {
  if (seconds === ZERO_TIME_SECONDS && nanos === 0) return null;
  const d = new Date(seconds * 1000);
  const base = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

/** Go's time.Duration.String() ("1h0m0s", "1.5s", "300ms", "0s"). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e9) {
    const [unit, div] = u < 1e3 ? ['ns', 1] : u < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    out = `${trimFraction(u / div!)}${unit}`;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = `${trimFraction(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

function trimFraction(x: number): string {
  return String(Number(x.toFixed(9)));
}

function parseEmbeddedJson(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  if (raw.subarray(0, 4).equals(PROTOBUF_MAGIC)) return decodeKubeProtobuf(raw);
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ProtobufDecodeError('embedded object is neither JSON nor Kubernetes protobuf');
  }
}

/** Decodes one message of `type` from r[start, end) into its JSON form. */
function decodeMessage(type: string, buf: Buffer, start: number, end: number): unknown {
  switch (type) {
    case TIME:
    case MICRO_TIME: {
      const f = fieldsOf(buf, start, end);
      // An empty message is Go's zero time (time_proto.go writes nothing for it).
      if (f.size === 0) return null;
      return rfc3339(Number(f.get(1) ?? 0), Number(f.get(2) ?? 0), type === MICRO_TIME);
    }
    case DURATION:
      return goDuration(Number(fieldsOf(buf, start, end).get(1) ?? 0));
    case QUANTITY: {
      const b = fieldsOf(buf, start, end).get(1);
      return b instanceof Buffer ? b.toString('utf8') : '';
    }
    case INT_OR_STRING: {
      const f = fieldsOf(buf, start, end);
      if (Number(f.get(1) ?? 0) === 1) {
        const b = f.get(3);
        return b instanceof Buffer ? b.toString('utf8') : '';
      }
      return scalarFromVarint('int32', Number(f.get(2) ?? 0));
    }
    case AX_OR_ARRAY:
    case AX_OR_BOOL:
    case AX_OR_STRINGS:
      return decodeSchemaUnion(type, buf, start, end);
    case RAW_EXTENSION:
    case AX_JSON:
    case FIELDS_V1: {
      const b = fieldsOf(buf, start, end).get(1);
      return b instanceof Buffer ? parseEmbeddedJson(b) : null;
    }
    case UNKNOWN:
      return decodeUnknown(buf.subarray(start, end));
  }
  const m = message(type);
  if (!m) throw new ProtobufDecodeError(`no protobuf definition for ${type}`, true);
  const r = new Reader(buf, start, end);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    const row = m.byNumber.get(num);
    if (!row) {
      r.skip(wire);
      continue;
    }
    const [, name, ftype, flags] = row;
    if (flags & MAP) {
      const entry = r.bytes();
      const [k, v] = decodeMapEntry(entry, row[4] ?? 'string', ftype);
      const map = (out[name] ??= {}) as Record<string, unknown>;
      map[String(k)] = v;
      continue;
    }
    if (SCALARS.has(ftype)) {
      if (flags & REPEATED && wire === 2 && ftype !== 'string' && ftype !== 'bytes') {
        // Packed repeated scalars.
        const b = r.bytes();
        const pr = new Reader(b);
        const list = (out[name] ??= []) as unknown[];
        const inner = ftype === 'double' || ftype.endsWith('fixed64') ? 1 : ftype === 'float' || ftype.endsWith('fixed32') ? 5 : 0;
        while (!pr.done()) list.push(readScalar(pr, ftype, inner));
        continue;
      }
      const v = readScalar(r, ftype, wire);
      if (flags & REPEATED) ((out[name] ??= []) as unknown[]).push(v);
      else if (flags & OMIT_ZERO && isZero(v)) delete out[name];
      else out[name] = v;
      continue;
    }
    if (wire !== 2) throw new ProtobufDecodeError(`field ${name} of ${type} must be length-delimited`);
    const b = r.bytes();
    const v = lists!.has(ftype) ? decodeList(ftype, b) : decodeMessage(ftype, b, 0, b.length);
    if (flags & REPEATED) ((out[name] ??= []) as unknown[]).push(v);
    else if (flags & INLINE && v && typeof v === 'object') Object.assign(out, v);
    else out[name] = v;
  }
  return out;
}

/**
 * apiextensions' JSON-schema unions, as their MarshalJSON writes them: a
 * schema, or else the array of schemas (OrArray), the boolean (OrBool), or
 * the property names (OrStringArray).
 */
function decodeSchemaUnion(type: string, buf: Buffer, start: number, end: number): unknown {
  const r = new Reader(buf, start, end);
  let schema: Buffer | undefined;
  const schemas: Buffer[] = [];
  const strings: string[] = [];
  let allows = false;
  const schemaField = type === AX_OR_BOOL ? 2 : 1;
  while (!r.done()) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (num === schemaField && wire === 2) schema = r.bytes();
    else if (type === AX_OR_ARRAY && num === 2 && wire === 2) schemas.push(r.bytes());
    else if (type === AX_OR_STRINGS && num === 2 && wire === 2) strings.push(r.bytes().toString('utf8'));
    else if (type === AX_OR_BOOL && num === 1 && wire === 0) allows = r.varint() !== 0;
    else r.skip(wire);
  }
  if (type === AX_OR_ARRAY && schemas.length > 0) return schemas.map((b) => decodeMessage(AX_PROPS, b, 0, b.length));
  if (schema) return decodeMessage(AX_PROPS, schema, 0, schema.length);
  if (type === AX_OR_BOOL) return allows;
  if (type === AX_OR_STRINGS) return strings;
  return null;
}

/** A wrapper like authentication/v1 ExtraValue: JSON is the `items` array. */
function decodeList(type: string, b: Buffer): unknown[] {
  const v = decodeMessage(type, b, 0, b.length) as { items?: unknown[] };
  return v.items ?? [];
}

function decodeMapEntry(b: Buffer, keyType: string, valueType: string): [unknown, unknown] {
  const r = new Reader(b);
  let k: unknown = keyType === 'string' ? '' : 0;
  let v: unknown = valueType === 'string' ? '' : valueType === 'bytes' ? '' : SCALARS.has(valueType) ? 0 : lists!.has(valueType) ? [] : {};
  while (!r.done()) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (num === 1) k = readScalar(r, keyType, wire);
    else if (num === 2) {
      if (SCALARS.has(valueType)) v = readScalar(r, valueType, wire);
      else {
        const vb = r.bytes();
        v = lists!.has(valueType) ? decodeList(valueType, vb) : decodeMessage(valueType, vb, 0, vb.length);
      }
    } else r.skip(wire);
  }
  return [k, v];
}

/** Raw top-level fields of a small message: varints as numbers, length-delimited as Buffers (last wins). */
function fieldsOf(buf: Buffer, start: number, end: number): Map<number, number | Buffer> {
  const r = new Reader(buf, start, end);
  const out = new Map<number, number | Buffer>();
  while (!r.done()) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) out.set(num, r.varint());
    else if (wire === 2) out.set(num, r.bytes());
    else r.skip(wire);
  }
  return out;
}

/** runtime.Unknown → the typed object with apiVersion and kind. */
function decodeUnknown(b: Buffer): Record<string, unknown> {
  const f = fieldsOf(b, 0, b.length);
  const tm = f.get(1);
  let apiVersion = '';
  let kind = '';
  if (tm instanceof Buffer) {
    const t = fieldsOf(tm, 0, tm.length);
    const av = t.get(1);
    const k = t.get(2);
    if (av instanceof Buffer) apiVersion = av.toString('utf8');
    if (k instanceof Buffer) kind = k.toString('utf8');
  }
  const raw = f.get(2);
  const enc = f.get(3);
  const ctype = f.get(4);
  if (enc instanceof Buffer && enc.length > 0) throw new ProtobufDecodeError(`unsupported content encoding ${enc.toString('utf8')}`);
  const rawBuf = raw instanceof Buffer ? raw : Buffer.alloc(0);
  if (ctype instanceof Buffer && /json/.test(ctype.toString('utf8'))) {
    const obj = parseEmbeddedJson(rawBuf) as Record<string, unknown>;
    return obj && typeof obj === 'object' ? { apiVersion, kind, ...obj } : obj;
  }
  if (!kind) throw new ProtobufDecodeError("Object 'Kind' is missing");
  const type = messageTypeOf(apiVersion, kind);
  if (!type) throw new ProtobufDecodeError(`no kind "${kind}" is registered for version "${apiVersion}"`, true);
  const obj = decodeMessage(type, rawBuf, 0, rawBuf.length) as Record<string, unknown>;
  return { apiVersion, kind, ...obj };
}

/** True when the bytes start with the Kubernetes protobuf prefix. */
export function isKubeProtobuf(buf: Buffer): boolean {
  return buf.length >= 4 && buf.subarray(0, 4).equals(PROTOBUF_MAGIC);
}

/**
 * Decodes a `application/vnd.kubernetes.protobuf` body into the object's JSON
 * form (with apiVersion and kind from the envelope). Throws
 * ProtobufDecodeError for bad bytes, and with `unsupportedKind` set for kinds
 * the table does not know (custom resources have no protobuf form).
 */
export function decodeKubeProtobuf(buf: Buffer): Record<string, unknown> {
  if (!isKubeProtobuf(buf)) throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  return decodeUnknown(buf.subarray(4));
}

/** Decodes a bare typed message (no envelope); for tests and embedded objects. */
export function decodeProtobufMessage(type: string, buf: Buffer): unknown {
  return decodeMessage(type, buf, 0, buf.length);
}
