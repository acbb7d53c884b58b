/**
 * A managed node group's instances boot while it is CREATING, as on EKS:
 * its Auto Scaling group exists (with pending instances) as soon as
 * CreateNodegroup is accepted, its instances run before it turns ACTIVE,
 * and deleting it while CREATING removes its Auto Scaling group. Realistic
 * timing profile on a clock the test advances (no race with the clients'
 * start-up); EKS through @aws-sdk/client-eks, EC2 and Auto Scaling through
 * the aws CLI.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as E from '@aws-sdk/client-eks';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let eks: E.EKSClient;
const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);
const describeNg = async (name: string) => (await eks.send(new E.DescribeNodegroupCommand({ clusterName: 'launch', nodegroupName: name }))).nodegroup!;
const MIN = 60_000;
let subnets: string[] = [];
let nodeRole = '';

/** advance moves the simulated clock and lets the transitions that came due write. */
async function advance(ms: number): Promise<void> {
  srv.server.clock.advance(ms);
  await new Promise((r) => setTimeout(r, 50));
}

/** instancesOf lists the states of the instances the Auto Scaling group launched (by its tag). */
async function instancesOf(asgName: string): Promise<string[]> {
  const r = await aws('ec2', 'describe-instances', '--filters', `Name=tag:aws:autoscaling:groupName,Values=${asgName}`);
  return r.Reservations.flatMap((x: any) => x.Instances).map((i: any) => i.State.Name);
}

describe('managed node group launch (realistic profile, advanced clock)', () => {
  before(async () => {
    srv = await startTestServer({ timingProfile: 'realistic' });
    eks = new E.EKSClient({ endpoint: srv.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.9.0.0/16')).Vpc.VpcId;
    subnets = await Promise.all(
      ['us-east-1a', 'us-east-1b'].map(async (az, i) => (await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.9.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId),
    );
    const trust = (svc: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: svc }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'launch-cluster', '--assume-role-policy-document', trust('eks.amazonaws.com'))).Role.Arn;
    nodeRole = (await aws('iam', 'create-role', '--role-name', 'launch-node', '--assume-role-policy-document', trust('ec2.amazonaws.com'))).Role.Arn;
    await eks.send(new E.CreateClusterCommand({ name: 'launch', roleArn: clusterRole, resourcesVpcConfig: { subnetIds: subnets } }));
    await advance(10 * MIN);
    await waitFor(async () => (await eks.send(new E.DescribeClusterCommand({ name: 'launch' }))).cluster!.status === 'ACTIVE', { what: 'cluster ACTIVE' });
  });
  after(async () => {
    eks?.destroy();
    await srv?.stop();
  });

  it('instances launch when the node group is accepted and run while it is CREATING', async () => {
    const created = (await eks.send(new E.CreateNodegroupCommand({ clusterName: 'launch', nodegroupName: 'ng', nodeRole, subnets, scalingConfig: { minSize: 2, maxSize: 2, desiredSize: 2 } }))).nodegroup!;
    assert.equal(created.status, 'CREATING');
    const ng = await describeNg('ng');
    assert.equal(ng.status, 'CREATING');
    const asgName = ng.resources!.autoScalingGroups![0]!.name!;
    assert.match(asgName, /^eks-ng-[0-9a-f-]{36}$/);
    assert.deepEqual(await waitFor(async () => {
      const st = await instancesOf(asgName);
      return st.length === 2 ? st : undefined;
    }, { what: '2 instances launched' }), ['pending', 'pending']);
    await advance(15_000);
    assert.deepEqual(await instancesOf(asgName), ['running', 'running']);
    assert.equal((await describeNg('ng')).status, 'CREATING', 'still CREATING while its nodes join');
    await advance(3 * MIN);
    const active = await waitFor(async () => {
      const x = await describeNg('ng');
      return x.status === 'ACTIVE' ? x : undefined;
    }, { what: 'node group ACTIVE' });
    assert.deepEqual(active?.resources?.autoScalingGroups, [{ name: asgName }], 'the same group');
  });

  it('a node group deleted while CREATING takes its Auto Scaling group and instances with it', async () => {
    await eks.send(new E.CreateNodegroupCommand({ clusterName: 'launch', nodegroupName: 'gone', nodeRole, subnets: [subnets[0]!], scalingConfig: { minSize: 1, maxSize: 1, desiredSize: 1 } }));
    const asgName = (await describeNg('gone')).resources!.autoScalingGroups![0]!.name!;
    await waitFor(async () => (await instancesOf(asgName)).length === 1, { what: 'its instance launched' });
    assert.equal((await eks.send(new E.DeleteNodegroupCommand({ clusterName: 'launch', nodegroupName: 'gone' }))).nodegroup?.status, 'DELETING');
    await advance(10 * MIN);
    await waitFor(async () => !(await eks.send(new E.ListNodegroupsCommand({ clusterName: 'launch' }))).nodegroups?.includes('gone'), { what: 'node group deleted' });
    await waitFor(async () => (await instancesOf(asgName)).every((x) => x === 'shutting-down' || x === 'terminated'), { what: 'its instance terminating' });
    await advance(MIN); // to the end of its termination
    await waitFor(async () => (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', asgName)).AutoScalingGroups.length === 0, { what: 'Auto Scaling group deleted', timeoutMs: 60_000 });
    const states = await instancesOf(asgName);
    assert.ok(states.length === 1 && states.every((s: string) => s === 'shutting-down' || s === 'terminated'), states.join(','));
  });
});
