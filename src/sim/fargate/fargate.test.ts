import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KObject } from '../../kube/api/types.ts';
import { fargateSize, matchProfile, unsupportedReason } from './fargate.ts';

const profiles = [
  { fargateProfileName: 'batch', selectors: [{ namespace: 'batch', labels: { compute: 'fargate' } }] },
  { fargateProfileName: 'apps', selectors: [{ namespace: 'team-*' }] },
  { fargateProfileName: 'all-team-a', selectors: [{ namespace: 'team-a' }] },
  { fargateProfileName: 'creating', selectors: [{ namespace: 'default' }], status: 'CREATING' },
];

const pod = (ns: string, labels: Record<string, string> = {}, spec: Record<string, any> = {}, extra: Record<string, any> = {}): KObject => ({
  metadata: { name: 'p', namespace: ns, labels, ...extra },
  spec: { containers: [{ name: 'c' }], ...spec },
});

test('profile selection: namespace and labels, wildcards, explicit choice, inactive profiles', () => {
  assert.equal(matchProfile(profiles, pod('batch', { compute: 'fargate' }))?.fargateProfileName, 'batch');
  assert.equal(matchProfile(profiles, pod('batch')), undefined, 'labels must all match');
  assert.equal(matchProfile(profiles, pod('team-b'))?.fargateProfileName, 'apps');
  assert.equal(matchProfile(profiles, pod('team-a'))?.fargateProfileName, 'all-team-a', 'first match by name');
  assert.equal(matchProfile(profiles, pod('team-a', { 'eks.amazonaws.com/fargate-profile': 'apps' }))?.fargateProfileName, 'apps');
  assert.equal(matchProfile(profiles, pod('team-a', { 'eks.amazonaws.com/fargate-profile': 'batch' })), undefined, 'named profile must match too');
  assert.equal(matchProfile(profiles, pod('default')), undefined, 'CREATING profiles do not schedule');
  assert.equal(matchProfile(profiles, pod('team-a', {}, {}, { ownerReferences: [{ kind: 'DaemonSet', name: 'ds', controller: true }] })), undefined);
});

test('unsupported pods get the fargate-scheduler message', () => {
  assert.equal(unsupportedReason(pod('x')), undefined);
  assert.equal(
    unsupportedReason(pod('x', {}, { hostNetwork: true, containers: [{ name: 'c', securityContext: { privileged: true }, ports: [{ containerPort: 80, hostPort: 80 }] }] })),
    'Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged, port contains HostIP or HostPort',
  );
  assert.equal(
    unsupportedReason(pod('x', {}, { volumes: [{ name: 'data', hostPath: { path: '/data' } }] })),
    'Pod not supported on Fargate: volumes not supported: data is of an unsupported volume Type',
  );
  assert.match(unsupportedReason(pod('x', {}, { containers: [{ name: 'c', securityContext: { capabilities: { add: ['CHOWN'] } } }] }))!, /Capabilities added: CAP_CHOWN/);
});

test('sizing rounds up to the next vCPU/memory combination with 256 MiB overhead', () => {
  const sized = (cpu?: string, memory?: string) => fargateSize(pod('x', {}, { containers: [{ name: 'c', resources: { requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) } } }] }))?.capacityProvisioned;
  assert.equal(sized(), '0.25vCPU 0.5GB');
  assert.equal(sized('250m', '256Mi'), '0.25vCPU 0.5GB');
  assert.equal(sized('250m', '300Mi'), '0.25vCPU 1GB');
  assert.equal(sized('500m', '1Gi'), '0.5vCPU 2GB');
  assert.equal(sized('1', '7Gi'), '1vCPU 8GB');
  assert.equal(sized('1', '8Gi'), '2vCPU 9GB');
  assert.equal(sized('3', '1Gi'), '4vCPU 8GB');
  assert.equal(sized('16', '200Gi'), undefined);
});
