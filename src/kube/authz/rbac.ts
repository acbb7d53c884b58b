/**
 * RBAC authorization with upstream semantics (kubernetes
 * plugin/pkg/auth/authorizer/rbac/rbac.go and
 * pkg/registry/rbac/validation/rule.go are the reference):
 *
 *  - ClusterRoleBindings grant everywhere; RoleBindings grant in their
 *    namespace, referring to a Role of that namespace or to a ClusterRole.
 *  - Subjects: User by name, Group by membership, ServiceAccount as the user
 *    system:serviceaccount:<ns>:<name> (a RoleBinding's ServiceAccount subject
 *    without a namespace means the binding's namespace).
 *  - Rules only allow. Resource rules match verb, API group, resource (or
 *    resource/subresource, `*`, `*\/subresource`) and resourceNames (which
 *    never match requests without a name such as list or create).
 *    Non-resource rules match verb and URL (`*` suffix = prefix match).
 *  - Escalation prevention: rulesCover() tells whether a set of rules covers
 *    another (used for creating roles and bindings without escalate/bind).
 *
 * The authorizer is given an RbacSource, so it can run over a watch cache.
 * EKS access policies (access entries) join as extra "virtual" bindings.
 */

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
  apiGroup?: string;
}

export interface RoleLike {
  metadata: { name: string; namespace?: string };
  rules?: PolicyRule[] | null;
}

export interface BindingLike {
  metadata: { name: string; namespace?: string };
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** What is being asked (apiserver's authorizer.Attributes). */
export interface Attributes {
  verb: string;
  /** True for API resource requests, false for non-resource paths such as /healthz. */
  resourceRequest: boolean;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** For non-resource requests. */
  path?: string;
}

/** Where roles and bindings come from. */
export interface RbacSource {
  getRole(namespace: string, name: string): RoleLike | undefined;
  getClusterRole(name: string): RoleLike | undefined;
  listClusterRoleBindings(): BindingLike[];
  listRoleBindings(namespace: string): BindingLike[];
  /**
   * Optional index (rbac-index.ts): the bindings that may name the user, a
   * superset of the matching ones in list order, so that a decision does not
   * walk every binding. Absent: the lists above are walked.
   */
  clusterRoleBindingsFor?(user: UserInfo): readonly BindingLike[];
  roleBindingsFor?(user: UserInfo, namespace: string): readonly BindingLike[];
}

/** Rules granted outside RBAC objects (EKS access policies), cluster-wide or per namespace. */
export interface VirtualGrant {
  /** Empty or absent: cluster-wide. */
  namespaces?: string[];
  rules: PolicyRule[];
  /** Shown in reasons, e.g. the access policy ARN. */
  source: string;
}

export interface Decision {
  allowed: boolean;
  /** Why it was allowed (the binding/role) or denied. */
  reason: string;
}

function has(list: string[] | undefined | null, v: string): boolean {
  return !!list && (list.includes('*') || list.includes(v));
}

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return has(rule.apiGroups, group);
}

export function resourceMatches(rule: PolicyRule, resource: string, subresource?: string): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  for (const r of rule.resources ?? []) {
    if (r === '*' || r === combined) return true;
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name?: string): boolean {
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  return !!name && rule.resourceNames.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === '*' || u === path) return true;
    if (u.endsWith('*') && path.startsWith(u.slice(0, -1))) return true;
  }
  return false;
}

/** ruleAllows tells whether one rule allows the request. */
export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (!a.resourceRequest) return nonResourceURLMatches(rule, a.path ?? '');
  return apiGroupMatches(rule, a.apiGroup ?? '') && resourceMatches(rule, a.resource ?? '', a.subresource) && resourceNameMatches(rule, a.name);
}

/** subjectMatches tells whether a binding subject names the user; bindingNamespace is '' for ClusterRoleBindings. */
export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return user.groups.includes(s.name);
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns !== '' && user.name === `system:serviceaccount:${ns}:${s.name}`;
    }
    default:
      return false;
  }
}

