/**
 * ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1): for each
 * ValidatingAdmissionPolicyBinding whose policy exists, the request that
 * matches the policy's matchConstraints and the binding's matchResources
 * (resource rules, excluded rules, namespace and object selectors) and whose
 * matchConditions are all true is checked with the policy's CEL validations
 * (`object`, `oldObject`, `request`, `params`, `namespaceObject`, `variables`,
 * `authorizer` (the requesting user's RBAC and EKS access policies), in the
 * Kubernetes CEL environment of `registry/cel-library.ts`).
 *
 * A false validation under the Deny action rejects the request as upstream:
 * `<resource> "<name>" is forbidden: ValidatingAdmissionPolicy '<p>' with
 * binding '<b>' denied request: <message>`, reason Invalid (422) unless the
 * validation names another; under Warn it becomes a warning
 * (`Validation failed for ValidatingAdmissionPolicy '<p>' with binding '<b>': <message>`).
 * Errors (compilation, evaluation, a missing param resource) follow the
 * policy's failurePolicy (Fail by default). Params come from `paramRef`
 * (by name or selector, in its namespace or the request's), with
 * parameterNotFoundAction Allow or Deny.
 */
import type { Resource } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { type FieldError, StatusError, fieldErr } from './errors.ts';
import { type AuthzCheck, CelAuthorizer, type CelProgram, celErrorText, compileCel } from './registry/cel-library.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from './selectors.ts';

type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** The requesting user as AdmissionRequest.userInfo carries it. */
export interface PolicyUserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  /** The user's authorizer for `authorizer` checks (absent: checks are errored decisions). */
  authorize?: AuthzCheck;
}

const POLICIES = 'admissionregistration.k8s.io/validatingadmissionpolicies';
const BINDINGS = 'admissionregistration.k8s.io/validatingadmissionpolicybindings';

const programs = new Map<string, CelProgram | Error>();

function compiled(expr: string): CelProgram | Error {
  let p = programs.get(expr);
  if (!p) {
    try {
      p = compileCel(expr);
    } catch (e) {
      p = e as Error;
    }
    if (programs.size > 10_000) programs.clear();
    programs.set(expr, p);
  }
  return p;
}

/** A JSON value as CEL sees it without a schema: whole numbers are ints. */
function toCel(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toCel);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(x);
    return out;
  }
  return v;
}

function has(list: string[] | undefined, v: string): boolean {
  return (list ?? []).some((x) => x === '*' || x === v);
}

/** A NamedRuleWithOperations against the request. */
function ruleMatches(rule: any, res: Resource, op: Operation, sub: string, name: string): boolean {
  if (!has(rule.operations, op)) return false;
  if (!has(rule.apiGroups, res.group) || !has(rule.apiVersions, res.version)) return false;
  const full = sub ? `${res.resource}/${sub}` : res.resource;
  const resources: string[] = rule.resources ?? [];
  const ok = resources.some((r) => r === '*' || r === '*/*' || r === full || (!!sub && (r === `*/${sub}` || r === `${res.resource}/*`)));
  if (!ok) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Namespaced' && !res.namespaced) return false;
  if (scope === 'Cluster' && res.namespaced) return false;
  if (Array.isArray(rule.resourceNames) && rule.resourceNames.length > 0 && !rule.resourceNames.includes(name)) return false;
  return true;
}

/** MatchResources (a policy's matchConstraints or a binding's matchResources). */
function matches(m: any, res: Resource, op: Operation, sub: string, obj: KObject | undefined, old: KObject | undefined, nsObj: KObject | undefined, requireRules: boolean): boolean {
  if (!m) return !requireRules;
  const name = obj?.metadata?.name ?? old?.metadata?.name ?? '';
  const rules: any[] = m.resourceRules ?? [];
  if (rules.length === 0 ? requireRules : !rules.some((r) => ruleMatches(r, res, op, sub, name))) return false;
  if ((m.excludeResourceRules ?? []).some((r: any) => ruleMatches(r, res, op, sub, name))) return false;
  const objSel = labelSelectorFromObject(m.objectSelector ?? {});
  if (objSel && !matchLabels(objSel, obj?.metadata?.labels) && !matchLabels(objSel, old?.metadata?.labels)) return false;
  if (m.namespaceSelector && (res.namespaced || (res.group === '' && res.resource === 'namespaces'))) {
    // A Namespace is matched by its own labels (upstream's matcher).
    const nsSel = labelSelectorFromObject(m.namespaceSelector);
    const labels = res.namespaced ? nsObj?.metadata?.labels : (obj ?? old)?.metadata?.labels;
    if (nsSel && !matchLabels(nsSel, labels)) return false;
  }
  return true;
}

