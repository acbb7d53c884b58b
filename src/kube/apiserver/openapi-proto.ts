/**
 * The swagger 2.0 document as gnostic's OpenAPIv2 protobuf `Document`
 * (openapiv2/OpenAPIv2.proto of google/gnostic-models, the form client-go's
 * `OpenAPISchema()` asks for with
 * `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and
 * decodes with proto.Unmarshal whatever the response's content type).
 * kubectl reads it for client-side validation (`kind: List` manifests) and
 * for apply's patch metadata. A small hand-written protobuf writer (varints,
 * fixed64, length-delimited fields) and a mapper from the swagger JSON.
 * Values without a typed field (enum, default, example, vendor extensions)
 * are `Any` messages carrying YAML (JSON text, which is valid YAML).
 */

import type { ServerResponse } from 'node:http';

/**
 * The protobuf media type of /openapi/v2 as answered (the `@` spelling that
 * clients send is not a valid media type for Go's mime parser, so the
 * apiserver answers with the dotted one, as kube-openapi's handler does).
 */
export const OPENAPI_V2_PROTO = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const OPENAPI_V2_PROTO_AT = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/** True when an Accept header asks for the protobuf OpenAPI v2 document. */
export function wantsOpenApiV2Proto(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const t = part.split(';')[0]!.trim().toLowerCase();
    return t === OPENAPI_V2_PROTO || t === OPENAPI_V2_PROTO_AT;
  });
}

