/**
 * CloudWatch Logs filter patterns, as AWS documents them
 * ("Filter pattern syntax for metric filters, subscription filters, filter
 * log events"):
 *
 * - Unstructured text: terms (`ERROR`), quoted phrases (`"Exception error"`),
 *   all terms must appear (AND, case-sensitive); `?a ?b` matches when any of
 *   the `?` terms appears; `-term` excludes; `%regex%` matches a regular
 *   expression. The empty pattern matches every event.
 * - JSON: `{ $.a.b[0] = "x" && ($.n > 5 || $.f IS TRUE) }` with =, !=, <, <=,
 *   >, >=, IS NULL / IS TRUE / IS FALSE, NOT EXISTS, `*` wildcards in string
 *   values and `%regex%` values. Events that are not JSON never match.
 * - Space-delimited: `[ip, user, ..., status = 4* || status = 5*, bytes > 100]`
 *   where `...` stands for any number of fields; a field in double quotes or
 *   square brackets in the event counts as one field.
 *
 * compileFilterPattern parses once and returns a predicate; an invalid pattern
 * throws InvalidParameterException as FilterLogEvents does.
 */
import { awsError } from '../core/types.ts';

/** A compiled filter pattern. */
export type LogEventPredicate = (message: string) => boolean;

function invalid(): Error {
  return awsError('InvalidParameterException', 'Invalid filter pattern', 400);
}

/** compileFilterPattern turns a filter pattern into a predicate over event messages. */
export function compileFilterPattern(pattern: string | undefined): LogEventPredicate {
  const p = (pattern ?? '').trim();
  if (p === '') return () => true;
  if (p.startsWith('{')) return compileJson(p);
  if (p.startsWith('[')) return compileSpaceDelimited(p);
  return compileText(p);
}

// ---------- shared value matching ----------

type Value = { kind: 'number'; n: number; raw: string } | { kind: 'string'; s: string; quoted: boolean } | { kind: 'regex'; re: RegExp };

function globToRegExp(s: string): RegExp {
  return new RegExp('^' + s.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's');
}

function makeRegex(body: string): RegExp {
  try {
    return new RegExp(body);
  } catch {
    throw invalid();
  }
}

function parseValue(raw: string, quoted: boolean): Value {
  if (!quoted && raw.length >= 2 && raw.startsWith('%') && raw.endsWith('%')) return { kind: 'regex', re: makeRegex(raw.slice(1, -1)) };
  if (!quoted && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(raw)) return { kind: 'number', n: Number(raw), raw };
  return { kind: 'string', s: raw, quoted };
}

type Op = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** compare applies op between a field (string or number or other JSON) and a pattern value. */
function compare(field: unknown, op: Op, v: Value): boolean {
  if (field === undefined) return false;
  if (op === '=' || op === '!=') {
    let eq: boolean;
    if (v.kind === 'number') {
      const n = typeof field === 'number' ? field : typeof field === 'string' && field.trim() !== '' ? Number(field) : NaN;
      eq = n === v.n;
    } else if (v.kind === 'regex') {
      eq = typeof field === 'string' || typeof field === 'number' ? v.re.test(String(field)) : false;
    } else {
      const s = typeof field === 'string' || typeof field === 'number' || typeof field === 'boolean' ? String(field) : undefined;
      eq = s !== undefined && (v.s.includes('*') ? globToRegExp(v.s).test(s) : s === v.s);
    }
    return op === '=' ? eq : !eq;
  }
  if (v.kind !== 'number') return false;
  const n = typeof field === 'number' ? field : typeof field === 'string' && field.trim() !== '' ? Number(field) : NaN;
  if (Number.isNaN(n)) return false;
  switch (op) {
    case '<':
      return n < v.n;
    case '<=':
      return n <= v.n;
    case '>':
      return n > v.n;
    default:
      return n >= v.n;
  }
}

// ---------- unstructured text ----------

