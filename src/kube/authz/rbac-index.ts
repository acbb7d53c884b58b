/**
 * An index of RBAC bindings by subject, so that authorizing a request looks
 * only at the bindings naming the user, one of its groups or its service
 * account instead of every binding of the cluster (kube-apiserver's RBAC
 * authorizer also walks them all, but over an informer per request; a cluster
 * with thousands of bindings made every localeks request slower).
 *
 * Keys: `U\0<user name>` (User subjects, and ServiceAccount subjects as the
 * user name `system:serviceaccount:<ns>:<name>` they match) and
 * `G\0<group>`. The lists keep the source's order (a decision names the
 * first binding that allows it, as without the index). The index is rebuilt
 * lazily after any change to the bindings it covers.
 */
import type { BindingLike, UserInfo } from './rbac.ts';

interface Indexed {
  byKey: Map<string, Array<{ pos: number; b: BindingLike }>>;
  /** Lookups already answered, by user name and groups (the same users come back request after request). */
  answers: Map<string, BindingLike[]>;
}

function keysOf(b: BindingLike, bindingNamespace: string): string[] {
  const out: string[] = [];
  for (const s of b.subjects ?? []) {
    if (s.kind === 'User') out.push(`U\0${s.name}`);
    else if (s.kind === 'Group') out.push(`G\0${s.name}`);
    else if (s.kind === 'ServiceAccount') {
      const ns = s.namespace || bindingNamespace;
      if (ns) out.push(`U\0system:serviceaccount:${ns}:${s.name}`);
    }
  }
  return out;
}

function build(list: readonly BindingLike[], bindingNamespace: string): Indexed {
  const byKey = new Map<string, Array<{ pos: number; b: BindingLike }>>();
  list.forEach((b, pos) => {
    for (const k of new Set(keysOf(b, bindingNamespace))) {
      let l = byKey.get(k);
      if (!l) byKey.set(k, (l = []));
      l.push({ pos, b });
    }
  });
  return { byKey, answers: new Map() };
}

function lookup(ix: Indexed, user: UserInfo): BindingLike[] {
  const key = user.groups.length === 0 ? user.name : `${user.name}\0${user.groups.join('\0')}`;
  let a = ix.answers.get(key);
  if (!a) {
    if (ix.answers.size >= 1000) ix.answers.clear();
    ix.answers.set(key, (a = lookupUncached(ix, user)));
  }
  return a;
}

function lookupUncached(ix: Indexed, user: UserInfo): BindingLike[] {
  const parts: Array<Array<{ pos: number; b: BindingLike }>> = [];
  const u = ix.byKey.get(`U\0${user.name}`);
  if (u) parts.push(u);
  for (const g of user.groups) {
    const l = ix.byKey.get(`G\0${g}`);
    if (l) parts.push(l);
  }
  if (parts.length === 0) return [];
  if (parts.length === 1) return parts[0]!.map((x) => x.b);
  const seen = new Set<number>();
  const all: Array<{ pos: number; b: BindingLike }> = [];
  for (const p of parts) for (const x of p) if (!seen.has(x.pos)) (seen.add(x.pos), all.push(x));
  return all.sort((a, b) => a.pos - b.pos).map((x) => x.b);
}

/**
 * BindingIndex answers clusterRoleBindingsFor / roleBindingsFor over lists
 * read through `list` (namespace '' = ClusterRoleBindings). An index stays
 * valid while `list` returns the very same array (the watch cache shares one
 * sorted array per resource and namespace until something in it changes,
 * and a reload replaces them all), so no change can be missed.
 */
export class BindingIndex<T> {
  private readonly built = new Map<string, { from: readonly T[]; ix: Indexed }>();

  constructor(
    private readonly list: (namespace: string) => readonly T[],
    private readonly toBinding: (t: T) => BindingLike,
  ) {}

  private index(namespace: string): Indexed {
    const from = this.list(namespace);
    const have = this.built.get(namespace);
    if (have && have.from === from) return have.ix;
    const ix = build(from.map(this.toBinding), namespace);
    this.built.set(namespace, { from, ix });
    return ix;
  }

  clusterRoleBindingsFor(user: UserInfo): BindingLike[] {
    return lookup(this.index(''), user);
  }

  roleBindingsFor(user: UserInfo, namespace: string): BindingLike[] {
    return namespace === '' ? [] : lookup(this.index(namespace), user);
  }
}
