/**
 * Label and field selectors (apimachinery/pkg/labels, pkg/fields): parsing
 * the query-string syntax, matching, and metav1.LabelSelector objects.
 */
import { newBadRequest } from './errors.ts';

export type LabelOp = 'in' | 'notin' | 'exists' | '!' | '=' | '==' | '!=' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

/** A parsed label selector: all requirements must hold. Empty matches everything. */
export type LabelSelector = LabelRequirement[];

function matchReq(r: LabelRequirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key]! : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case '=':
    case '==':
    case 'in':
      return has && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const n = Number(v);
      if (!Number.isInteger(n)) return false;
      const bound = Number(r.values[0]);
      return r.op === 'gt' ? n > bound : n < bound;
    }
  }
}

/** True when labels satisfy every requirement. */
export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  for (const r of sel) if (!matchReq(r, labels)) return false;
  return true;
}

const LABEL_KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function bad(msg: string): never {
  throw newBadRequest(`unable to parse requirement: ${msg}`);
}

/**
 * Parses a label selector string ("a=b,c in (x,y),!d,e"). Throws a 400
 * BadRequest StatusError on syntax errors or invalid keys/values.
 */
export function parseLabelSelector(s: string | null | undefined): LabelSelector {
  const src = (s ?? '').trim();
  if (src === '') return [];
  const out: LabelSelector = [];
  let i = 0;
  const ws = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const ident = (): string => {
    ws();
    const start = i;
    while (i < src.length && !/[\s,=!()<>]/.test(src[i]!)) i++;
    return src.slice(start, i);
  };
  const checkKey = (k: string) => {
    if (k === '') bad(`found '${src[i] ?? ''}', expected: identifier`);
    if (!LABEL_KEY_RE.test(k) || k.length > 316) bad(`<nil>: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`);
  };
  const checkVal = (v: string) => {
    if (v.length > 63 || !LABEL_VALUE_RE.test(v)) bad(`values[0][${v}]: Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`);
  };
  for (;;) {
    ws();
    let neg = false;
    if (src[i] === '!') {
      neg = true;
      i++;
    }
    const key = ident();
    checkKey(key);
    ws();
    if (neg) {
      out.push({ key, op: '!', values: [] });
    } else if (i >= src.length || src[i] === ',') {
      out.push({ key, op: 'exists', values: [] });
    } else if (src.startsWith('==', i) || src.startsWith('!=', i) || src[i] === '=') {
      const op: LabelOp = src.startsWith('==', i) ? '==' : src.startsWith('!=', i) ? '!=' : '=';
      i += op.length;
      const v = ident();
      checkVal(v);
      out.push({ key, op, values: [v] });
    } else if (src[i] === '>' || src[i] === '<') {
      const op: LabelOp = src[i] === '>' ? 'gt' : 'lt';
      i++;
      const v = ident();
      if (!/^-?\d+$/.test(v)) bad(`for 'Gt', 'Lt' operators, the value must be an integer`);
      out.push({ key, op, values: [v] });
    } else {
      const word = ident();
      if (word !== 'in' && word !== 'notin') bad(`found '${word}', expected: in, notin, =, ==, !=, gt, lt`);
      ws();
      if (src[i] !== '(') bad(`found '${src[i] ?? ''}', expected: '('`);
      i++;
      const values: string[] = [];
      for (;;) {
        const v = ident();
        checkVal(v);
        values.push(v);
        ws();
        if (src[i] === ',') {
          i++;
          continue;
        }
        if (src[i] === ')') {
          i++;
          break;
        }
        bad(`found '${src[i] ?? ''}', expected: ',', ')' or identifier`);
      }
      out.push({ key, op: word, values });
    }
    ws();
    if (i >= src.length) break;
    if (src[i] !== ',') bad(`found '${src[i]}', expected: ',' or 'end of string'`);
    i++;
  }
  return out;
}

/** metav1.LabelSelector {matchLabels, matchExpressions}. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/**
 * Converts a metav1.LabelSelector into requirements (metav1.LabelSelectorAsSelector).
 * A null selector matches nothing (returns undefined); an empty one matches everything.
 */
export function labelSelectorFromObject(sel: LabelSelectorObject | null | undefined): LabelSelector | undefined {
  if (!sel) return undefined;
  const out: LabelSelector = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) out.push({ key: k, op: '=', values: [v] });
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : e.operator === 'DoesNotExist' ? '!' : undefined;
    if (!op) throw newBadRequest(`"${e.operator}" is not a valid label selector operator`);
    out.push({ key: e.key, op, values: e.values ?? [] });
  }
  return out;
}

/** Prints requirements in the canonical query-string form. */
export function formatLabelSelector(sel: LabelSelector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key}${r.op === '==' ? '=' : r.op}${r.values[0]}`;
      }
    })
    .join(',');
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Parses "a=b,c!=d" with backslash escapes (fields.ParseSelector). Throws 400 on bad syntax. */
export function parseFieldSelector(s: string | null | undefined): FieldSelector {
  const src = s ?? '';
  if (src.trim() === '') return [];
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length) {
      cur += c + src[i + 1];
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  const out: FieldSelector = [];
  const unescape = (v: string) => v.replace(/\\(.)/g, '$1');
  for (const t of terms) {
    if (t === '') continue;
    let idx = -1;
    let op: '=' | '!=' = '=';
    let oplen = 1;
    for (let i = 0; i < t.length; i++) {
      if (t[i] === '\\') {
        i++;
        continue;
      }
      if (t.startsWith('!=', i)) {
        idx = i;
        op = '!=';
        oplen = 2;
        break;
      }
      if (t.startsWith('==', i)) {
        idx = i;
        oplen = 2;
        break;
      }
      if (t[i] === '=') {
        idx = i;
        break;
      }
    }
    if (idx < 0) throw newBadRequest(`invalid selector: '${src}'; can't understand '${t}'`);
    out.push({ field: t.slice(0, idx).trim(), op, value: unescape(t.slice(idx + oplen)) });
  }
  return out;
}

/** True when the object's selectable fields satisfy every requirement. */
export function matchFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of sel) {
    const v = fields[r.field] ?? '';
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
