/**
 * JSON bodies by shape, for the json and rest-json protocols: decoding
 * (epoch-second timestamps to Date, base64 blobs to Buffer, type checks) and
 * encoding (only members the model defines, Date to epoch seconds, Buffer to
 * base64). Members bound to the URI, query string or headers are left to the
 * rest-json code. Codecs are compiled per shape on first use.
 */
import type { ServiceModel, Shape } from '../model.ts';
import { DecodeError, epochSeconds, toBase64, toDate } from '../protocol.ts';
import { shapeCompiler } from './shape-compiler.ts';

type Reader = (v: unknown, path: string) => unknown;
type Writer = (v: unknown) => unknown;

export interface JsonCodec {
  /** read decodes a parsed JSON value of the named shape. Throws DecodeError on a type mismatch. */
  read(shape: string, v: unknown): unknown;
  /** write encodes a provider value of the named shape into a JSON-ready value. */
  write(shape: string, v: unknown): unknown;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'START_ARRAY';
  if (typeof v === 'object') return 'START_OBJECT';
  if (typeof v === 'string') return 'VALUE_STRING';
  if (typeof v === 'number') return 'VALUE_NUMBER';
  if (typeof v === 'boolean') return 'VALUE_BOOLEAN';
  return typeof v;
}

function mismatch(v: unknown, want: string, path: string): DecodeError {
  return new DecodeError(`${typeName(v)} can not be converted to ${want}${path ? ` (at '${path}')` : ''}`, path);
}

/** createJsonCodec builds the codec of a model. Body members only (location-bound members are skipped). */
export function createJsonCodec(model: ServiceModel): JsonCodec {
  const reader = shapeCompiler<Reader>(model, compileReader);
  const writer = shapeCompiler<Writer>(model, compileWriter);

  function compileReader(s: Shape): Reader {
    switch (s.type) {
      case 'structure': {
        const members = Object.entries(s.members ?? {})
          .filter(([, ref]) => !ref.location)
          .map(([m, ref]) => ({ m, read: reader(ref.shape) }));
        return (v, path) => {
          if (v === null || typeof v !== 'object' || Array.isArray(v)) throw mismatch(v, 'a structure', path);
          const o = v as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const { m, read } of members) {
            const x = o[m];
            if (x !== undefined && x !== null) out[m] = read(x, path ? `${path}.${m}` : m);
          }
          return out;
        };
      }
      case 'list': {
        const item = reader(s.member!.shape);
        return (v, path) => {
          if (!Array.isArray(v)) throw mismatch(v, 'a list', path);
          return v.map((x, i) => (x === null ? x : item(x, `${path}.${i + 1}.member`)));
        };
      }
      case 'map': {
        const val = reader(s.value!.shape);
        return (v, path) => {
          if (v === null || typeof v !== 'object' || Array.isArray(v)) throw mismatch(v, 'a map', path);
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = x === null ? x : val(x, `${path}.${k}`);
          return out;
        };
      }
      case 'string':
        return (v, path) => {
          if (typeof v !== 'string') throw mismatch(v, 'a String', path);
          return v;
        };
      case 'boolean':
        return (v, path) => {
          if (typeof v !== 'boolean') throw mismatch(v, 'a Boolean', path);
          return v;
        };
      case 'integer':
      case 'long':
        return (v, path) => {
          if (typeof v !== 'number' || !Number.isInteger(v)) throw mismatch(v, s.type === 'long' ? 'a Long' : 'an Integer', path);
          return v;
        };
      case 'double':
      case 'float':
        return (v, path) => {
          if (typeof v !== 'number') throw mismatch(v, 'a Double', path);
          return v;
        };
      case 'timestamp':
        return (v, path) => {
          if (typeof v !== 'number' && typeof v !== 'string') throw mismatch(v, 'a Timestamp', path);
          const d = toDate(v);
          if (Number.isNaN(d.getTime())) throw mismatch(v, 'a Timestamp', path);
          return d;
        };
      case 'blob':
        return (v, path) => {
          if (typeof v !== 'string') throw mismatch(v, 'a Blob', path);
          return Buffer.from(v, 'base64');
        };
      default:
        return (v) => v;
    }
  }


  function compileWriter(s: Shape): Writer {
    switch (s.type) {
      case 'structure': {
        const members = Object.entries(s.members ?? {})
          .filter(([, ref]) => !ref.location)
          .map(([m, ref]) => ({ m, write: writer(ref.shape) }));
        return (v) => {
          if (v === null || typeof v !== 'object') return {};
          const o = v as Record<string, unknown>;
          const out: Record<string, unknown> = {};
          for (const { m, write } of members) {
            const x = o[m];
            if (x !== undefined && x !== null) out[m] = write(x);
          }
          return out;
        };
      }
      case 'list': {
        const item = writer(s.member!.shape);
        return (v) => (Array.isArray(v) ? v.map((x) => (x === null || x === undefined ? null : item(x))) : []);
      }
      case 'map': {
        const val = writer(s.value!.shape);
        return (v) => {
          const out: Record<string, unknown> = {};
          if (v === null || typeof v !== 'object') return out;
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = x === null || x === undefined ? null : val(x);
          return out;
        };
      }
      case 'timestamp':
        return (v) => epochSeconds(v);
      case 'blob':
        return (v) => toBase64(v);
      case 'integer':
      case 'long':
      case 'double':
      case 'float':
        return (v) => (typeof v === 'number' ? v : Number(v));
      case 'boolean':
        return (v) => v === true || v === 'true';
      default:
        return (v) => (typeof v === 'string' ? v : String(v));
    }
  }

  return {
    read: (shape, v) => reader(shape)(v, ''),
    write: (shape, v) => writer(shape)(v),
  };
}
