/**
 * Input validation from the service model: required members, enums, string
 * and blob lengths, list and map sizes, numeric ranges and patterns. One
 * validator is compiled per shape on first use and cached per model.
 *
 * Model patterns are Java regular expressions; those JavaScript cannot
 * compile (possessive quantifiers, \Z, ...) are skipped rather than guessed.
 */
import type { ServiceModel, Shape } from './model.ts';

/** One constraint a value failed. `path` is member names and 1-based list positions from the input root. */
export interface Problem {
  path: (string | number)[];
  /** The offending value (undefined when missing). */
  value: unknown;
  kind: 'required' | 'enum' | 'length' | 'range' | 'pattern';
  /** Coral-style constraint text, e.g. "Member must not be null". */
  constraint: string;
}

/** A path as a linked list from the leaf up, so valid input allocates no arrays. */
type Path = { up: Path; key: string | number } | undefined;
type Validator = (value: unknown, path: Path, out: Problem[]) => void;

function materialize(p: Path): (string | number)[] {
  const a: (string | number)[] = [];
  for (let x = p; x; x = x.up) a.push(x.key);
  return a.reverse();
}

const caches = new WeakMap<ServiceModel, Map<string, Validator | null>>();
const noop: Validator = () => {};

/** validateInput checks input against the shape; returns every problem found (empty when valid). */
export function validateInput(model: ServiceModel, shapeName: string | undefined, input: unknown): Problem[] {
  if (!shapeName) return [];
  const out: Problem[] = [];
  validatorFor(model, shapeName)(input, undefined, out);
  return out;
}

function validatorFor(model: ServiceModel, name: string): Validator {
  let cache = caches.get(model);
  if (!cache) caches.set(model, (cache = new Map()));
  const hit = cache.get(name);
  if (hit) return hit;
  if (hit === null) return (v, p, o) => cache.get(name)!(v, p, o); // recursive shape under construction
  cache.set(name, null);
  const v = compile(model, model.shapes[name]!, name) ?? noop;
  cache.set(name, v);
  return v;
}

/** compilePattern turns a model (Java) pattern into an anchored JS RegExp, or undefined when JS cannot express it. */
export function compilePattern(p: string): RegExp | undefined {
  if (/\\[ZzAGQE]|[*+?}]\+|\(\?[a-zA-Z]|\\p\{(?:Is|In|java)/.test(p)) return undefined;
  for (const flags of ['u', '']) {
    try {
      return new RegExp(`^(?:${p})$`, flags);
    } catch {
      // try the next flag set
    }
  }
  return undefined;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (v instanceof Date) return `'${v.toISOString()}'`;
  if (Buffer.isBuffer(v)) return `'${v.toString('base64')}'`;
  if (Array.isArray(v)) return `'[${v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')}]'`;
  if (typeof v === 'object') return `'${JSON.stringify(v)}'`;
  return `'${String(v)}'`;
}

/** describeProblem renders one problem in the AWS (Coral) wording. */
export function describeProblem(p: Problem, pathText: string): string {
  return `Value ${show(p.value)} at '${pathText}' failed to satisfy constraint: ${p.constraint}`;
}

function compile(model: ServiceModel, s: Shape, _name: string): Validator | undefined {
  switch (s.type) {
    case 'structure': {
      const required = s.required ?? [];
      const members = Object.entries(s.members ?? {}).map(([m, ref]) => [m, validatorFor(model, ref.shape)] as const);
      return (v, path, out) => {
        if (v === null || typeof v !== 'object') return;
        const o = v as Record<string, unknown>;
        for (const r of required) {
          if (o[r] === undefined || o[r] === null) out.push({ path: materialize({ up: path, key: r }), value: undefined, kind: 'required', constraint: 'Member must not be null' });
        }
        for (const [m, val] of members) {
          const x = o[m];
          if (x !== undefined && x !== null && val !== noop) val(x, { up: path, key: m }, out);
        }
      };
    }
    case 'list': {
      const item = validatorFor(model, s.member!.shape);
      const size = sizeCheck(s);
      return (v, path, out) => {
        if (!Array.isArray(v)) return;
        size?.(v.length, v, path, out);
        if (item !== noop) v.forEach((x, i) => x !== undefined && x !== null && item(x, { up: path, key: i + 1 }, out));
      };
    }
    case 'map': {
      const key = validatorFor(model, s.key!.shape);
      const value = validatorFor(model, s.value!.shape);
      const size = sizeCheck(s);
      return (v, path, out) => {
        if (v === null || typeof v !== 'object') return;
        const entries = Object.entries(v as Record<string, unknown>);
        size?.(entries.length, v, path, out);
        for (const [k, x] of entries) {
          key(k, path, out);
          if (x !== undefined && x !== null) value(x, { up: path, key: k }, out);
        }
      };
    }
    case 'string': {
      const en = s.enum ? new Set(s.enum) : undefined;
      const enumText = s.enum ? `Member must satisfy enum value set: [${s.enum.join(', ')}]` : '';
      const size = sizeCheck(s);
      const re = s.pattern ? compilePattern(s.pattern) : undefined;
      if (!en && !size && !re) return undefined;
      return (v, path, out) => {
        if (typeof v !== 'string') return;
        if (en && !en.has(v)) out.push({ path: materialize(path), value: v, kind: 'enum', constraint: enumText });
        size?.(v.length, v, path, out);
        if (re && !re.test(v)) out.push({ path: materialize(path), value: v, kind: 'pattern', constraint: `Member must satisfy regular expression pattern: ${s.pattern}` });
      };
    }
    case 'blob': {
      const size = sizeCheck(s);
      if (!size) return undefined;
      return (v, path, out) => {
        if (Buffer.isBuffer(v)) size(v.length, v, path, out);
      };
    }
    case 'integer':
    case 'long':
    case 'double':
    case 'float': {
      if (s.min === undefined && s.max === undefined) return undefined;
      return (v, path, out) => {
        if (typeof v !== 'number') return;
        if (s.min !== undefined && v < s.min) out.push({ path: materialize(path), value: v, kind: 'range', constraint: `Member must have value greater than or equal to ${s.min}` });
        if (s.max !== undefined && v > s.max) out.push({ path: materialize(path), value: v, kind: 'range', constraint: `Member must have value less than or equal to ${s.max}` });
      };
    }
    default:
      return undefined;
  }
}

function sizeCheck(s: Shape): ((n: number, v: unknown, path: Path, out: Problem[]) => void) | undefined {
  if (s.min === undefined && s.max === undefined) return undefined;
  return (n, v, path, out) => {
    if (s.min !== undefined && n < s.min) out.push({ path: materialize(path), value: v, kind: 'length', constraint: `Member must have length greater than or equal to ${s.min}` });
    if (s.max !== undefined && n > s.max) out.push({ path: materialize(path), value: v, kind: 'length', constraint: `Member must have length less than or equal to ${s.max}` });
  };
}
