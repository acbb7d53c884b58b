/**
 * EC2 end to end with the real aws CLI (v1) and boto3: a seed-000 style
 * network (VPC, subnets in three AZs, IGW, NAT gateways with EIPs, route
 * tables), security groups and rules, key pairs, launch templates,
 * instances with their states and subnet addresses, instance types, tags
 * and filters, pagination, and EC2's error codes and messages for bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { boto3Json, runBoto3 } from '../helpers/boto3.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const aws = (...args: string[]) => awsJson(ep, args);

async function awsFails(args: string[], code: string, message?: RegExp): Promise<void> {
  const r = await runAws(ep, args);
  assert.notEqual(r.code, 0, `expected ${code} from aws ${args.join(' ')}`);
  assert.equal(r.errorCode, code, r.stderr);
  if (message) assert.match(r.errorMessage ?? '', message);
}

describe('ec2 (aws CLI, boto3)', () => {
  before(async () => {
    srv = await startTestServer();
    ep = srv.awsEndpoint;
  });
  after(() => srv?.stop());

  it('builds a VPC with public and private subnets over three AZs with a NAT gateway per AZ (boto3 + aws CLI)', async () => {
    // The network is built in one boto3 process (fast); the checks use the aws CLI.
    const net = await boto3Json(
      ep,
      `
ec2 = client('ec2')
azs = ec2.describe_availability_zones(Filters=[{'Name': 'state', 'Values': ['available']}])['AvailabilityZones'][:3]
vpc = ec2.create_vpc(CidrBlock='10.0.0.0/16', TagSpecifications=[{'ResourceType': 'vpc', 'Tags': [{'Key': 'Name', 'Value': 'seed'}]}])['Vpc']['VpcId']
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={'Value': True})
igw = ec2.create_internet_gateway()['InternetGateway']['InternetGatewayId']
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
pub_rt = ec2.create_route_table(VpcId=vpc)['RouteTable']['RouteTableId']
ec2.create_route(RouteTableId=pub_rt, DestinationCidrBlock='0.0.0.0/0', GatewayId=igw)
nats, priv_sizes = [], []
for i, az in enumerate(azs):
    pub = ec2.create_subnet(VpcId=vpc, CidrBlock='10.0.%d.0/24' % i, AvailabilityZone=az['ZoneName'], TagSpecifications=[{'ResourceType': 'subnet', 'Tags': [{'Key': 'tier', 'Value': 'public'}]}])['Subnet']
    priv = ec2.create_subnet(VpcId=vpc, CidrBlock='10.0.%d.0/20' % (16 + i * 16), AvailabilityZoneId=az['ZoneId'], TagSpecifications=[{'ResourceType': 'subnet', 'Tags': [{'Key': 'tier', 'Value': 'private'}]}])['Subnet']
    priv_sizes.append([priv['AvailabilityZone'] == az['ZoneName'], priv['AvailableIpAddressCount']])
    ec2.modify_subnet_attribute(SubnetId=pub['SubnetId'], MapPublicIpOnLaunch={'Value': True})
    ec2.associate_route_table(RouteTableId=pub_rt, SubnetId=pub['SubnetId'])
    eip = ec2.allocate_address(Domain='vpc')['AllocationId']
    nat = ec2.create_nat_gateway(SubnetId=pub['SubnetId'], AllocationId=eip)['NatGateway']['NatGatewayId']
    nats.append(nat)
    rt = ec2.create_route_table(VpcId=vpc)['RouteTable']['RouteTableId']
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock='0.0.0.0/0', NatGatewayId=nat)
    ec2.associate_route_table(RouteTableId=rt, SubnetId=priv['SubnetId'])
result = {'vpc': vpc, 'igw': igw, 'nats': nats, 'zoneIds': [z['ZoneId'] for z in azs], 'priv': priv_sizes}
`,
    );
    assert.equal(net.zoneIds.length, 3);
    assert.match(net.zoneIds[0], /^use1-az\d$/);
    assert.deepEqual(net.priv, [[true, 4091], [true, 4091], [true, 4091]]);
    assert.equal((await aws('ec2', 'describe-vpc-attribute', '--vpc-id', net.vpc, '--attribute', 'enableDnsHostnames')).EnableDnsHostnames.Value, true);
    // `aws ec2 wait` polls DescribeNatGateways until every gateway is available.
    const w = await runAws(ep, ['ec2', 'wait', 'nat-gateway-available', '--nat-gateway-ids', ...net.nats]);
    assert.equal(w.code, 0, w.stderr);
    const privates = (await aws('ec2', 'describe-subnets', '--filters', `Name=vpc-id,Values=${net.vpc}`, 'Name=tag:tier,Values=private')).Subnets;
    assert.equal(privates.length, 3);
    assert.equal(new Set(privates.map((s: any) => s.AvailabilityZone)).size, 3);
    const publics = (await aws('ec2', 'describe-subnets', '--filters', 'Name=map-public-ip-on-launch,Values=true')).Subnets;
    // each NAT gateway took one address of its public subnet
    assert.deepEqual(publics.map((s: any) => s.AvailableIpAddressCount), [250, 250, 250]);
    const natRoutes = (await aws('ec2', 'describe-route-tables', '--filters', 'Name=route.nat-gateway-id,Values=' + net.nats[0])).RouteTables;
    assert.equal(natRoutes.length, 1);
    assert.equal(natRoutes[0].Routes.find((r: any) => r.NatGatewayId).State, 'active');

    await awsFails(['ec2', 'delete-vpc', '--vpc-id', net.vpc], 'DependencyViolation', new RegExp(`The vpc '${net.vpc}' has dependencies and cannot be deleted.`));
    await awsFails(['ec2', 'create-subnet', '--vpc-id', net.vpc, '--cidr-block', '10.1.0.0/24'], 'InvalidSubnet.Range', /The CIDR '10.1.0.0\/24' is invalid./);
    await awsFails(['ec2', 'create-subnet', '--vpc-id', net.vpc, '--cidr-block', '10.0.0.128/25'], 'InvalidSubnet.Conflict', /The CIDR '10.0.0.128\/25' conflicts with another subnet/);
    await awsFails(['ec2', 'create-subnet', '--vpc-id', net.vpc, '--cidr-block', '10.0.300.0/24'], 'InvalidParameterValue', /is not a valid CIDR block/);
    await awsFails(['ec2', 'delete-vpc', '--vpc-id', 'vpc-0123456789abcdef0'], 'InvalidVpcID.NotFound', /The vpc ID 'vpc-0123456789abcdef0' does not exist/);
    await awsFails(['ec2', 'attach-internet-gateway', '--internet-gateway-id', net.igw, '--vpc-id', net.vpc], 'Resource.AlreadyAssociated');
    await awsFails(['ec2', 'describe-subnets', '--filters', 'Name=nope,Values=x'], 'InvalidParameterValue', /The filter 'nope' is invalid/);
  });

  it('runs instances from a launch template with addresses from the subnet, and terminates them (aws CLI)', async () => {
    const env = await boto3Json(
      ep,
      `
ec2 = client('ec2')
vpc = ec2.create_vpc(CidrBlock='10.50.0.0/16')['Vpc']['VpcId']
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock='10.50.1.0/24')['Subnet']['SubnetId']
sg = ec2.create_security_group(GroupName='nodes', Description='worker nodes', VpcId=vpc)['GroupId']
result = {'vpc': vpc, 'subnet': subnet, 'sg': sg}
`,
    );
    const { vpc, subnet, sg } = env;
    await aws('ec2', 'authorize-security-group-ingress', '--group-id', sg, '--protocol', 'tcp', '--port', '443', '--cidr', '10.50.0.0/16');
    await awsFails(['ec2', 'authorize-security-group-ingress', '--group-id', sg, '--protocol', 'tcp', '--port', '443', '--cidr', '10.50.0.0/16'], 'InvalidPermission.Duplicate');
    await aws('ec2', 'authorize-security-group-ingress', '--group-id', sg, '--ip-permissions', `IpProtocol=-1,UserIdGroupPairs=[{GroupId=${sg}}]`);
    const rules = (await aws('ec2', 'describe-security-group-rules', '--filters', `Name=group-id,Values=${sg}`)).SecurityGroupRules;
    assert.equal(rules.length, 3); // two ingress + the default egress
    const key = await aws('ec2', 'create-key-pair', '--key-name', 'nodes', '--key-type', 'ed25519');
    assert.match(key.KeyMaterial, /PRIVATE KEY/);
    await awsFails(['ec2', 'create-key-pair', '--key-name', 'nodes'], 'InvalidKeyPair.Duplicate');
    const lt = (await aws('ec2', 'create-launch-template', '--launch-template-name', 'nodes', '--launch-template-data', JSON.stringify({ ImageId: 'ami-0abcdef1234567890', InstanceType: 'm5.large', KeyName: 'nodes', SecurityGroupIds: [sg] }))).LaunchTemplate;
    await aws('ec2', 'create-launch-template-version', '--launch-template-id', lt.LaunchTemplateId, '--source-version', '1', '--launch-template-data', '{"InstanceType":"m5.xlarge"}');
    await aws('ec2', 'modify-launch-template', '--launch-template-id', lt.LaunchTemplateId, '--default-version', '2');
    const def = (await aws('ec2', 'describe-launch-template-versions', '--launch-template-id', lt.LaunchTemplateId, '--versions', '$Default')).LaunchTemplateVersions[0];
    assert.equal(def.VersionNumber, 2);
    assert.equal(def.LaunchTemplateData.InstanceType, 'm5.xlarge');
    const run = await aws('ec2', 'run-instances', '--count', '3', '--subnet-id', subnet, '--launch-template', `LaunchTemplateId=${lt.LaunchTemplateId}`, '--tag-specifications', 'ResourceType=instance,Tags=[{Key=role,Value=node}]');
    assert.equal(run.Instances.length, 3);
    const ids = run.Instances.map((i: any) => i.InstanceId);
    for (const i of run.Instances) {
      assert.match(i.InstanceId, /^i-0[0-9a-f]{16}$/);
      assert.equal(i.InstanceType, 'm5.xlarge');
      assert.equal(i.SecurityGroups[0].GroupId, sg);
      assert.equal(i.PrivateDnsName, `ip-${i.PrivateIpAddress.replace(/\./g, '-')}.ec2.internal`);
    }
    const subnetFree = async () => (await aws('ec2', 'describe-subnets', '--subnet-ids', subnet)).Subnets[0].AvailableIpAddressCount;
    assert.equal(await subnetFree(), 251 - 3);
    await waitFor(async () => (await aws('ec2', 'describe-instances', '--filters', 'Name=tag:role,Values=node', 'Name=instance-state-name,Values=running')).Reservations.flatMap((r: any) => r.Instances).length === 3, { what: '3 running instances' });
    const status = await aws('ec2', 'describe-instance-status', '--instance-ids', ids[0]);
    assert.equal(status.InstanceStatuses[0].InstanceState.Name, 'running');
    await awsFails(['ec2', 'delete-subnet', '--subnet-id', subnet], 'DependencyViolation', /has dependencies and cannot be deleted/);
    await awsFails(['ec2', 'delete-security-group', '--group-id', sg], 'DependencyViolation');
    await aws('ec2', 'terminate-instances', '--instance-ids', ...ids);
    assert.equal(await subnetFree(), 251);
    await waitFor(async () => (await aws('ec2', 'describe-instances', '--instance-ids', ...ids)).Reservations.flatMap((r: any) => r.Instances).every((i: any) => i.State.Name === 'terminated'), { what: 'instances terminated' });
    await aws('ec2', 'delete-security-group', '--group-id', sg);
    await aws('ec2', 'delete-subnet', '--subnet-id', subnet);
    await aws('ec2', 'delete-vpc', '--vpc-id', vpc);
    await awsFails(['ec2', 'run-instances', '--image-id', 'ami-0abcdef1234567890', '--subnet-id', 'subnet-0123456789abcdef0'], 'InvalidSubnetID.NotFound', /The subnet ID 'subnet-0123456789abcdef0' does not exist/);
  });

  it('answers with boto3: instance types, paginators, waiters, tags and errors', async () => {
    const r = await boto3Json(
      ep,
      `
ec2 = client('ec2')
types = ec2.describe_instance_types(InstanceTypes=['m5.large', 't3.medium', 'm6g.large'])['InstanceTypes']
t = {x['InstanceType']: x for x in types}
vpc = ec2.create_vpc(CidrBlock='10.60.0.0/16')['Vpc']['VpcId']
for i in range(12):
    ec2.create_subnet(VpcId=vpc, CidrBlock='10.60.%d.0/24' % i, TagSpecifications=[{'ResourceType': 'subnet', 'Tags': [{'Key': 'n', 'Value': str(i)}]}])
pages = [len(p['Subnets']) for p in ec2.get_paginator('describe_subnets').paginate(Filters=[{'Name': 'vpc-id', 'Values': [vpc]}], PaginationConfig={'PageSize': 5})]
ec2.get_waiter('vpc_available').wait(VpcIds=[vpc])
sid = ec2.describe_subnets(Filters=[{'Name': 'tag:n', 'Values': ['3']}])['Subnets'][0]['SubnetId']
ec2.create_tags(Resources=[sid, vpc], Tags=[{'Key': 'team', 'Value': 'platform'}])
tags = ec2.describe_tags(Filters=[{'Name': 'key', 'Values': ['team']}])['Tags']
try:
    ec2.create_subnet(VpcId=vpc, CidrBlock='10.60.3.0/24')
    err = None
except ClientError as e:
    err = e.response['Error']['Code']
try:
    ec2.describe_security_groups(GroupIds=['sg-0123456789abcdef0'])
    err2 = None
except ClientError as e:
    err2 = [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
result = {
  'm5': [t['m5.large']['VCpuInfo']['DefaultVCpus'], t['m5.large']['MemoryInfo']['SizeInMiB'], t['m5.large']['NetworkInfo']['MaximumNetworkInterfaces'], t['m5.large']['NetworkInfo']['Ipv4AddressesPerInterface']],
  't3': [t['t3.medium']['NetworkInfo']['MaximumNetworkInterfaces'], t['t3.medium']['NetworkInfo']['Ipv4AddressesPerInterface']],
  'arm': t['m6g.large']['ProcessorInfo']['SupportedArchitectures'],
  'pages': pages,
  'tags': sorted(x['ResourceType'] for x in tags),
  'err': err,
  'err2': err2,
}
`,
    );
    assert.deepEqual(r.m5, [2, 8192, 3, 10]);
    assert.deepEqual(r.t3, [3, 6]);
    assert.deepEqual(r.arm, ['arm64']);
    assert.deepEqual(r.pages, [5, 5, 2]);
    assert.deepEqual(r.tags, ['subnet', 'vpc']);
    assert.equal(r.err, 'InvalidSubnet.Conflict');
    assert.deepEqual(r.err2, ['InvalidGroup.NotFound', "The security group 'sg-0123456789abcdef0' does not exist", 400]);
    const bad = await runBoto3(ep, `result = client('ec2').describe_instances(InstanceIds=['i-0123456789abcdef0'])`);
    assert.equal(bad.error?.Code, 'InvalidInstanceID.NotFound');
    assert.equal(bad.error?.Message, "The instance ID 'i-0123456789abcdef0' does not exist");
  });

  it('keeps an instance pending until the simulated clock says otherwise (boto3)', async () => {
    const ids = await boto3Json(
      ep,
      `
ec2 = client('ec2')
vpc = ec2.create_vpc(CidrBlock='10.70.0.0/16')['Vpc']['VpcId']
s = ec2.create_subnet(VpcId=vpc, CidrBlock='10.70.0.0/28')['Subnet']
r = ec2.run_instances(ImageId='ami-0abcdef1234567890', InstanceType='t3.medium', MinCount=1, MaxCount=20, SubnetId=s['SubnetId'])
left = ec2.describe_subnets(SubnetIds=[s['SubnetId']])['Subnets'][0]['AvailableIpAddressCount']
result = {'n': len(r['Instances']), 'state': r['Instances'][0]['State']['Name'], 'left': left, 'id': r['Instances'][0]['InstanceId']}
`,
    );
    // a /28 has 16 addresses, 5 reserved: MaxCount 20 launches 11
    assert.equal(ids.n, 11);
    assert.equal(ids.state, 'pending');
    assert.equal(ids.left, 0);
    await waitFor(async () => (await aws('ec2', 'describe-instances', '--instance-ids', ids.id)).Reservations[0].Instances[0].State.Name === 'running', {
      what: 'instance running',
    });
  });
});
