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
 * timestamps in rules (upstream's CEL type mapping).
 */
import { Optional } from '@marcbachmann/cel-js';
import { type FieldError, fieldErr } from '../errors.ts';
import { type CelProgram, celErrorText, compileCel, schemaTypeErrors } from './cel-library.ts';

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
    for (const [k, x] of Object.entries(v)) {
      const ps = schema?.properties?.[k] ?? (isObj(schema?.additionalProperties) ? schema!.additionalProperties : undefined);
      out[k] = toCel(x, ps);
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

/**
 * Evaluates every `x-kubernetes-validations` rule of a custom resource's
 * schema (old: the stored object, for transition rules on update).
 */
export function validateCelRules(schema: Schema | undefined, obj: unknown, old?: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (schema && JSON.stringify(schema).includes('x-kubernetes-validations')) walk(schema, obj, old, old !== undefined, '', true, errs);
  return errs;
}

/** Compile errors of a CRD version schema's rules, with the field paths of the CRD (`base` = the schema's path). */
export function celRuleCompileErrors(schema: Schema | undefined, base: string): FieldError[] {
  const errs: FieldError[] = [];
  const visit = (s: Schema | undefined, path: string) => {
    if (!isObj(s)) return;
    (s['x-kubernetes-validations'] ?? []).forEach((r: Rule, i: number) => {
      const at = `${path}.x-kubernetes-validations[${i}]`;
      if (!r?.rule) {
        errs.push(fieldErr.required(`${at}.rule`, ''));
        return;
      }
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
      if (/\boldSelf\b/.test(r.rule) && path === base && !r.optionalOldSelf) {
        /* root transition rules are allowed (upstream) */
      }
    });
    for (const [k, ps] of Object.entries(s.properties ?? {})) visit(ps as Schema, `${path}.properties[${k}]`);
    if (isObj(s.items)) visit(s.items, `${path}.items`);
    if (isObj(s.additionalProperties)) visit(s.additionalProperties, `${path}.additionalProperties`);
  };
  visit(schema, base);
  return errs;
}
