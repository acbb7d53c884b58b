/**
 * CRD validation rules (x-kubernetes-validations, CEL) with kubectl: a
 * custom resource breaking a rule is rejected with upstream's Invalid
 * message, transition rules (oldSelf) guard updates, and a rule that does not
 * compile rejects the CRD itself. Rules use Kubernetes' CEL libraries
 * (quantity, url, ip/cidr, regex find, lists, optional fields, strings) and
 * optionalOldSelf transition rules.
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

const ok = (args: string[], input?: string): Promise<string> => h.ok(args, input);

const fails = (args: string[], input?: string): Promise<string> => h.fails(args, input);

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

const libCrd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: netpools.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: netpools, singular: netpool, kind: NetPool}
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
            - {rule: "self.?replicas.orValue(1) <= 10", message: at most 10 replicas}
            properties:
              replicas: {type: integer}
              memory:
                type: string
                x-kubernetes-validations:
                - {rule: "quantity(self).isLessThan(quantity('64Gi'))", message: memory must be below 64Gi}
              cidr:
                type: string
                x-kubernetes-validations:
                - {rule: "isCIDR(self) && cidr(self).prefixLength() <= 24", messageExpression: "'cidr ' + self + ' is not a /24 or larger network'"}
              gateway:
                type: string
                x-kubernetes-validations:
                - {rule: "isIP(self) && ip(self).family() == 4 && cidr('10.0.0.0/8').containsIP(self)", message: gateway must be an IPv4 address in 10.0.0.0/8}
              endpoint:
                type: string
                x-kubernetes-validations:
                - {rule: "isURL(self) && url(self).getScheme() == 'https' && url(self).getHostname().endsWith('.example.com')", message: endpoint must be https on example.com}
              ports:
                type: array
                items: {type: integer}
                x-kubernetes-validations:
                - {rule: "self.isSorted() && self.sum() < 100000 && self.indexOf(22) == -1", message: ports must be sorted without 22}
              name:
                type: string
                x-kubernetes-validations:
                - {rule: "self.find('[0-9]+') != '' && self.lowerAscii() == self", message: name must be lowercase with a number}
              size:
                type: integer
                x-kubernetes-validations:
                - {rule: "!oldSelf.hasValue() || self >= oldSelf.value()", optionalOldSelf: true, message: size must not shrink}
`;

const netpool = (spec: string) => `apiVersion: example.com/v1
kind: NetPool
metadata: {name: n1, namespace: default}
spec: ${spec}
`;

describe('CRD validation rules with Kubernetes CEL libraries', () => {
  test('quantity, cidr/ip, url, lists, regex, optional fields and optionalOldSelf', async () => {
    await ok(['apply', '-f', '-'], libCrd);
    for (let i = 0; ; i++) {
      if ((await h.kubectl(['get', 'netpools'])).code === 0) break;
      if (i > 200) throw new Error('netpools not served');
      await new Promise((r) => setTimeout(r, 25));
    }
    const good = '{memory: 16Gi, cidr: 10.1.0.0/16, gateway: 10.1.0.1, endpoint: "https://api.example.com:8443/x", ports: [80, 443], name: pool1, size: 3}';
    await ok(['apply', '-f', '-'], netpool(good));
    const e = await fails(
      ['apply', '-f', '-'],
      netpool('{replicas: 11, memory: 128Gi, cidr: 10.1.0.0/28, gateway: 192.168.0.1, endpoint: "http://api.example.com", ports: [443, 22], name: Pool, size: 3}'),
    );
    assert.match(e, /The NetPool "n1" is invalid:/);
    assert.match(e, /spec: Invalid value: "object": at most 10 replicas/);
    assert.match(e, /spec.memory: Invalid value: "string": memory must be below 64Gi/);
    assert.match(e, /spec.cidr: Invalid value: "string": cidr 10.1.0.0\/28 is not a \/24 or larger network/);
    assert.match(e, /spec.gateway: Invalid value: "string": gateway must be an IPv4 address in 10.0.0.0\/8/);
    assert.match(e, /spec.endpoint: Invalid value: "string": endpoint must be https on example.com/);
    assert.match(e, /spec.ports: Invalid value: "array": ports must be sorted without 22/);
    assert.match(e, /spec.name: Invalid value: "string": name must be lowercase with a number/);
    // A runtime error of a library function: upstream's "<error> evaluating rule: <message>".
    const bad = await fails(['apply', '-f', '-'], netpool('{memory: 8GB, size: 3}'));
    assert.match(bad, /spec.memory: Invalid value: "string": quantities must match the regular expression '\^\(\[\+-\]\?\[0-9\.\]\+\)\(\[eEinumkKMGTP\]\*\[-\+\]\?\[0-9\]\*\)\$' evaluating rule: memory must be below 64Gi/);
    // optionalOldSelf: checked on update against the stored value.
    const shrink = await fails(['apply', '-f', '-'], netpool(good.replace('size: 3', 'size: 2')));
    assert.match(shrink, /spec.size: Invalid value: "integer": size must not shrink/);
    await ok(['apply', '-f', '-'], netpool(good.replace('size: 3', 'size: 5')));
    assert.equal(await ok(['get', 'netpool', 'n1', '-o', 'jsonpath={.spec.size}']), '5');
  });

  test('a rule calling an unknown function or overload rejects the CRD', async () => {
    const e = await fails(['apply', '-f', '-'], crd("quantity(self.minNodes).isGreaterThan(1)"));
    assert.match(e, /x-kubernetes-validations\[0\].rule: Invalid value: "quantity\(self.minNodes\).isGreaterThan\(1\)": compilation failed: ERROR: <input>:1:\d+: found no matching overload/);
  });
});
