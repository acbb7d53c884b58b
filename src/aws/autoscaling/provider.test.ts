import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { AwsDeps } from '../core/deps.ts';
import { AwsState, type Scope } from '../core/state.ts';
import { type AwsServiceError, awsError, type RequestContext } from '../core/types.ts';
import { SimClock } from '../../sim/clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import type { Ec2Port, LaunchSpec } from './ec2-port.ts';
import { createAutoScalingProvider } from './provider.ts';
import * as shared from './shared.ts';

const scope: Scope = { accountId: '000000000000', region: 'us-east-1' };

/** A fake EC2: subnets, one launch template with two versions, instances whose state tests set. */
class FakeEc2 implements Ec2Port {
  subnets = new Map([
    ['subnet-a1', { SubnetId: 'subnet-a1', VpcId: 'vpc-1', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az1' }],
    ['subnet-b1', { SubnetId: 'subnet-b1', VpcId: 'vpc-1', AvailabilityZone: 'us-east-1b', AvailabilityZoneId: 'use1-az2' }],
    ['subnet-c1', { SubnetId: 'subnet-c1', VpcId: 'vpc-1', AvailabilityZone: 'us-east-1c', AvailabilityZoneId: 'use1-az3' }],
    ['subnet-x', { SubnetId: 'subnet-x', VpcId: 'vpc-2', AvailabilityZone: 'us-east-1a' }],
  ]);
  instances = new Map<string, { state: string; spec: LaunchSpec; az: string }>();
  full = new Set<string>();
  n = 0;
  async getSubnet(_s: Scope, id: string) {
    return this.subnets.get(id);
  }
  async getLaunchTemplateVersion(_s: Scope, spec: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }) {
    if (spec.LaunchTemplateId !== 'lt-1' && spec.LaunchTemplateName !== 'web') return undefined;
    const v = spec.Version === '$Latest' ? 2 : spec.Version === '$Default' || spec.Version === undefined ? 1 : Number(spec.Version);
    if (v !== 1 && v !== 2) return undefined;
    return { LaunchTemplateId: 'lt-1', LaunchTemplateName: 'web', VersionNumber: v, InstanceType: 'm5.large' };
  }
  async runInstance(_s: Scope, spec: LaunchSpec) {
    if (this.full.has(spec.SubnetId)) throw awsError('InsufficientFreeAddressesInSubnet', 'There are not enough free addresses in subnet to satisfy the requested number of instances.');
    const id = `i-${String(++this.n).padStart(17, '0')}`;
    const az = this.subnets.get(spec.SubnetId)!.AvailabilityZone;
    this.instances.set(id, { state: 'pending', spec, az });
    return { InstanceId: id, InstanceType: spec.InstanceType ?? 'm5.large', AvailabilityZone: az, SubnetId: spec.SubnetId };
  }
  async terminateInstances(_s: Scope, ids: string[]) {
    for (const id of ids) {
      const i = this.instances.get(id);
      if (i) i.state = 'terminated';
    }
  }
  instanceState(_s: Scope, id: string) {
    return this.instances.get(id)?.state;
  }
  runAll() {
    for (const i of this.instances.values()) if (i.state === 'pending') i.state = 'running';
  }
}

async function setup(state?: AwsState, ec2 = new FakeEc2()) {
  const backend = new MemoryBackend();
  const st = state ?? new AwsState(backend);
  await st.start();
  const clock = new SimClock();
  const deps: AwsDeps = {
    state: st,
    clock,
    log: pino({ level: 'silent' }),
    config: {
      defaultAccountId: scope.accountId,
      enforceIam: false,
      referenceChecks: true,
      timingProfile: 'fast',
      awsEndpoint: 'http://127.0.0.1:4566',
      kubeEndpoint: 'https://127.0.0.1:6443',
      caCertPem: '',
    },
  };
  const p = createAutoScalingProvider(deps, { ec2 });
  const ctx = (operation: string): RequestContext => ({
    accountId: scope.accountId,
    region: scope.region,
    requestId: 'r',
    service: 'autoscaling',
    operation,
    accessKeyId: 'test',
    callerArn: `arn:aws:iam::${scope.accountId}:root`,
    callerUserId: scope.accountId,
    now: () => clock.now(),
  });
  const call = async (op: string, input: any = {}) => p.operations[op]!(input, ctx(op));
  /** Let the reconciler run: advance simulated time until cond holds. */
  const until = async (cond: () => boolean | Promise<boolean>, what: string) => {
    for (let i = 0; i < 200; i++) {
      if (await cond()) return;
      clock.advance(250);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    }
    assert.fail(`never happened: ${what}`);
  };
  const group = async (name: string) => (await call('DescribeAutoScalingGroups', { AutoScalingGroupNames: [name] })).AutoScalingGroups[0];
  return { p, call, until, group, ec2, state: st, clock };
}

async function rejects(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: AwsServiceError) => {
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const base = { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '$Latest' }, VPCZoneIdentifier: 'subnet-a1,subnet-b1' };

describe('autoscaling provider', () => {
  it('rejects bad groups with AWS errors and stores nothing', async () => {
    const { call, p } = await setup();
    await rejects(call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 3, MaxSize: 1 }), 'ValidationError', /^Max bound, 1, must be greater than or equal to min bound, 3$/);
    await rejects(
      call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 1, MaxSize: 3, DesiredCapacity: 5 }),
      'ValidationError',
      /^Desired capacity:5 must be between the specified min size:1 and max size:3$/,
    );
    await rejects(call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, VPCZoneIdentifier: 'subnet-nope' }), 'ValidationError', /subnet-nope/);
    await rejects(call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, VPCZoneIdentifier: 'subnet-a1,subnet-x' }), 'ValidationError');
    await rejects(call('CreateAutoScalingGroup', { AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, VPCZoneIdentifier: 'subnet-a1' }), 'ValidationError', /LaunchTemplate/);
    await rejects(
      call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, LaunchTemplate: { LaunchTemplateId: 'lt-404' } }),
      'ValidationError',
      /lt-404/,
    );
    await rejects(call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, VPCZoneIdentifier: undefined }), 'ValidationError', /At least one Availability Zone/);
    assert.deepEqual((await call('DescribeAutoScalingGroups')).AutoScalingGroups, []);
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1 });
    await rejects(call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1 }), 'AlreadyExists', /A group with the name g already exists/);
    await rejects(call('SetDesiredCapacity', { AutoScalingGroupName: 'g', DesiredCapacity: 2 }), 'ValidationError', /^New SetDesiredCapacity value 2 is above max value 1 for the AutoScalingGroup\.$/);
    await rejects(call('UpdateAutoScalingGroup', { AutoScalingGroupName: 'nope', MaxSize: 2 }), 'ValidationError', /not found/);
    await rejects(call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'nope' }), 'ValidationError', /not found/);
    p.stop();
  });

  it('launches to desired capacity balanced over AZs, propagates tags, records activities, scales in', async () => {
    const { call, until, group, ec2, p } = await setup();
    await call('CreateAutoScalingGroup', {
      ...base,
      AutoScalingGroupName: 'web',
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 4,
      Tags: [
        { Key: 'team', Value: 'a', PropagateAtLaunch: true },
        { Key: 'private', Value: 'x', PropagateAtLaunch: false },
      ],
    });
    await until(() => ec2.instances.size === 4, '4 launches');
    let g = await group('web');
    assert.equal(g.Instances.length, 4);
    const perAz = (list: any[]) => list.reduce((m: Record<string, number>, i: any) => ((m[i.AvailabilityZone] = (m[i.AvailabilityZone] ?? 0) + 1), m), {});
    assert.deepEqual(perAz(g.Instances), { 'us-east-1a': 2, 'us-east-1b': 2 });
    assert.ok(g.Instances.every((i: any) => i.LifecycleState === 'Pending' && i.LaunchTemplate.Version === '2'));
    const spec = [...ec2.instances.values()][0]!.spec;
    assert.deepEqual(
      spec.Tags.map((t) => t.Key).sort(),
      ['aws:autoscaling:groupName', 'team'],
    );
    ec2.runAll();
    await until(async () => (await group('web')).Instances.every((x: any) => x.LifecycleState === 'InService'), 'InService');
    assert.ok((await call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities.every((a: any) => a.StatusCode === 'Successful'));
    const acts = (await call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities;
    assert.equal(acts.length, 4);
    assert.ok(acts.every((a: any) => a.Description.startsWith('Launching a new EC2 instance: i-')));
    assert.match(acts[0].Cause, /a user request created an AutoScalingGroup changing the desired capacity from 0 to 4/);

    await call('SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 1 });
    await until(() => [...ec2.instances.values()].filter((i) => i.state === 'terminated').length === 3, 'scale in');
    await until(async () => (await group('web')).Instances.length === 1, 'terminated instances leave the group');
    g = await group('web');
    assert.equal(g.Instances[0].LifecycleState, 'InService');
    const inst = (await call('DescribeAutoScalingInstances', {})).AutoScalingInstances;
    assert.equal(inst.length, 1);
    assert.equal(inst[0].AutoScalingGroupName, 'web');
    const all = (await call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities;
    assert.equal(all.filter((a: any) => a.Description.startsWith('Terminating EC2 instance')).length, 3);
    assert.match(all[0].Cause, /explicitly set group desired capacity changing the desired capacity from 4 to 1/);
    p.stop();
  });

  it('terminates an instance with and without decrement; delete needs ForceDelete', async () => {
    const { call, until, group, ec2, p } = await setup();
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'g', MinSize: 1, MaxSize: 3, DesiredCapacity: 2 });
    await until(() => ec2.instances.size === 2, 'launch');
    ec2.runAll();
    const g0 = await group('g');
    const victim = g0.Instances[0].InstanceId;
    const r = await call('TerminateInstanceInAutoScalingGroup', { InstanceId: victim, ShouldDecrementDesiredCapacity: false });
    assert.equal(r.Activity.Description, `Terminating EC2 instance: ${victim}`);
    assert.equal(r.Activity.StatusCode, 'InProgress');
    await until(() => ec2.instances.size === 3, 'replacement launched');
    assert.equal((await group('g')).DesiredCapacity, 2);
    const other = (await group('g')).Instances.find((i: any) => i.InstanceId !== victim && i.LifecycleState !== 'Terminating').InstanceId;
    await call('TerminateInstanceInAutoScalingGroup', { InstanceId: other, ShouldDecrementDesiredCapacity: true });
    assert.equal((await group('g')).DesiredCapacity, 1);
    const last = (await group('g')).Instances.find((i: any) => !i.LifecycleState.startsWith('Terminating')).InstanceId;
    await rejects(call('TerminateInstanceInAutoScalingGroup', { InstanceId: last, ShouldDecrementDesiredCapacity: true }), 'ValidationError', /desiredSize equals minSize \(1\)/);
    await rejects(call('TerminateInstanceInAutoScalingGroup', { InstanceId: 'i-0000000000000dead', ShouldDecrementDesiredCapacity: false }), 'ValidationError', /No managed instance found/);
    await rejects(call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'g' }), 'ResourceInUse', /while there are instances/);
    await call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'g', ForceDelete: true });
    assert.equal((await group('g')).Status, 'Delete in progress');
    await until(() => [...ec2.instances.values()].every((i) => i.state === 'terminated'), 'all terminated');
    await until(async () => (await group('g')) === undefined, 'group deleted after its instances');
    p.stop();
  });

  it('resumes reconciling from the store after a restart', async () => {
    const backend = new MemoryBackend();
    const st1 = new AwsState(backend);
    const ec2 = new FakeEc2();
    const a = await setup(st1, ec2);
    a.p.stop(); // the reconciler never ran: the group is only in the store
    await shared.createGroup(st1, scope, { ...base, AutoScalingGroupName: 'r', MinSize: 0, MaxSize: 5, DesiredCapacity: 0 }).catch(() => {});
    const st2 = new AwsState(backend);
    const b = await setup(st2, ec2);
    await b.call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'r2', MinSize: 0, MaxSize: 5, DesiredCapacity: 0 });
    b.p.stop();
    // Write desired=3 directly with the engine stopped, then start a fresh provider on a fresh cache.
    const st3 = new AwsState(backend);
    await st3.start();
    await st3.mutate<any>('/aws/autoscaling/000000000000/us-east-1/group/r2', (g) => ({ ...g, DesiredCapacity: 3 }));
    const c = await setup(st3, ec2);
    await c.until(() => ec2.instances.size === 3, 'resumed launches');
    assert.equal(shared.listGroupInstances(st3, scope, 'r2').length, 3);
    c.p.stop();
  });

  it('mixed instances: on-demand base and percentage, overrides', async () => {
    const { call, until, ec2, p } = await setup();
    await call('CreateAutoScalingGroup', {
      AutoScalingGroupName: 'mix',
      VPCZoneIdentifier: 'subnet-a1,subnet-b1,subnet-c1',
      MinSize: 0,
      MaxSize: 10,
      DesiredCapacity: 5,
      MixedInstancesPolicy: {
        LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateName: 'web' }, Overrides: [{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large' }] },
        InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 50 },
      },
    });
    await until(() => ec2.instances.size === 5, 'launch 5');
    const specs = [...ec2.instances.values()];
    assert.equal(specs.filter((s) => s.spec.Market === 'on-demand').length, 3);
    assert.equal(specs.filter((s) => s.spec.Market === 'spot').length, 2);
    assert.ok(specs.every((s) => s.spec.InstanceType === 'm5.large' || s.spec.InstanceType === 'c5.large'));
    const azs = new Set(specs.map((s) => s.az));
    assert.equal(azs.size, 3);
    const g = (await call('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['mix'] })).AutoScalingGroups[0];
    assert.equal(g.MixedInstancesPolicy.InstancesDistribution.OnDemandAllocationStrategy, 'prioritized');
    p.stop();
  });

  it('failed launches are recorded and retried in another AZ', async () => {
    const { call, until, ec2, p } = await setup();
    ec2.full.add('subnet-a1');
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'f', MinSize: 0, MaxSize: 4, DesiredCapacity: 2 });
    await until(() => ec2.instances.size === 2, 'launch in b');
    assert.ok([...ec2.instances.values()].every((i) => i.az === 'us-east-1b'));
    ec2.full.add('subnet-b1');
    await call('SetDesiredCapacity', { AutoScalingGroupName: 'f', DesiredCapacity: 3 });
    const failedActs = async () => (await call('DescribeScalingActivities', { AutoScalingGroupName: 'f' })).Activities.filter((a: any) => a.StatusCode === 'Failed');
    await until(async () => (await failedActs()).length >= 1, 'failed activity');
    const failed = await failedActs();
    assert.equal(ec2.instances.size, 2);
    assert.match(failed[0].StatusMessage, /not enough free addresses/);
    p.stop();
  });

  it('a termination lifecycle hook holds scale-in victims in Terminating:Wait until completed or timed out', async () => {
    const { call, until, group, ec2, p } = await setup();
    await call('CreateAutoScalingGroup', {
      ...base, AutoScalingGroupName: 't', MinSize: 0, MaxSize: 3, DesiredCapacity: 3,
      LifecycleHookSpecificationList: [{ LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 30, DefaultResult: 'CONTINUE' }],
    });
    await until(() => ec2.instances.size === 3, 'launch');
    ec2.runAll();
    await until(async () => (await group('t')).Instances.every((x: any) => x.LifecycleState === 'InService'), 'InService');
    await call('SetDesiredCapacity', { AutoScalingGroupName: 't', DesiredCapacity: 1 });
    await until(async () => (await group('t')).Instances.filter((x: any) => x.LifecycleState === 'Terminating:Wait').length === 2, 'Terminating:Wait');
    const waiting = (await group('t')).Instances.filter((x: any) => x.LifecycleState === 'Terminating:Wait').map((x: any) => x.InstanceId);
    assert.ok(waiting.every((id: string) => ec2.instances.get(id)!.state === 'running'), 'not terminated while the hook waits');
    await call('CompleteLifecycleAction', { AutoScalingGroupName: 't', LifecycleHookName: 'drain', InstanceId: waiting[0], LifecycleActionResult: 'CONTINUE' });
    await until(() => ec2.instances.get(waiting[0])!.state === 'terminated', 'completed: terminated');
    assert.equal(ec2.instances.get(waiting[1])!.state, 'running', 'the other still waits');
    await rejects(call('CompleteLifecycleAction', { AutoScalingGroupName: 't', LifecycleHookName: 'drain', InstanceId: waiting[0], LifecycleActionResult: 'CONTINUE' }), 'ValidationError', /No active Lifecycle Action/);
    // A heartbeat restarts the 30 s timeout; then the default result applies: terminated.
    await call('RecordLifecycleActionHeartbeat', { AutoScalingGroupName: 't', LifecycleHookName: 'drain', InstanceId: waiting[1] });
    await rejects(call('RecordLifecycleActionHeartbeat', { AutoScalingGroupName: 't', LifecycleHookName: 'other', InstanceId: waiting[1] }), 'ValidationError', /No active Lifecycle Action/);
    await until(() => ec2.instances.get(waiting[1])!.state === 'terminated', 'heartbeat timeout');
    await until(async () => (await group('t')).Instances.length === 1, 'two gone');
    p.stop();
  });

  it('suspend/resume processes, protection, tags, lifecycle hooks', async () => {
    const { call, until, group, ec2, p } = await setup();
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 's', MinSize: 0, MaxSize: 4, DesiredCapacity: 0, Tags: [{ Key: 'a', Value: '1', PropagateAtLaunch: true }] });
    await call('SuspendProcesses', { AutoScalingGroupName: 's', ScalingProcesses: ['Launch'] });
    await rejects(call('SuspendProcesses', { AutoScalingGroupName: 's', ScalingProcesses: ['Nope'] }), 'ValidationError');
    await call('SetDesiredCapacity', { AutoScalingGroupName: 's', DesiredCapacity: 2 });
    let ticks = 0;
    await until(() => ++ticks > 10, 'ten ticks');
    assert.equal(ec2.instances.size, 0);
    assert.deepEqual((await group('s')).SuspendedProcesses.map((x: any) => x.ProcessName), ['Launch']);
    await call('PutLifecycleHook', { AutoScalingGroupName: 's', LifecycleHookName: 'h', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 60, DefaultResult: 'CONTINUE' });
    assert.equal((await call('DescribeLifecycleHooks', { AutoScalingGroupName: 's' })).LifecycleHooks[0].HeartbeatTimeout, 60);
    await call('ResumeProcesses', { AutoScalingGroupName: 's' });
    await until(() => ec2.instances.size === 2, 'launch after resume');
    ec2.runAll();
    await until(async () => (await group('s')).Instances.every((x: any) => x.LifecycleState === 'Pending:Wait'), 'Pending:Wait');
    const g = await group('s');
    await call('CompleteLifecycleAction', { AutoScalingGroupName: 's', LifecycleHookName: 'h', InstanceId: g.Instances[0].InstanceId, LifecycleActionResult: 'CONTINUE' });
    await until(async () => (await group('s')).Instances.some((x: any) => x.LifecycleState === 'InService'), 'hook completed');
    assert.ok((await group('s')).Instances.some((x: any) => x.LifecycleState === 'Pending:Wait'), 'the other instance still waits');
    await call('DeleteLifecycleHook', { AutoScalingGroupName: 's', LifecycleHookName: 'h' });
    await rejects(call('DeleteLifecycleHook', { AutoScalingGroupName: 's', LifecycleHookName: 'h' }), 'ValidationError');

    await call('SetInstanceProtection', { AutoScalingGroupName: 's', InstanceIds: [g.Instances[0].InstanceId], ProtectedFromScaleIn: true });
    assert.equal((await group('s')).Instances.find((x: any) => x.InstanceId === g.Instances[0].InstanceId).ProtectedFromScaleIn, true);

    await call('CreateOrUpdateTags', { Tags: [{ ResourceId: 's', ResourceType: 'auto-scaling-group', Key: 'b', Value: '2', PropagateAtLaunch: false }] });
    let tags = (await call('DescribeTags', { Filters: [{ Name: 'auto-scaling-group', Values: ['s'] }] })).Tags;
    assert.deepEqual(tags.map((t: any) => `${t.Key}=${t.Value}`), ['a=1', 'b=2']);
    tags = (await call('DescribeTags', { Filters: [{ Name: 'key', Values: ['b'] }] })).Tags;
    assert.equal(tags.length, 1);
    await call('DeleteTags', { Tags: [{ ResourceId: 's', ResourceType: 'auto-scaling-group', Key: 'a' }] });
    tags = (await call('DescribeTags', {})).Tags;
    assert.deepEqual(tags.map((t: any) => t.Key), ['b']);
    await rejects(call('CreateOrUpdateTags', { Tags: [{ ResourceId: 'nope', ResourceType: 'auto-scaling-group', Key: 'x', Value: 'y' }] }), 'ValidationError');
    const byTag = (await call('DescribeAutoScalingGroups', { Filters: [{ Name: 'tag:b', Values: ['2'] }] })).AutoScalingGroups;
    assert.deepEqual(byTag.map((x: any) => x.AutoScalingGroupName), ['s']);
    p.stop();
  });

  it('scales a 1,000-instance group out in batches and back in, zones balanced', async () => {
    const { call, until, ec2, group, p } = await setup();
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'big', VPCZoneIdentifier: 'subnet-a1,subnet-b1,subnet-c1', MinSize: 0, MaxSize: 1000, DesiredCapacity: 1000 });
    await until(() => ec2.instances.size === 1000, '1,000 launches');
    ec2.runAll();
    await until(async () => (await group('big')).Instances.every((i: any) => i.LifecycleState === 'InService'), 'all InService');
    await call('SetDesiredCapacity', { AutoScalingGroupName: 'big', DesiredCapacity: 10 });
    await until(async () => (await group('big')).Instances.length === 10, 'scale in to 10');
    const perAz: Record<string, number> = {};
    for (const i of (await group('big')).Instances) perAz[i.AvailabilityZone] = (perAz[i.AvailabilityZone] ?? 0) + 1;
    assert.deepEqual(Object.values(perAz).sort(), [3, 3, 4]);
    p.stop();
  });

  it('prunes activities older than six weeks', async () => {
    const { call, until, ec2, clock, p } = await setup();
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'old', MinSize: 0, MaxSize: 5, DesiredCapacity: 2 });
    await until(() => ec2.instances.size === 2, 'launch');
    assert.equal((await call('DescribeScalingActivities', { AutoScalingGroupName: 'old' })).Activities.length, 2);
    clock.advance(43 * 86_400_000);
    await call('SetDesiredCapacity', { AutoScalingGroupName: 'old', DesiredCapacity: 3 });
    await until(() => ec2.instances.size === 3, 'launch one more');
    assert.equal(await p.engine.pruneActivities({ accountId: '000000000000', region: 'us-east-1' }), 2);
    const left = (await call('DescribeScalingActivities', { AutoScalingGroupName: 'old' })).Activities;
    assert.equal(left.length, 1);
    p.stop();
  });

  it('instance refresh replaces every instance in batches and can be cancelled', async () => {
    const { call, until, ec2, group, p } = await setup();
    await call('CreateAutoScalingGroup', { ...base, AutoScalingGroupName: 'rf', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '1' }, MinSize: 0, MaxSize: 8, DesiredCapacity: 4 });
    await until(() => ec2.instances.size === 4, 'launch 4');
    ec2.runAll();
    await until(async () => (await group('rf')).Instances.every((i: any) => i.LifecycleState === 'InService'), 'InService');
    const before = (await group('rf')).Instances.map((i: any) => i.InstanceId);
    const { InstanceRefreshId } = await call('StartInstanceRefresh', {
      AutoScalingGroupName: 'rf',
      Preferences: { MinHealthyPercentage: 50 },
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '2' } },
    });
    await rejects(call('StartInstanceRefresh', { AutoScalingGroupName: 'rf' }), 'InstanceRefreshInProgress');
    let maxTerminating = 0;
    await until(async () => {
      ec2.runAll();
      const g = await group('rf');
      maxTerminating = Math.max(maxTerminating, g.Instances.filter((i: any) => i.LifecycleState === 'Terminating').length);
      const r = (await call('DescribeInstanceRefreshes', { AutoScalingGroupName: 'rf' })).InstanceRefreshes[0];
      return r.Status === 'Successful';
    }, 'refresh done');
    const r = (await call('DescribeInstanceRefreshes', { AutoScalingGroupName: 'rf', InstanceRefreshIds: [InstanceRefreshId] })).InstanceRefreshes[0];
    assert.equal(r.PercentageComplete, 100);
    assert.equal(r.InstancesToUpdate, 4);
    const after = (await group('rf')).Instances;
    assert.equal(after.length, 4);
    assert.ok(after.every((i: any) => !before.includes(i.InstanceId) && i.LaunchTemplate.Version === '2'));
    assert.ok(maxTerminating <= 2, `at most 2 out of service at once (saw ${maxTerminating})`);
    await rejects(call('CancelInstanceRefresh', { AutoScalingGroupName: 'rf' }), 'ActiveInstanceRefreshNotFound');
    await call('StartInstanceRefresh', { AutoScalingGroupName: 'rf' });
    await call('CancelInstanceRefresh', { AutoScalingGroupName: 'rf' });
    assert.equal((await call('DescribeInstanceRefreshes', { AutoScalingGroupName: 'rf' })).InstanceRefreshes[0].Status, 'Cancelled');
    p.stop();
  });
});