/** Minimal protobuf message writer: fields are appended in call order. */
export class PbWriter {
  private buf = Buffer.allocUnsafe(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.len++] = b;
  }

  private bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private varint(n: number | bigint): void {
    if (typeof n === 'number' && n >= 0 && n <= 0x7fffffff) {
      while (n > 0x7f) {
        this.byte((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      this.byte(n);
      return;
    }
    // Negative int64 values are ten bytes (two's complement), as protobuf encodes them.
    let v = BigInt.asUintN(64, BigInt(n));
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  private lengthDelimited(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.bytes(b);
  }

  /** A string field (skipped when empty, as proto3 does). */
  string(field: number, s: unknown): this {
    if (typeof s !== 'string' || s === '') return this;
    this.lengthDelimited(field, Buffer.from(s, 'utf8'));
    return this;
  }

  /** A repeated string field. */
  strings(field: number, list: unknown): this {
    if (!Array.isArray(list)) return this;
    for (const s of list) this.lengthDelimited(field, Buffer.from(String(s), 'utf8'));
    return this;
  }

  /** A bool field (skipped when false). */
  bool(field: number, v: unknown): this {
    if (v !== true) return this;
    this.tag(field, 0);
    this.byte(1);
    return this;
  }

  /** A bool field written even when false (a oneof member). */
  boolAlways(field: number, v: boolean): this {
    this.tag(field, 0);
    this.byte(v ? 1 : 0);
    return this;
  }

  /** An int64 field (skipped when zero or not a number). */
  int64(field: number, v: unknown): this {
    if (typeof v !== 'number' || !Number.isFinite(v) || v === 0) return this;
    this.tag(field, 0);
    this.varint(Math.trunc(v) <= 0x7fffffff && v > 0 ? Math.trunc(v) : BigInt(Math.trunc(v)));
    return this;
  }

  /** A double field (skipped when zero or not a number). */
  double(field: number, v: unknown): this {
    if (typeof v !== 'number' || v === 0) return this;
    this.tag(field, 1);
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.len);
    this.len += 8;
    return this;
  }

  /** An embedded message field (written even when empty: presence matters). */
  message(field: number, w: PbWriter | undefined): this {
    if (!w) return this;
    this.lengthDelimited(field, w.view());
    return this;
  }

  private view(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** The encoded bytes (a copy). */
  finish(): Buffer {
    return Buffer.from(this.view());
  }
}

type J = Record<string, any>;
const isObj = (v: unknown): v is J => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Any{yaml}: JSON text is YAML. */
function anyMsg(v: unknown): PbWriter {
  return new PbWriter().string(2, `${JSON.stringify(v)}\n`);
}

/** Repeated NamedAny for the `x-` keys of an object. */
function vendorExtensions(w: PbWriter, field: number, o: J): void {
  for (const [k, v] of Object.entries(o)) {
    if (!k.startsWith('x-') || v === undefined) continue;
    w.message(field, new PbWriter().string(1, k).message(2, anyMsg(v)));
  }
}

function anys(w: PbWriter, field: number, list: unknown): void {
  if (Array.isArray(list)) for (const v of list) w.message(field, anyMsg(v));
}

/** Schema (fields 1..31). */
export function schemaMsg(s: J): PbWriter {
  const w = new PbWriter();
  w.string(1, s.$ref).string(2, s.format).string(3, s.title).string(4, s.description);
  if (s.default !== undefined) w.message(5, anyMsg(s.default));
  w.double(6, s.multipleOf).double(7, s.maximum).bool(8, s.exclusiveMaximum).double(9, s.minimum).bool(10, s.exclusiveMinimum);
  w.int64(11, s.maxLength).int64(12, s.minLength).string(13, s.pattern).int64(14, s.maxItems).int64(15, s.minItems).bool(16, s.uniqueItems);
  w.int64(17, s.maxProperties).int64(18, s.minProperties).strings(19, s.required);
  anys(w, 20, s.enum);
  if (isObj(s.additionalProperties)) w.message(21, new PbWriter().message(1, schemaMsg(s.additionalProperties)));
  // oneof boolean case: written even when false (the case is present).
  else if (typeof s.additionalProperties === 'boolean') w.message(21, new PbWriter().boolAlways(2, s.additionalProperties));
  if (s.type !== undefined) w.message(22, new PbWriter().strings(1, Array.isArray(s.type) ? s.type : [s.type]));
  if (s.items !== undefined) {
    const it = new PbWriter();
    for (const x of Array.isArray(s.items) ? s.items : [s.items]) if (isObj(x)) it.message(1, schemaMsg(x));
    w.message(23, it);
  }
  if (Array.isArray(s.allOf)) for (const x of s.allOf) if (isObj(x)) w.message(24, schemaMsg(x));
  if (isObj(s.properties)) {
    const p = new PbWriter();
    for (const [name, v] of Object.entries(s.properties)) if (isObj(v)) p.message(1, new PbWriter().string(1, name).message(2, schemaMsg(v)));
    w.message(25, p);
  }
  w.string(26, s.discriminator).bool(27, s.readOnly);
  if (s.example !== undefined) w.message(30, anyMsg(s.example));
  vendorExtensions(w, 31, s);
  return w;
}

/** Query/FormData (allow_empty_value at 5) or Path/Header parameter sub-schemas. */
function nonBodyParam(p: J): PbWriter {
  const inn = String(p.in ?? '');
  const withAllowEmpty = inn === 'query' || inn === 'formData';
  const o = withAllowEmpty ? 1 : 0;
  const w = new PbWriter().bool(1, p.required).string(2, p.in).string(3, p.description).string(4, p.name);
  if (withAllowEmpty) w.bool(5, p.allowEmptyValue);
  w.string(5 + o, p.type).string(6 + o, p.format);
  if (isObj(p.items)) w.message(7 + o, primitivesItems(p.items));
  w.string(8 + o, p.collectionFormat);
  if (p.default !== undefined) w.message(9 + o, anyMsg(p.default));
  w.double(10 + o, p.maximum).bool(11 + o, p.exclusiveMaximum).double(12 + o, p.minimum).bool(13 + o, p.exclusiveMinimum);
  w.int64(14 + o, p.maxLength).int64(15 + o, p.minLength).string(16 + o, p.pattern).int64(17 + o, p.maxItems).int64(18 + o, p.minItems);
  w.bool(19 + o, p.uniqueItems);
  anys(w, 20 + o, p.enum);
  w.double(21 + o, p.multipleOf);
  vendorExtensions(w, 22 + o, p);
  const caseField = { header: 1, formData: 2, query: 3, path: 4 }[inn] ?? 3;
  return new PbWriter().message(caseField, w);
}

/** PrimitivesItems (fields 1..18). */
function primitivesItems(p: J): PbWriter {
  const w = new PbWriter().string(1, p.type).string(2, p.format);
  if (isObj(p.items)) w.message(3, primitivesItems(p.items));
  w.string(4, p.collectionFormat);
  if (p.default !== undefined) w.message(5, anyMsg(p.default));
  anys(w, 16, p.enum);
  vendorExtensions(w, 18, p);
  return w;
}

/** ParametersItem: a JsonReference or a Parameter (body or non-body). */
function parametersItem(p: J): PbWriter {
  if (typeof p.$ref === 'string') return new PbWriter().message(2, new PbWriter().string(1, p.$ref).string(2, p.description));
  let param: PbWriter;
  if (p.in === 'body') {
    const b = new PbWriter().string(1, p.description).string(2, p.name).string(3, p.in).bool(4, p.required);
    if (isObj(p.schema)) b.message(5, schemaMsg(p.schema));
    vendorExtensions(b, 6, p);
    param = new PbWriter().message(1, b);
  } else param = new PbWriter().message(2, nonBodyParam(p));
  return new PbWriter().message(1, param);
}

function responses(r: J): PbWriter {
  const w = new PbWriter();
  for (const [code, v] of Object.entries(r)) {
    if (code.startsWith('x-') || !isObj(v)) continue;
    let value: PbWriter;
    if (typeof v.$ref === 'string') value = new PbWriter().message(2, new PbWriter().string(1, v.$ref).string(2, v.description));
    else {
      const resp = new PbWriter().string(1, v.description);
      if (isObj(v.schema)) resp.message(2, new PbWriter().message(1, schemaMsg(v.schema)));
      vendorExtensions(resp, 5, v);
      value = new PbWriter().message(1, resp);
    }
    w.message(1, new PbWriter().string(1, code).message(2, value));
  }
  vendorExtensions(w, 2, r);
  return w;
}

function operation(o: J): PbWriter {
  const w = new PbWriter().strings(1, o.tags).string(2, o.summary).string(3, o.description).string(5, o.operationId).strings(6, o.produces).strings(7, o.consumes);
  if (Array.isArray(o.parameters)) for (const p of o.parameters) if (isObj(p)) w.message(8, parametersItem(p));
  if (isObj(o.responses)) w.message(9, responses(o.responses));
  w.strings(10, o.schemes).bool(11, o.deprecated);
  vendorExtensions(w, 13, o);
  return w;
}

const METHODS: Array<[string, number]> = [['get', 2], ['put', 3], ['post', 4], ['delete', 5], ['options', 6], ['head', 7], ['patch', 8]];

function pathItem(item: J): PbWriter {
  const w = new PbWriter().string(1, item.$ref);
  for (const [m, f] of METHODS) if (isObj(item[m])) w.message(f, operation(item[m]));
  if (Array.isArray(item.parameters)) for (const p of item.parameters) if (isObj(p)) w.message(9, parametersItem(p));
  vendorExtensions(w, 10, item);
  return w;
}

/** Encodes a swagger 2.0 JSON document as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2(doc: J): Buffer {
  const w = new PbWriter().string(1, doc.swagger);
  if (isObj(doc.info)) {
    const i = new PbWriter().string(1, doc.info.title).string(2, doc.info.version).string(3, doc.info.description).string(4, doc.info.termsOfService);
    vendorExtensions(i, 7, doc.info);
    w.message(2, i);
  }
  w.string(3, doc.host).string(4, doc.basePath).strings(5, doc.schemes).strings(6, doc.consumes).strings(7, doc.produces);
  if (isObj(doc.paths)) {
    const p = new PbWriter();
    vendorExtensions(p, 1, doc.paths);
    for (const [name, item] of Object.entries(doc.paths)) if (!name.startsWith('x-') && isObj(item)) p.message(2, new PbWriter().string(1, name).message(2, pathItem(item)));
    w.message(8, p);
  }
  if (isObj(doc.definitions)) {
    const d = new PbWriter();
    for (const [name, s] of Object.entries(doc.definitions)) if (isObj(s)) d.message(1, new PbWriter().string(1, name).message(2, schemaMsg(s)));
    w.message(9, d);
  }
  vendorExtensions(w, 16, doc);
  return w.finish();
}

/** Writes a 200 with the protobuf document (no-op body when headers already went out). */
export function sendOpenApiV2Proto(res: ServerResponse, body: Buffer): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', OPENAPI_V2_PROTO);
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Content-Length', body.length);
  res.end(body);
}
