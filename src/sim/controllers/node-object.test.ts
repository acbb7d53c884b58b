import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildNode, kubeletVersion, taintEffect } from './node-object.ts';

const instance = {
  InstanceId: 'i-0123456789abcdef0',
  InstanceType: 'm5.large',
  ImageId: 'ami-0abc',
  PrivateDnsName: 'ip-10-0-1-23.ec2.internal',
  PrivateIpAddress: '10.0.1.23',
  Placement: { AvailabilityZone: 'us-east-1b' },
  LaunchTime: new Date('2026-01-01T00:00:00.000Z'),
  Tags: [
    { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0abc' },
    { Key: 'aws:ec2launchtemplate:version', Value: '3' },
  ],
};
const nodegroup = {
  nodegroupName: 'workers',
  clusterName: 'c1',
  capacityType: 'SPOT',
  amiType: 'AL2023_x86_64_STANDARD',
  releaseVersion: '1.31.4-20261110',
  labels: { team: 'a' },
  taints: [{ key: 'dedicated', value: 'gpu', effect: 'NO_SCHEDULE' }],
};

describe('buildNode', () => {
  it('names, labels, taints and resources as an EKS node registers', () => {
    const n = buildNode({ instance, nodegroup, region: 'us-east-1', kubernetesVersion: '1.31', vcpus: 2, memoryMiB: 8192, maxPods: 29, now: '2026-01-01T00:01:00Z' });
    assert.equal(n.metadata!.name, 'ip-10-0-1-23.ec2.internal');
    assert.equal(n.spec.providerID, 'aws:///us-east-1b/i-0123456789abcdef0');
    const l = n.metadata!.labels!;
    assert.equal(l['eks.amazonaws.com/nodegroup'], 'workers');
    assert.equal(l['eks.amazonaws.com/capacityType'], 'SPOT');
    assert.equal(l['eks.amazonaws.com/nodegroup-image'], 'ami-0abc');
    assert.equal(l['eks.amazonaws.com/sourceLaunchTemplateId'], 'lt-0abc');
    assert.equal(l['eks.amazonaws.com/sourceLaunchTemplateVersion'], '3');
    assert.equal(l['topology.kubernetes.io/zone'], 'us-east-1b');
    assert.equal(l['kubernetes.io/hostname'], 'ip-10-0-1-23.ec2.internal');
    assert.equal(l.team, 'a');
    assert.deepEqual(n.spec.taints, [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }]);
    assert.equal(n.status.allocatable.pods, '29');
    assert.equal(n.status.allocatable.cpu, '1930m');
    assert.equal(n.status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
    assert.match(n.status.nodeInfo.kubeletVersion, /^v1\.31\.4-eks-[0-9a-f]{7}$/);
  });

  it('maps EKS taint effects and falls back to .0 for an unknown release', () => {
    assert.equal(taintEffect('NO_EXECUTE'), 'NoExecute');
    assert.equal(taintEffect('PREFER_NO_SCHEDULE'), 'PreferNoSchedule');
    assert.match(kubeletVersion('1.50.0-a1b2c3d4', '1.31'), /^v1\.31\.0-eks-/);
  });

  it('reports the kubelet of the AMI it booted (node group version, not the control plane) and, from 1.30, its zone id', () => {
    const ng = { ...nodegroup, version: '1.30', releaseVersion: '1.30.9-20261110', _amiVersions: { 'ami-0abc': { version: '1.29', releaseVersion: '1.29.15-20261110' } } };
    const withZone = { ...instance, Placement: { AvailabilityZone: 'us-east-1b', AvailabilityZoneId: 'use1-az2' } };
    const old = buildNode({ instance: withZone, nodegroup: ng, region: 'us-east-1', kubernetesVersion: '1.32', vcpus: 2, memoryMiB: 8192, maxPods: 29, now: '2026-01-01T00:01:00Z' });
    assert.match(old.status.nodeInfo.kubeletVersion, /^v1\.29\.15-eks-/);
    assert.equal(old.metadata!.labels!['topology.k8s.aws/zone-id'], undefined);
    const fresh = buildNode({ instance: { ...withZone, ImageId: 'ami-0new' }, nodegroup: ng, region: 'us-east-1', kubernetesVersion: '1.32', vcpus: 2, memoryMiB: 8192, maxPods: 29, now: '2026-01-01T00:01:00Z' });
    assert.match(fresh.status.nodeInfo.kubeletVersion, /^v1\.30\.9-eks-/);
    assert.equal(fresh.metadata!.labels!['topology.k8s.aws/zone-id'], 'use1-az2');
  });
});