function reasonCode(reason: string): number {
  switch (reason) {
    case 'Unauthorized':
      return 401;
    case 'Forbidden':
      return 403;
    case 'RequestEntityTooLarge':
      return 413;
    default:
      return 422;
  }
}

class PolicyError extends Error {}

/**
 * Runs the cluster's admission policies for a create, update or delete
 * (obj null on delete, old the stored object on update and delete). Throws
 * the first denial; pushes Warn results onto `warnings`.
 */
export function runAdmissionPolicies(reg: ClusterRegistry, op: Operation, res: Resource, sub: string, obj: KObject | undefined, old: KObject | undefined, dryRun: boolean, user: PolicyUserInfo, warnings?: string[]): void {
  if (reg.cache.count(BINDINGS) === 0 || reg.cache.count(POLICIES) === 0) return;
  const nsName = res.namespaced ? (obj?.metadata?.namespace ?? old?.metadata?.namespace ?? '') : '';
  const nsRes = reg.scheme.get('', 'v1', 'namespaces')!;
  const nsObj = res.namespaced && nsName ? reg.cache.get(reg.keyFor(nsRes, '', nsName))?.obj : undefined;
  const name = obj?.metadata?.name ?? old?.metadata?.name ?? '';
  const policyKey = (n: string) => reg.keyFor(reg.scheme.get('admissionregistration.k8s.io', 'v1', 'validatingadmissionpolicies')!, '', n);
  const bindings = [...reg.cache.list(BINDINGS, '')].map((e) => e.obj).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  let request: Record<string, unknown> | undefined;
  const requestVar = () =>
    (request ??= toCel({
      uid: '',
      kind: { group: res.group, version: res.version, kind: res.kind },
      resource: { group: res.group, version: res.version, resource: res.resource },
      ...(sub ? { subResource: sub } : {}),
      requestKind: { group: res.group, version: res.version, kind: res.kind },
      requestResource: { group: res.group, version: res.version, resource: res.resource },
      ...(sub ? { requestSubResource: sub } : {}),
      name,
      namespace: nsName,
      operation: op,
      userInfo: user,
      dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: op === 'CREATE' ? 'CreateOptions' : op === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions' },
    }) as Record<string, unknown>);
  let authorizer: CelAuthorizer | undefined;
  const authorizerVar = () =>
    (authorizer ??= new CelAuthorizer(user.authorize, { group: res.group, resource: res.resource, subresource: sub, namespace: nsName, name }));
  for (const binding of bindings) {
    const b = binding.spec ?? {};
    const policy = reg.cache.get(policyKey(b.policyName ?? ''))?.obj;
    if (!policy) continue;
    const p = policy.spec ?? {};
    if (!matches(p.matchConstraints, res, op, sub, obj, old, nsObj, true)) continue;
    if (!matches(b.matchResources, res, op, sub, obj, old, nsObj, false)) continue;
    const actions: string[] = b.validationActions ?? [];
    const deny = actions.includes('Deny');
    const warn = actions.includes('Warn');
    const failClosed = (p.failurePolicy ?? 'Fail') === 'Fail';
    const prefix = `ValidatingAdmissionPolicy '${policy.metadata!.name}' with binding '${binding.metadata!.name}'`;
    const reject = (message: string, reason = 'Invalid'): never => {
      const cause = `${prefix} denied request: ${message}`;
      const gr = res.group ? `${res.resource}.${res.group}` : res.resource;
      throw new StatusError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `${gr} "${name}" is forbidden: ${cause}`,
        reason,
        details: { name, group: res.group || undefined, kind: res.resource, causes: [{ message: cause }] },
        code: reasonCode(reason),
      });
    };
    const onFailure = (message: string, reason?: string) => {
      if (deny) reject(message, reason);
      if (warn) warnings?.push(`Validation failed for ${prefix}: ${message}`);
    };
    // Errors follow failurePolicy: Fail denies (as a Deny decision would), Ignore skips.
    const onError = (message: string) => {
      if (failClosed) onFailure(message);
    };
    // Params.
    let paramSets: unknown[] = [null];
    if (p.paramKind) {
      const [pg, pv] = String(p.paramKind.apiVersion ?? '').includes('/') ? String(p.paramKind.apiVersion).split('/') : ['', String(p.paramKind.apiVersion ?? '')];
      const pr = reg.scheme.byKind(pg!, pv!, p.paramKind.kind ?? '');
      const ref = b.paramRef;
      if (!pr) {
        onError(`failed to configure binding: paramKind kind \`${p.paramKind.kind}\` not known`);
        continue;
      }
      if (!ref) {
        onError('failed to configure binding: no paramRef specified');
        continue;
      }
      const pns = pr.namespaced ? (ref.namespace ?? nsName) : '';
      let found: KObject[] = [];
      if (ref.name) {
        const e = reg.cache.get(reg.keyFor(pr, pns, ref.name));
        if (e) found = [e.obj];
      } else if (ref.selector) {
        const sel = labelSelectorFromObject(ref.selector);
        found = reg.cache.list(pr.storageResource, pns).map((e) => e.obj).filter((o) => !sel || matchLabels(sel, o.metadata?.labels));
      }
      if (found.length === 0) {
        if (ref.parameterNotFoundAction === 'Deny') onError('no params found for policy binding with `Deny` parameterNotFoundAction');
        continue;
      }
      paramSets = found.map((o) => toCel(o));
    }
    const objectVar = obj && op !== 'DELETE' ? toCel(obj) : null;
    const oldVar = old && op !== 'CREATE' ? toCel(old) : null;
    const nsVar = nsObj ? toCel(nsObj) : null;
    for (const params of paramSets) {
      try {
        const ctx: Record<string, unknown> = { object: objectVar, oldObject: oldVar, request: requestVar(), params, namespaceObject: nsVar, authorizer: authorizerVar() };
        // variables: evaluated on first use, in the composition environment (earlier variables visible).
        const variables: Record<string, unknown> = {};
        for (const v of p.variables ?? []) {
          let done = false;
          let value: unknown;
          Object.defineProperty(variables, v.name, {
            enumerable: true,
            get() {
              if (!done) {
                value = evaluate(v.expression, { ...ctx, variables });
                done = true;
              }
              return value;
            },
          });
        }
        ctx.variables = variables;
        // matchConditions: all true, else the policy does not apply to this request.
        let applies = true;
        for (const mc of p.matchConditions ?? []) {
          const r = evaluate(mc.expression, ctx);
          if (r !== true) {
            applies = false;
            break;
          }
        }
        if (!applies) continue;
        for (const v of p.validations ?? []) {
          const r = evaluate(v.expression, ctx);
          if (r === true) continue;
          let message = (v.message ?? '').trim() || `failed expression: ${String(v.expression).trim()}`;
          if (v.messageExpression) {
            try {
              const m = evaluate(v.messageExpression, ctx);
              if (typeof m === 'string' && m.trim() !== '' && !m.includes('\n')) message = m.trim();
            } catch {
              /* keep the static message */
            }
          }
          onFailure(message, v.reason);
        }
      } catch (e) {
        if (e instanceof StatusError) throw e;
        onError((e as Error).message);
      }
    }
  }
}

