/**
 * Admission on updates and deletes, as kube-apiserver applies it, with kubectl:
 *  - Pod Security: a pod update that changes an image is checked against the
 *    namespace's enforce level (other updates pass), workload template
 *    updates get warnings;
 *  - ResourceQuota charges updates that raise usage (a Service turned into a
 *    LoadBalancer); LimitRange bounds PersistentVolumeClaim requests on create
 *    and expansion;
 *  - admission webhooks are called for DELETE with the stored object as
 *    oldObject, and can deny it.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;
before(async () => {
  h = await startKubeHarness('admission');
});
after(async () => {
  await h.close();
});

const ok = (args: string[], input?: string): Promise<string> => h.ok(args, input);

const fails = (args: string[], input?: string): Promise<string> => h.fails(args, input);

async function until(what: string, fn: () => Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('admission on update', () => {
  test('Pod Security: image changes of pods are enforced, other updates pass; workload updates warn', async () => {
    await ok(['create', 'ns', 'psa-up']);
    await until('default sa', async () => (await h.kubectl(['get', 'sa', 'default', '-n', 'psa-up'])).code === 0);
    await ok(['run', 'p', '--image=nginx:1.26', '-n', 'psa-up']);
    await ok(['create', 'deployment', 'd', '--image=nginx:1.26', '-n', 'psa-up']);
    await ok(['label', 'ns', 'psa-up', 'pod-security.kubernetes.io/enforce=restricted']);
    // Metadata-only updates of an existing non-conforming pod are allowed.
    await ok(['label', 'pod', 'p', '-n', 'psa-up', 'touched=yes']);
    const e = await fails(['set', 'image', 'pod/p', 'p=nginx:1.27', '-n', 'psa-up']);
    assert.match(e, /pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
    assert.equal(await ok(['get', 'pod', 'p', '-n', 'psa-up', '-o', 'jsonpath={.spec.containers[0].image}']), 'nginx:1.26');
    const r = await h.kubectl(['set', 'image', 'deployment/d', 'nginx=nginx:1.27', '-n', 'psa-up']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: would violate PodSecurity "restricted:latest"/);
  });

  test('ResourceQuota: an update that raises usage is charged', async () => {
    await ok(['create', 'ns', 'quota-up']);
    await ok(['create', 'quota', 'lb', '--hard=services.loadbalancers=0,services=5', '-n', 'quota-up']);
    await ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '-n', 'quota-up']);
    // Updates that do not raise usage pass (the object count is not charged again).
    await ok(['label', 'service', 'web', '-n', 'quota-up', 'tier=front']);
    const e = await fails(['patch', 'service', 'web', '-n', 'quota-up', '-p', '{"spec":{"type":"LoadBalancer"}}']);
    assert.match(e, /services "web" is forbidden: exceeded quota: lb, requested: services.loadbalancers=1, used: services.loadbalancers=0, limited: services.loadbalancers=0/);
    assert.equal(await ok(['get', 'service', 'web', '-n', 'quota-up', '-o', 'jsonpath={.spec.type}']), 'ClusterIP');
  });
});

describe('defaulting', () => {
  test('requests default to limits key by key on pods, never on pod templates', async () => {
    await ok(['create', 'deployment', 'lim', '--image=nginx']);
    await ok(['set', 'resources', 'deployment', 'lim', '--limits=cpu=200m,memory=512Mi', '--requests=cpu=100m']);
    const tpl = JSON.parse(await ok(['get', 'deployment', 'lim', '-o', 'jsonpath={.spec.template.spec.containers[0].resources}']));
    assert.deepEqual(tpl, { limits: { cpu: '200m', memory: '512Mi' }, requests: { cpu: '100m' } });
    await ok(['run', 'limpod', '--image=nginx', '--overrides={"spec":{"containers":[{"name":"limpod","image":"nginx","resources":{"limits":{"cpu":"200m","memory":"512Mi"},"requests":{"cpu":"100m"}}}]}}']);
    const pod = JSON.parse(await ok(['get', 'pod', 'limpod', '-o', 'jsonpath={.spec.containers[0].resources}']));
    assert.deepEqual(pod, { limits: { cpu: '200m', memory: '512Mi' }, requests: { cpu: '100m', memory: '512Mi' } });
  });
});

describe('LimitRange for PersistentVolumeClaims', () => {
  test('storage requests are bounded on create and on expansion', async () => {
    await ok(['create', 'ns', 'lr-pvc']);
    await ok(['apply', '-f', '-'], 'apiVersion: v1\nkind: LimitRange\nmetadata: {name: storage, namespace: lr-pvc}\nspec:\n  limits:\n  - {type: PersistentVolumeClaim, min: {storage: 1Gi}, max: {storage: 2Gi}}\n');
    const pvc = (size: string) => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: lr-pvc}\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: ${size}}}\n`;
    assert.match(await fails(['apply', '-f', '-'], pvc('5Gi')), /persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi/);
    assert.match(await fails(['apply', '-f', '-'], pvc('500Mi')), /minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi/);
    await ok(['apply', '-f', '-'], pvc('1Gi'));
    const e = await fails(['patch', 'pvc', 'data', '-n', 'lr-pvc', '-p', '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}']);
    assert.match(e, /maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi/);
    assert.equal(await ok(['get', 'pvc', 'data', '-n', 'lr-pvc', '-o', 'jsonpath={.spec.resources.requests.storage}']), '1Gi');
  });
});

describe('admission webhooks on DELETE', () => {
  test('validating webhooks get DELETE with oldObject and can deny it', async () => {
    const reviews: any[] = [];
    const srv = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        const review = JSON.parse(b);
        reviews.push(review.request);
        const old = review.request.oldObject;
        const response: any = { uid: review.request.uid, allowed: true };
        if (review.request.operation === 'DELETE' && old?.metadata?.labels?.protected === 'true') {
          response.allowed = false;
          response.status = { code: 403, reason: 'Forbidden', message: 'protected configmaps cannot be deleted' };
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    try {
      await ok(['create', 'ns', 'whdel']);
      const rules = [{ operations: ['DELETE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }];
      await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'protect' }, webhooks: [{ name: 'protect.example.com', clientConfig: { url: `http://127.0.0.1:${port}/validate` }, rules, namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'whdel' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }));
      await ok(['create', 'configmap', 'keep', '-n', 'whdel', '--from-literal=a=b']);
      await ok(['label', 'configmap', 'keep', '-n', 'whdel', 'protected=true']);
      await ok(['create', 'configmap', 'gone', '-n', 'whdel']);
      assert.equal(reviews.length, 0, 'the webhook only handles DELETE');
      const e = await fails(['delete', 'configmap', 'keep', '-n', 'whdel']);
      assert.match(e, /admission webhook "protect.example.com" denied the request: protected configmaps cannot be deleted/);
      assert.equal(await ok(['get', 'configmap', 'keep', '-n', 'whdel', '-o', 'jsonpath={.data.a}']), 'b');
      await ok(['delete', 'configmap', 'gone', '-n', 'whdel']);
      const del = reviews.find((r) => r.name === 'keep')!;
      assert.equal(del.operation, 'DELETE');
      assert.equal(del.object, null);
      assert.equal(del.oldObject.metadata.name, 'keep');
      assert.equal(del.oldObject.data.a, 'b');
      assert.equal(del.options.kind, 'DeleteOptions');
      assert.ok(reviews.some((r) => r.name === 'gone' && r.operation === 'DELETE'));
      // The namespace selector still applies: other namespaces are not sent.
      await ok(['create', 'configmap', 'elsewhere', '-n', 'default']);
      await ok(['delete', 'configmap', 'elsewhere', '-n', 'default']);
      assert.ok(!reviews.some((r) => r.name === 'elsewhere'));
      await ok(['delete', 'validatingwebhookconfiguration', 'protect']);
    } finally {
      srv.close();
    }
  });
});
