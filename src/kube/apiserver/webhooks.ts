/**
 * Dynamic admission webhooks (admissionregistration.k8s.io/v1): Mutating-
 * and ValidatingWebhookConfigurations whose clientConfig names a URL are
 * called with an AdmissionReview v1 for matching creates, updates and
 * deletes (object null, oldObject the stored object); mutating webhooks may
 * answer a JSONPatch (ignored on DELETE, where there is nothing to mutate);
 * their CEL matchConditions decide whether they are called. Webhooks pointing at an
 * in-cluster Service cannot be reached in a simulation: they follow their
 * failurePolicy as if the call failed.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import fjp from 'fast-json-patch';
import type { KObject } from '../api/types.ts';
import type { Resource } from '../api/scheme.ts';
import { StatusError, newInternalError } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from './selectors.ts';
import { runAdmissionPolicies, webhookMatchConditions } from './validating-admission-policy.ts';
import type { AuthzCheck } from './registry/cel-library.ts';

type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

function ruleMatches(rule: any, res: Resource, op: Operation, sub: string): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === '*' || x === v);
  if (!has(rule.operations, op) && !(rule.operations ?? []).includes('*')) return false;
  if (!has(rule.apiGroups, res.group) || !has(rule.apiVersions, res.version)) return false;
  const full = sub ? `${res.resource}/${sub}` : res.resource;
  const resources: string[] = rule.resources ?? [];
  const resOk = resources.some((r) => r === '*' || r === '*/*' || r === full || (r.startsWith('*/') && sub && r === `*/${sub}`) || (r.endsWith('/*') && r === `${res.resource}/*` && !!sub));
  if (!resOk) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Namespaced' && !res.namespaced) return false;
  if (scope === 'Cluster' && res.namespaced) return false;
  return true;
}

function post(url: string, body: string, caBundle: string | undefined, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const opts = { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: timeoutMs, ...(caBundle ? { ca: Buffer.from(caBundle, 'base64').toString('utf8') } : {}) };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`received non-200 response ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(new Error(`failed to decode the response: ${(e as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    req.end(body);
  });
}

function hooksOf(reg: ClusterRegistry, kind: 'mutating' | 'validating'): any[] {
  const r = kind === 'mutating' ? 'admissionregistration.k8s.io/mutatingwebhookconfigurations' : 'admissionregistration.k8s.io/validatingwebhookconfigurations';
  const out: any[] = [];
  for (const e of reg.cache.list(r, '')) for (const w of e.obj.webhooks ?? []) out.push(w);
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** AdmissionReview.request.userInfo: the requesting user (authentication.k8s.io/v1 UserInfo). */
export interface WebhookUserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  /** The user's authorizer (a non-enumerable property: admission policies' `authorizer`, never sent to webhooks). */
  authorize?: AuthzCheck;
}

/** The user of writes made inside localeks without a request (controllers, bootstrap). */
const INTERNAL_USER: WebhookUserInfo = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };

/**
 * Runs the matching webhooks of one kind for an operation on obj (old for
 * updates). Mutating webhooks change obj in place; a denial or a failed
 * call under failurePolicy Fail throws. `user` is the requesting user the
 * webhooks see (userInfo). Validating runs first evaluate the cluster's
 * ValidatingAdmissionPolicies (their Warn results go to `warnings`).
 */
