/**
 * CustomResourceDefinition validation rules (`x-kubernetes-validations`,
 * apiextensions v1): CEL expressions evaluated against custom resources with
 * `self` bound to the value at the schema node that declares them, and, for
 * transition rules (those naming `oldSelf`) on update, `oldSelf` bound to the
 * previous value at the same place (objects by property, `x-kubernetes-list-type:
 * map` lists by their keys). A rule that is not true gives a field error at
 * that node (plus the rule's `fieldPath`) with the rule's `message`, or the
 * evaluated `messageExpression`, or `failed rule: <rule>`; `reason` picks the
 * error type. Rules are compiled once and checked when the CRD is written.
 *
 * The CEL environment is `cel-library.ts` (@marcbachmann/cel-js with optional
 * types and Kubernetes' libraries: quantity, url, ip/cidr, regex find, lists,
 * string extensions, sets); a rule that does not compile (syntax, unknown
 * function, wrong overload) is reported when the CRD is written. With
 * `optionalOldSelf`, `oldSelf` is an optional (none on create). Strings with
 * format byte, duration, date or date-time are bytes, durations and
 * timestamps in rules (upstream's CEL type mapping). On update, rules without
 * oldSelf are skipped where the value is unchanged (validation ratcheting).
 */
import { Optional } from '@marcbachmann/cel-js';
import { type FieldError, fieldErr } from '../errors.ts';
import { type CelProgram, celErrorText, compileCel, escapeCelField, schemaTypeErrors } from './cel-library.ts';

type Schema = Record<string, any>;
type Program = CelProgram;

interface Rule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
  optionalOldSelf?: boolean;
}

const programs = new Map<string, Program | Error>();

function compile(expr: string, optionalOldSelf = false): Program | Error {
  const key = optionalOldSelf ? `?${expr}` : expr;
  let p = programs.get(key);
  if (!p) {
    try {
      p = compileCel(expr, { optionalOldSelf });
    } catch (e) {
      p = e as Error;
    }
    if (programs.size > 10_000) programs.clear();
    programs.set(key, p);
  }
  return p;
}

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON value as CEL sees it under its schema: integers are CEL ints (BigInt), numbers doubles. */
function toCel(v: unknown, schema: Schema | undefined): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number') {
    if (schema?.type === 'number') return v;
    return Number.isInteger(v) ? BigInt(v) : v;
  }
  if (typeof v === 'string' && schema?.type === 'string' && schema.format) return formatted(v, schema.format);
  if (Array.isArray(v)) return v.map((x) => toCel(x, schema?.items));
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    // Objects (not additionalProperties maps) also answer their escaped property names (self.__namespace__, self.foo__dash__bar).
    const isMap = isObj(schema?.additionalProperties) && !schema?.properties;
    for (const [k, x] of Object.entries(v)) {
      const ps = schema?.properties?.[k] ?? (isObj(schema?.additionalProperties) ? schema!.additionalProperties : undefined);
      out[k] = toCel(x, ps);
      if (isMap) continue;
      const esc = escapeCelField(k);
      if (esc && esc !== k && !(esc in out)) Object.defineProperty(out, esc, { value: out[k], enumerable: false });
    }
    return out;
  }
  return v;
}

let toDuration: Program | undefined;

/**
 * A string under its schema format as Kubernetes' CEL sees it: `byte` is
 * bytes, `duration` a duration, `date`/`date-time` a timestamp (a value that
 * does not parse stays a string).
 */
function formatted(v: string, format: string): unknown {
  try {
    switch (format) {
      case 'byte':
        return new Uint8Array(Buffer.from(v, 'base64'));
      case 'duration':
        return (toDuration ??= compileCel('duration(s)'))({ s: v });
      case 'date':
      case 'date-time': {
        const d = new Date(format === 'date' ? `${v}T00:00:00Z` : v);
        return Number.isNaN(d.getTime()) ? v : d;
      }
      default:
        return v;
    }
  } catch {
    return v;
  }
}

