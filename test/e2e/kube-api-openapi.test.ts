/**
 * /openapi/v2 and /openapi/v3 as kube-apiserver publishes them, with kubectl
 * 1.32: upstream definition names (io.k8s.api.apps.v1.Deployment,
 * io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, ...), every $ref resolving
 * inside its document, descriptions and required fields for `kubectl explain`,
 * and CustomResourceDefinitions' structural schemas in both documents, so that
 * `kubectl explain <custom resource>` and kubectl's client-side validation
 * (`kind: List` manifests, validated against /openapi/v2) work for them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;
before(async () => {
  h = await startKubeHarness('openapi');
});
after(async () => {
  await h.close();
});

const ok = (args: string[], input?: string): Promise<string> => h.ok(args, input);

const fails = (args: string[], input?: string): Promise<string> => h.fails(args, input);

const get = async (path: string): Promise<any> => {
  const r = await fetch(`${h.url}${path}`, { headers: { authorization: 'Bearer test-token' } });
  assert.equal(r.status, 200, path);
  return r.json();
};

/** Every $ref of a document, and whether it resolves in the document. */
function danglingRefs(doc: any, prefix: string, defs: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const m of JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)) {
    const ref = m[1]!;
    if (!ref.startsWith(prefix) || !defs[ref.slice(prefix.length)]) out.push(ref);
  }
  return out;
}

const CRD = (extra = '') => `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: pools.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: pools, singular: pool, kind: Pool}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        description: Pool is a group of nodes.
        properties:
          spec:
            type: object
            description: The desired pool.
            required: [minNodes]
            properties:
              minNodes: {type: integer, description: Smallest size of the pool.}
              maxNodes: {type: integer, maximum: 100}
              labels: {type: object, additionalProperties: {type: string}}
              ports:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [name]
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    port: {type: integer}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              size: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
              template: {type: object, x-kubernetes-embedded-resource: true, properties: {spec: {type: object, properties: {image: {type: string}}}}}${extra}
`;

