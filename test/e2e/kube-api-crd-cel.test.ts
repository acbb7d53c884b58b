/**
 * CRD validation rules (x-kubernetes-validations, CEL) with kubectl: a
 * custom resource breaking a rule is rejected with upstream's Invalid
 * message, transition rules (oldSelf) guard updates, and a rule that does not
 * compile rejects the CRD itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;
before(async () => {
  h = await startKubeHarness('crdcel');
});
after(async () => {
  await h.close();
});

async function ok(args: string[], input?: string): Promise<string> {
  const r = await h.kubectl(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

async function fails(args: string[], input?: string): Promise<string> {
  const r = await h.kubectl(args, input);
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail`);
  return r.stderr;
}

const crd = (rule: string) => `apiVersion: apiextensions.k8s.io/v1
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
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: "${rule}"
              message: minNodes must not exceed maxNodes
            properties:
              minNodes: {type: integer}
              maxNodes: {type: integer}
              capacityType:
                type: string
                x-kubernetes-validations:
                - {rule: "self == oldSelf", message: capacityType is immutable}
`;

const pool = (min: number, max: number, capacityType = 'spot') => `apiVersion: example.com/v1
kind: Pool
metadata: {name: p1, namespace: default}
spec: {minNodes: ${min}, maxNodes: ${max}, capacityType: ${capacityType}}
`;

describe('CRD validation rules', () => {
  test('rules reject invalid custom resources, transition rules guard updates', async () => {
    await ok(['apply', '-f', '-'], crd('self.minNodes <= self.maxNodes'));
    for (let i = 0; ; i++) {
      if ((await h.kubectl(['get', 'pools'])).code === 0) break;
      if (i > 200) throw new Error('pools not served');
      await new Promise((r) => setTimeout(r, 25));
    }
    const e = await fails(['apply', '-f', '-'], pool(5, 3));
    assert.match(e, /The Pool "p1" is invalid: spec: Invalid value: "object": minNodes must not exceed maxNodes/);
    await ok(['apply', '-f', '-'], pool(1, 3));
    await ok(['apply', '-f', '-'], pool(2, 4));
    const imm = await fails(['apply', '-f', '-'], pool(2, 4, 'on-demand'));
    assert.match(imm, /spec.capacityType: Invalid value: "string": capacityType is immutable/);
    assert.equal(await ok(['get', 'pool', 'p1', '-o', 'jsonpath={.spec.capacityType}/{.spec.minNodes}']), 'spot/2');
  });

  test('a rule that does not compile rejects the CRD', async () => {
    const e = await fails(['apply', '-f', '-'], crd('self.minNodes <= '));
    assert.match(e, /spec.versions\[0\].schema.openAPIV3Schema.properties\[spec\].x-kubernetes-validations\[0\].rule: Invalid value: "self.minNodes <= ": compilation failed/);
  });
});
