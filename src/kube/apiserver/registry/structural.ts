/**
 * Structural schemas of custom resources (apiextensions-apiserver's
 * pkg/apiserver/schema): pruning of unknown fields, defaulting from `default`,
 * and validation (type, required, enum, bounds, lengths, patterns, items)
 * with upstream's field error messages.
 */
import { type FieldError, fieldErr } from '../errors.ts';

type Schema = Record<string, any>;
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Drops fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields)
 * and fills `default`s, in place. At the root, apiVersion/kind/metadata are kept.
 */
export function pruneAndDefault(schema: Schema | undefined, v: unknown, root = false): unknown {
  if (!schema) return v;
  if (isObj(v)) {
    const props: Record<string, Schema> | undefined = schema.properties;
    const addl = schema.additionalProperties;
    const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
    for (const k of Object.keys(v)) {
      if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props?.[k];
      if (schema['x-kubernetes-embedded-resource'] && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      if (ps) v[k] = pruneAndDefault(ps, v[k]);
      else if (isObj(addl)) v[k] = pruneAndDefault(addl, v[k]);
      else if (!preserve && addl !== true) delete v[k];
    }
    if (props) {
      for (const [k, ps] of Object.entries(props)) {
        if (v[k] === undefined && ps.default !== undefined) v[k] = pruneAndDefault(ps, structuredClone(ps.default));
      }
    }
    return v;
  }
  if (Array.isArray(v) && schema.items) return v.map((x) => pruneAndDefault(schema.items, x));
  return v;
}

/** Validates a value against a structural schema; path is the field path of v. */
export function validateStructural(schema: Schema | undefined, v: unknown, path: string, root = false): FieldError[] {
  const errs: FieldError[] = [];
  if (!schema) return errs;
  const p = path || '<root>';
  if (v === null) {
    if (schema.nullable) return errs;
    if (schema.type) errs.push(fieldErr.invalid(p, 'null', `${p} in body must be of type ${schema.type}: "null"`));
    return errs;
  }
  const t = typeOf(v);
  const want = schema.type as string | undefined;
  if (schema['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') errs.push(fieldErr.invalid(p, t, `${p} in body must be of type integer,string: "${t}"`));
  } else if (want && want !== t && !(want === 'number' && t === 'integer')) {
    errs.push(fieldErr.invalid(p, t, `${p} in body must be of type ${want}: "${t}"`));
    return errs;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) {
    errs.push(fieldErr.notSupported(p, v, schema.enum.map((e: unknown) => String(e))));
  }
  if (typeof v === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? v <= schema.minimum : v < schema.minimum))
      errs.push(fieldErr.invalid(p, v, `${p} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`));
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? v >= schema.maximum : v > schema.maximum))
      errs.push(fieldErr.invalid(p, v, `${p} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`));
    if (schema.multipleOf && v % schema.multipleOf !== 0) errs.push(fieldErr.invalid(p, v, `${p} in body should be a multiple of ${schema.multipleOf}`));
  }
  if (typeof v === 'string') {
    if (schema.maxLength !== undefined && [...v].length > schema.maxLength) errs.push({ type: 'FieldValueTooLong', field: p, value: v, detail: `may not be longer than ${schema.maxLength}` });
    if (schema.minLength !== undefined && [...v].length < schema.minLength) errs.push(fieldErr.invalid(p, v, `${p} in body should be at least ${schema.minLength} chars long`));
    if (schema.pattern !== undefined) {
      try {
        if (!new RegExp(schema.pattern, 'u').test(v)) errs.push(fieldErr.invalid(p, v, `${p} in body should match '${schema.pattern}'`));
      } catch {
        /* an invalid pattern was rejected when the CRD was written */
      }
    }
  }
  if (Array.isArray(v)) {
    if (schema.maxItems !== undefined && v.length > schema.maxItems) errs.push({ type: 'FieldValueTooMany', field: p, value: v.length, detail: `must have at most ${schema.maxItems} items` });
    if (schema.minItems !== undefined && v.length < schema.minItems) errs.push(fieldErr.invalid(p, v.length, `${p} in body should have at least ${schema.minItems} items`));
    if (schema.uniqueItems) {
      const seen = new Set<string>();
      v.forEach((x, i) => {
        const k = JSON.stringify(x);
        if (seen.has(k)) errs.push(fieldErr.duplicate(`${p}[${i}]`, x));
        seen.add(k);
      });
    }
    if (schema.items) v.forEach((x, i) => errs.push(...validateStructural(schema.items, x, `${path}[${i}]`)));
  }
  if (isObj(v)) {
    for (const req of schema.required ?? []) if (v[req] === undefined) errs.push(fieldErr.required(path ? `${path}.${req}` : req, ''));
    const props: Record<string, Schema> = schema.properties ?? {};
    for (const [k, x] of Object.entries(v)) {
      if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props[k] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (ps) errs.push(...validateStructural(ps, x, path ? `${path}.${k}` : k));
    }
    if (schema.maxProperties !== undefined && Object.keys(v).length > schema.maxProperties) errs.push({ type: 'FieldValueTooMany', field: p, value: Object.keys(v).length, detail: `must have at most ${schema.maxProperties} items` });
  }
  return errs;
}

/** Reads a simple JSONPath (.a.b[0].c) from an object. */
export function readJsonPath(obj: unknown, jsonPath: string): unknown {
  const p = jsonPath.replace(/^\{|\}$/g, '').replace(/^\$/, '');
  const parts = p.split(/\.|\[(\d+)\]/).filter((x) => x !== undefined && x !== '');
  let cur: any = obj;
  for (const part of parts) {
    if (cur === undefined || cur === null) return undefined;
    cur = /^\d+$/.test(part) && Array.isArray(cur) ? cur[Number(part)] : cur[part];
  }
  return cur;
}

/** Sets a simple dotted path (.spec.replicas), creating maps on the way. */
export function writeJsonPath(obj: Record<string, any>, jsonPath: string, value: unknown): void {
  const parts = jsonPath.replace(/^\./, '').split('.');
  let cur = obj;
  for (let i = 0; i < parts.length - 1; i++) {
    if (!isObj(cur[parts[i]!])) cur[parts[i]!] = {};
    cur = cur[parts[i]!];
  }
  cur[parts[parts.length - 1]!] = value;
}
