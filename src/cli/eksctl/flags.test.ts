import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EksctlError } from './errors.ts';
import { configFromFlags, parseKv } from './flags.ts';
import { amiTypeFor, bootstrapUserData } from './nodegroups.ts';
import { roleName, zoneSuffix } from './names.ts';
import { usesExistingSubnets } from './network.ts';
import { nextInterval } from './wait.ts';

test('flags become a ClusterConfig with eksctl defaults', () => {
  const c = configFromFlags({ name: 'demo', nodes: '3' }, 'us-east-1');
  assert.equal(c.metadata.region, 'us-east-1');
  assert.deepEqual(c.availabilityZones, ['us-east-1a', 'us-east-1b']);
  assert.equal(c.vpc.cidr, '192.168.0.0/16');
  assert.equal(c.vpc.nat.gateway, 'Single');
  assert.equal(c.managedNodeGroups.length, 1);
  const ng = c.managedNodeGroups[0]!;
  assert.match(ng.name, /^ng-[0-9a-f]{8}$/);
  assert.equal(ng.instanceType, 'm5.large');
  assert.deepEqual([ng.minSize, ng.desiredCapacity, ng.maxSize, ng.volumeSize], [3, 3, 3, 80]);
  assert.deepEqual(c.nodeGroups, []);
});

test('--fargate, --without-nodegroup, --managed=false, labels, zones', () => {
  const f = configFromFlags({ name: 'f', fargate: true }, 'eu-west-1');
  assert.deepEqual(f.managedNodeGroups, []);
  assert.deepEqual(f.fargateProfiles, [{ name: 'fp-default', selectors: [{ namespace: 'default' }, { namespace: 'kube-system' }] }]);
  assert.deepEqual(configFromFlags({ name: 'w', withoutNodegroup: true }, 'eu-west-1').managedNodeGroups, []);
  const s = configFromFlags({ name: 's', managed: 'false', nodeLabels: 'a=1,b=2', zones: 'eu-west-1a,eu-west-1c' }, 'eu-west-1');
  assert.equal(s.managedNodeGroups.length, 0);
  assert.deepEqual(s.nodeGroups[0].labels, { a: '1', b: '2' });
  assert.deepEqual(s.availabilityZones, ['eu-west-1a', 'eu-west-1c']);
});

test('bad flags are usage errors naming the flag', () => {
  const err = (f: Parameters<typeof configFromFlags>[0]) => {
    try {
      configFromFlags(f, 'us-east-1');
    } catch (e) {
      assert.ok(e instanceof EksctlError);
      assert.equal(e.exitCode, 2);
      return e.message;
    }
    assert.fail('no error');
  };
  assert.match(err({ name: 'x', nodes: 'three' }), /--nodes: "three" is not a whole number/);
  assert.match(err({ name: 'x', nodes: '5', nodesMax: '2' }), /--nodes-max: desiredCapacity \(5\) cannot be greater than maxSize \(2\)/);
  assert.match(err({ name: '1bad' }), /--name: "1bad" is invalid/);
  assert.match(err({ name: 'x', zones: 'us-east-1a' }), /--zones: at least two availability zones/);
  assert.match(err({ name: 'x', vpcNatMode: 'Double' }), /--vpc-nat-mode: "Double" is not one of/);
  assert.throws(() => parseKv('a=1,b', '--tags'), /--tags: "b" is not key=value/);
});

test('names, AMI types, bootstrap user data, wait intervals', () => {
  const r = roleName('eksctl-a-very-long-cluster-name-that-goes-on-and-on-nodegroup-workers', 'NodeInstanceRole');
  assert.ok(r.length <= 64, r);
  assert.match(r, /-NodeInstanceRole-[0-9A-F]{12}$/);
  assert.equal(zoneSuffix('us-west-2a'), 'USWEST2A');
  assert.equal(amiTypeFor(undefined, 'm5.large'), undefined);
  assert.equal(amiTypeFor(undefined, 'm6g.large'), 'AL2023_ARM_64_STANDARD');
  assert.equal(amiTypeFor('AmazonLinux2', 't4g.small'), 'AL2_ARM_64');
  assert.equal(amiTypeFor('Bottlerocket', 'm5.large'), 'BOTTLEROCKET_x86_64');
  const al2023 = Buffer.from(bootstrapUserData({ cluster: 'c', endpoint: 'https://x', caData: 'Q0E=', serviceCidr: '10.100.0.0/16', labels: { a: '1' }, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), 'base64').toString();
  assert.match(al2023, /kind: NodeConfig/);
  assert.match(al2023, /--node-labels=a=1/);
  assert.match(al2023, /--register-with-taints=k=v:NoSchedule/);
  const al2 = Buffer.from(bootstrapUserData({ family: 'AmazonLinux2', cluster: 'c', endpoint: 'https://x', caData: 'Q0E=', serviceCidr: '10.100.0.0/16', labels: {}, taints: [] }), 'base64').toString();
  assert.match(al2, /^#!\/bin\/bash\n.*\/etc\/eks\/bootstrap\.sh c --apiserver-endpoint 'https:\/\/x' --b64-cluster-ca 'Q0E='/s);
  assert.equal(nextInterval(0), 25);
  assert.ok(nextInterval(5_000) > nextInterval(500));
  assert.equal(nextInterval(10 * 60_000), 2000);
});

test('--vpc-public-subnets / --vpc-private-subnets: existing subnets by id (their VPC is looked up), no CIDR with them', () => {
  const c = configFromFlags({ name: 'e', vpcPublicSubnets: 'subnet-0a1,subnet-0b2', vpcPrivateSubnets: 'subnet-0c3' }, 'us-east-1');
  assert.deepEqual(c.vpc.subnets, { public: { 'subnet-0a1': { id: 'subnet-0a1' }, 'subnet-0b2': { id: 'subnet-0b2' } }, private: { 'subnet-0c3': { id: 'subnet-0c3' } } });
  assert.equal(usesExistingSubnets(c), true);
  assert.equal(usesExistingSubnets(configFromFlags({ name: 'n' }, 'us-east-1')), false);
  assert.throws(() => configFromFlags({ name: 'e', vpcCidr: '10.0.0.0/16', vpcPrivateSubnets: 'subnet-0c3' }, 'us-east-1'), (e: unknown) => e instanceof EksctlError && /--vpc-cidr cannot be used/.test(e.message));
  assert.throws(() => configFromFlags({ name: 'e', vpcPrivateSubnets: 'sn-1' }, 'us-east-1'), /--vpc-private-subnets: "sn-1" is not a subnet id/);
});
