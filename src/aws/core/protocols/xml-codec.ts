/**
 * XML bodies by shape, shared by the query, ec2 and rest-xml protocols:
 * writing outputs (elements named by locationName or member name; lists as
 * `<Name><member>..</member></Name>` with the list member's locationName,
 * or repeated elements when flattened; maps as `<entry><key/><value/>`),
 * and reading rest-xml inputs from a parsed element tree.
 */
import type { ServiceModel, Shape } from '../model.ts';
import { formatTextScalar, parseTextScalar } from '../protocol.ts';
import { type XmlElement, xmlEscape } from '../xml.ts';
import { shapeCompiler } from './shape-compiler.ts';

type Writer = (v: unknown, out: string[]) => void;
type Reader = (el: XmlElement, path: string) => unknown;

export interface XmlCodec {
  /** write appends the content (not the enclosing element) of a value of the named shape. */
  write(shape: string, v: unknown, out: string[]): void;
  /** read decodes the children/text of an element as the named shape. */
  read(shape: string, el: XmlElement): unknown;
}

export function createXmlCodec(model: ServiceModel): XmlCodec {
  const writer = shapeCompiler<Writer>(model, compileWriter);
  const reader = shapeCompiler<Reader>(model, compileReader);

  function compileWriter(s: Shape): Writer {
    switch (s.type) {
      case 'structure': {
        const members = Object.entries(s.members ?? {})
          .filter(([, ref]) => !ref.location)
          .map(([m, ref]) => {
            const el = ref.locationName ?? m;
            const ms = model.shapes[ref.shape]!;
            const flat = (ms.type === 'list' || ms.type === 'map') && ms.flattened === true;
            return { m, el, write: flat ? flatWriter(ms, el) : writer(ref.shape), flat };
          });
        return (v, out) => {
          if (v === null || typeof v !== 'object') return;
          const o = v as Record<string, unknown>;
          for (const mem of members) {
            const x = o[mem.m];
            if (x === undefined || x === null) continue;
            if (mem.flat) {
              mem.write(x, out);
              continue;
            }
            out.push(`<${mem.el}>`);
            mem.write(x, out);
            out.push(`</${mem.el}>`);
          }
        };
      }
      case 'list': {
        const el = s.member!.locationName ?? 'member';
        const item = writer(s.member!.shape);
        return (v, out) => {
          if (!Array.isArray(v)) return;
          for (const x of v) {
            out.push(`<${el}>`);
            if (x !== undefined && x !== null) item(x, out);
            out.push(`</${el}>`);
          }
        };
      }
      case 'map': {
        const kname = s.key!.locationName ?? 'key';
        const vname = s.value!.locationName ?? 'value';
        const val = writer(s.value!.shape);
        return (v, out) => {
          if (v === null || typeof v !== 'object') return;
          for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            out.push(`<entry><${kname}>${xmlEscape(k)}</${kname}><${vname}>`);
            if (x !== undefined && x !== null) val(x, out);
            out.push(`</${vname}></entry>`);
          }
        };
      }
      default:
        return (v, out) => {
          out.push(xmlEscape(formatTextScalar(s, v)));
        };
    }
  }

  /** Flattened lists/maps: each item is its own element named el (or the member's locationName). */
  function flatWriter(s: Shape, el: string): Writer {
    if (s.type === 'list') {
      const name = s.member!.locationName ?? el;
      const item = writer(s.member!.shape);
      return (v, out) => {
        if (!Array.isArray(v)) return;
        for (const x of v) {
          out.push(`<${name}>`);
          if (x !== undefined && x !== null) item(x, out);
          out.push(`</${name}>`);
        }
      };
    }
    const kname = s.key!.locationName ?? 'key';
    const vname = s.value!.locationName ?? 'value';
    const val = writer(s.value!.shape);
    return (v, out) => {
      for (const [k, x] of Object.entries((v ?? {}) as Record<string, unknown>)) {
        out.push(`<${el}><${kname}>${xmlEscape(k)}</${kname}><${vname}>`);
        if (x !== undefined && x !== null) val(x, out);
        out.push(`</${vname}></${el}>`);
      }
    };
  }


  function compileReader(s: Shape): Reader {
    switch (s.type) {
      case 'structure': {
        const byEl = new Map<string, { m: string; read: Reader; flat: boolean }>();
        for (const [m, ref] of Object.entries(s.members ?? {})) {
          if (ref.location) continue;
          const ms = model.shapes[ref.shape]!;
          const flat = ms.type === 'list' && ms.flattened === true;
          const el = flat ? ms.member!.locationName ?? ref.locationName ?? m : ref.locationName ?? m;
          byEl.set(el, { m, read: reader(flat ? ms.member!.shape : ref.shape), flat });
        }
        return (e, path) => {
          const out: Record<string, unknown> = {};
          for (const c of e.children) {
            const mem = byEl.get(c.name);
            if (!mem) continue;
            const v = mem.read(c, path ? `${path}.${mem.m}` : mem.m);
            if (mem.flat) ((out[mem.m] ??= []) as unknown[]).push(v);
            else out[mem.m] = v;
          }
          return out;
        };
      }
      case 'list': {
        const name = s.member!.locationName ?? 'member';
        const item = reader(s.member!.shape);
        return (e, path) => e.children.filter((c) => c.name === name).map((c, i) => item(c, `${path}.${i + 1}.member`));
      }
      case 'map': {
        const kname = s.key!.locationName ?? 'key';
        const vname = s.value!.locationName ?? 'value';
        const val = reader(s.value!.shape);
        return (e, path) => {
          const out: Record<string, unknown> = {};
          for (const entry of e.children) {
            const k = entry.children.find((c) => c.name === kname)?.text ?? '';
            const v = entry.children.find((c) => c.name === vname);
            out[k] = v ? val(v, `${path}.${k}`) : '';
          }
          return out;
        };
      }
      default:
        return (e, path) => parseTextScalar(s, e.text, path);
    }
  }

  return {
    write: (shape, v, out) => writer(shape)(v, out),
    read: (shape, el) => reader(shape)(el, ''),
  };
}