/**
 * A webhook's matchConditions (upstream's matchconditions.Matcher): any false
 * condition skips the webhook; evaluation errors with the rest true fail the
 * request under failurePolicy Fail (403 Forbidden with the errors) and skip
 * the webhook under Ignore.
 */
export function webhookMatchConditions(conditions: any[] | undefined, failurePolicy: string | undefined, res: Resource, sub: string, op: Operation, obj: KObject | undefined, old: KObject | undefined, dryRun: boolean, user: PolicyUserInfo): boolean {
  if (!conditions || conditions.length === 0) return true;
  const name = obj?.metadata?.name ?? old?.metadata?.name ?? '';
  const namespace = res.namespaced ? (obj?.metadata?.namespace ?? old?.metadata?.namespace ?? '') : '';
  const ctx: Record<string, unknown> = {
    object: obj && op !== 'DELETE' ? toCel(obj) : null,
    oldObject: old && op !== 'CREATE' ? toCel(old) : null,
    request: toCel({
      uid: '',
      kind: { group: res.group, version: res.version, kind: res.kind },
      resource: { group: res.group, version: res.version, resource: res.resource },
      ...(sub ? { subResource: sub } : {}),
      name,
      namespace,
      operation: op,
      userInfo: user,
      dryRun,
    }),
    authorizer: new CelAuthorizer(user.authorize, { group: res.group, resource: res.resource, subresource: sub, namespace, name }),
  };
  const errors: string[] = [];
  for (const c of conditions) {
    let r: unknown;
    try {
      r = evaluate(c.expression, ctx);
    } catch (e) {
      errors.push((e as Error).message);
      continue;
    }
    if (r === false) return false;
    if (r !== true) errors.push(`expression '${c.expression}' resulted in error: no such overload`);
  }
  if (errors.length === 0) return true;
  if ((failurePolicy ?? 'Fail') === 'Ignore') return false;
  const gr = res.group ? `${res.resource}.${res.group}` : res.resource;
  const msg = errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]`;
  throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${gr} "${name}" is forbidden: ${msg}`, reason: 'Forbidden', details: { name, group: res.group || undefined, kind: res.resource }, code: 403 });
}