export async function runWebhooks(reg: ClusterRegistry, kind: 'mutating' | 'validating', op: Operation, res: Resource, sub: string, obj: KObject, old: KObject | undefined, dryRun: boolean, user: WebhookUserInfo = INTERNAL_USER, warnings?: string[]): Promise<void> {
  // Webhook configurations and admission policies are never sent to webhooks or policies (upstream's exemption).
  if (res.group === 'admissionregistration.k8s.io') return;
  // The ValidatingAdmissionPolicy plugin runs before the validating webhooks.
  if (kind === 'validating') runAdmissionPolicies(reg, op, res, sub, op === 'DELETE' ? undefined : obj, old, dryRun, user, warnings);
  if (reg.cache.count(kind === 'mutating' ? 'admissionregistration.k8s.io/mutatingwebhookconfigurations' : 'admissionregistration.k8s.io/validatingwebhookconfigurations') === 0) return;
  const nsRes = reg.scheme.get('', 'v1', 'namespaces')!;
  for (const w of hooksOf(reg, kind)) {
    if (!(w.rules ?? []).some((rule: any) => ruleMatches(rule, res, op, sub))) continue;
    const objSel = labelSelectorFromObject(w.objectSelector ?? {});
    if (objSel && !matchLabels(objSel, (obj ?? old)?.metadata?.labels)) continue;
    if (res.namespaced && w.namespaceSelector) {
      const ns = reg.cache.get(reg.keyFor(nsRes, '', obj.metadata?.namespace ?? ''))?.obj;
      const nsSel = labelSelectorFromObject(w.namespaceSelector);
      if (nsSel && !matchLabels(nsSel, ns?.metadata?.labels)) continue;
    }
    // matchConditions (CEL): a false condition skips the webhook.
    if (!webhookMatchConditions(w.matchConditions, w.failurePolicy, res, sub, op, op === 'DELETE' ? undefined : obj, old, dryRun, user)) continue;
    if (dryRun && w.sideEffects !== 'None' && w.sideEffects !== 'NoneOnDryRun') {
      throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `admission webhook "${w.name}" does not support dry run`, reason: 'BadRequest', code: 400 });
    }
    const uid = randomUUID();
    const review = {
      kind: 'AdmissionReview',
      apiVersion: 'admission.k8s.io/v1',
      request: {
        uid,
        kind: { group: res.group, version: res.version, kind: res.kind },
        resource: { group: res.group, version: res.version, resource: res.resource },
        subResource: sub || undefined,
        requestKind: { group: res.group, version: res.version, kind: res.kind },
        requestResource: { group: res.group, version: res.version, resource: res.resource },
        name: obj.metadata?.name ?? old?.metadata?.name,
        namespace: res.namespaced ? (obj.metadata?.namespace ?? old?.metadata?.namespace) : undefined,
        operation: op,
        userInfo: user,
        object: op === 'DELETE' ? null : obj,
        oldObject: old ?? null,
        dryRun,
        options: { apiVersion: 'meta.k8s.io/v1', kind: op === 'CREATE' ? 'CreateOptions' : op === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions' },
      },
    };
    const url: string | undefined = w.clientConfig?.url;
    const fail = (err: Error) => {
      if (w.failurePolicy === 'Ignore') return;
      throw newInternalError(new Error(`failed calling webhook "${w.name}": failed to call webhook: ${err.message}`));
    };
    if (!url) {
      const svc = w.clientConfig?.service;
      fail(new Error(`Post "https://${svc?.name}.${svc?.namespace}.svc:${svc?.port ?? 443}${svc?.path ?? ''}": in-cluster services are not reachable in localeks`));
      continue;
    }
    let resp: any;
    try {
      resp = await post(url, JSON.stringify(review), w.clientConfig?.caBundle, (w.timeoutSeconds ?? 10) * 1000);
    } catch (e) {
      fail(e as Error);
      continue;
    }
    const r = resp?.response;
    if (!r || r.uid !== uid) {
      fail(new Error(`expected response.uid="${uid}", got "${r?.uid ?? ''}"`));
      continue;
    }
    if (!r.allowed) {
      const st = r.status ?? {};
      const code = st.code && st.code >= 400 ? st.code : 400;
      throw new StatusError({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `admission webhook "${w.name}" denied the request${st.message ? `: ${st.message}` : ' without explanation'}`,
        reason: st.reason || (code === 403 ? 'Forbidden' : 'BadRequest'),
        details: st.details,
        code,
      });
    }
    if (kind === 'mutating' && r.patch && op !== 'DELETE') {
      try {
        const ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8'));
        const patched = fjp.applyPatch(structuredClone(obj), ops, false, false).newDocument as KObject;
        for (const k of Object.keys(obj)) delete obj[k];
        Object.assign(obj, patched);
      } catch (e) {
        fail(new Error(`failed to apply the patch: ${(e as Error).message}`));
      }
    }
  }
}
