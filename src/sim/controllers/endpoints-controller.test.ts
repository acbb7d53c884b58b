import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../../kube/api/types.ts';
import { desiredSlices, desiredSubsets, mirroredSlices, resolvePort } from './endpoints-controller.ts';

const svc = (spec: Record<string, any> = {}): KObject => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
});

let n = 0;
const pod = (o: { ready?: boolean; deleting?: boolean; port?: number; phase?: string; ip?: string; node?: string } = {}): KObject => {
  n++;
  return {
    metadata: { name: `web-${String(n).padStart(3, '0')}`, namespace: 'default', uid: `u${n}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: o.node ?? 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
    status: { phase: o.phase ?? 'Running', podIP: o.ip ?? `10.0.0.${n % 250}`, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
};

test('named target ports resolve per pod', () => {
  assert.equal(resolvePort(pod({ port: 9000 }), { targetPort: 'http', protocol: 'TCP' }), 9000);
  assert.equal(resolvePort(pod(), { port: 80 }), 80);
  assert.equal(resolvePort(pod(), { targetPort: 'nope' }), undefined);
});

test('slices: ready/serving/terminating conditions, targetRef, nodeName, zone; terminal pods and pods without IP left out', () => {
  const pods = [pod(), pod({ ready: false }), pod({ deleting: true }), pod({ phase: 'Succeeded' }), { ...pod(), status: { phase: 'Pending' } }];
  const [s] = desiredSlices(svc(), pods, () => 'us-east-1a');
  assert.equal(s!.endpoints.length, 3);
  assert.deepEqual(s!.endpoints.map((e) => e.conditions), [
    { ready: true, serving: true, terminating: false },
    { ready: false, serving: false, terminating: false },
    { ready: false, serving: true, terminating: true },
  ]);
  assert.deepEqual(s!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.equal(s!.endpoints[0]!.zone, 'us-east-1a');
  assert.equal(s!.endpoints[0]!.nodeName, 'node-a');
  assert.equal(s!.endpoints[0]!.targetRef.kind, 'Pod');
});

test('slices hold at most 100 endpoints; pods with other resolved ports get their own slice', () => {
  const pods = Array.from({ length: 230 }, () => pod());
  pods.push(pod({ port: 9090 }));
  const slices = desiredSlices(svc(), pods, () => undefined);
  assert.deepEqual(slices.map((s) => s.endpoints.length), [100, 100, 30, 1]);
  assert.equal(slices[3]!.ports[0]!.port, 9090);
});

test('Endpoints: ready in addresses, not ready in notReadyAddresses, terminating left out', () => {
  const { subsets } = desiredSubsets(svc(), [pod(), pod({ ready: false }), pod({ deleting: true })]);
  assert.equal(subsets.length, 1);
  assert.equal(subsets[0]!.addresses.length, 1);
  assert.equal(subsets[0]!.notReadyAddresses.length, 1);
  assert.deepEqual(subsets[0]!.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const pub = desiredSubsets(svc({ publishNotReadyAddresses: true }), [pod({ ready: false })]).subsets;
  assert.equal(pub[0]!.addresses.length, 1);
});

test('mirroring: custom Endpoints of a selector-less Service become slices, one group per subset', () => {
  const ep: KObject = {
    metadata: { name: 'db', namespace: 'default' },
    subsets: [
      { addresses: [{ ip: '192.0.2.10' }, { ip: '192.0.2.11', nodeName: 'n1' }], notReadyAddresses: [{ ip: '192.0.2.12' }], ports: [{ name: 'pg', port: 5432 }] },
      { addresses: [{ ip: '2001:db8::1' }, { ip: '192.0.2.20' }], ports: [{ port: 6432, protocol: 'TCP' }] },
    ],
  };
  const slices = mirroredSlices(ep);
  assert.equal(slices.length, 2);
  assert.deepEqual(slices[0]!.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
  assert.deepEqual(slices[0]!.endpoints.map((e) => [e.addresses[0], e.conditions.ready]), [['192.0.2.10', true], ['192.0.2.11', true], ['192.0.2.12', false]]);
  assert.equal(slices[0]!.endpoints[1]!.nodeName, 'n1');
  assert.deepEqual(slices[1]!.endpoints.map((e) => e.addresses[0]), ['192.0.2.20']);
});