/** Compile errors of webhook configurations' matchConditions (webhooks[i].matchConditions[j].expression). */
export function webhookConfigurationErrors(obj: KObject): FieldError[] {
  const errs: FieldError[] = [];
  (obj.webhooks ?? []).forEach((w: any, i: number) => {
    const names = new Set<string>();
    (w?.matchConditions ?? []).forEach((c: any, j: number) => {
      const at = `webhooks[${i}].matchConditions[${j}]`;
      if (!c?.name) errs.push(fieldErr.required(`${at}.name`, ''));
      else if (names.has(c.name)) errs.push(fieldErr.duplicate(`${at}.name`, c.name));
      else names.add(c.name);
      expressionErrors(`${at}.expression`, c?.expression, errs);
    });
  });
  return errs;
}

function evaluate(expr: string, ctx: Record<string, unknown>): unknown {
  const prog = compiled(expr);
  if (prog instanceof Error) throw new PolicyError(`compilation error: ${prog.message.split('\n')[0]}`);
  try {
    return prog(ctx);
  } catch (e) {
    if (e instanceof PolicyError) throw e;
    throw new PolicyError(`expression '${expr}' resulted in error: ${String((e as Error).message).split('\n')[0].replace(/^No such key: /, 'no such key: ')}`);
  }
}

// ------------------------------------------------------------ strategies

const REASONS = ['Unauthorized', 'Forbidden', 'Invalid', 'RequestEntityTooLarge'];
const ACTIONS = ['Audit', 'Deny', 'Warn'];
const CEL_IDENT = /^[_a-zA-Z][_a-zA-Z0-9]*$/;

/** Compile errors of one expression. */
function expressionErrors(field: string, expr: unknown, errs: FieldError[], prefix = 'compilation failed'): void {
  if (typeof expr !== 'string' || expr.trim() === '') {
    errs.push(fieldErr.required(field, ''));
    return;
  }
  const p = compiled(expr);
  if (p instanceof Error) errs.push(fieldErr.invalid(field, expr, `${prefix}: ERROR: ${celErrorText(expr, p)}`));
}

function defaultMatchResources(m: any): void {
  if (!m || typeof m !== 'object') return;
  m.matchPolicy ??= 'Equivalent';
  m.namespaceSelector ??= {};
  m.objectSelector ??= {};
  for (const r of [...(m.resourceRules ?? []), ...(m.excludeResourceRules ?? [])]) if (r && typeof r === 'object') r.scope ??= '*';
}

