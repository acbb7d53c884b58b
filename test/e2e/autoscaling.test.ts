/**
 * Auto Scaling end to end with the real aws CLI (v1) and boto3: groups from
 * launch templates over subnets in two AZs launch real (simulated) EC2
 * instances, follow desired capacity, propagate tags, record activities, and
 * answer bad input with AWS's errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { boto3Json, runBoto3 } from '../helpers/boto3.ts';
import { describeGroup } from '../../src/aws/autoscaling/shared.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

/** Extra server parts (none: the committed provider list). */
const serverParts = {};
let srv: TestServer;
let ep: string;
let ec2Missing: string | undefined;
let subnets: string[] = [];
let ltId = '';

const aws = (...args: string[]) => awsJson(ep, args);

async function groupOf(name: string): Promise<any> {
  const r = await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', name);
  return r.AutoScalingGroups[0];
}

/** Polls the group in process (cheap); callers then check what clients see with one CLI call. */
async function waitInService(name: string, n: number): Promise<any> {
  await waitFor(
    () => {
      const g: any = describeGroup(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, name);
      const live = g?.Instances?.filter((i: any) => i.LifecycleState === 'InService') ?? [];
      return g && live.length === n && g.Instances.length === n ? g : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `${name} to have ${n} InService instances` },
  );
  return groupOf(name);
}

