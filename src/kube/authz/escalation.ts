/**
 * RBAC escalation prevention in the write path, as kube-apiserver's RBAC
 * storage does it (pkg/registry/rbac/{role,clusterrole,rolebinding,
 * clusterrolebinding}/policybased, rbac/validation ConfirmNoEscalation):
 *
 *  - Role/ClusterRole create and update: allowed for system:masters, or with
 *    the `escalate` verb on the role, or when every rule is already held by
 *    the requester in the role's namespace (cluster-wide for ClusterRoles).
 *    An aggregationRule needs system:masters or `escalate`.
 *  - RoleBinding/ClusterRoleBinding create and update: allowed for
 *    system:masters, or with the `bind` verb on the referenced role, or when
 *    the requester holds every rule of the referenced role; a missing role
 *    is NotFound.
 *  - Updates that change only metadata the garbage collector writes
 *    (finalizers, ownerReferences) are not checked.
 *
 * Denials are 403 Forbidden: `<resource> "<name>" is forbidden: user "u"
 * (groups=["a" "b"]) is attempting to grant RBAC permissions not currently
 * held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}` (one
 * compacted rule a line, sorted).
 */
import type { IncomingMessage } from 'node:http';
import type { Resource } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { newForbidden, newNotFound } from '../apiserver/errors.ts';
import { parseAwsAuth } from '../authn/aws-auth.ts';
import { requestAuthorizer, requestUser, type RequestAuthorizer } from '../authn/request-auth.ts';
import { rulesCover, type PolicyRule, type RoleRef, type UserInfo } from './rbac.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const MASTERS = 'system:masters';

/** goList formats a string list as Go's %q does: ["a" "b"]. */
function goList(list: readonly string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

/** compactString is rbacv1helpers' PolicyRule.CompactString. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goList(r.resourceNames)}`);
  if (r.verbs.length) parts.push(`Verbs:${goList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** compactRules merges simple resource rules (one group, one resource, no names) that differ only in verbs, as upstream's CompactRules. */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple = r.apiGroups?.length === 1 && r.resources?.length === 1 && !r.resourceNames?.length && !r.nonResourceURLs?.length;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const k = `${r.apiGroups![0]}\0${r.resources![0]}`;
    const have = simple.get(k);
    if (have) {
      for (const v of r.verbs) if (!have.verbs.includes(v)) have.verbs.push(v);
    } else {
      const c = { apiGroups: [...r.apiGroups!], resources: [...r.resources!], verbs: [...r.verbs] };
      simple.set(k, c);
      out.push(c);
    }
  }
  return out;
}

/** escalationMessage is ConfirmNoEscalation's error text. */
export function escalationMessage(user: Pick<UserInfo, 'name' | 'groups'>, missing: PolicyRule[]): string {
  const lines = [...new Set(compactRules(missing).map(compactString))].sort();
  return `user ${JSON.stringify(user.name)} (groups=${goList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
}

/** onlyGcFieldsChanged: the update touches nothing but finalizers/ownerReferences (and volatile metadata). */
function onlyGcFieldsChanged(next: KObject, old: KObject): boolean {
  const strip = (o: KObject) => {
    const c = structuredClone(o) as any;
    for (const k of ['finalizers', 'ownerReferences', 'resourceVersion', 'managedFields', 'generation']) delete c.metadata?.[k];
    return JSON.stringify(c);
  };
  return strip(next) === strip(old);
}

/** What the check needs about the requester. */
export interface EscalationRequester {
  user: Pick<UserInfo, 'name' | 'groups'>;
  authz: Pick<RequestAuthorizer, 'can' | 'rules' | 'roleRules'>;
}

/**
 * checkEscalation throws 403 (or 404 for a binding's missing role) when the
 * requester may not write `obj` (see the module comment). Other resources
 * pass.
 */
export function checkEscalation(who: EscalationRequester, op: 'create' | 'update', res: Resource, obj: KObject, old?: KObject): void {
  if (res.group !== RBAC_GROUP) return;
  const kind = res.resource;
  if (!['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'].includes(kind)) return;
  if (who.user.groups.includes(MASTERS)) return;
  if (op === 'update' && old && onlyGcFieldsChanged(obj, old)) return;
  const name = obj.metadata?.name ?? '';
  const ns = res.namespaced ? (obj.metadata?.namespace ?? '') : '';
  const forbidden = (message: string) => newForbidden({ group: RBAC_GROUP, resource: kind }, name, message);
  if (kind === 'roles' || kind === 'clusterroles') {
    const escalate = who.authz.can({ verb: 'escalate', resourceRequest: true, apiGroup: RBAC_GROUP, resource: kind, ...(ns ? { namespace: ns } : {}), name });
    if (escalate.allowed) return;
    if (kind === 'clusterroles' && (obj as any).aggregationRule) throw forbidden('must have cluster-admin privileges to use the aggregationRule');
    const rules = ((obj as any).rules ?? []) as PolicyRule[];
    const cover = rulesCover(who.authz.rules(ns), rules);
    if (!cover.covered) throw forbidden(escalationMessage(who.user, cover.missing));
    return;
  }
  const ref = ((obj as any).roleRef ?? {}) as RoleRef;
  const refResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
  const bind = who.authz.can({ verb: 'bind', resourceRequest: true, apiGroup: RBAC_GROUP, resource: refResource, ...(ns ? { namespace: ns } : {}), name: ref.name });
  if (bind.allowed) return;
  const rules = who.authz.roleRules(ref, ns);
  if (rules === undefined) throw newNotFound({ group: RBAC_GROUP, resource: refResource }, ref.name);
  const cover = rulesCover(who.authz.rules(ns), rules);
  if (!cover.covered) throw forbidden(escalationMessage(who.user, cover.missing));
}

/**
 * requestEscalationCheck is the write admission for one HTTP request
 * (WriteOptions.admitRequest): checkEscalation for the request's user when
 * the gateway recorded an authorizer (authorization on), and, for the
 * kube-system/aws-auth ConfigMap, a Warning for every section EKS would
 * ignore (the write itself is accepted, as on EKS, where a malformed
 * aws-auth silently locks identities out).
 */
export function requestEscalationCheck(req: IncomingMessage): (op: 'create' | 'update', res: Resource, obj: KObject, old: KObject | undefined, warnings: string[] | undefined) => void {
  const user = requestUser(req);
  const authz = requestAuthorizer(req);
  return (op, res, obj, old, warnings) => {
    if (user && authz) checkEscalation({ user, authz }, op, res, obj, old);
    if (warnings && res.group === '' && res.resource === 'configmaps' && obj.metadata?.namespace === 'kube-system' && obj.metadata?.name === 'aws-auth') {
      for (const e of parseAwsAuth(((obj as { data?: Record<string, string> }).data ?? {}) as Record<string, string>).errors) warnings.push(`aws-auth ConfigMap: ${e}`);
    }
  };
}