/** Defaults and validation of ValidatingAdmissionPolicy (admissionregistration v1), as upstream's strategy. */
export const admissionPolicyStrategy = {
  defaults(obj: KObject): void {
    obj.spec ??= {};
    obj.spec.failurePolicy ??= 'Fail';
    defaultMatchResources(obj.spec.matchConstraints);
  },
  validate(obj: KObject): FieldError[] {
    const errs: FieldError[] = [];
    const spec = obj.spec ?? {};
    if (!['Fail', 'Ignore'].includes(spec.failurePolicy)) errs.push(fieldErr.notSupported('spec.failurePolicy', spec.failurePolicy, ['Fail', 'Ignore']));
    if (!spec.matchConstraints) errs.push(fieldErr.required('spec.matchConstraints', ''));
    else if (!Array.isArray(spec.matchConstraints.resourceRules) || spec.matchConstraints.resourceRules.length === 0) errs.push(fieldErr.required('spec.matchConstraints.resourceRules', ''));
    const validations: any[] = spec.validations ?? [];
    if (validations.length === 0 && (spec.auditAnnotations ?? []).length === 0) errs.push(fieldErr.required('spec.validations', 'validations or auditAnnotations must contain at least one item'));
    validations.forEach((v, i) => {
      expressionErrors(`spec.validations[${i}].expression`, v?.expression, errs);
      if (v?.messageExpression !== undefined) expressionErrors(`spec.validations[${i}].messageExpression`, v.messageExpression, errs, 'messageExpression compilation failed');
      if (v?.reason !== undefined && !REASONS.includes(v.reason)) errs.push(fieldErr.notSupported(`spec.validations[${i}].reason`, v.reason, REASONS));
    });
    (spec.variables ?? []).forEach((v: any, i: number) => {
      if (!v?.name) errs.push(fieldErr.required(`spec.variables[${i}].name`, ''));
      else if (!CEL_IDENT.test(v.name)) errs.push(fieldErr.invalid(`spec.variables[${i}].name`, v.name, 'name is not a valid CEL identifier'));
      expressionErrors(`spec.variables[${i}].expression`, v?.expression, errs);
    });
    (spec.matchConditions ?? []).forEach((c: any, i: number) => {
      if (!c?.name) errs.push(fieldErr.required(`spec.matchConditions[${i}].name`, ''));
      expressionErrors(`spec.matchConditions[${i}].expression`, c?.expression, errs);
    });
    (spec.auditAnnotations ?? []).forEach((a: any, i: number) => expressionErrors(`spec.auditAnnotations[${i}].valueExpression`, a?.valueExpression, errs));
    if (spec.paramKind && (!spec.paramKind.apiVersion || !spec.paramKind.kind)) {
      if (!spec.paramKind.apiVersion) errs.push(fieldErr.required('spec.paramKind.apiVersion', ''));
      if (!spec.paramKind.kind) errs.push(fieldErr.required('spec.paramKind.kind', ''));
    }
    return errs;
  },
};

/** Defaults and validation of ValidatingAdmissionPolicyBinding. */
export const admissionPolicyBindingStrategy = {
  defaults(obj: KObject): void {
    obj.spec ??= {};
    defaultMatchResources(obj.spec.matchResources);
  },
  validate(obj: KObject): FieldError[] {
    const errs: FieldError[] = [];
    const spec = obj.spec ?? {};
    if (!spec.policyName) errs.push(fieldErr.required('spec.policyName', ''));
    const actions: unknown[] = spec.validationActions ?? [];
    if (actions.length === 0) errs.push(fieldErr.required('spec.validationActions', 'at least one validation action is required'));
    const seen = new Set<unknown>();
    actions.forEach((a, i) => {
      if (seen.has(a)) errs.push(fieldErr.duplicate(`spec.validationActions[${i}]`, a));
      seen.add(a);
      if (!ACTIONS.includes(a as string)) errs.push(fieldErr.notSupported(`spec.validationActions[${i}]`, a, ACTIONS));
    });
    if (seen.has('Deny') && seen.has('Warn')) errs.push(fieldErr.invalid('spec.validationActions', actions, 'must not contain both Deny and Warn (repeating the same validation failure information in the API response and headers serves no purpose)'));
    const ref = spec.paramRef;
    if (ref) {
      if (ref.name && ref.selector) errs.push(fieldErr.forbidden('spec.paramRef.name', 'name and selector are mutually exclusive'));
      if (!ref.name && !ref.selector) errs.push(fieldErr.required('spec.paramRef', 'one of name or selector must be specified'));
      if (!ref.parameterNotFoundAction) errs.push(fieldErr.required('spec.paramRef.parameterNotFoundAction', ''));
      else if (!['Allow', 'Deny'].includes(ref.parameterNotFoundAction)) errs.push(fieldErr.notSupported('spec.paramRef.parameterNotFoundAction', ref.parameterNotFoundAction, ['Allow', 'Deny']));
    }
    return errs;
  },
};