describe('autoscaling (aws CLI, boto3)', () => {
  before(async () => {
    srv = await startTestServer({}, serverParts);
    ep = srv.awsEndpoint;
    const probe = await runAws(ep, ['ec2', 'describe-vpcs']);
    if (probe.code !== 0) {
      ec2Missing = `EC2 is not available yet (${probe.errorCode}: ${probe.errorMessage})`;
      return;
    }
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.20.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName);
    subnets = [];
    for (const [i, az] of azs.slice(0, 2).entries()) {
      subnets.push((await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.20.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    }
    const lt = await aws(
      'ec2',
      'create-launch-template',
      '--launch-template-name',
      'asg-e2e',
      '--launch-template-data',
      JSON.stringify({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.medium' }),
    );
    ltId = lt.LaunchTemplate.LaunchTemplateId;
  });
  after(() => srv?.stop());

  it('launches desired capacity across AZs, propagates tags, scales in and out (aws CLI)', async (t) => {
    if (ec2Missing) return t.skip(ec2Missing);
    await aws(
      'autoscaling',
      'create-auto-scaling-group',
      '--auto-scaling-group-name',
      'web',
      '--launch-template',
      `LaunchTemplateId=${ltId},Version=$Latest`,
      '--min-size',
      '1',
      '--max-size',
      '6',
      '--desired-capacity',
      '4',
      '--vpc-zone-identifier',
      subnets.join(','),
      '--tags',
      'Key=team,Value=platform,PropagateAtLaunch=true',
      'Key=cost,Value=x,PropagateAtLaunch=false',
    );
    const g = await waitInService('web', 4);
    assert.equal(g.DesiredCapacity, 4);
    assert.equal(g.AvailabilityZones.length, 2);
    const perAz: Record<string, number> = {};
    for (const i of g.Instances) perAz[i.AvailabilityZone] = (perAz[i.AvailabilityZone] ?? 0) + 1;
    assert.deepEqual(Object.values(perAz), [2, 2]);
    assert.ok(g.Instances.every((i: any) => i.InstanceType === 't3.medium' && i.LaunchTemplate.LaunchTemplateId === ltId));

    // The instances exist in EC2, running, in the group's subnets, with propagated tags only.
    const ids = g.Instances.map((i: any) => i.InstanceId);
    const res = await aws('ec2', 'describe-instances', '--instance-ids', ...ids);
    const insts = res.Reservations.flatMap((r: any) => r.Instances);
    assert.equal(insts.length, 4);
    for (const i of insts) {
      assert.equal(i.State.Name, 'running');
      assert.ok(subnets.includes(i.SubnetId));
      const tags = Object.fromEntries(i.Tags.map((x: any) => [x.Key, x.Value]));
      assert.equal(tags['aws:autoscaling:groupName'], 'web');
      assert.equal(tags.team, 'platform');
      assert.equal(tags.cost, undefined);
    }
    const byTag = await aws('ec2', 'describe-instances', '--filters', 'Name=tag:aws:autoscaling:groupName,Values=web', 'Name=instance-state-name,Values=running');
    assert.equal(byTag.Reservations.flatMap((r: any) => r.Instances).length, 4);

    const acts = (await aws('autoscaling', 'describe-scaling-activities', '--auto-scaling-group-name', 'web')).Activities;
    assert.equal(acts.length, 4);
    assert.ok(acts.every((a: any) => a.StatusCode === 'Successful' && /^Launching a new EC2 instance: i-/.test(a.Description)));

    const asgInst = (await aws('autoscaling', 'describe-auto-scaling-instances', '--instance-ids', ids[0])).AutoScalingInstances;
    assert.equal(asgInst[0].AutoScalingGroupName, 'web');

    await aws('autoscaling', 'set-desired-capacity', '--auto-scaling-group-name', 'web', '--desired-capacity', '2');
    const g2 = await waitInService('web', 2);
    const gone = ids.filter((id: string) => !g2.Instances.some((i: any) => i.InstanceId === id));
    assert.equal(gone.length, 2);
    await waitFor(
      async () => {
        const r = await aws('ec2', 'describe-instances', '--instance-ids', ...gone);
        return r.Reservations.flatMap((x: any) => x.Instances).every((i: any) => i.State.Name === 'terminated');
      },
      { what: 'scaled-in instances terminated in EC2', timeoutMs: 60_000 },
    );
    const perAz2 = new Set(g2.Instances.map((i: any) => i.AvailabilityZone));
    assert.equal(perAz2.size, 2, 'scale-in keeps the zones balanced');

    // A rolling instance refresh replaces both instances (one at a time with 50% min healthy).
    const before = g2.Instances.map((i: any) => i.InstanceId);
    const started = await aws('autoscaling', 'start-instance-refresh', '--auto-scaling-group-name', 'web', '--preferences', 'MinHealthyPercentage=50');
    assert.match(started.InstanceRefreshId, /^[0-9a-f-]{36}$/);
    await waitFor(
      () => {
        const x: any = describeGroup(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, 'web');
        return x.Instances.length === 2 && x.Instances.every((i: any) => i.LifecycleState === 'InService' && !before.includes(i.InstanceId));
      },
      { what: 'instance refresh to replace both instances', timeoutMs: 60_000, intervalMs: 50 },
    );
    const refresh = await waitFor(
      async () => {
        const r = (await aws('autoscaling', 'describe-instance-refreshes', '--auto-scaling-group-name', 'web')).InstanceRefreshes[0];
        return r.Status === 'Successful' ? r : undefined;
      },
      { what: 'instance refresh Successful', timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.equal(refresh.InstanceRefreshId, started.InstanceRefreshId);
    assert.equal(refresh.PercentageComplete, 100);

    const tags = (await aws('autoscaling', 'describe-tags', '--filters', 'Name=auto-scaling-group,Values=web')).Tags;
    assert.deepEqual(tags.map((x: any) => `${x.Key}=${x.Value}:${x.PropagateAtLaunch}`).sort(), ['cost=x:false', 'team=platform:true']);
  });

  it('answers bad input with Auto Scaling errors (aws CLI)', async (t) => {
    if (ec2Missing) return t.skip(ec2Missing);
    const lt = `LaunchTemplateId=${ltId}`;
    let r = await runAws(ep, ['autoscaling', 'create-auto-scaling-group', '--auto-scaling-group-name', 'bad', '--launch-template', lt, '--min-size', '2', '--max-size', '5', '--desired-capacity', '9', '--vpc-zone-identifier', subnets[0]!]);
    assert.notEqual(r.code, 0);
    assert.equal(r.errorCode, 'ValidationError');
    assert.equal(r.errorMessage, 'Desired capacity:9 must be between the specified min size:2 and max size:5');
    r = await runAws(ep, ['autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', 'web']);
    assert.equal(r.errorCode, 'ResourceInUse');
    assert.equal(r.errorMessage, 'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
    // The rest in one python process (each aws CLI run costs a second).
    const errs = await boto3Json(
      ep,
      `
asg = client('autoscaling')
def err(fn, **kw):
    try:
        fn(**kw)
        return None
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
lt = {'LaunchTemplateId': '${ltId}'}
result = {
  'subnet': err(asg.create_auto_scaling_group, AutoScalingGroupName='bad', LaunchTemplate=lt, MinSize=0, MaxSize=1, VPCZoneIdentifier='subnet-0000000000000dead'),
  'minmax': err(asg.create_auto_scaling_group, AutoScalingGroupName='bad', LaunchTemplate=lt, MinSize=3, MaxSize=1, VPCZoneIdentifier='${subnets[0]}'),
  'lt': err(asg.create_auto_scaling_group, AutoScalingGroupName='bad', LaunchTemplate={'LaunchTemplateId': 'lt-0000000000000dead'}, MinSize=0, MaxSize=1, VPCZoneIdentifier='${subnets[0]}'),
  'exists': err(asg.create_auto_scaling_group, AutoScalingGroupName='web', LaunchTemplate=lt, MinSize=0, MaxSize=1, VPCZoneIdentifier='${subnets[0]}'),
  'above': err(asg.set_desired_capacity, AutoScalingGroupName='web', DesiredCapacity=7),
  'below': err(asg.set_desired_capacity, AutoScalingGroupName='web', DesiredCapacity=0),
  'nogroup': err(asg.update_auto_scaling_group, AutoScalingGroupName='nope', MaxSize=3),
  'noinstance': err(asg.terminate_instance_in_auto_scaling_group, InstanceId='i-0000000000000dead', ShouldDecrementDesiredCapacity=False),
}
`,
    );
    assert.equal(errs.subnet[0], 'ValidationError');
    assert.match(errs.subnet[1], /subnet-0000000000000dead/);
    assert.deepEqual(errs.minmax, ['ValidationError', 'Max bound, 1, must be greater than or equal to min bound, 3', 400]);
    assert.equal(errs.lt[0], 'ValidationError');
    assert.match(errs.lt[1], /lt-0000000000000dead/);
    assert.deepEqual(errs.exists, ['AlreadyExists', 'AutoScalingGroup by this name already exists - A group with the name web already exists', 400]);
    assert.deepEqual(errs.above, ['ValidationError', 'New SetDesiredCapacity value 7 is above max value 6 for the AutoScalingGroup.', 400]);
    assert.deepEqual(errs.below, ['ValidationError', 'New SetDesiredCapacity value 0 is below min value 1 for the AutoScalingGroup.', 400]);
    assert.deepEqual(errs.nogroup, ['ValidationError', 'AutoScalingGroup name not found - null', 400]);
    assert.equal(errs.noinstance[0], 'ValidationError');
    const names = (await aws('autoscaling', 'describe-auto-scaling-groups')).AutoScalingGroups.map((g: any) => g.AutoScalingGroupName);
    assert.ok(!names.includes('bad'));
  });

  it('mixed instances, terminate with and without decrement, force delete (boto3)', async (t) => {
    if (ec2Missing) return t.skip(ec2Missing);
    await boto3Json(
      ep,
      `
asg = client('autoscaling')
asg.create_auto_scaling_group(AutoScalingGroupName='mix', MinSize=1, MaxSize=10, DesiredCapacity=4,
  VPCZoneIdentifier='${subnets.join(',')}',
  MixedInstancesPolicy={'LaunchTemplate': {'LaunchTemplateSpecification': {'LaunchTemplateId': '${ltId}', 'Version': '$Default'},
    'Overrides': [{'InstanceType': 'm5.large'}, {'InstanceType': 'm5.xlarge'}]},
    'InstancesDistribution': {'OnDemandBaseCapacity': 2, 'OnDemandPercentageAboveBaseCapacity': 0}})
`,
    );
    const g = await waitInService('mix', 4);
    const ids = g.Instances.map((i: any) => i.InstanceId);
    const insts = (await aws('ec2', 'describe-instances', '--instance-ids', ...ids)).Reservations.flatMap((r: any) => r.Instances);
    assert.equal(insts.filter((i: any) => i.InstanceLifecycle === 'spot').length, 2, 'two spot above an on-demand base of 2');
    assert.ok(insts.every((i: any) => i.InstanceType === 'm5.large' || i.InstanceType === 'm5.xlarge'));

    const victim = ids[0];
    const act = await boto3Json(
      ep,
      `result = client('autoscaling').terminate_instance_in_auto_scaling_group(InstanceId='${victim}', ShouldDecrementDesiredCapacity=False)['Activity']`,
    );
    assert.equal(act.Description, `Terminating EC2 instance: ${victim}`);
    const replaced = await waitInService('mix', 4);
    assert.ok(!replaced.Instances.some((i: any) => i.InstanceId === victim), 'a replacement took its place');
    await boto3Json(ep, `result = client('autoscaling').terminate_instance_in_auto_scaling_group(InstanceId='${replaced.Instances[0].InstanceId}', ShouldDecrementDesiredCapacity=True)['Activity']`);
    assert.equal((await groupOf('mix')).DesiredCapacity, 3);
    await waitInService('mix', 3);

    const bad = await runBoto3(ep, `client('autoscaling').delete_auto_scaling_group(AutoScalingGroupName='mix')`);
    assert.equal(bad.error?.Code, 'ResourceInUse');
    assert.equal(bad.error?.HTTPStatusCode, 400);
    await boto3Json(ep, `client('autoscaling').delete_auto_scaling_group(AutoScalingGroupName='mix', ForceDelete=True)`);
    await waitFor(() => describeGroup(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, 'mix') === undefined, { what: 'mix deleted', timeoutMs: 60_000, intervalMs: 50 });
    assert.equal(await groupOf('mix'), undefined);
    const left = (await aws('ec2', 'describe-instances', '--filters', 'Name=tag:aws:autoscaling:groupName,Values=mix')).Reservations.flatMap((r: any) => r.Instances);
    assert.ok(left.every((i: any) => i.State.Name === 'terminated' || i.State.Name === 'shutting-down'));
    const acts = await boto3Json(ep, `result = client('autoscaling').describe_scaling_activities(AutoScalingGroupName='mix', IncludeDeletedGroups=True)['Activities']`);
    assert.ok(acts.some((a: any) => a.Description.startsWith('Terminating EC2 instance')));
  });

  it('a restarted server (sqlite store) resumes scaling from the store', async (t) => {
    if (ec2Missing) return t.skip(ec2Missing);
    const dir = mkdtempSync(join(tmpdir(), 'localeks-asg-restart-'));
    const scope = { accountId: '000000000000', region: 'us-east-1' };
    const opts = { store: 'sqlite', dataDir: dir };
    let s1: TestServer | undefined = await startTestServer(opts, serverParts);
    try {
      const e1 = s1.awsEndpoint;
      const vpc = (await awsJson(e1, ['ec2', 'create-vpc', '--cidr-block', '10.40.0.0/16'])).Vpc.VpcId;
      const sub = (await awsJson(e1, ['ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.40.0.0/24', '--availability-zone', 'us-east-1a'])).Subnet.SubnetId;
      const lt = (await awsJson(e1, ['ec2', 'create-launch-template', '--launch-template-name', 'restart', '--launch-template-data', '{"ImageId":"ami-0123456789abcdef0","InstanceType":"m5.large"}'])).LaunchTemplate.LaunchTemplateId;
      await boto3Json(
        e1,
        `client('autoscaling').create_auto_scaling_group(AutoScalingGroupName='r', MinSize=0, MaxSize=5, DesiredCapacity=3, VPCZoneIdentifier='${sub}', LaunchTemplate={'LaunchTemplateId': '${lt}'})`,
      );
      // Stop at once: launches may be half done, instances still pending.
      await s1.stop();
      s1 = undefined;
      const s2 = await startTestServer(opts, serverParts);
      try {
        await waitFor(
          () => {
            const g: any = describeGroup(s2.server.state, scope, 'r');
            return g?.Instances.length === 3 && g.Instances.every((i: any) => i.LifecycleState === 'InService');
          },
          { what: 'group r to reach 3 InService after the restart', timeoutMs: 60_000, intervalMs: 50 },
        );
        const g = (await awsJson(s2.awsEndpoint, ['autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'r'])).AutoScalingGroups[0];
        const ids = g.Instances.map((i: any) => i.InstanceId);
        const insts = (await awsJson(s2.awsEndpoint, ['ec2', 'describe-instances', '--filters', 'Name=tag:aws:autoscaling:groupName,Values=r'])).Reservations.flatMap((r: any) => r.Instances);
        assert.deepEqual(insts.filter((i: any) => i.State.Name !== 'terminated').map((i: any) => i.InstanceId).sort(), [...ids].sort(), 'no duplicate launches across the restart');
      } finally {
        await s2.stop();
      }
    } finally {
      await s1?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