async function waitServed(resource: string): Promise<void> {
  for (let i = 0; ; i++) {
    if ((await h.kubectl(['get', resource])).code === 0) return;
    if (i > 200) throw new Error(`${resource} not served`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('built-in definitions', () => {
  test('names are upstream Go package paths; every $ref resolves; kinds carry their GVK', async () => {
    const v2 = await get('/openapi/v2');
    for (const n of [
      'io.k8s.api.core.v1.PodSpec',
      'io.k8s.api.apps.v1.Deployment',
      'io.k8s.api.apps.v1.DeploymentList',
      'io.k8s.api.core.v1.TopologySelectorTerm',
      'io.k8s.api.events.v1.Event',
      'io.k8s.api.core.v1.Event',
      'io.k8s.api.rbac.v1.Subject',
      'io.k8s.api.flowcontrol.v1.Subject',
      'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler',
      'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition',
      'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService',
    ]) {
      assert.ok(v2.definitions[n], `${n} in /openapi/v2`);
    }
    assert.deepEqual(
      Object.keys(v2.definitions).filter((n) => !n.startsWith('com.amazonaws.k8s.') && !n.startsWith('io.k8s.metrics.pkg.apis.metrics.v1beta1.') && n !== 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' && n !== 'io.k8s.apimachinery.pkg.api.resource.Quantity' && !/^io\.k8s\.(api\.[a-z]+|apimachinery\.pkg\.apis\.meta|apiextensions-apiserver\.pkg\.apis\.apiextensions|kube-aggregator\.pkg\.apis\.apiregistration)\.v\d/.test(n)),
      [],
    );
    assert.deepEqual(danglingRefs(v2, '#/definitions/', v2.definitions), []);
    const dep = v2.definitions['io.k8s.api.apps.v1.Deployment'];
    assert.deepEqual(dep['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    assert.equal(dep.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.deepEqual(v2.definitions['io.k8s.api.apps.v1.DeploymentSpec'].required, ['selector', 'template']);
    assert.match(dep.description, /Deployment enables declarative updates/);

    const root = await get('/openapi/v3');
    const appsUrl: string = root.paths['apis/apps/v1'].serverRelativeURL;
    assert.match(appsUrl, /\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
    for (const key of ['api/v1', 'apis/apps/v1', 'apis/apiextensions.k8s.io/v1', 'apis/apiregistration.k8s.io/v1', 'apis/metrics.k8s.io/v1beta1']) {
      const doc = await get(`/openapi/v3/${key}`);
      assert.deepEqual(danglingRefs(doc, '#/components/schemas/', doc.components.schemas), [], key);
    }
    const apps = await get('/openapi/v3/apis/apps/v1');
    const d3 = apps.components.schemas['io.k8s.api.apps.v1.Deployment'];
    assert.deepEqual(d3.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.ok(apps.components.schemas['io.k8s.api.core.v1.PodTemplateSpec']);
  });

  test('kubectl explain: descriptions, nested fields, required markers, --recursive', async () => {
    const s = await ok(['explain', 'deployment.spec.strategy']);
    assert.match(s, /GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1/);
    assert.match(s, /FIELD: strategy <DeploymentStrategy>/);
    assert.match(s, /DeploymentStrategy describes how to replace existing pods with new ones\./);
    assert.match(s, /type\t<string>\n\s+Type of deployment\. Can be "Recreate" or "RollingUpdate"/);
    const spec = await ok(['explain', 'deployment.spec']);
    assert.match(spec, /selector\t<LabelSelector> -required-/);
    assert.match(spec, /template\t<PodTemplateSpec> -required-/);
    const rec = await ok(['explain', 'pod.spec.containers', '--recursive']);
    assert.match(rec, /name\t<string> -required-/);
    assert.match(rec, /\n  livenessProbe\t<Probe>\n    exec\t<ExecAction>\n      command\t<\[\]string>/);
    assert.match(rec, /\n      port\t<IntOrString> -required-/);
    assert.match(await ok(['explain', 'deployment.spec.strategy.rollingUpdate']), /maxSurge\t<IntOrString>\n/);
    const res = await ok(['explain', 'pod.spec.containers.resources']);
    assert.match(res, /limits\t<map\[string\]Quantity>\n\s+Limits describes the maximum amount of compute resources allowed/);
    assert.match(await ok(['explain', 'pod.spec.volumes.emptyDir.sizeLimit']), /FIELD: sizeLimit <Quantity>/);
    const crd = await ok(['explain', 'crd.spec.versions.schema']);
    assert.match(crd, /GROUP:\s+apiextensions.k8s.io\nKIND:\s+CustomResourceDefinition/);
    assert.match(crd, /openAPIV3Schema\t<JSONSchemaProps>/);
    assert.match(await ok(['explain', 'apiservices.spec.service']), /KIND:\s+APIService/);
    // A deprecated group-version the cluster's minor still serves (flowcontrol v1beta3 on 1.31).
    const fs = await ok(['explain', 'flowschemas.spec.rules', '--api-version=flowcontrol.apiserver.k8s.io/v1beta3']);
    assert.match(fs, /GROUP:\s+flowcontrol.apiserver.k8s.io\nKIND:\s+FlowSchema\nVERSION:\s+v1beta3/);
    assert.match(fs, /subjects\t<\[\]Subject> -required-/);
    // metrics.k8s.io, as metrics-server publishes it through aggregation.
    const nm = await ok(['explain', 'nodemetrics']);
    assert.match(nm, /GROUP:\s+metrics.k8s.io\nKIND:\s+NodeMetrics\nVERSION:\s+v1beta1/);
    assert.match(nm, /usage\t<map\[string\]Quantity> -required-/);
    assert.match(await ok(['explain', 'podmetrics.containers']), /FIELD: containers <\[\]ContainerMetrics>/);
  });

  test('client-side validation of a List: unknown and missing required fields, upstream messages', async () => {
    const e = await fails(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: l1, namespace: default}\n  spec:\n    selector: {matchLabels: {a: b}}\n    template:\n      metadata: {labels: {a: b}}\n      spec:\n        containers: [{image: nginx, resources: {limits: {cpu: 1, memory: 128Mi}}}]\n',
    );
    assert.match(e, /ValidationError\(Deployment\.spec\.template\.spec\.containers\[0\]\): missing required field "name" in io\.k8s\.api\.core\.v1\.Container/);
  });
});

describe('server-side field validation messages', () => {
  test('create: "<Kind> in version ... cannot be handled"; strategic merge patch (kubectl apply of an existing object): 422 on "patch"', async () => {
    const dep = (extra = '') => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: fv, namespace: default}\nspec:\n  selector: {matchLabels: {a: fv}}\n  template:\n    metadata: {labels: {a: fv}}\n    spec:\n      containers: [{name: c, image: nginx${extra}}]\n`;
    assert.match(await fails(['create', '-f', '-'], dep(', imagee: typo')), /Error from server \(BadRequest\): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/);
    await ok(['apply', '-f', '-'], dep());
    const e = await fails(['apply', '-f', '-'], dep(', imagee: typo'));
    assert.match(e, /The request is invalid: patch: Invalid value: "map\[metadata:map\[annotations:map\[kubectl.kubernetes.io\/last-applied-configuration:/);
    assert.match(e, /spec:map\[template:map\[spec:map\[\$setElementOrder\/containers:\[map\[name:c\]\] containers:\[map\[imagee:typo name:c\]\]\]\]\]\]": strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/);
    // A merge patch: the value is the patched object's JSON.
    const r = await fetch(`${h.url}/apis/apps/v1/namespaces/default/deployments/fv?fieldValidation=Strict`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json', authorization: 'Bearer test-token' },
      body: JSON.stringify({ spec: { bogus: 1 } }),
    });
    assert.equal(r.status, 422);
    const st = (await r.json()) as any;
    assert.equal(st.reason, 'Invalid');
    assert.equal(st.details.causes[0].field, 'patch');
    assert.match(st.message, /^ "" is invalid: patch: Invalid value: "\{.*\\"bogus\\":1.*\}": strict decoding error: unknown field "spec.bogus"$/);
  });
});

describe('custom resource definitions', () => {
  test('published in /openapi/v2 and the group-version v3 document, explained and validated by kubectl', async () => {
    const before = (await get('/openapi/v3')).paths;
    assert.equal(before['apis/example.com/v1'], undefined);
    await ok(['apply', '-f', '-'], CRD());
    await waitServed('pools');

    const root = await get('/openapi/v3');
    const url: string = root.paths['apis/example.com/v1'].serverRelativeURL;
    assert.match(url, /hash=[0-9A-F]{128}$/);
    const v3 = await get('/openapi/v3/apis/example.com/v1');
    const pool = v3.components.schemas['com.example.v1.Pool'];
    assert.deepEqual(pool['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Pool', version: 'v1' }]);
    assert.deepEqual(pool.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.deepEqual(pool.properties.spec.required, ['minNodes']);
    assert.equal(pool.properties.spec.properties.ports['x-kubernetes-list-type'], 'map');
    assert.equal(pool.properties.spec.properties.size['x-kubernetes-int-or-string'], true);
    assert.ok(v3.components.schemas['com.example.v1.PoolList']);
    // An embedded resource gets apiVersion, kind and ObjectMeta metadata.
    const tpl = pool.properties.spec.properties.template;
    assert.deepEqual(Object.keys(tpl.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.deepEqual(tpl.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.deepEqual(danglingRefs(v3, '#/components/schemas/', v3.components.schemas), []);

    const v2 = await get('/openapi/v2');
    const p2 = v2.definitions['com.example.v1.Pool'];
    assert.equal(p2.properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    assert.equal(p2.properties.spec.properties.extra.type, undefined, 'preserve-unknown-fields objects lose their type in v2');
    assert.equal(p2.properties.spec.properties.size.anyOf, undefined, 'no anyOf in v2');
    assert.equal(v2.definitions['com.example.v1.PoolList'].properties.items.items.$ref, '#/definitions/com.example.v1.Pool');
    assert.ok(v2.paths['/apis/example.com/v1/namespaces/{namespace}/pools/{name}']);

    const ex = await ok(['explain', 'pool']);
    assert.match(ex, /GROUP:\s+example.com\nKIND:\s+Pool\nVERSION:\s+v1/);
    assert.match(ex, /Pool is a group of nodes\./);
    assert.match(ex, /metadata\t<ObjectMeta>/);
    const exSpec = await ok(['explain', 'pool.spec']);
    assert.match(exSpec, /minNodes\t<integer> -required-\n\s+Smallest size of the pool\./);
    assert.match(exSpec, /labels\t<map\[string\]string>/);
    assert.match(await ok(['explain', 'pool.spec.ports', '--recursive']), /name\t<string> -required-/);
    assert.match(await ok(['explain', 'pool.metadata.labels']), /map\[string\]string/);

    // Client-side validation (a List: kubectl validates against /openapi/v2).
    const list = (spec: string) => `apiVersion: v1\nkind: List\nitems:\n- apiVersion: example.com/v1\n  kind: Pool\n  metadata: {name: lp, namespace: default}\n  spec: ${spec}\n`;
    assert.match(await fails(['apply', '-f', '-'], list('{minNodes: 1, bogus: 2}')), /ValidationError\(Pool\.spec\): unknown field "bogus" in com\.example\.v1\.Pool\.spec/);
    assert.match(await fails(['apply', '-f', '-'], list('{maxNodes: 1}')), /ValidationError\(Pool\.spec\): missing required field "minNodes" in com\.example\.v1\.Pool\.spec/);
    await ok(['apply', '-f', '-'], list('{minNodes: 1, extra: {anything: [1, "x"]}, size: 3, ports: [{name: a, port: 1}]}'));
    // Server-side field validation of a single object, and server-side apply.
    assert.match(await fails(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Pool\nmetadata: {name: p1, namespace: default}\nspec: {minNodes: 1, bogus: 2}\n'), /Error from server \(BadRequest\): error when creating "STDIN": Pool in version "v1" cannot be handled as a Pool: strict decoding error: unknown field "spec.bogus"/);
    await ok(['apply', '--server-side', '-f', '-'], 'apiVersion: example.com/v1\nkind: Pool\nmetadata: {name: p2, namespace: default}\nspec: {minNodes: 1, ports: [{name: a, port: 1}]}\n');
    assert.equal(await ok(['get', 'pool', 'p2', '-o', 'jsonpath={.spec.ports[0].port}']), '1');

    // A schema change gives the group-version document a new hash and kubectl sees the new field.
    await ok(['apply', '-f', '-'], CRD('\n              zone: {type: string, description: Availability zone of the pool.}'));
    for (let i = 0; ; i++) {
      const u = (await get('/openapi/v3')).paths['apis/example.com/v1'].serverRelativeURL;
      if (u !== url) break;
      if (i > 200) throw new Error('the v3 hash did not change');
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.match(await ok(['explain', 'pool.spec.zone']), /Availability zone of the pool\./);
  });
});