function typeName(schema: Schema, v: unknown): string {
  if (schema.type) return String(schema.type);
  return Array.isArray(v) ? 'array' : isObj(v) ? 'object' : typeof v === 'number' ? 'number' : typeof v;
}

/** Deep equality of JSON values (object key order ignored). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/** The rule's message, else the rule (upstream's ruleErrorString). */
function ruleErrorString(rule: Rule): string {
  return (rule.message?.trim() || rule.rule.trim());
}

/** An evaluation error's text as cel-go words it ("no such key: x"). */
function evalErrorText(e: unknown): string {
  const first = String((e as Error)?.message ?? e).split('\n')[0]!;
  return first.replace(/^No such key: /, 'no such key: ');
}

function errorFor(rule: Rule, path: string, type: string, detail: string): FieldError {
  const field = rule.fieldPath ? `${path}${rule.fieldPath.startsWith('.') || rule.fieldPath.startsWith('[') ? '' : '.'}${rule.fieldPath}` : path;
  switch (rule.reason) {
    case 'FieldValueForbidden':
      return fieldErr.forbidden(field, detail);
    case 'FieldValueRequired':
      return fieldErr.required(field, detail);
    case 'FieldValueDuplicate':
      return { ...fieldErr.duplicate(field, type), detail };
    default:
      return fieldErr.invalid(field, type, detail);
  }
}

function evalRules(schema: Schema, v: unknown, old: unknown, hasOld: boolean, path: string, root: boolean, errs: FieldError[]): void {
  const rules: Rule[] = schema['x-kubernetes-validations'] ?? [];
  if (rules.length === 0) return;
  const p = path || '<root>';
  const selfOf = (x: unknown) => {
    if (!root || !isObj(x)) return toCel(x, schema);
    // At the root, self has apiVersion, kind and metadata.name/generateName (upstream).
    const { metadata, ...rest } = x;
    return toCel({ ...rest, metadata: { name: metadata?.name, generateName: metadata?.generateName } }, { ...schema, properties: { ...(schema.properties ?? {}), metadata: { type: 'object' } } });
  };
  const self = selfOf(v);
  for (const rule of rules) {
    const prog = compile(rule.rule, !!rule.optionalOldSelf);
    if (prog instanceof Error) continue; // reported when the CRD was written
    const transition = /\boldSelf\b/.test(rule.rule);
    if (transition && !hasOld && !rule.optionalOldSelf) continue;
    // Ratcheting (CRDValidationRatcheting, on since 1.30): a rule without oldSelf is not re-checked on an unchanged value.
    if (!transition && hasOld && !root && sameJson(v, old)) continue;
    const type = typeName(schema, v);
    // With optionalOldSelf, oldSelf is optional.none() on create and optional.of(old) on update.
    const oldSelf = !transition ? undefined : rule.optionalOldSelf ? (hasOld ? Optional.of(selfOf(old)) : Optional.none()) : hasOld ? selfOf(old) : undefined;
    let ok: unknown;
    try {
      ok = prog({ self, oldSelf });
    } catch (e) {
      // Upstream: "<error> evaluating rule: <message or rule>".
      errs.push(errorFor(rule, p, type, `${evalErrorText(e)} evaluating rule: ${ruleErrorString(rule)}`));
      continue;
    }
    if (ok === true) continue;
    let message = rule.message?.trim() || `failed rule: ${ruleErrorString(rule)}`;
    if (rule.messageExpression) {
      const mp = compile(rule.messageExpression, !!rule.optionalOldSelf);
      if (!(mp instanceof Error)) {
        try {
          const m = mp({ self, oldSelf });
          if (typeof m === 'string' && m.trim() !== '') message = m;
        } catch {
          /* keep the static message */
        }
      }
    }
    errs.push(errorFor(rule, p, type, message));
  }
}

