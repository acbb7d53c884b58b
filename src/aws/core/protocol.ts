/**
 * What every wire protocol implementation (protocols/*.ts) provides to the
 * gateway, and the value conversions they share.
 *
 * Values follow the provider contract (types.ts): Date for timestamps, Buffer
 * for blobs. Documents read back from the store are JSON, so serializers also
 * accept ISO strings / epoch numbers for timestamps and base64 strings or
 * JSON-ified Buffers for blobs.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation, ProtocolName, Shape } from './model.ts';
import type { AwsServiceError } from './types.ts';

/** An HTTP request as the protocols see it. */
export interface WireRequest {
  method: string;
  /** Path as sent (percent-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Memo: the merged query+form parameters (query protocols). */
  params?: URLSearchParams;
  /** Memo: rest protocols' matched operation and labels. */
  route?: { op: string; labels: Record<string, string> };
}

/** An HTTP response to send. */
export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Protocol {
  readonly name: ProtocolName;
  /**
   * operationOf finds the operation the request names. `name` is the model's
   * operation when one matches; `requested` is what the client asked for
   * (for the unknown-operation message).
   */
  operationOf(req: WireRequest): { name: string | undefined; requested: string };
  /** parseInput builds the input object (model member names) from the request. Throws AwsServiceError on undecodable input. */
  parseInput(op: Operation, req: WireRequest): Record<string, unknown>;
  /** serializeOutput renders a successful result. */
  serializeOutput(op: Operation, output: unknown, requestId: string): WireResponse;
  /** serializeError renders an error in the protocol's shape. */
  serializeError(err: AwsServiceError, requestId: string): WireResponse;
  /** unknownOperation is the protocol's error for an operation the service lacks or localeks does not implement. */
  unknownOperation(requested: string, implementedElsewhere: boolean): AwsServiceError;
}

/** Errors a protocol raises while decoding a value: the gateway turns them into the service's validation error. */
export class DecodeError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** toDate turns a timestamp value from a provider or a stored document into a Date. */
export function toDate(v: unknown): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v * 1000);
  if (typeof v === 'string') return new Date(/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : v);
  return new Date(NaN);
}

/** toBase64 turns a blob value (Buffer, Uint8Array, JSON-ified Buffer, or an already-base64 string) into base64. */
export function toBase64(v: unknown): string {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
    return Buffer.from((v as { data: number[] }).data).toString('base64');
  }
  return String(v);
}

/** isoTimestamp renders a timestamp as ISO 8601 (query, ec2, rest-xml bodies). */
export function isoTimestamp(v: unknown): string {
  const d = toDate(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString();
}

/** epochSeconds renders a timestamp as epoch seconds (json, rest-json bodies). */
export function epochSeconds(v: unknown): number {
  const d = toDate(v);
  return d.getTime() / 1000;
}

/**
 * parseTextScalar decodes a scalar sent as text (query parameters, XML,
 * headers, query strings) according to its shape.
 */
export function parseTextScalar(s: Shape, text: string, path: string): unknown {
  switch (s.type) {
    case 'string':
      return text;
    case 'integer':
    case 'long': {
      if (!/^\s*[-+]?\d+\s*$/.test(text)) throw new DecodeError(`Value '${text}' at '${path}' failed to satisfy constraint: Member must be an integer`, path);
      return Number(text);
    }
    case 'double':
    case 'float': {
      const n = Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw new DecodeError(`Value '${text}' at '${path}' failed to satisfy constraint: Member must be a number`, path);
      return n;
    }
    case 'boolean': {
      const t = text.toLowerCase();
      if (t === 'true') return true;
      if (t === 'false') return false;
      throw new DecodeError(`Value '${text}' at '${path}' failed to satisfy constraint: Member must be a boolean`, path);
    }
    case 'timestamp': {
      const d = /^\d+(\.\d+)?$/.test(text) ? new Date(Number(text) * 1000) : new Date(text);
      if (Number.isNaN(d.getTime())) throw new DecodeError(`Value '${text}' at '${path}' failed to satisfy constraint: Member must be a timestamp`, path);
      return d;
    }
    case 'blob':
      return Buffer.from(text, 'base64');
    default:
      return text;
  }
}

/** formatTextScalar renders a scalar as text (XML bodies, headers). */
export function formatTextScalar(s: Shape, v: unknown): string {
  switch (s.type) {
    case 'timestamp':
      return isoTimestamp(v);
    case 'blob':
      return toBase64(v);
    case 'boolean':
      return v === true || v === 'true' ? 'true' : 'false';
    default:
      return String(v);
  }
}

/** lcfirst lower-cases the first letter (Coral validation paths: RoleName -> roleName). */
export function lcfirst(s: string): string {
  return s.length === 0 ? s : s[0]!.toLowerCase() + s.slice(1);
}

/** ucfirst upper-cases the first letter (EC2 parameter names from locationName). */
export function ucfirst(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1);
}