function rolesRules(src: RbacSource, ref: RoleRef, bindingNamespace: string): PolicyRule[] {
  if (ref.kind === 'ClusterRole') return src.getClusterRole(ref.name)?.rules ?? [];
  if (ref.kind === 'Role' && bindingNamespace) return src.getRole(bindingNamespace, ref.name)?.rules ?? [];
  return [];
}

function describeBinding(b: BindingLike, kind: string): string {
  const ns = b.metadata.namespace ? ` of namespace "${b.metadata.namespace}"` : '';
  return `${kind} "${b.metadata.name}"${ns} of ${b.roleRef.kind} "${b.roleRef.name}"`;
}

/**
 * authorize decides a request. Allowed when any rule reachable from a
 * binding whose subjects include the user (or a virtual grant) allows it.
 */
export function authorize(src: RbacSource, user: UserInfo, a: Attributes, grants: VirtualGrant[] = []): Decision {
  for (const b of src.clusterRoleBindingsFor?.(user) ?? src.listClusterRoleBindings()) {
    if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, ''))) continue;
    for (const r of rolesRules(src, b.roleRef, '')) {
      if (ruleAllows(r, a)) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(b, 'ClusterRoleBinding')} to ${userDesc(user)}` };
    }
  }
  if (a.namespace) {
    for (const b of src.roleBindingsFor?.(user, a.namespace) ?? src.listRoleBindings(a.namespace)) {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, a.namespace!))) continue;
      for (const r of rolesRules(src, b.roleRef, a.namespace)) {
        if (ruleAllows(r, a)) return { allowed: true, reason: `RBAC: allowed by ${describeBinding(b, 'RoleBinding')} to ${userDesc(user)}` };
      }
    }
  }
  for (const g of grants) {
    const applies = !g.namespaces || g.namespaces.length === 0 || (!!a.namespace && g.namespaces.includes(a.namespace));
    if (applies && g.rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: `allowed by ${g.source}` };
  }
  return { allowed: false, reason: '' };
}

function userDesc(u: UserInfo): string {
  return `User "${u.name}"`;
}

/**
 * forbiddenMessage is the message of the 403 Status upstream returns, e.g.
 * `pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"`.
 */
export function forbiddenMessage(user: UserInfo, a: Attributes, reason = ''): string {
  const suffix = reason ? `: ${reason}` : '';
  if (!a.resourceRequest) return `forbidden: User "${user.name}" cannot ${a.verb.toLowerCase()} path "${a.path}"${suffix}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource!;
  const groupRes = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource!;
  const subject = a.name ? `${groupRes} "${a.name}"` : groupRes;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}" ${scope}${suffix}`;
}

/**
 * rulesFor lists every rule that applies to the user in a namespace ('' =
 * cluster-wide only), as SelfSubjectRulesReview reports them.
 */
export function rulesFor(src: RbacSource, user: UserInfo, namespace: string, grants: VirtualGrant[] = []): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const b of src.clusterRoleBindingsFor?.(user) ?? src.listClusterRoleBindings()) {
    if ((b.subjects ?? []).some((s) => subjectMatches(s, user, ''))) out.push(...rolesRules(src, b.roleRef, ''));
  }
  if (namespace) {
    for (const b of src.roleBindingsFor?.(user, namespace) ?? src.listRoleBindings(namespace)) {
      if ((b.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) out.push(...rolesRules(src, b.roleRef, namespace));
    }
  }
  for (const g of grants) {
    if (!g.namespaces || g.namespaces.length === 0 || (namespace && g.namespaces.includes(namespace))) out.push(...g.rules);
  }
  return out;
}

/** An atomic permission: one verb on one group/resource/name, or one verb on one URL. */
interface AtomicRule {
  verb: string;
  apiGroup?: string;
  resource?: string;
  resourceName?: string;
  url?: string;
}

