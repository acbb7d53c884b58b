/**
 * A subset of CloudWatch Logs Insights queries, enough for the queries the
 * EKS user guide shows on control-plane logs:
 *
 *   fields @timestamp, @message | filter @logStream like /kube-apiserver-audit/
 *     | filter verb = "delete" and objectRef.resource != "events"
 *     | sort @timestamp desc | limit 20
 *   stats count(*) as n by user.username | sort n desc
 *
 * Commands: fields (with `as`), display, filter, sort, limit,
 * stats count/count_distinct/sum/avg/min/max ... by fields or bin(5m).
 * Filter expressions: = != < <= > >=, like /regex/ or "substring", not like,
 * =~ /regex/, in [..], ispresent(f), and/or/not, parentheses. Fields are the
 * system fields (@timestamp, @message, @logStream, @log, @ingestionTime) and
 * the fields of JSON messages, flattened with dots (`user.username`).
 * Anything else is MalformedQueryException.
 */
import { awsError } from '../core/types.ts';

/** One log event as a query sees it. */
export interface InsightsEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
  logStreamName: string;
  /** `<account>:<log group name>` */
  log: string;
  ptr: string;
}

type Row = Map<string, unknown>;
type Expr =
  | { k: 'field'; name: string }
  | { k: 'lit'; v: string | number }
  | { k: 'cmp'; op: string; a: Expr; b: Expr }
  | { k: 'like'; a: Expr; re: RegExp; not: boolean }
  | { k: 'in'; a: Expr; list: Expr[]; not: boolean }
  | { k: 'and' | 'or'; a: Expr; b: Expr }
  | { k: 'not'; a: Expr }
  | { k: 'ispresent'; name: string };

interface Agg {
  fn: string;
  arg: string | '*';
  as: string;
}

type Command =
  | { c: 'fields'; items: { name: string; as: string }[] }
  | { c: 'filter'; e: Expr }
  | { c: 'sort'; keys: { name: string; desc: boolean }[] }
  | { c: 'limit'; n: number }
  | { c: 'stats'; aggs: Agg[]; by: { name: string; binMs?: number; as: string }[] };

function malformed(detail: string): Error {
  return awsError('MalformedQueryException', `Query parse error: ${detail}`, 400);
}

// ---------- lexer ----------

type Tok = { t: 'id' | 'str' | 'num' | 're' | 'op' | 'p'; v: string };

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\' && i + 1 < src.length) i++;
        s += src[i++];
      }
      if (src[i] !== c) throw malformed('unterminated string');
      i++;
      out.push({ t: 'str', v: s });
      continue;
    }
    if (c === '/') {
      let s = '';
      i++;
      while (i < src.length && src[i] !== '/') {
        if (src[i] === '\\' && i + 1 < src.length) s += src[i++];
        s += src[i++];
      }
      if (src[i] !== '/') throw malformed('unterminated regular expression');
      i++;
      out.push({ t: 're', v: s });
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw malformed('unterminated field name');
      out.push({ t: 'id', v: src.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '=~'].includes(two)) {
      out.push({ t: 'op', v: two === '==' ? '=' : two });
      i += 2;
      continue;
    }
    if ('=<>'.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
      continue;
    }
    if ('(),[]|*'.includes(c)) {
      out.push({ t: 'p', v: c });
      i++;
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      let s = c;
      i++;
      while (i < src.length && /[0-9.]/.test(src[i]!)) s += src[i++];
      // bin(5m): a number glued to a unit is an identifier-like duration.
      if (/[smhd]/.test(src[i] ?? '') && !/[\w]/.test(src[i + 1] ?? '')) {
        out.push({ t: 'id', v: s + src[i++] });
        continue;
      }
      out.push({ t: 'num', v: s });
      continue;
    }
    if (/[@\w.$-]/.test(c)) {
      let s = '';
      while (i < src.length && /[@\w.$-]/.test(src[i]!)) s += src[i++];
      out.push({ t: 'id', v: s });
      continue;
    }
    throw malformed(`unexpected symbol ${c}`);
  }
  return out;
}