function walk(schema: Schema | undefined, v: unknown, old: unknown, hasOld: boolean, path: string, root: boolean, errs: FieldError[]): void {
  if (!schema || v === undefined || v === null) return;
  evalRules(schema, v, old, hasOld, path, root, errs);
  if (isObj(v)) {
    const props: Record<string, Schema> = schema.properties ?? {};
    for (const [k, x] of Object.entries(v)) {
      if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
      const ps = props[k] ?? (isObj(schema.additionalProperties) ? schema.additionalProperties : undefined);
      const oldHas = hasOld && isObj(old) && old[k] !== undefined;
      walk(ps, x, oldHas ? (old as Record<string, unknown>)[k] : undefined, oldHas, path ? `${path}.${k}` : k, false, errs);
    }
  } else if (Array.isArray(v) && schema.items) {
    const keys: string[] | undefined = schema['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] : undefined;
    v.forEach((x, i) => {
      let prev: unknown;
      if (keys && hasOld && Array.isArray(old) && isObj(x)) prev = old.find((o) => isObj(o) && keys.every((k) => o[k] === x[k]));
      walk(schema.items, x, prev, prev !== undefined, `${path}[${i}]`, false, errs);
    });
  }
}

/** Whether a schema declares any rule, remembered per schema object (a CRD's schema is replaced, not mutated, when it changes). */
const rulesIn = new WeakMap<object, boolean>();
function hasRules(schema: Schema): boolean {
  let r = rulesIn.get(schema);
  if (r === undefined) rulesIn.set(schema, (r = JSON.stringify(schema).includes('x-kubernetes-validations')));
  return r;
}

/**
 * Evaluates every `x-kubernetes-validations` rule of a custom resource's
 * schema (old: the stored object, for transition rules on update).
 */
export function validateCelRules(schema: Schema | undefined, obj: unknown, old?: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (schema && hasRules(schema)) walk(schema, obj, old, old !== undefined, '', true, errs);
  return errs;
}

/** Compile errors of a CRD version schema's rules, with the field paths of the CRD (`base` = the schema's path). */
export function celRuleCompileErrors(schema: Schema | undefined, base: string): FieldError[] {
  const errs: FieldError[] = [];
  // uncorrelatable: the items path of the innermost list whose elements have no identity (not a map list); oldSelf cannot be used below it.
  const visit = (s: Schema | undefined, path: string, uncorrelatable: string | undefined) => {
    if (!isObj(s)) return;
    (s['x-kubernetes-validations'] ?? []).forEach((r: Rule, i: number) => {
      const at = `${path}.x-kubernetes-validations[${i}]`;
      const schemaErrs: FieldError[] = [];
      const rule = typeof r?.rule === 'string' ? r.rule.trim() : '';
      const msg = typeof r?.message === 'string' ? r.message.trim() : '';
      if (!rule) schemaErrs.push(fieldErr.required(`${at}.rule`, 'rule is not specified'));
      else if (typeof r.message === 'string' && r.message.length > 0 && msg.length === 0) schemaErrs.push(fieldErr.invalid(`${at}.message`, r.message, 'message must be non-empty if specified'));
      else if (typeof r.message === 'string' && r.message.length > 2048) schemaErrs.push(fieldErr.invalid(`${at}.message`, `${r.message.slice(0, 10)}...`, 'message must have a maximum length of 2048 characters'));
      else if (/[\n\r]/.test(msg)) schemaErrs.push(fieldErr.invalid(`${at}.message`, r.message, 'message must not contain line breaks'));
      else if (/[\n\r]/.test(rule) && !msg) schemaErrs.push(fieldErr.required(`${at}.message`, 'message must be specified if rule contains line breaks'));
      if (typeof r?.messageExpression === 'string' && r.messageExpression.length > 0 && r.messageExpression.trim() === '') schemaErrs.push(fieldErr.required(`${at}.messageExpression`, 'messageExpression must be non-empty if specified'));
      if (r?.reason !== undefined && !REASONS.includes(r.reason)) schemaErrs.push(fieldErr.notSupported(`${at}.reason`, r.reason, REASONS));
      if (typeof r?.fieldPath === 'string' && r.fieldPath.length > 0) {
        if (r.fieldPath.trim() === '') schemaErrs.push(fieldErr.invalid(`${at}.fieldPath`, r.fieldPath, 'fieldPath must be non-empty if specified'));
        else if (/[\n\r]/.test(r.fieldPath)) schemaErrs.push(fieldErr.invalid(`${at}.fieldPath`, r.fieldPath, 'fieldPath must not contain line breaks'));
        else {
          const bad = fieldPathError(r.fieldPath, s);
          if (bad) schemaErrs.push(fieldErr.invalid(`${at}.fieldPath`, r.fieldPath, `fieldPath must be a valid path: ${bad}`));
        }
      }
      errs.push(...schemaErrs);
      // As upstream, rules are compiled only when their schema is otherwise valid.
      if (schemaErrs.length > 0 || !rule) return;
      const p = compile(r.rule, !!r.optionalOldSelf);
      if (p instanceof Error) errs.push(fieldErr.invalid(`${at}.rule`, r.rule, `compilation failed: ERROR: ${celErrorText(r.rule, p)}`));
      else {
        // Typed against the schema: fields the schema does not declare, mismatched operand types.
        const typed = schemaTypeErrors(r.rule, s, { root: path === base, optionalOldSelf: !!r.optionalOldSelf });
        if (typed) errs.push(fieldErr.invalid(`${at}.rule`, r.rule, `compilation failed: ERROR: ${typed}`));
      }
      if (r.messageExpression) {
        const m = compile(r.messageExpression, !!r.optionalOldSelf);
        if (m instanceof Error) errs.push(fieldErr.invalid(`${at}.messageExpression`, r.messageExpression, `messageExpression compilation failed: ERROR: ${celErrorText(r.messageExpression, m)}`));
      }
      if (uncorrelatable && /\boldSelf\b/.test(r.rule)) errs.push(fieldErr.invalid(`${at}.rule`, r.rule, `oldSelf cannot be used on the uncorrelatable portion of the schema within ${uncorrelatable}`));
    });
    for (const [k, ps] of Object.entries(s.properties ?? {})) visit(ps as Schema, `${path}.properties[${k}]`, uncorrelatable);
    if (isObj(s.items)) {
      const itemsPath = `${path}.items`;
      visit(s.items, itemsPath, s['x-kubernetes-list-type'] === 'map' ? uncorrelatable : (uncorrelatable ?? itemsPath));
    }
    if (isObj(s.additionalProperties)) visit(s.additionalProperties, `${path}.additionalProperties`, uncorrelatable);
  };
  visit(schema, base, undefined);
  return errs;
}

const REASONS = ['FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueInvalid', 'FieldValueRequired'];

/**
 * Why a rule's fieldPath does not resolve in its schema node (upstream's
 * ValidFieldPath): `.name` and `['name']` steps through properties or map
 * keys; list indexes are not allowed.
 */
function fieldPathError(path: string, schema: Schema): string | undefined {
  let cur: Schema | undefined = schema;
  let i = 0;
  const step = (name: string): string | undefined => {
    if (!isObj(cur)) return 'does not refer to a valid field';
    if (isObj(cur.properties) && isObj(cur.properties[name])) cur = cur.properties[name];
    else if (isObj(cur.additionalProperties)) cur = cur.additionalProperties;
    else return 'does not refer to a valid field';
    return undefined;
  };
  while (i < path.length) {
    if (path[i] === '.') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path.slice(i + 1));
      if (!m) return 'does not refer to a valid field';
      const e = step(m[0]);
      if (e) return e;
      i += 1 + m[0].length;
    } else if (path[i] === '[') {
      const m = /^\['((?:[^'\\]|\\.)*)'\]/.exec(path.slice(i));
      if (!m) {
        const got = /^\[([^\]]*)\]?/.exec(path.slice(i))?.[1] ?? '';
        return `expected single quoted string but got ${got}`;
      }
      const e = step(m[1]!.replace(/\\(.)/g, '$1'));
      if (e) return e;
      i += m[0].length;
    } else return 'does not refer to a valid field';
  }
  return undefined;
}
