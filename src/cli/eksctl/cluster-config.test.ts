import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ClusterConfigError, configWarnings, parseClusterConfig, planSubnets } from './cluster-config.ts';

const sharedExample = new URL('../../../../shared/examples/eksctl-cluster.yaml', import.meta.url);

test('the shared example ClusterConfig parses unchanged, with eksctl defaults', () => {
  const cfg = parseClusterConfig(readFileSync(sharedExample, 'utf8'));
  assert.equal(cfg.metadata.name, 'platform-dev');
  assert.equal(cfg.metadata.version, '1.31');
  assert.deepEqual(cfg.availabilityZones, ['eu-west-2a', 'eu-west-2b', 'eu-west-2c']);
  assert.equal(cfg.vpc.nat.gateway, 'HighlyAvailable');
  const [main, mon] = cfg.managedNodeGroups;
  assert.deepEqual([main!.instanceType, main!.desiredCapacity, main!.minSize, main!.maxSize, main!.volumeSize, main!.volumeType], ['r5.xlarge', 3, 2, 6, 80, 'gp3']);
  assert.deepEqual(mon!.instanceTypes, ['r5.2xlarge', 'r5a.2xlarge']);
  assert.equal(mon!.instanceType, undefined);
  assert.equal(cfg.fargateProfiles[0]!.selectors[0]!.labels!.compute, 'fargate');
  assert.equal(cfg.addons.length, 3);
});

function errorsOf(yaml: string): string[] {
  try {
    parseClusterConfig(yaml, { defaultRegion: 'eu-west-1' });
  } catch (e) {
    assert.ok(e instanceof ClusterConfigError);
    return e.errors.map((x) => `${x.line}:${x.path}: ${x.message}`);
  }
  return [];
}

const head = 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: demo\n';

test('unknown and unsupported fields are errors naming the field and line', () => {
  assert.deepEqual(errorsOf(head + 'managedNodeGroups:\n  - name: ng\n    instancetype: m5.large\n'), ['7:managedNodeGroups[0].instancetype: unknown field (did you mean "instanceType"?)']);
  assert.deepEqual(errorsOf(head + 'karpenter:\n  version: v1\n'), ['6:karpenter: is not supported by localeks (Karpenter installation); remove it to go on']);
  assert.deepEqual(errorsOf(head + 'bogus: 1\n'), ['5:bogus: unknown field']);
});

test('types, enums and cross-field rules are checked before anything is created', () => {
  assert.deepEqual(errorsOf(head + 'vpc:\n  nat:\n    gateway: Double\n'), ['7:vpc.nat.gateway: "Double" is not one of "HighlyAvailable", "Single", "Disable"']);
  assert.deepEqual(errorsOf(head + 'managedNodeGroups:\n  - name: ng\n    desiredCapacity: 5\n    maxSize: 3\n'), ['8:managedNodeGroups[0].maxSize: desiredCapacity (5) cannot be greater than maxSize (3)']);
  assert.deepEqual(errorsOf(head + 'managedNodeGroups:\n  - name: ng\n    labels: [a]\n'), ['7:managedNodeGroups[0].labels: must be a mapping of strings, got a list']);
  assert.deepEqual(errorsOf('apiVersion: eksctl.io/v1alpha4\nkind: ClusterConfig\nmetadata:\n  name: x\n'), ['1:apiVersion: must be "eksctl.io/v1alpha5", got "eksctl.io/v1alpha4"']);
  assert.deepEqual(errorsOf(head + 'availabilityZones: [us-east-1a, eu-west-1b]\n'), ['5:availabilityZones[0]: zone "us-east-1a" is not in region eu-west-1']);
  assert.match(errorsOf('kind: ClusterConfig\nmetadata: {}\n').join('\n'), /1:apiVersion: is required[\s\S]*2:metadata\.name: is required/);
  assert.match(errorsOf('a: [\n').join(), /\(yaml\)/);
});

test('eksctl subnet layout: /19 public then private blocks per zone', () => {
  assert.deepEqual(planSubnets('192.168.0.0/16', ['a', 'b', 'c']).map((s) => `${s.kind}:${s.az}:${s.cidr}`), [
    'public:a:192.168.0.0/19',
    'public:b:192.168.32.0/19',
    'public:c:192.168.64.0/19',
    'private:a:192.168.96.0/19',
    'private:b:192.168.128.0/19',
    'private:c:192.168.160.0/19',
  ]);
  assert.throws(() => planSubnets('10.0.0.0/8', ['a', 'b']));
});

test('fields without effect are warnings with file and line; features written out disabled are accepted, enabled ones are errors', () => {
  const head = 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: w\n  region: eu-west-1\n';
  const cfg = parseClusterConfig(head + 'privateCluster:\n  enabled: false\n  skipEndpointCreation: false\nmanagedNodeGroups:\n  - name: ng\n    instanceSelector: {}\n    volumeIOPS: 3000\n    disableIMDSv1: false\n', { file: 'w.yaml' });
  assert.deepEqual(configWarnings(cfg), ['w.yaml:12: managedNodeGroups[0].volumeIOPS: has no effect in localeks (simulated nodes have no real volumes)']);
  assert.throws(() => parseClusterConfig(head + 'privateCluster:\n  enabled: true\n', { file: 'p.yaml' }), /p\.yaml:7: privateCluster: is not supported by localeks/);
  assert.throws(() => parseClusterConfig(head + 'managedNodeGroups:\n  - name: ng\n    instanceTyep: m5.large\n'), /instanceTyep: unknown field \(did you mean "instanceType"\?\)/);
});