/** breakdown splits a rule into atomic rules (upstream BreakdownRule). */
function breakdown(rule: PolicyRule): AtomicRule[] {
  const out: AtomicRule[] = [];
  for (const verb of rule.verbs) {
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if (rule.resourceNames && rule.resourceNames.length > 0) {
          for (const resourceName of rule.resourceNames) out.push({ verb, apiGroup, resource, resourceName });
        } else out.push({ verb, apiGroup, resource });
      }
    }
    for (const url of rule.nonResourceURLs ?? []) out.push({ verb, url });
  }
  return out;
}

function ownerCovers(owner: PolicyRule, sub: AtomicRule): boolean {
  if (!has(owner.verbs, sub.verb)) return false;
  if (sub.url !== undefined) {
    return (owner.nonResourceURLs ?? []).some((u) => u === '*' || u === sub.url || (u.endsWith('*') && sub.url!.startsWith(u.slice(0, -1))));
  }
  if (!has(owner.apiGroups, sub.apiGroup!)) return false;
  const res = sub.resource!;
  const resOk = (owner.resources ?? []).some((r) => {
    if (r === '*' || r === res) return true;
    // "*/scale" in the owner covers "deployments/scale" in the sub-rule.
    const slash = res.indexOf('/');
    return slash > 0 && r === `*${res.slice(slash)}`;
  });
  if (!resOk) return false;
  if (!owner.resourceNames || owner.resourceNames.length === 0) return true;
  return sub.resourceName !== undefined && owner.resourceNames.includes(sub.resourceName);
}

/**
 * rulesCover tells whether ownerRules grant everything `requested` grants
 * (escalation check for creating Roles/ClusterRoles and bindings). Returns
 * the uncovered atomic rules, formatted as upstream lists them.
 */
export function rulesCover(ownerRules: PolicyRule[], requested: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const rule of requested) {
    for (const a of breakdown(rule)) {
      if (ownerRules.some((o) => ownerCovers(o, a))) continue;
      missing.push(
        a.url !== undefined
          ? { verbs: [a.verb], nonResourceURLs: [a.url] }
          : { verbs: [a.verb], apiGroups: [a.apiGroup!], resources: [a.resource!], ...(a.resourceName ? { resourceNames: [a.resourceName] } : {}) },
      );
    }
  }
  return { covered: missing.length === 0, missing };
}

/**
 * aggregateRules computes the rules of an aggregated ClusterRole: the union,
 * without duplicates, of the rules of every ClusterRole whose labels match
 * one of the selectors (matchLabels only; matchExpressions are honoured for
 * In/NotIn/Exists/DoesNotExist).
 */
export function aggregateRules(
  selectors: Array<{ matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> }>,
  roles: Array<RoleLike & { metadata: { name: string; labels?: Record<string, string> } }>,
  self: string,
): PolicyRule[] {
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  const sorted = [...roles].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const role of sorted) {
    if (role.metadata.name === self) continue;
    const labels = role.metadata.labels ?? {};
    const hit = selectors.some((sel) => {
      const ml = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
      const me = (sel.matchExpressions ?? []).every((e) => {
        const v = labels[e.key];
        switch (e.operator) {
          case 'In':
            return v !== undefined && (e.values ?? []).includes(v);
          case 'NotIn':
            return v === undefined || !(e.values ?? []).includes(v);
          case 'Exists':
            return v !== undefined;
          case 'DoesNotExist':
            return v === undefined;
          default:
            return false;
        }
      });
      const empty = !sel.matchLabels && !sel.matchExpressions;
      return !empty && ml && me;
    });
    if (!hit) continue;
    for (const r of role.rules ?? []) {
      const k = JSON.stringify(r);
      if (!seen.has(k)) {
        seen.add(k);
        out.push(r);
      }
    }
  }
  return out;
}
