/**
 * Describe* filtering and pagination as EC2 implements them.
 *
 * A filter `{Name, Values}` matches a resource when any of the resource's
 * values for that name equals any filter value; values may use the `*` and
 * `?` wildcards. Several filters must all match. `tag:<key>`, `tag-key` and
 * `tag-value` work on every resource with Tags. An unknown filter name is
 * InvalidParameterValue "The filter '<name>' is invalid".
 */
import { E, ec2Error } from './errors.ts';
import type { Doc } from './store.ts';

/** What a filter name reads from a document: a value, a list of values, or nothing. */
export type FilterField = (doc: Doc) => unknown;

/** The filter names one Describe operation supports. */
export type FilterSpec = Record<string, FilterField>;

export interface FilterInput {
  Name?: string;
  Values?: string[];
}

type Matcher = (v: string) => boolean;

function compileValue(v: string): Matcher {
  if (!/[*?]/.test(v)) return (x) => x === v;
  const re = new RegExp(
    `^${v.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    's',
  );
  return (x) => re.test(x);
}

function compileValues(values: string[]): Matcher {
  const exact = new Set<string>();
  const wild: Matcher[] = [];
  for (const v of values) {
    if (/[*?]/.test(v)) wild.push(compileValue(v));
    else exact.add(v);
  }
  if (wild.length === 0) return (x) => exact.has(x);
  return (x) => exact.has(x) || wild.some((m) => m(x));
}

function toStrings(v: unknown, outList: string[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) toStrings(x, outList);
    return;
  }
  if (v instanceof Date) outList.push(v.toISOString());
  else outList.push(String(v));
}

function tagField(name: string): FilterField | undefined {
  if (name.startsWith('tag:')) {
    const key = name.slice(4);
    return (d) => (d.Tags as { Key: string; Value: string }[] | undefined)?.filter((t) => t.Key === key).map((t) => t.Value ?? '');
  }
  if (name === 'tag-key') return (d) => (d.Tags as { Key: string }[] | undefined)?.map((t) => t.Key);
  if (name === 'tag-value') return (d) => (d.Tags as { Value: string }[] | undefined)?.map((t) => t.Value ?? '');
  return undefined;
}

/**
 * compileFilters turns the request's Filters into one predicate (true when
 * there are none). Throws InvalidParameterValue for a filter name the spec
 * does not know.
 */
export function compileFilters(filters: FilterInput[] | undefined, spec: FilterSpec): (doc: Doc) => boolean {
  if (!filters || filters.length === 0) return () => true;
  const tests: ((doc: Doc) => boolean)[] = [];
  for (const f of filters) {
    const name = f.Name ?? '';
    const field = spec[name] ?? tagField(name);
    if (!field) throw ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
    const values = f.Values ?? [];
    const m = compileValues(values);
    tests.push((doc) => {
      const vs: string[] = [];
      toStrings(field(doc), vs);
      for (const v of vs) if (m(v)) return true;
      return false;
    });
  }
  if (tests.length === 1) return tests[0]!;
  return (doc) => {
    for (const t of tests) if (!t(doc)) return false;
    return true;
  };
}

/** Filters every resource with Tags accepts, plus the common owner-id. */
export const commonFilters: FilterSpec = {
  'owner-id': (d) => d.OwnerId,
};

/**
 * selectByIds returns the documents named by ids (in the order given, each
 * once), throwing notFound(firstMissingId) when one does not exist; all
 * documents when ids is empty.
 */
export function selectByIds(all: () => Doc[], get: (id: string) => Doc | undefined, ids: string[] | undefined, notFound: (id: string) => Error): Doc[] {
  if (!ids || ids.length === 0) return all();
  const seen = new Set<string>();
  const res: Doc[] = [];
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const d = get(id);
    if (!d) throw notFound(id);
    res.push(d);
  }
  return res;
}

/**
 * paginate returns one page of items (already filtered, in a stable order)
 * and the NextToken for the rest. Tokens are opaque: the position after the
 * last item returned. A token this server did not issue is InvalidNextToken.
 */
export function paginate<X>(items: X[], maxResults: number | undefined, nextToken: string | undefined): { page: X[]; NextToken?: string } {
  let start = 0;
  if (nextToken) {
    const m = /^p(\d+)$/.exec(Buffer.from(nextToken, 'base64url').toString());
    if (!m) throw ec2Error('InvalidNextToken', `The token '${nextToken}' is invalid`);
    start = Number(m[1]);
  }
  if (!maxResults || maxResults <= 0) {
    return { page: start === 0 ? items : items.slice(start) };
  }
  const end = start + maxResults;
  const page = items.slice(start, end);
  return end < items.length ? { page, NextToken: Buffer.from(`p${end}`).toString('base64url') } : { page };
}

/** checkMaxResults applies EC2's "MaxResults must be between min and max" rule where the model leaves it open. */
export function checkMaxResults(maxResults: number | undefined, min: number, max: number): void {
  if (maxResults === undefined) return;
  if (maxResults < min || maxResults > max) {
    throw E.param(`Value ( ${maxResults} ) for parameter maxResults is invalid. Parameter must be between ${min} and ${max}.`);
  }
}
