/**
 * EKS against the emulated EC2, IAM, Auto Scaling and CloudWatch Logs, with
 * reference checks on (the default): subnets must exist and span two AZs,
 * roles must exist, the cluster security group is a real EC2 group in the
 * VPC, node groups are real Auto Scaling groups, Fargate profiles take only
 * private subnets, and an add-on whose role does not exist ends DEGRADED.
 * Driven with the aws CLI. Skips while EC2 is not served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';
import type { AwsDeps } from '../../src/aws/core/deps.ts';
import type { AwsProvider } from '../../src/aws/core/types.ts';
import { createProviders } from '../../src/aws/providers.ts';

let srv: TestServer;
let ep: string;
let skip: string | undefined;
let vpcId = '';
let pub: string[] = [];
let priv: string[] = [];
let roleArn = '';
const aws = (...args: string[]) => awsJson(ep, args);

/** The registered providers, plus EC2 when it exists in the tree but is not registered yet. */
async function providers(): Promise<(deps: AwsDeps) => AwsProvider[]> {
  let ec2: ((d: AwsDeps) => AwsProvider) | undefined;
  try {
    const spec = new URL('../../src/aws/ec2/provider.ts', import.meta.url).href;
    ec2 = ((await import(spec)) as { createEc2Provider?: (d: AwsDeps) => AwsProvider }).createEc2Provider;
  } catch {
    ec2 = undefined;
  }
  return (deps) => {
    const list = createProviders(deps);
    if (ec2 && !list.some((p) => p.service === 'ec2')) list.push(ec2(deps));
    return list;
  };
}

