/**
 * ValidatingAdmissionPolicy with kubectl: a policy and its binding deny
 * (422 Invalid, upstream's "... is forbidden: ValidatingAdmissionPolicy 'p'
 * with binding 'b' denied request: ..." message) or warn; params from a
 * ConfigMap, variables, matchConditions, messageExpression, reason,
 * namespace selectors, Kubernetes CEL libraries in expressions, and
 * failurePolicy on errors; admission webhooks' CEL matchConditions.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;
before(async () => {
  h = await startKubeHarness('vap');
});
after(async () => {
  await h.close();
});

async function ok(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await h.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r;
}

const fails = (args: string[], input?: string): Promise<string> => h.fails(args, input);

const deployment = (name: string, replicas: number, ns = 'default', image = 'nginx:1.27', labels = '') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}${labels ? `, labels: {${labels}}` : ''}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: c, image: "${image}", resources: {limits: {memory: 256Mi}}}]
`;

describe('ValidatingAdmissionPolicy', () => {
  test('Deny with params, variables, matchConditions and messageExpression; Warn; namespace selector', async () => {
    await ok(['create', 'namespace', 'prod']);
    await ok(['label', 'namespace', 'prod', 'env=prod']);
    await ok(['create', 'configmap', 'limits', '-n', 'default', '--from-literal=maxReplicas=5']);
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: replica-limit}
spec:
  failurePolicy: Fail
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - apiGroups: [apps]
      apiVersions: [v1]
      operations: [CREATE, UPDATE]
      resources: [deployments]
  matchConditions:
  - name: not-exempt
    expression: "!has(object.metadata.labels) || !('exempt' in object.metadata.labels)"
  variables:
  - name: max
    expression: "int(params.data.maxReplicas)"
  validations:
  - expression: "object.spec.replicas <= variables.max"
    messageExpression: "'replicas must be at most ' + string(variables.max) + ', got ' + string(object.spec.replicas)"
  - expression: "object.spec.template.spec.containers.all(c, quantity(c.resources.limits.memory).isLessThan(quantity('1Gi')))"
    message: memory limits must be below 1Gi
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: replica-limit-binding}
spec:
  policyName: replica-limit
  validationActions: [Deny]
  paramRef: {name: limits, namespace: default, parameterNotFoundAction: Deny}
`,
    );
    await ok(['apply', '-f', '-'], deployment('small', 3));
    const e = await fails(['apply', '-f', '-'], deployment('big', 9));
    assert.match(e, /ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-binding' denied request: replicas must be at most 5, got 9/);
    const raw = await fetch(`${h.url}/apis/apps/v1/namespaces/default/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer test-token' },
      body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big' }, spec: { replicas: 9, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '1Mi' } } }] } } } }),
    });
    assert.equal(raw.status, 422);
    const st = (await raw.json()) as any;
    assert.equal(st.reason, 'Invalid');
    assert.equal(st.message, `deployments.apps "big" is forbidden: ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-binding' denied request: replicas must be at most 5, got 9`);
    assert.deepEqual(st.details, { name: 'big', group: 'apps', kind: 'deployments', causes: [{ message: `ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-binding' denied request: replicas must be at most 5, got 9` }] });
    // The validation's reason picks the status (Forbidden: 403).
    const mem = await fails(['apply', '-f', '-'], deployment('small', 3).replace('256Mi', '2Gi'));
    assert.match(mem, /Error from server \(Forbidden\)[\s\S]*deployments.apps "small" is forbidden: ValidatingAdmissionPolicy .replica-limit. with binding .replica-limit-binding. denied request: memory limits must be below 1Gi/);
    // Updates are checked; a matchCondition exempts labelled objects.
    assert.match(await fails(['patch', 'deployment', 'small', '-p', '{"spec":{"replicas":7}}']), /replicas must be at most 5, got 7/);
    // The scale subresource is another resource (deployments/scale), which the rule does not name (as upstream).
    await ok(['scale', 'deployment', 'small', '--replicas=7']);
    await ok(['apply', '-f', '-'], deployment('exempt', 9, 'default', 'nginx:1.27', 'exempt: "yes"'));
    // A changed param applies at once.
    await ok(['patch', 'configmap', 'limits', '-p', '{"data":{"maxReplicas":"10"}}']);
    await ok(['apply', '-f', '-'], deployment('big', 9));
    // A missing param with parameterNotFoundAction Deny denies.
    await ok(['delete', 'configmap', 'limits']);
    assert.match(await fails(['apply', '-f', '-'], deployment('other', 1)), /denied request: no params found for policy binding with `Deny` parameterNotFoundAction/);
    await ok(['delete', 'validatingadmissionpolicybinding', 'replica-limit-binding']);
    await ok(['apply', '-f', '-'], deployment('other', 1));
  });

  test('Warn action and namespace selector; evaluation errors follow failurePolicy', async () => {
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: pinned-images}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.template.spec.containers.all(c, !c.image.endsWith(':latest'))"
    message: images must not use the latest tag
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: pinned-images-prod}
spec:
  policyName: pinned-images
  validationActions: [Warn]
  matchResources:
    namespaceSelector: {matchLabels: {env: prod}}
`,
    );
    const w = await ok(['apply', '-f', '-'], deployment('web', 1, 'prod', 'nginx:latest'));
    assert.match(w.stderr, /Warning: Validation failed for ValidatingAdmissionPolicy 'pinned-images' with binding 'pinned-images-prod': images must not use the latest tag/);
    const quiet = await ok(['apply', '-f', '-'], deployment('web', 1, 'default', 'nginx:latest'));
    assert.doesNotMatch(quiet.stderr, /Validation failed/);

    await ok(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: broken}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}
  validations:
  - expression: "object.data.missing == 'x'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: broken}
spec:
  policyName: broken
  validationActions: [Deny]
`,
    );
    const e = await fails(['create', 'configmap', 'c1', '--from-literal=a=b']);
    assert.match(e, /ValidatingAdmissionPolicy 'broken' with binding 'broken' denied request: expression 'object.data.missing == 'x'' resulted in error: no such key: missing/);
    await ok(['patch', 'validatingadmissionpolicy', 'broken', '--type=merge', '-p', '{"spec":{"failurePolicy":"Ignore"}}']);
    await ok(['create', 'configmap', 'c1', '--from-literal=a=b']);
  });

  test('policies and bindings are validated and defaulted as upstream', async () => {
    const e = await fails(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: bad}
spec:
  failurePolicy: Sometimes
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: "object.spec.containers.all(c, "
  - expression: "true"
    reason: Teapot
`,
    );
    assert.match(e, /The ValidatingAdmissionPolicy "bad" is invalid:/);
    assert.match(e, /spec.failurePolicy: Unsupported value: "Sometimes": supported values: "Fail", "Ignore"/);
    assert.match(e, /spec.validations\[0\].expression: Invalid value: "object.spec.containers.all\(c, ": compilation failed: ERROR: <input>/);
    assert.match(e, /spec.validations\[1\].reason: Unsupported value: "Teapot"/);
    const b = await fails(['apply', '-f', '-'], 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: bad}\nspec:\n  policyName: x\n  validationActions: [Deny, Warn]\n');
    assert.match(b, /spec.validationActions: Invalid value: .*must not contain both Deny and Warn/);
    const none = await fails(['apply', '-f', '-'], 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: bad}\nspec:\n  policyName: x\n');
    assert.match(none, /spec.validationActions: Required value: at least one validation action is required/);
    await ok(
      ['apply', '-f', '-'],
      `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: defaults}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: "true"
`,
    );
    const got = JSON.parse((await ok(['get', 'validatingadmissionpolicy', 'defaults', '-o', 'json'])).stdout);
    assert.equal(got.spec.failurePolicy, 'Fail');
    assert.equal(got.spec.matchConstraints.matchPolicy, 'Equivalent');
    assert.deepEqual(got.spec.matchConstraints.namespaceSelector, {});
    assert.equal(got.spec.matchConstraints.resourceRules[0].scope, '*');
  });

  test('webhook matchConditions decide whether a webhook is called; errors follow failurePolicy', async () => {
    const calls: string[] = [];
    const srv = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        const review = JSON.parse(b);
        calls.push(review.request.name);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: false, status: { code: 403, message: 'checked configmaps are refused' } } }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      const hook = (conditions: unknown[], failurePolicy = 'Fail') =>
        JSON.stringify({
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingWebhookConfiguration',
          metadata: { name: 'checked' },
          webhooks: [{ name: 'checked.example.com', clientConfig: { url: `http://127.0.0.1:${port}/validate` }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], matchConditions: conditions, failurePolicy, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
        });
      const bad = await fails(['apply', '-f', '-'], hook([{ name: 'broken', expression: 'object.metadata.name.startsWith(' }]));
      assert.match(bad, /webhooks\[0\].matchConditions\[0\].expression: Invalid value: "object.metadata.name.startsWith\(": compilation failed/);
      await ok(['apply', '-f', '-'], hook([{ name: 'checked-only', expression: "object.metadata.name.startsWith('checked-')" }, { name: 'not-system', expression: "!request.userInfo.username.startsWith('system:')" }]));
      await ok(['create', 'configmap', 'other-cm', '--from-literal=a=b']);
      assert.deepEqual(calls, [], 'a false condition skips the webhook');
      const e = await fails(['create', 'configmap', 'checked-cm', '--from-literal=a=b']);
      assert.match(e, /admission webhook "checked.example.com" denied the request: checked configmaps are refused/);
      assert.deepEqual(calls, ['checked-cm']);
      // An evaluation error fails the request under failurePolicy Fail (403), skips the webhook under Ignore.
      await ok(['apply', '-f', '-'], hook([{ name: 'errors', expression: "object.data.missing == 'x'" }]));
      // kubectl apply's strategic merge patch merges webhooks and matchConditions by name (the rules stay).
      const stored = JSON.parse((await ok(['get', 'validatingwebhookconfiguration', 'checked', '-o', 'json'])).stdout);
      assert.deepEqual(stored.webhooks[0].matchConditions, [{ name: 'errors', expression: "object.data.missing == 'x'" }]);
      assert.equal(stored.webhooks[0].rules[0].resources[0], 'configmaps');
      const err = await fails(['create', 'configmap', 'checked-2', '--from-literal=a=b']);
      assert.match(err, /configmaps "checked-2" is forbidden: expression 'object.data.missing == 'x'' resulted in error: no such key: missing/);
      await ok(['apply', '-f', '-'], hook([{ name: 'errors', expression: "object.data.missing == 'x'" }], 'Ignore'));
      await ok(['create', 'configmap', 'checked-3', '--from-literal=a=b']);
      assert.deepEqual(calls, ['checked-cm']);
      await ok(['delete', 'validatingwebhookconfiguration', 'checked']);
    } finally {
      srv.close();
    }
  });
});