function compileText(p: string): LogEventPredicate {
  const required: ((m: string) => boolean)[] = [];
  const optional: ((m: string) => boolean)[] = [];
  const excluded: ((m: string) => boolean)[] = [];
  let i = 0;
  while (i < p.length) {
    while (i < p.length && /\s/.test(p[i]!)) i++;
    if (i >= p.length) break;
    let bucket = required;
    if (p[i] === '?') {
      bucket = optional;
      i++;
    } else if (p[i] === '-' && i + 1 < p.length && /["\w%]/.test(p[i + 1]!)) {
      bucket = excluded;
      i++;
    }
    let test: (m: string) => boolean;
    if (p[i] === '"') {
      let s = '';
      i++;
      while (i < p.length && p[i] !== '"') {
        if (p[i] === '\\' && i + 1 < p.length) i++;
        s += p[i++];
      }
      if (p[i] !== '"') throw invalid();
      i++;
      test = (m) => m.includes(s);
    } else if (p[i] === '%') {
      const end = p.indexOf('%', i + 1);
      if (end < 0) throw invalid();
      const re = makeRegex(p.slice(i + 1, end));
      i = end + 1;
      test = (m) => re.test(m);
    } else {
      let s = '';
      while (i < p.length && !/\s/.test(p[i]!)) s += p[i++];
      if (s === '') throw invalid();
      test = (m) => m.includes(s);
    }
    bucket.push(test);
  }
  return (m) =>
    required.every((t) => t(m)) && !excluded.some((t) => t(m)) && (optional.length === 0 || optional.some((t) => t(m)));
}

// ---------- expression tokenizer (JSON and space-delimited conditions) ----------

type Tok =
  | { t: 'op'; v: string }
  | { t: 'word'; v: string }
  | { t: 'str'; v: string }
  | { t: 'punct'; v: '(' | ')' | ',' };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c });
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '!=' || two === '<=' || two === '>=') {
      out.push({ t: 'op', v: two });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\' && i + 1 < src.length) i++;
        s += src[i++];
      }
      if (src[i] !== '"') throw invalid();
      i++;
      out.push({ t: 'str', v: s });
      continue;
    }
    if (c === '%') {
      const end = src.indexOf('%', i + 1);
      if (end < 0) throw invalid();
      out.push({ t: 'word', v: src.slice(i, end + 1) });
      i = end + 1;
      continue;
    }
    let s = '';
    while (i < src.length && !/[\s(),=<>!&|"]/.test(src[i]!)) {
      if (src[i] === '[') {
        // JSON selectors keep their [n] index.
        const end = src.indexOf(']', i);
        if (end < 0) throw invalid();
        s += src.slice(i, end + 1);
        i = end + 1;
        continue;
      }
      s += src[i++];
    }
    if (s === '') throw invalid();
    out.push({ t: 'word', v: s });
  }
  return out;
}

type Node =
  | { k: 'and' | 'or'; a: Node; b: Node }
  | { k: 'cmp'; field: string; op: Op; value: Value }
  | { k: 'is'; field: string; what: 'NULL' | 'TRUE' | 'FALSE' | 'NOT EXISTS' | 'EXISTS' };

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  done(): boolean {
    return this.i >= this.toks.length;
  }

  peek(): Tok | undefined {
    return this.toks[this.i];
  }

  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw invalid();
    return t;
  }

  or(): Node {
    let a = this.and();
    while (this.peek()?.t === 'op' && this.peek()!.v === '||') {
      this.i++;
      a = { k: 'or', a, b: this.and() };
    }
    return a;
  }

  and(): Node {
    let a = this.unary();
    while (this.peek()?.t === 'op' && this.peek()!.v === '&&') {
      this.i++;
      a = { k: 'and', a, b: this.unary() };
    }
    return a;
  }

  unary(): Node {
    const t = this.next();
    if (t.t === 'punct' && t.v === '(') {
      const n = this.or();
      const c = this.next();
      if (c.t !== 'punct' || c.v !== ')') throw invalid();
      return n;
    }
    if (t.t !== 'word') throw invalid();
    const field = t.v;
    const op = this.next();
    if (op.t === 'word' && op.v.toUpperCase() === 'IS') {
      const w = this.next();
      const what = w.t === 'word' ? w.v.toUpperCase() : '';
      if (what !== 'NULL' && what !== 'TRUE' && what !== 'FALSE') throw invalid();
      return { k: 'is', field, what };
    }
    if (op.t === 'word' && op.v.toUpperCase() === 'NOT') {
      const w = this.next();
      if (w.t !== 'word' || w.v.toUpperCase() !== 'EXISTS') throw invalid();
      return { k: 'is', field, what: 'NOT EXISTS' };
    }
    if (op.t === 'word' && op.v.toUpperCase() === 'EXISTS') return { k: 'is', field, what: 'EXISTS' };
    if (op.t !== 'op' || op.v === '&&' || op.v === '||') throw invalid();
    const v = this.next();
    if (v.t !== 'word' && v.t !== 'str') throw invalid();
    return { k: 'cmp', field, op: op.v as Op, value: parseValue(v.v, v.t === 'str') };
  }
}