// ---------- parser ----------

class P {
  i = 0;
  constructor(readonly toks: Tok[]) {}
  peek(): Tok | undefined {
    return this.toks[this.i];
  }
  next(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw malformed('unexpected end of query');
    return t;
  }
  isWord(w: string): boolean {
    const t = this.peek();
    return !!t && t.t === 'id' && t.v.toLowerCase() === w;
  }
  isP(v: string): boolean {
    const t = this.peek();
    return !!t && t.t === 'p' && t.v === v;
  }
  expectP(v: string): void {
    const t = this.next();
    if (t.t !== 'p' || t.v !== v) throw malformed(`expected ${v}`);
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  field(): string {
    const t = this.next();
    if (t.t !== 'id') throw malformed(`expected a field name, found ${t.v}`);
    return t.v;
  }

  or(): Expr {
    let a = this.and();
    while (this.isWord('or')) {
      this.i++;
      a = { k: 'or', a, b: this.and() };
    }
    return a;
  }
  and(): Expr {
    let a = this.not();
    while (this.isWord('and')) {
      this.i++;
      a = { k: 'and', a, b: this.not() };
    }
    return a;
  }
  not(): Expr {
    if (this.isWord('not')) {
      this.i++;
      return { k: 'not', a: this.not() };
    }
    return this.primary();
  }
  operand(): Expr {
    const t = this.next();
    if (t.t === 'str') return { k: 'lit', v: t.v };
    if (t.t === 'num') return { k: 'lit', v: Number(t.v) };
    if (t.t === 'id') return { k: 'field', name: t.v };
    throw malformed(`unexpected ${t.v}`);
  }
  primary(): Expr {
    if (this.isP('(')) {
      this.i++;
      const e = this.or();
      this.expectP(')');
      return e;
    }
    if (this.isWord('ispresent')) {
      this.i++;
      this.expectP('(');
      const name = this.field();
      this.expectP(')');
      return { k: 'ispresent', name };
    }
    const a = this.operand();
    let negate = false;
    if (this.isWord('not')) {
      this.i++;
      negate = true;
    }
    if (this.isWord('like')) {
      this.i++;
      const p = this.next();
      if (p.t === 're') return { k: 'like', a, re: regex(p.v), not: negate };
      if (p.t === 'str') return { k: 'like', a, re: new RegExp(p.v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), not: negate };
      throw malformed('like needs a /regex/ or a "string"');
    }
    if (this.isWord('in')) {
      this.i++;
      this.expectP('[');
      const list: Expr[] = [];
      while (!this.isP(']')) {
        list.push(this.operand());
        if (this.isP(',')) this.i++;
      }
      this.expectP(']');
      return { k: 'in', a, list, not: negate };
    }
    if (negate) throw malformed('not must precede like or in');
    const op = this.peek();
    if (op?.t === 'op') {
      this.i++;
      if (op.v === '=~') {
        const p = this.next();
        if (p.t !== 're') throw malformed('=~ needs a /regex/');
        return { k: 'like', a, re: regex(p.v), not: false };
      }
      return { k: 'cmp', op: op.v, a, b: this.operand() };
    }
    // A bare field is true when present and not empty.
    if (a.k === 'field') return { k: 'ispresent', name: a.name };
    throw malformed('expected a comparison');
  }
}

function regex(body: string): RegExp {
  const m = /^\(\?i\)(.*)$/s.exec(body);
  try {
    return m ? new RegExp(m[1]!, 'i') : new RegExp(body);
  } catch {
    throw malformed(`invalid regular expression /${body}/`);
  }
}

const DURATION: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** splitPipes splits a query into commands at top-level pipes (not inside strings or regexes). */
function splitPipes(q: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (let i = 0; i < q.length; i++) {
    const c = q[i]!;
    if (quote) {
      cur += c;
      if (c === '\\') cur += q[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '/' && /(like|=~)\s*$/i.test(cur)) quote = '/';
    if (c === '|') {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out.filter((s) => s !== '');
}

/** parseQuery parses an Insights query (throws MalformedQueryException). */
export function parseQuery(query: string): Command[] {
  const cmds: Command[] = [];
  for (const part of splitPipes(query)) {
    const m = /^(\w+)\s*([\s\S]*)$/.exec(part);
    if (!m) throw malformed(`cannot parse "${part}"`);
    const name = m[1]!.toLowerCase();
    const p = new P(lex(m[2]!));
    if (name === 'fields' || name === 'display') {
      const items: { name: string; as: string }[] = [];
      while (!p.done()) {
        const f = p.field();
        let as = f;
        if (p.isWord('as')) {
          p.i++;
          as = p.field();
        }
        items.push({ name: f, as });
        if (p.isP(',')) p.i++;
      }
      if (!items.length) throw malformed(`${name} needs fields`);
      cmds.push({ c: 'fields', items });
    } else if (name === 'filter') {
      const e = p.or();
      if (!p.done()) throw malformed(`unexpected ${p.peek()!.v}`);
      cmds.push({ c: 'filter', e });
    } else if (name === 'sort') {
      const keys: { name: string; desc: boolean }[] = [];
      while (!p.done()) {
        const f = p.field();
        let desc = false;
        if (p.isWord('desc')) {
          p.i++;
          desc = true;
        } else if (p.isWord('asc')) p.i++;
        keys.push({ name: f, desc });
        if (p.isP(',')) p.i++;
      }
      cmds.push({ c: 'sort', keys });
    } else if (name === 'limit') {
      const t = p.next();
      if (t.t !== 'num' || !p.done()) throw malformed('limit needs a number');
      cmds.push({ c: 'limit', n: Number(t.v) });
    } else if (name === 'stats') {
      const aggs: Agg[] = [];
      for (;;) {
        const fn = p.field().toLowerCase();
        if (!['count', 'count_distinct', 'sum', 'avg', 'min', 'max'].includes(fn)) throw malformed(`unsupported function ${fn}`);
        p.expectP('(');
        let arg: string = '*';
        if (p.isP('*')) p.i++;
        else if (!p.isP(')')) arg = p.field();
        p.expectP(')');
        let as = `${fn}(${arg})`;
        if (p.isWord('as')) {
          p.i++;
          as = p.field();
        }
        aggs.push({ fn, arg, as });
        if (p.isP(',')) {
          p.i++;
          continue;
        }
        break;
      }
      const by: { name: string; binMs?: number; as: string }[] = [];
      if (p.isWord('by')) {
        p.i++;
        while (!p.done()) {
          if (p.isWord('bin')) {
            p.i++;
            p.expectP('(');
            const d = p.field();
            p.expectP(')');
            const dm = /^(\d+)([smhd])$/.exec(d);
            if (!dm) throw malformed(`invalid bin period ${d}`);
            let as = `bin(${d})`;
            if (p.isWord('as')) {
              p.i++;
              as = p.field();
            }
            by.push({ name: '@timestamp', binMs: Number(dm[1]) * DURATION[dm[2]!]!, as });
          } else {
            const f = p.field();
            let as = f;
            if (p.isWord('as')) {
              p.i++;
              as = p.field();
            }
            by.push({ name: f, as });
          }
          if (p.isP(',')) p.i++;
        }
      }
      if (!p.done()) throw malformed(`unexpected ${p.peek()!.v}`);
      cmds.push({ c: 'stats', aggs, by });
    } else {
      throw malformed(`unsupported command ${name}`);
    }
  }
  return cmds;
}

// ---------- execution ----------

function flatten(prefix: string, v: unknown, row: Row): void {
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, x, row);
    return;
  }
  if (prefix && !row.has(prefix)) row.set(prefix, v);
}

function toRow(e: InsightsEvent): Row {
  const row: Row = new Map<string, unknown>([
    ['@timestamp', e.timestamp],
    ['@message', e.message],
    ['@logStream', e.logStreamName],
    ['@log', e.log],
    ['@ingestionTime', e.ingestionTime],
    ['@ptr', e.ptr],
  ]);
  const t = e.message.trimStart();
  if (t.startsWith('{')) {
    try {
      flatten('', JSON.parse(e.message), row);
    } catch {
      // not JSON after all
    }
  }
  return row;
}

function value(e: Expr, row: Row): unknown {
  if (e.k === 'field') return row.get(e.name);
  if (e.k === 'lit') return e.v;
  return test(e, row);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

function eq(a: unknown, b: unknown): boolean {
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  return a !== undefined && a !== null && String(a) === String(b);
}

function test(e: Expr, row: Row): boolean {
  switch (e.k) {
    case 'and':
      return test(e.a, row) && test(e.b, row);
    case 'or':
      return test(e.a, row) || test(e.b, row);
    case 'not':
      return !test(e.a, row);
    case 'ispresent': {
      const v = row.get(e.name);
      return v !== undefined && v !== null && v !== '';
    }
    case 'like': {
      const v = value(e.a, row);
      const ok = v !== undefined && v !== null && e.re.test(String(v));
      return e.not ? !ok : ok;
    }
    case 'in': {
      const v = value(e.a, row);
      const ok = e.list.some((x) => eq(v, value(x, row)));
      return e.not ? !ok : ok;
    }
    case 'cmp': {
      const a = value(e.a, row);
      const b = value(e.b, row);
      if (e.op === '=') return eq(a, b);
      if (e.op === '!=') return a !== undefined && !eq(a, b);
      const na = num(a);
      const nb = num(b);
      if (na !== undefined && nb !== undefined) {
        return e.op === '<' ? na < nb : e.op === '<=' ? na <= nb : e.op === '>' ? na > nb : na >= nb;
      }
      if (a === undefined || b === undefined) return false;
      const sa = String(a);
      const sb = String(b);
      return e.op === '<' ? sa < sb : e.op === '<=' ? sa <= sb : e.op === '>' ? sa > sb : sa >= sb;
    }
    default:
      return Boolean(value(e, row));
  }
}

/** Insights renders timestamps as "YYYY-MM-DD hh:mm:ss.SSS" (UTC). */
function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function render(v: unknown, field: string): string {
  if ((field === '@timestamp' || field === '@ingestionTime') && typeof v === 'number') return formatTimestamp(v);
  if (v === null) return 'null';
  return String(v);
}

/** What a query produced: rows of field/value pairs and statistics. */
export interface QueryResult {
  results: { field: string; value: string }[][];
  recordsMatched: number;
  recordsScanned: number;
  bytesScanned: number;
}

/** runQuery executes parsed commands over events (already limited to the time range and groups). */
export function runQuery(cmds: Command[], events: InsightsEvent[], maxRows: number): QueryResult {
  let rows = events.map(toRow);
  const scanned = rows.length;
  const bytes = events.reduce((n, e) => n + Buffer.byteLength(e.message), 0);
  let projection: { name: string; as: string }[] | undefined;
  let limit = maxRows;
  let sorted = false;
  let statsDone = false;
  let matched = 0;
  for (const cmd of cmds) {
    if (cmd.c === 'filter') rows = rows.filter((r) => test(cmd.e, r));
    else if (cmd.c === 'fields') {
      for (const r of rows) for (const it of cmd.items) if (it.as !== it.name) r.set(it.as, r.get(it.name));
      projection = cmd.items.map((it) => ({ name: it.as, as: it.as }));
    } else if (cmd.c === 'sort') {
      sorted = true;
      rows.sort((a, b) => {
        for (const k of cmd.keys) {
          const va = a.get(k.name);
          const vb = b.get(k.name);
          const na = num(va);
          const nb = num(vb);
          let c = 0;
          if (na !== undefined && nb !== undefined) c = na - nb;
          else c = String(va ?? '') < String(vb ?? '') ? -1 : String(va ?? '') > String(vb ?? '') ? 1 : 0;
          if (c !== 0) return k.desc ? -c : c;
        }
        return 0;
      });
    } else if (cmd.c === 'limit') limit = Math.min(limit, cmd.n);
    else if (cmd.c === 'stats') {
      matched = rows.length;
      statsDone = true;
      const groups = new Map<string, { keys: unknown[]; rows: Row[] }>();
      for (const r of rows) {
        const keys = cmd.by.map((b) => {
          const v = r.get(b.name);
          return b.binMs !== undefined && typeof v === 'number' ? Math.floor(v / b.binMs) * b.binMs : v;
        });
        const id = JSON.stringify(keys);
        let g = groups.get(id);
        if (!g) groups.set(id, (g = { keys, rows: [] }));
        g.rows.push(r);
      }
      const out: Row[] = [];
      for (const g of groups.values()) {
        const row: Row = new Map();
        cmd.by.forEach((b, i) => row.set(b.as, b.binMs !== undefined && typeof g.keys[i] === 'number' ? formatTimestamp(g.keys[i] as number) : g.keys[i]));
        for (const a of cmd.aggs) {
          const vals = a.arg === '*' ? g.rows.map(() => 1) : g.rows.map((r) => r.get(a.arg)).filter((v) => v !== undefined && v !== null);
          const nums = vals.map(num).filter((n): n is number => n !== undefined);
          let v: number | undefined;
          if (a.fn === 'count') v = vals.length;
          else if (a.fn === 'count_distinct') v = new Set(vals.map(String)).size;
          else if (a.fn === 'sum') v = nums.reduce((x, y) => x + y, 0);
          else if (a.fn === 'avg') v = nums.length ? nums.reduce((x, y) => x + y, 0) / nums.length : undefined;
          else if (a.fn === 'min') v = nums.length ? Math.min(...nums) : undefined;
          else v = nums.length ? Math.max(...nums) : undefined;
          row.set(a.as, v);
        }
        out.push(row);
      }
      rows = out;
      projection = [...cmd.by.map((b) => ({ name: b.as, as: b.as })), ...cmd.aggs.map((a) => ({ name: a.as, as: a.as }))];
    }
  }
  if (!statsDone) {
    matched = rows.length;
    if (!sorted) rows.sort((a, b) => (b.get('@timestamp') as number) - (a.get('@timestamp') as number));
  }
  const fields = projection ?? [
    { name: '@timestamp', as: '@timestamp' },
    { name: '@message', as: '@message' },
  ];
  const results = rows.slice(0, limit).map((r) => {
    const cols = fields.filter((f) => r.get(f.name) !== undefined).map((f) => ({ field: f.as, value: render(r.get(f.name), f.name) }));
    if (!statsDone && r.has('@ptr')) cols.push({ field: '@ptr', value: String(r.get('@ptr')) });
    return cols;
  });
  return { results, recordsMatched: matched, recordsScanned: scanned, bytesScanned: bytes };
}

/** recordFields renders one event as GetLogRecord does: every field, values as strings. */
export function recordFields(e: InsightsEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of toRow(e)) if (k !== '@ptr') out[k] = render(v, k);
  return out;
}

/** logGroupFields lists the fields seen in messages with the percentage of events that have each (GetLogGroupFields). */
export function logGroupFields(messages: string[]): { name: string; percent: number }[] {
  const counts = new Map<string, number>([
    ['@timestamp', messages.length],
    ['@message', messages.length],
    ['@logStream', messages.length],
    ['@ingestionTime', messages.length],
    ['@log', messages.length],
  ]);
  for (const m of messages) {
    const row: Row = new Map();
    if (m.trimStart().startsWith('{')) {
      try {
        flatten('', JSON.parse(m), row);
      } catch {
        // not JSON
      }
    }
    for (const k of row.keys()) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  if (messages.length === 0) return [];
  return [...counts].map(([name, n]) => ({ name, percent: Math.round((n / messages.length) * 100) }));
}