describe('eks with reference checks against EC2/IAM/Auto Scaling/Logs (aws CLI)', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true }, { providers: await providers() });
    ep = srv.awsEndpoint;
    const probe = await runAws(ep, ['ec2', 'describe-vpcs']);
    if (probe.code !== 0) {
      skip = `EC2 is not available yet (${probe.errorCode}: ${probe.errorMessage})`;
      return;
    }
    vpcId = (await aws('ec2', 'create-vpc', '--cidr-block', '10.40.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    for (const [i, az] of azs.entries()) {
      pub.push((await aws('ec2', 'create-subnet', '--vpc-id', vpcId, '--cidr-block', `10.40.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
      priv.push((await aws('ec2', 'create-subnet', '--vpc-id', vpcId, '--cidr-block', `10.40.${10 + i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    }
    const igw = (await aws('ec2', 'create-internet-gateway')).InternetGateway.InternetGatewayId;
    await aws('ec2', 'attach-internet-gateway', '--internet-gateway-id', igw, '--vpc-id', vpcId);
    const rt = (await aws('ec2', 'create-route-table', '--vpc-id', vpcId)).RouteTable.RouteTableId;
    await aws('ec2', 'create-route', '--route-table-id', rt, '--destination-cidr-block', '0.0.0.0/0', '--gateway-id', igw);
    for (const s of pub) await aws('ec2', 'associate-route-table', '--route-table-id', rt, '--subnet-id', s);
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com', 'eks-fargate-pods.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    roleArn = (await aws('iam', 'create-role', '--role-name', 'eks-refs', '--assume-role-policy-document', trust)).Role.Arn;
  });
  after(async () => {
    await srv?.stop();
  });

  it('refuses unknown subnets, one AZ and unknown roles with EKS wording', async (t) => {
    if (skip) return t.skip(skip);
    const oneAz = await runAws(ep, ['eks', 'create-cluster', '--name', 'r1', '--role-arn', roleArn, '--resources-vpc-config', `subnetIds=${pub[0]},${priv[0]}`]);
    assert.equal(oneAz.errorCode, 'InvalidParameterException');
    assert.equal(oneAz.errorMessage, 'Subnets specified must be in at least two different AZs');
    const ghost = await runAws(ep, ['eks', 'create-cluster', '--name', 'r1', '--role-arn', roleArn, '--resources-vpc-config', `subnetIds=${pub[0]},subnet-0123456789abcdef0`]);
    assert.equal(ghost.errorCode, 'InvalidParameterException');
    assert.match(ghost.errorMessage ?? '', /^The subnet ID 'subnet-0123456789abcdef0' does not exist \(Service: AmazonEC2; Status Code: 400; Error Code: InvalidSubnetID.NotFound;/);
    const norole = await runAws(ep, ['eks', 'create-cluster', '--name', 'r1', '--role-arn', 'arn:aws:iam::000000000000:role/nope', '--resources-vpc-config', `subnetIds=${priv.join(',')}`]);
    assert.equal(norole.errorCode, 'InvalidParameterException');
    assert.equal(norole.errorMessage, 'Role with arn: arn:aws:iam::000000000000:role/nope, could not be assumed because it does not exist or the trusted entity is not correct');
    const zones = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName);
    if (zones.includes('us-east-1e')) {
      const e1 = (await aws('ec2', 'create-subnet', '--vpc-id', vpcId, '--cidr-block', '10.40.50.0/24', '--availability-zone', 'us-east-1e')).Subnet.SubnetId;
      const az = await runAws(ep, ['eks', 'create-cluster', '--name', 'r1', '--role-arn', roleArn, '--resources-vpc-config', `subnetIds=${priv[0]},${e1}`]);
      assert.equal(az.errorCode, 'UnsupportedAvailabilityZoneException');
      assert.match(az.errorMessage ?? '', /^Cannot create cluster 'r1' because us-east-1e, the targeted availability zone, does not currently have sufficient capacity to support the cluster\. Retry and choose from these availability zones: us-east-1a, /);
      await aws('ec2', 'delete-subnet', '--subnet-id', e1);
    }
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, []);
  });

  it('creates the cluster security group in the VPC, a real ASG per node group, Fargate on private subnets only', async (t) => {
    if (skip) return t.skip(skip);
    await aws('eks', 'create-cluster', '--name', 'refs', '--role-arn', roleArn, '--resources-vpc-config', `subnetIds=${[...pub, ...priv].join(',')}`);
    const c = await waitFor(async () => {
      const x = (await aws('eks', 'describe-cluster', '--name', 'refs')).cluster;
      return x.status === 'ACTIVE' ? x : undefined;
    }, { what: 'cluster ACTIVE' });
    assert.equal(c.resourcesVpcConfig.vpcId, vpcId);
    assert.equal(c.kubernetesNetworkConfig.serviceIpv4Cidr, '172.20.0.0/16', 'a 10.x VPC gets the 172.20.0.0/16 service CIDR');
    const sg = (await aws('ec2', 'describe-security-groups', '--group-ids', c.resourcesVpcConfig.clusterSecurityGroupId)).SecurityGroups[0];
    assert.equal(sg.VpcId, vpcId);
    assert.match(sg.GroupName, /^eks-cluster-sg-refs-/);
    assert.ok(sg.IpPermissions.some((p: any) => p.IpProtocol === '-1' && p.UserIdGroupPairs?.some((g: any) => g.GroupId === sg.GroupId)), 'members of the cluster SG reach each other');

    await aws('eks', 'create-nodegroup', '--cluster-name', 'refs', '--nodegroup-name', 'ng', '--node-role', roleArn, '--subnets', ...priv, '--scaling-config', 'minSize=1,maxSize=2,desiredSize=1');
    const ng = await waitFor(async () => {
      const x = (await aws('eks', 'describe-nodegroup', '--cluster-name', 'refs', '--nodegroup-name', 'ng')).nodegroup;
      return x.status === 'ACTIVE' ? x : undefined;
    }, { what: 'node group ACTIVE' });
    const asgName = ng.resources.autoScalingGroups[0].name;
    const asg = (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', asgName)).AutoScalingGroups[0];
    assert.ok(asg, `ASG ${asgName} exists`);
    assert.equal(asg.MaxSize, 2);

    await aws('ec2', 'create-key-pair', '--key-name', 'ops').catch(() => undefined);
    await aws('eks', 'create-nodegroup', '--cluster-name', 'refs', '--nodegroup-name', 'ssh', '--node-role', roleArn, '--subnets', priv[0]!, '--remote-access', 'ec2SshKey=ops');
    const ssh = await waitFor(async () => {
      const x = (await aws('eks', 'describe-nodegroup', '--cluster-name', 'refs', '--nodegroup-name', 'ssh')).nodegroup;
      return x.status === 'ACTIVE' ? x : undefined;
    }, { what: 'ssh node group ACTIVE' });
    const rsg = (await aws('ec2', 'describe-security-groups', '--group-ids', ssh.resources.remoteAccessSecurityGroup)).SecurityGroups[0];
    assert.match(rsg.GroupName, /^eks-remoteAccess-/);
    assert.ok(rsg.IpPermissions.some((p: any) => p.FromPort === 22 && p.IpRanges?.some((r: any) => r.CidrIp === '0.0.0.0/0')));

    const pubFp = await runAws(ep, ['eks', 'create-fargate-profile', '--cluster-name', 'refs', '--fargate-profile-name', 'fp', '--pod-execution-role-arn', roleArn, '--subnets', pub[0]!, '--selectors', 'namespace=default']);
    assert.equal(pubFp.errorCode, 'InvalidParameterException');
    assert.equal(pubFp.errorMessage, `Subnet ${pub[0]} provided in Fargate Profile is not a private subnet`);
    const fp = await aws('eks', 'create-fargate-profile', '--cluster-name', 'refs', '--fargate-profile-name', 'fp', '--pod-execution-role-arn', roleArn, '--selectors', 'namespace=default');
    assert.deepEqual([...fp.fargateProfile.subnets].sort(), [...priv].sort(), 'defaults to the cluster private subnets');

    // A cluster whose role is deleted reports it in health.
    const role2 = (await aws('iam', 'create-role', '--role-name', 'eks-refs-2', '--assume-role-policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }))).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'fragile', '--role-arn', role2, '--resources-vpc-config', `subnetIds=${priv.join(',')}`);
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'fragile')).cluster.status === 'ACTIVE', { what: 'fragile ACTIVE' });
    assert.deepEqual((await aws('eks', 'describe-cluster', '--name', 'fragile')).cluster.health.issues, []);
    await aws('iam', 'delete-role', '--role-name', 'eks-refs-2');
    const sick = (await aws('eks', 'describe-cluster', '--name', 'fragile')).cluster;
    assert.equal(sick.health.issues[0].code, 'IamRoleNotFound');

    await aws('eks', 'create-addon', '--cluster-name', 'refs', '--addon-name', 'vpc-cni', '--service-account-role-arn', 'arn:aws:iam::000000000000:role/missing-cni');
    const ad = await waitFor(async () => {
      const x = (await aws('eks', 'describe-addon', '--cluster-name', 'refs', '--addon-name', 'vpc-cni')).addon;
      return x.status !== 'CREATING' ? x : undefined;
    }, { what: 'add-on settled' });
    assert.equal(ad.status, 'DEGRADED');
    assert.equal(ad.health.issues[0].code, 'AccessDenied');
  });
});