function evaluate(n: Node, lookup: (field: string) => unknown): boolean {
  switch (n.k) {
    case 'and':
      return evaluate(n.a, lookup) && evaluate(n.b, lookup);
    case 'or':
      return evaluate(n.a, lookup) || evaluate(n.b, lookup);
    case 'cmp':
      return compare(lookup(n.field), n.op, n.value);
    case 'is': {
      const v = lookup(n.field);
      if (n.what === 'NOT EXISTS') return v === undefined;
      if (n.what === 'EXISTS') return v !== undefined;
      if (n.what === 'NULL') return v === null;
      return v === (n.what === 'TRUE');
    }
  }
}

// ---------- JSON ----------

/** selectorPath parses `$.a.b[0].c` into ['a','b',0,'c']. */
function selectorPath(sel: string): (string | number)[] {
  if (!sel.startsWith('$')) throw invalid();
  const out: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/y;
  let i = 1;
  while (i < sel.length) {
    re.lastIndex = i;
    const m = re.exec(sel);
    if (!m) throw invalid();
    out.push(m[1] !== undefined ? m[1] : Number(m[2]));
    i = re.lastIndex;
  }
  return out;
}

function resolve(doc: unknown, path: (string | number)[]): unknown {
  let cur: unknown = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (p === '*') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function compileJson(p: string): LogEventPredicate {
  if (!p.endsWith('}')) throw invalid();
  const parser = new Parser(tokenize(p.slice(1, -1)));
  const tree = parser.or();
  if (!parser.done()) throw invalid();
  const paths = new Map<string, (string | number)[]>();
  const collect = (n: Node): void => {
    if (n.k === 'cmp' || n.k === 'is') {
      if (!paths.has(n.field)) paths.set(n.field, selectorPath(n.field));
      return;
    }
    collect(n.a);
    collect(n.b);
  };
  collect(tree);
  return (m) => {
    const t = m.trimStart();
    if (!t.startsWith('{') && !t.startsWith('[')) return false;
    let doc: unknown;
    try {
      doc = JSON.parse(m);
    } catch {
      return false;
    }
    return evaluate(tree, (f) => resolve(doc, paths.get(f)!));
  };
}

// ---------- space-delimited ----------

/** splitFields splits an event into fields on spaces; "..." and [...] are one field each (delimiters removed). */
export function splitFields(m: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < m.length) {
    while (i < m.length && m[i] === ' ') i++;
    if (i >= m.length) break;
    const c = m[i]!;
    if (c === '"' || c === '[') {
      const close = c === '"' ? '"' : ']';
      const end = m.indexOf(close, i + 1);
      if (end >= 0) {
        out.push(m.slice(i + 1, end));
        i = end + 1;
        continue;
      }
    }
    let s = '';
    while (i < m.length && m[i] !== ' ') s += m[i++];
    out.push(s);
  }
  return out;
}

function compileSpaceDelimited(p: string): LogEventPredicate {
  if (!p.endsWith(']')) throw invalid();
  const body = p.slice(1, -1);
  // Split field specs at top-level commas.
  const specs: string[] = [];
  let depth = 0;
  let inQuote = false;
  let cur = '';
  for (const c of body) {
    if (c === '"') inQuote = !inQuote;
    if (!inQuote && c === '(') depth++;
    if (!inQuote && c === ')') depth--;
    if (!inQuote && depth === 0 && c === ',') {
      specs.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  specs.push(cur.trim());
  if (specs.some((s) => s === '')) {
    if (!(specs.length === 1 && specs[0] === '')) throw invalid();
    return () => true;
  }
  type Slot = { ellipsis: true } | { ellipsis: false; name: string; cond?: Node };
  const slots: Slot[] = specs.map((s) => {
    if (s === '...') return { ellipsis: true };
    const toks = tokenize(s);
    const first = toks[0];
    if (!first || first.t !== 'word') throw invalid();
    if (toks.length === 1) return { ellipsis: false, name: first.v };
    const parser = new Parser(toks);
    const cond = parser.or();
    if (!parser.done()) throw invalid();
    return { ellipsis: false, name: first.v, cond };
  });
  const conds: Node[] = [];
  for (const s of slots) if (!s.ellipsis && s.cond) conds.push(s.cond);
  return (m) => {
    const fields = splitFields(m);
    const bound = new Map<string, string>();
    const match = (si: number, fi: number): boolean => {
      if (si === slots.length) return fi === fields.length;
      const slot = slots[si]!;
      if (slot.ellipsis) {
        for (let k = fi; k <= fields.length; k++) if (match(si + 1, k)) return true;
        return false;
      }
      if (fi >= fields.length) return false;
      bound.set(slot.name, fields[fi]!);
      return match(si + 1, fi + 1);
    };
    if (!match(0, 0)) return false;
    return conds.every((c) => evaluate(c, (f) => bound.get(f)));
  };
}
