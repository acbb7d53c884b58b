/**
 * EBS volumes through the EC2 handlers: create (validation, gp2/gp3
 * defaults, tags), states on the clock, attach/detach with EC2's errors,
 * modifications (size never smaller, one per 6 hours), delete refused while attached, DescribeVolumes filters, root volumes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SimClock } from '../../sim/clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import { AwsState } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { createEc2Provider } from './provider.ts';
import * as shared from './shared.ts';

async function setup() {
  const state = new AwsState(new MemoryBackend());
  await state.start();
  const clock = new SimClock();
  const deps = {
    state,
    clock,
    config: { defaultAccountId: '000000000000', enforceIam: false, referenceChecks: true, timingProfile: 'fast', awsEndpoint: '', kubeEndpoint: '', caCertPem: '' },
    log: pino({ level: 'silent' }),
  } as AwsDeps;
  const p = createEc2Provider(deps);
  const ctx: RequestContext = {
    accountId: '111122223333', region: 'us-east-1', requestId: 'r', service: 'ec2', operation: '', accessKeyId: 'test',
    callerArn: 'arn:aws:iam::111122223333:root', callerUserId: '111122223333', now: () => clock.now(),
  };
  const call = async (op: string, input: any = {}) => p.operations[op]!(input, ctx);
  const fails = async (op: string, input: any, code: string, msg?: RegExp) =>
    assert.rejects(call(op, input), (e: any) => {
      assert.equal(e.code, code, `${op}: ${e.message}`);
      if (msg) assert.match(e.message, msg);
      return true;
    });
  return { deps, clock, call, fails, scope: { accountId: '111122223333', region: 'us-east-1' } };
}

describe('EBS volumes', () => {
  it('create, attach, detach and delete with EC2 states and errors', async () => {
    const { call, fails, clock, deps, scope } = await setup();
    await fails('CreateVolume', { Size: 10 }, 'MissingParameter');
    await fails('CreateVolume', { AvailabilityZone: 'us-east-1z', Size: 10 }, 'InvalidParameterValue', /Invalid availability zone/);
    await fails('CreateVolume', { AvailabilityZone: 'us-east-1a' }, 'MissingParameter');
    await fails('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 20000, VolumeType: 'gp3' }, 'InvalidParameterValue', /too large/);
    await fails('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'io1' }, 'MissingParameter');
    await fails('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp2', Throughput: 200 }, 'InvalidParameterCombination');

    const v = await call('CreateVolume', { AvailabilityZone: 'us-east-1a', Size: 10, TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'team', Value: 'a' }] }] });
    assert.equal(v.State, 'creating');
    assert.equal(v.VolumeType, 'gp2');
    assert.equal(v.Iops, 100);
    const gp3 = await call('CreateVolume', { AvailabilityZone: 'us-east-1b', Size: 10, VolumeType: 'gp3' });
    assert.deepEqual([gp3.Iops, gp3.Throughput], [3000, 125]);

    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const s = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24', AvailabilityZone: 'us-east-1a' })).Subnet;
    const i = (await call('RunInstances', { MinCount: 1, MaxCount: 1, ImageId: 'ami-0123456789abcdef0', SubnetId: s.SubnetId })).Instances[0];
    await fails('AttachVolume', { VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/xvdf' }, 'IncorrectState');
    clock.advance(1000);
    await fails('AttachVolume', { VolumeId: 'vol-0123456789abcdef0', InstanceId: i.InstanceId, Device: '/dev/xvdf' }, 'InvalidVolume.NotFound', /The volume 'vol-0123456789abcdef0' does not exist\./);
    await fails('AttachVolume', { VolumeId: gp3.VolumeId, InstanceId: i.InstanceId, Device: '/dev/xvdf' }, 'InvalidVolume.ZoneMismatch');
    await fails('AttachVolume', { VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/xvda' }, 'InvalidParameterValue', /already in use/);
    const att = await call('AttachVolume', { VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/xvdf' });
    assert.equal(att.State, 'attaching');
    clock.advance(1000);
    const d = (await call('DescribeVolumes', { Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId] }, { Name: 'tag:team', Values: ['a'] }] })).Volumes;
    assert.deepEqual(d.map((x: any) => [x.VolumeId, x.State, x.Attachments[0].State, x.Attachments[0].Device]), [[v.VolumeId, 'in-use', 'attached', '/dev/xvdf']]);
    const all = (await call('DescribeVolumes', { Filters: [{ Name: 'attachment.instance-id', Values: [i.InstanceId] }] })).Volumes;
    assert.equal(all.length, 2, 'the root volume and the data volume');
    await fails('AttachVolume', { VolumeId: v.VolumeId, InstanceId: i.InstanceId, Device: '/dev/xvdg' }, 'VolumeInUse');
    await fails('DeleteVolume', { VolumeId: v.VolumeId }, 'VolumeInUse', new RegExp(`Volume ${v.VolumeId} is currently attached to ${i.InstanceId}`));
    const root = all.find((x: any) => x.VolumeId !== v.VolumeId);
    await fails('DeleteVolume', { VolumeId: root.VolumeId }, 'VolumeInUse');

    assert.equal((await call('DetachVolume', { VolumeId: v.VolumeId })).State, 'detaching');
    clock.advance(1000);
    await fails('DetachVolume', { VolumeId: v.VolumeId }, 'IncorrectState', /'available' state/);
    assert.equal((await call('DescribeVolumes', { VolumeIds: [v.VolumeId] })).Volumes[0].State, 'available');
    await call('CreateTags', { Resources: [v.VolumeId], Tags: [{ Key: 'x', Value: 'y' }] });
    assert.equal((await call('DescribeVolumes', { Filters: [{ Name: 'tag:x', Values: ['y'] }] })).Volumes.length, 1);
    await fails('ModifyVolume', { VolumeId: v.VolumeId, Size: 5 }, 'InvalidParameterValue', /New size cannot be smaller than existing size/);
    const mod = (await call('ModifyVolume', { VolumeId: v.VolumeId, Size: 20, VolumeType: 'gp3' })).VolumeModification;
    assert.deepEqual([mod.ModificationState, mod.OriginalSize, mod.TargetSize, mod.OriginalVolumeType, mod.TargetVolumeType, mod.TargetIops], ['modifying', 10, 20, 'gp2', 'gp3', 3000]);
    assert.deepEqual(((await call('DescribeVolumes', { VolumeIds: [v.VolumeId] })).Volumes[0] as any).Size, 20);
    await fails('ModifyVolume', { VolumeId: v.VolumeId, Size: 30 }, 'VolumeModificationRateExceeded');
    clock.advance(1000);
    const mods = (await call('DescribeVolumesModifications', { Filters: [{ Name: 'modification-state', Values: ['completed'] }] })).VolumesModifications;
    assert.deepEqual(mods.map((m: any) => [m.VolumeId, m.Progress]), [[v.VolumeId, 100]]);
    clock.advance(6 * 3_600_000);
    assert.equal((await call('ModifyVolume', { VolumeId: v.VolumeId, Size: 30 })).VolumeModification.OriginalSize, 20);
    await call('DeleteVolume', { VolumeId: v.VolumeId });
    await fails('DescribeVolumes', { VolumeIds: [v.VolumeId] }, 'InvalidVolume.NotFound');

    // Shared: the CSI driver's device names; a terminated instance's volumes come back available.
    const w = await shared.createVolume(deps, scope, { AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'gp3' }, [{ Key: 'ebs.csi.aws.com/cluster', Value: 'true' }]);
    clock.advance(1000);
    assert.equal((await shared.attachVolume(deps, scope, w.VolumeId, i.InstanceId)).Device, '/dev/xvdaa');
    await call('TerminateInstances', { InstanceIds: [i.InstanceId] });
    clock.advance(5000);
    const after = shared.describeVolume(deps, scope, w.VolumeId)!;
    assert.deepEqual([after.State, after.Attachments], ['available', []]);
  });
});
