/**
 * Clock-driven reconcilers pick up restored state (issue 10): after a
 * snapshot restore or a reset, the Auto Scaling reconciler reconciles the
 * groups of the restored state as after a server start, with the aws CLI:
 *  - a snapshot file whose group wants 2 instances (edited export, as a
 *    snapshot of a group caught half-way through scaling out would be) is
 *    imported and restored: the group launches its 2 instances;
 *  - restoring the snapshot of the settled group (desired 0) again scales
 *    the group back in, terminating what it launched;
 *  - after a reset of the autoscaling service, a group created anew is
 *    reconciled as usual (nothing stale is left due);
 *  - EC2 instance states follow restored state with no reconciler: an
 *    instance terminated after the snapshot is back after the restore and
 *    its state is computed from the restored record as of simulated now.
 */
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);
let subnet = '';

async function admin(method: string, path: string, body?: Buffer): Promise<{ status: number; raw: Buffer; json: any }> {
  const r = await fetch(srv.awsEndpoint + path, { method, body });
  const raw = Buffer.from(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: r.status, raw, json };
}

async function group(name: string): Promise<any> {
  return (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', name)).AutoScalingGroups[0];
}

async function running(name: string): Promise<string[]> {
  const r = await aws('ec2', 'describe-instances', '--filters', `Name=tag:aws:autoscaling:groupName,Values=${name}`, 'Name=instance-state-name,Values=pending,running');
  return r.Reservations.flatMap((x: any) => x.Instances.map((i: any) => i.InstanceId));
}

async function createGroup(name: string, desired: number): Promise<void> {
  await aws(
    'autoscaling', 'create-auto-scaling-group', '--auto-scaling-group-name', name, '--launch-template', 'LaunchTemplateName=rc-lt,Version=$Latest',
    '--min-size', '0', '--max-size', '4', '--desired-capacity', String(desired), '--vpc-zone-identifier', subnet,
  );
}

describe('reconcilers after snapshot restore and reset', () => {
  before(async () => {
    srv = await startTestServer({ timingProfile: 'fast', referenceChecks: true });
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.80.0.0/16')).Vpc.VpcId;
    const az = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones[0].ZoneName;
    subnet = (await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', '10.80.0.0/24', '--availability-zone', az)).Subnet.SubnetId;
    const ami = (await aws('ec2', 'describe-images', '--owners', 'amazon')).Images[0].ImageId;
    await aws('ec2', 'create-launch-template', '--launch-template-name', 'rc-lt', '--launch-template-data', JSON.stringify({ ImageId: ami, InstanceType: 't3.medium' }));
  });
  after(async () => {
    await srv?.stop();
  });

  it('a restored group that wants instances launches them; restoring the settled one scales it back in', async () => {
    await createGroup('rc', 0);
    assert.equal((await group('rc')).Instances.length, 0);
    assert.equal((await admin('POST', '/_localeks/snapshots/settled')).status, 201);

    // The same state, but the group wants 2 instances and has none yet.
    const exported = await admin('GET', '/_localeks/snapshots/settled/export');
    assert.equal(exported.status, 200);
    const snap = JSON.parse(gunzipSync(exported.raw).toString('utf8'));
    const entry = snap.entries.find(([k]: [string, string]) => k.includes('/autoscaling/') && k.includes('/group/') && k.endsWith('/rc'));
    assert.ok(entry, 'the group is in the snapshot');
    const doc = JSON.parse(entry[1]);
    doc.DesiredCapacity = 2;
    entry[1] = JSON.stringify(doc);
    assert.equal((await admin('POST', '/_localeks/snapshots/import?name=wants-two', gzipSync(Buffer.from(JSON.stringify(snap))))).status, 201);

    assert.equal((await admin('POST', '/_localeks/snapshots/wants-two/restore')).status, 200);
    const g = await waitFor(
      async () => {
        const x = await group('rc');
        return x.DesiredCapacity === 2 && x.Instances.length === 2 && x.Instances.every((i: any) => i.LifecycleState === 'InService') ? x : undefined;
      },
      { what: 'the restored group to launch 2 instances' },
    );
    assert.deepEqual((await running('rc')).sort(), g.Instances.map((i: any) => i.InstanceId).sort());

    // Back to the settled snapshot: the group has no members, and the EC2
    // instances it launched are gone with the restore (EC2 state is restored too).
    assert.equal((await admin('POST', '/_localeks/snapshots/settled/restore')).status, 200);
    assert.equal((await group('rc')).Instances.length, 0);
    assert.deepEqual(await running('rc'), []);
    // And restoring the wanting state again launches again (the reconciler is still alive).
    assert.equal((await admin('POST', '/_localeks/snapshots/wants-two/restore')).status, 200);
    await waitFor(async () => (await group('rc')).Instances.length === 2, { what: 'the group to launch again' });
  });

  it('after a reset of the autoscaling service, new groups are reconciled as usual', async () => {
    const r = await admin('POST', '/_localeks/reset?service=autoscaling');
    assert.equal(r.status, 200);
    const names = (await aws('autoscaling', 'describe-auto-scaling-groups')).AutoScalingGroups.map((x: any) => x.AutoScalingGroupName);
    assert.deepEqual(names, []);
    await createGroup('after-reset', 1);
    await waitFor(async () => (await group('after-reset')).Instances.some((i: any) => i.LifecycleState === 'InService'), { what: 'the new group to launch its instance' });
  });

  it('EC2 instances come back with the state their restored records give as of simulated now', async () => {
    const ami = (await aws('ec2', 'describe-images', '--owners', 'amazon')).Images[0].ImageId;
    const id = (await aws('ec2', 'run-instances', '--image-id', ami, '--instance-type', 't3.micro', '--subnet-id', subnet, '--count', '1')).Instances[0].InstanceId;
    const state = async () => (await aws('ec2', 'describe-instances', '--instance-ids', id)).Reservations[0].Instances[0].State.Name;
    await waitFor(async () => (await state()) === 'running', { what: 'the instance to run' });
    assert.equal((await admin('POST', '/_localeks/snapshots/one-instance')).status, 201);
    await aws('ec2', 'terminate-instances', '--instance-ids', id);
    await waitFor(async () => (await state()) === 'terminated', { what: 'the instance to terminate' });
    assert.equal((await admin('POST', '/_localeks/snapshots/one-instance/restore')).status, 200);
    assert.equal(await state(), 'running');
    // And the restored instance is an ordinary one: it can be stopped, on simulated time.
    await aws('ec2', 'stop-instances', '--instance-ids', id);
    assert.equal((await admin('POST', '/_localeks/clock/advance?seconds=600')).status, 200);
    assert.equal(await state(), 'stopped');
  });
});
