/**
 * EC2 provider unit tests: handlers called directly with a fake
 * RequestContext over AwsState on the memory backend and a SimClock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { SimClock } from '../../sim/clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import { AwsState } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { maxPods } from './instance-types.ts';
import { createEc2Provider } from './provider.ts';
import * as shared from './shared.ts';

async function setup(profile: 'instant' | 'fast' = 'fast', backend = new MemoryBackend(), clock = new SimClock()) {
  const state = new AwsState(backend);
  await state.start();
  const deps = {
    state,
    clock,
    config: { defaultAccountId: '000000000000', enforceIam: false, referenceChecks: true, timingProfile: profile, awsEndpoint: '', kubeEndpoint: '', caCertPem: '' },
    log: pino({ level: 'silent' }),
  } as AwsDeps;
  const p = createEc2Provider(deps);
  const ctx = (region = 'us-east-1'): RequestContext => ({
    accountId: '111122223333',
    region,
    requestId: 'r',
    service: 'ec2',
    operation: '',
    accessKeyId: 'test',
    callerArn: 'arn:aws:iam::111122223333:root',
    callerUserId: '111122223333',
    now: () => clock.now(),
  });
  const call = async (op: string, input: any = {}, region?: string) => {
    const h = p.operations[op];
    assert.ok(h, `no handler for ${op}`);
    return h(input, ctx(region));
  };
  const fails = async (op: string, input: any, code: string, msg?: RegExp) => {
    await assert.rejects(call(op, input), (e: any) => {
      assert.equal(e.code, code, `${op}: ${e.message}`);
      if (msg) assert.match(e.message, msg);
      return true;
    });
  };
  return { deps, clock, call, fails, backend, scope: { accountId: '111122223333', region: 'us-east-1' } };
}

describe('ec2 provider', () => {
  it('describes regions, zones with zone ids, and account attributes', async () => {
    const { call } = await setup();
    const azs = await call('DescribeAvailabilityZones');
    assert.deepEqual(azs.AvailabilityZones.map((z: any) => z.ZoneName), ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e', 'us-east-1f']);
    assert.equal(azs.AvailabilityZones[0].ZoneId, 'use1-az1');
    const euw = await call('DescribeAvailabilityZones', { Filters: [{ Name: 'zone-id', Values: ['euw1-az2'] }] }, 'eu-west-1');
    assert.equal(euw.AvailabilityZones[0].ZoneName, 'eu-west-1b');
    const regions = await call('DescribeRegions', { RegionNames: ['eu-west-1'] });
    assert.equal(regions.Regions[0].Endpoint, 'ec2.eu-west-1.amazonaws.com');
    await assert.rejects(call('CreateVpc', { CidrBlock: '10.0.0.0/16', DryRun: true }), (e: any) => e.code === 'DryRunOperation' && e.status === 412);
    assert.equal((await call('DescribeVpcs')).Vpcs.length, 0);
    const attrs = await call('DescribeAccountAttributes', { AttributeNames: ['supported-platforms'] });
    assert.equal(attrs.AccountAttributes[0].AttributeValues[0].AttributeValue, 'VPC');
  });

  it('creates a VPC with its default resources and refuses to delete it while it has dependencies', async () => {
    const { call, fails } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'main' }] }] })).Vpc;
    assert.match(vpc.VpcId, /^vpc-0[0-9a-f]{16}$/);
    assert.equal(vpc.State, 'available');
    assert.deepEqual(vpc.Tags, [{ Key: 'Name', Value: 'main' }]);
    assert.equal(Object.keys(vpc).some((k) => k.startsWith('_')), false);
    const sgs = await call('DescribeSecurityGroups', { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }, { Name: 'group-name', Values: ['default'] }] });
    assert.equal(sgs.SecurityGroups.length, 1);
    assert.equal(sgs.SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0].GroupId, sgs.SecurityGroups[0].GroupId);
    assert.equal(sgs.SecurityGroups[0].IpPermissionsEgress[0].IpRanges[0].CidrIp, '0.0.0.0/0');
    const rts = await call('DescribeRouteTables', { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }, { Name: 'association.main', Values: ['true'] }] });
    assert.equal(rts.RouteTables.length, 1);
    assert.deepEqual(rts.RouteTables[0].Routes[0], { DestinationCidrBlock: '10.0.0.0/16', GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' });
    const acls = await call('DescribeNetworkAcls', { Filters: [{ Name: 'default', Values: ['true'] }, { Name: 'vpc-id', Values: [vpc.VpcId] }] });
    assert.equal(acls.NetworkAcls.length, 1);
    const dopts = await call('DescribeDhcpOptions', { DhcpOptionsIds: [vpc.DhcpOptionsId] });
    assert.equal(dopts.DhcpOptions[0].DhcpConfigurations[0].Values[0].Value, 'ec2.internal');

    assert.equal((await call('DescribeVpcAttribute', { VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' })).EnableDnsSupport.Value, true);
    await call('ModifyVpcAttribute', { VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } });
    assert.equal((await call('DescribeVpcAttribute', { VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' })).EnableDnsHostnames.Value, true);

    const subnet = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1b' })).Subnet;
    await fails('DeleteVpc', { VpcId: vpc.VpcId }, 'DependencyViolation', new RegExp(`The vpc '${vpc.VpcId}' has dependencies and cannot be deleted.`));
    await call('DeleteSubnet', { SubnetId: subnet.SubnetId });
    await call('DeleteVpc', { VpcId: vpc.VpcId });
    await fails('DescribeVpcs', { VpcIds: [vpc.VpcId] }, 'InvalidVpcID.NotFound', /The vpc ID 'vpc-.*' does not exist/);
    assert.equal((await call('DescribeSecurityGroups', { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }] })).SecurityGroups.length, 0);
    await fails('CreateVpc', { CidrBlock: '10.0.0.0/8' }, 'InvalidVpc.Range');
    await fails('CreateVpc', { CidrBlock: '10.0.0.0/33' }, 'InvalidParameterValue');
  });

  it('validates subnet CIDRs and counts available addresses', async () => {
    const { call, fails, deps, scope } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.1.0.0/16' })).Vpc;
    const s = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.0.0/24', AvailabilityZoneId: 'use1-az2' })).Subnet;
    assert.equal(s.AvailabilityZone, 'us-east-1b');
    assert.equal(s.AvailableIpAddressCount, 251);
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.2.0.0/24' }, 'InvalidSubnet.Range', /The CIDR '10.2.0.0\/24' is invalid./);
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.0.128/25' }, 'InvalidSubnet.Conflict', /conflicts with another subnet/);
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.0.300/24' }, 'InvalidParameterValue');
    await fails('CreateSubnet', { VpcId: 'vpc-0000000000000000a', CidrBlock: '10.1.1.0/24' }, 'InvalidVpcID.NotFound');
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.1.0/24', AvailabilityZone: 'us-east-1z' }, 'InvalidParameterValue', /availability zones/);
    // nothing was stored by the failures
    assert.equal((await call('DescribeSubnets', { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }] })).Subnets.length, 1);

    const ips = await shared.allocatePrivateIps(deps.state, scope, s.SubnetId, 10);
    assert.equal(ips[0], '10.1.0.4');
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 241);
    await shared.releasePrivateIps(deps.state, scope, s.SubnetId, ips.slice(0, 5));
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 246);

    await call('ModifySubnetAttribute', { SubnetId: s.SubnetId, MapPublicIpOnLaunch: { Value: true } });
    const f = await call('DescribeSubnets', { Filters: [{ Name: 'map-public-ip-on-launch', Values: ['true'] }, { Name: 'availability-zone', Values: ['us-east-1*'] }] });
    assert.deepEqual(f.Subnets.map((x: any) => x.SubnetId), [s.SubnetId]);
    await fails('DescribeSubnets', { Filters: [{ Name: 'bogus', Values: ['x'] }] }, 'InvalidParameterValue', /The filter 'bogus' is invalid/);
  });

  it('paginates and filters by tags', async () => {
    const { call } = await setup();
    for (let i = 0; i < 7; i++) {
      await call('CreateVpc', { CidrBlock: `10.${i}.0.0/16`, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'env', Value: i % 2 ? 'odd' : 'even' }] }] });
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const r = await call('DescribeVpcs', { MaxResults: 5, NextToken: token });
      seen.push(...r.Vpcs.map((v: any) => v.VpcId));
      token = r.NextToken;
    } while (token);
    assert.equal(new Set(seen).size, 7);
    assert.equal((await call('DescribeVpcs', { Filters: [{ Name: 'tag:env', Values: ['odd'] }] })).Vpcs.length, 3);
    assert.equal((await call('DescribeVpcs', { Filters: [{ Name: 'tag-key', Values: ['env'] }] })).Vpcs.length, 7);
    const one = (await call('DescribeVpcs', { Filters: [{ Name: 'tag:env', Values: ['even'] }] })).Vpcs[0].VpcId;
    await call('CreateTags', { Resources: [one], Tags: [{ Key: 'team', Value: 'a' }] });
    const tags = await call('DescribeTags', { Filters: [{ Name: 'resource-id', Values: [one] }] });
    assert.deepEqual(tags.Tags.map((t: any) => t.Key).sort(), ['env', 'team']);
    await call('DeleteTags', { Resources: [one], Tags: [{ Key: 'team' }] });
    assert.equal((await call('DescribeTags', { Filters: [{ Name: 'key', Values: ['team'] }] })).Tags.length, 0);
  });

  it('manages security group rules with duplicates, group references and rule ids', async () => {
    const { call, fails } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const a = await call('CreateSecurityGroup', { GroupName: 'a', Description: 'A', VpcId: vpc.VpcId });
    const b = await call('CreateSecurityGroup', { GroupName: 'b', Description: 'B', VpcId: vpc.VpcId });
    await fails('CreateSecurityGroup', { GroupName: 'a', Description: 'A', VpcId: vpc.VpcId }, 'InvalidGroup.Duplicate');
    const perm = { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }], UserIdGroupPairs: [{ GroupId: b.GroupId }] };
    const r = await call('AuthorizeSecurityGroupIngress', { GroupId: a.GroupId, IpPermissions: [perm] });
    assert.equal(r.SecurityGroupRules.length, 2);
    assert.match(r.SecurityGroupRules[0].SecurityGroupRuleId, /^sgr-/);
    await fails('AuthorizeSecurityGroupIngress', { GroupId: a.GroupId, IpPermissions: [{ IpProtocol: '6', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }] }, 'InvalidPermission.Duplicate');
    const g = (await call('DescribeSecurityGroups', { GroupIds: [a.GroupId] })).SecurityGroups[0];
    assert.equal(g.IpPermissions.length, 1);
    assert.equal(g.IpPermissions[0].FromPort, 443);
    assert.equal(g.IpPermissions[0].UserIdGroupPairs[0].GroupId, b.GroupId);
    await fails('DeleteSecurityGroup', { GroupId: b.GroupId }, 'DependencyViolation');
    const rules = await call('DescribeSecurityGroupRules', { Filters: [{ Name: 'group-id', Values: [a.GroupId] }] });
    assert.equal(rules.SecurityGroupRules.length, 3);
    await call('RevokeSecurityGroupIngress', { GroupId: a.GroupId, IpPermissions: [perm] });
    await call('RevokeSecurityGroupEgress', { GroupId: a.GroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] });
    await fails('RevokeSecurityGroupEgress', { GroupId: a.GroupId, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }, 'InvalidPermission.NotFound');
    await call('DeleteSecurityGroup', { GroupId: b.GroupId });
    await fails('DescribeSecurityGroups', { GroupIds: [b.GroupId] }, 'InvalidGroup.NotFound');
  });

  it('routes through internet and NAT gateways that follow the clock', async () => {
    const { call, fails, clock, deps, scope } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const pub = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24' })).Subnet;
    const igw = (await call('CreateInternetGateway', {})).InternetGateway;
    await fails('DetachInternetGateway', { InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }, 'Gateway.NotAttached');
    await call('AttachInternetGateway', { InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId });
    await fails('AttachInternetGateway', { InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }, 'Resource.AlreadyAssociated');
    const rt = (await call('CreateRouteTable', { VpcId: vpc.VpcId })).RouteTable;
    await call('CreateRoute', { RouteTableId: rt.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId });
    await fails('CreateRoute', { RouteTableId: rt.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId }, 'RouteAlreadyExists');
    assert.equal(shared.isPublicSubnet(deps.state, scope, pub.SubnetId), false);
    const assoc = await call('AssociateRouteTable', { RouteTableId: rt.RouteTableId, SubnetId: pub.SubnetId });
    await fails('AssociateRouteTable', { RouteTableId: rt.RouteTableId, SubnetId: pub.SubnetId }, 'Resource.AlreadyAssociated');
    assert.equal(shared.isPublicSubnet(deps.state, scope, pub.SubnetId), true);

    const eip = await call('AllocateAddress', { Domain: 'vpc' });
    const nat = (await call('CreateNatGateway', { SubnetId: pub.SubnetId, AllocationId: eip.AllocationId })).NatGateway;
    assert.equal(nat.State, 'pending');
    assert.equal(shared.getSubnet(deps.state, scope, pub.SubnetId)!.AvailableIpAddressCount, 250);
    clock.advance(5_000);
    const desc = (await call('DescribeNatGateways', { NatGatewayIds: [nat.NatGatewayId] })).NatGateways[0];
    assert.equal(desc.State, 'available');
    assert.equal(desc.NatGatewayAddresses[0].PublicIp, eip.PublicIp);
    await fails('ReleaseAddress', { AllocationId: eip.AllocationId }, 'InvalidIPAddress.InUse');
    await fails('DetachInternetGateway', { InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId }, 'DependencyViolation');
    await call('DeleteNatGateway', { NatGatewayId: nat.NatGatewayId });
    clock.advance(5_000);
    assert.equal((await call('DescribeNatGateways', { NatGatewayIds: [nat.NatGatewayId] })).NatGateways[0].State, 'deleted');
    await call('ReleaseAddress', { AllocationId: eip.AllocationId });
    await call('DisassociateRouteTable', { AssociationId: assoc.AssociationId });
    await call('DeleteRouteTable', { RouteTableId: rt.RouteTableId });
    await call('DetachInternetGateway', { InternetGatewayId: igw.InternetGatewayId, VpcId: vpc.VpcId });
    await call('DeleteInternetGateway', { InternetGatewayId: igw.InternetGatewayId });
    await call('DeleteSubnet', { SubnetId: pub.SubnetId });
    await call('DeleteVpc', { VpcId: vpc.VpcId });
  });

  it('launches instances from a launch template, advances their state and releases their addresses', async () => {
    const { call, fails, clock, deps, scope } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const s = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/28' })).Subnet;
    assert.equal(s.AvailableIpAddressCount, 11);
    const key = await call('CreateKeyPair', { KeyName: 'k' });
    assert.match(key.KeyMaterial, /BEGIN RSA PRIVATE KEY/);
    assert.match(key.KeyFingerprint, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    const lt = (await call('CreateLaunchTemplate', { LaunchTemplateName: 'nodes', LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0', InstanceType: 'm5.large', KeyName: 'k' } })).LaunchTemplate;
    await call('CreateLaunchTemplateVersion', { LaunchTemplateId: lt.LaunchTemplateId, SourceVersion: '1', LaunchTemplateData: { InstanceType: 't3.medium' } });
    const latest = (await call('DescribeLaunchTemplateVersions', { LaunchTemplateId: lt.LaunchTemplateId, Versions: ['$Latest'] })).LaunchTemplateVersions[0];
    assert.equal(latest.VersionNumber, 2);
    assert.equal(latest.LaunchTemplateData.ImageId, 'ami-0123456789abcdef0');
    assert.equal(latest.DefaultVersion, false);

    const res = await call('RunInstances', { MinCount: 2, MaxCount: 2, SubnetId: s.SubnetId, LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '$Latest' } });
    assert.equal(res.Instances.length, 2);
    const i0 = res.Instances[0];
    assert.match(i0.InstanceId, /^i-0[0-9a-f]{16}$/);
    assert.equal(i0.InstanceType, 't3.medium');
    assert.equal(i0.State.Name, 'pending');
    assert.equal(i0.PrivateIpAddress, '10.0.1.4');
    assert.equal(i0.PrivateDnsName, 'ip-10-0-1-4.ec2.internal');
    assert.ok(i0.Tags.some((t: any) => t.Key === 'aws:ec2launchtemplate:id' && t.Value === lt.LaunchTemplateId));
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 9);
    await fails('DeleteSubnet', { SubnetId: s.SubnetId }, 'DependencyViolation');

    clock.advance(2_000);
    const running = await call('DescribeInstances', { Filters: [{ Name: 'instance-state-name', Values: ['running'] }] });
    assert.equal(running.Reservations[0].Instances.length, 2);
    assert.equal(running.Reservations[0].ReservationId, res.ReservationId);
    const vols = await call('DescribeVolumes', { Filters: [{ Name: 'attachment.instance-id', Values: [i0.InstanceId] }] });
    assert.equal(vols.Volumes[0].Attachments[0].Device, '/dev/xvda');
    assert.equal((await call('DescribeInstanceCreditSpecifications', { InstanceIds: [i0.InstanceId] })).InstanceCreditSpecifications[0].CpuCredits, 'unlimited');
    const enis = await call('DescribeNetworkInterfaces', { Filters: [{ Name: 'attachment.instance-id', Values: [i0.InstanceId] }] });
    assert.equal(enis.NetworkInterfaces[0].PrivateIpAddress, '10.0.1.4');

    const md = await call('ModifyInstanceMetadataOptions', { InstanceId: i0.InstanceId, HttpTokens: 'required', HttpPutResponseHopLimit: 2 });
    assert.equal(md.InstanceMetadataOptions.HttpTokens, 'required');
    assert.equal(shared.describeInstance(deps, scope, i0.InstanceId)!.MetadataOptions.HttpPutResponseHopLimit, 2);
    await fails('RunInstances', { MinCount: 10, MaxCount: 10, ImageId: 'ami-0123456789abcdef0', SubnetId: s.SubnetId }, 'InsufficientFreeAddressesInSubnet');
    const term = await call('TerminateInstances', { InstanceIds: [i0.InstanceId] });
    assert.equal(term.TerminatingInstances[0].CurrentState.Name, 'shutting-down');
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 10);
    clock.advance(2_000);
    assert.equal(shared.describeInstance(deps, scope, i0.InstanceId)!.State.Name, 'terminated');
    await fails('DescribeInstances', { InstanceIds: ['i-0123456789abcdef0'] }, 'InvalidInstanceID.NotFound');
  });

  it('creates gateway and interface VPC endpoints with routes and ENIs', async () => {
    const { call, fails, deps, scope } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const s1 = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' })).Subnet;
    const rt = (await call('CreateRouteTable', { VpcId: vpc.VpcId })).RouteTable;
    const gw = (await call('CreateVpcEndpoint', { VpcId: vpc.VpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [rt.RouteTableId] })).VpcEndpoint;
    const pl = (await call('DescribePrefixLists', { Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] })).PrefixLists[0];
    const routes = (await call('DescribeRouteTables', { RouteTableIds: [rt.RouteTableId] })).RouteTables[0].Routes;
    assert.ok(routes.some((r: any) => r.DestinationPrefixListId === pl.PrefixListId && r.GatewayId === gw.VpcEndpointId));
    const ifc = (await call('CreateVpcEndpoint', { VpcId: vpc.VpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ecr.dkr', SubnetIds: [s1.SubnetId] })).VpcEndpoint;
    assert.equal(ifc.NetworkInterfaceIds.length, 1);
    assert.equal(shared.getSubnet(deps.state, scope, s1.SubnetId)!.AvailableIpAddressCount, 250);
    await fails('CreateVpcEndpoint', { VpcId: vpc.VpcId, ServiceName: 'com.amazonaws.us-east-1.nope' }, 'InvalidServiceName');
    await fails('DeleteVpc', { VpcId: vpc.VpcId }, 'DependencyViolation');
    await call('DeleteVpcEndpoints', { VpcEndpointIds: [gw.VpcEndpointId, ifc.VpcEndpointId] });
    assert.equal(shared.getSubnet(deps.state, scope, s1.SubnetId)!.AvailableIpAddressCount, 251);
    assert.equal((await call('DescribeRouteTables', { RouteTableIds: [rt.RouteTableId] })).RouteTables[0].Routes.length, 1);
    const svcs = await call('DescribeVpcEndpointServices', { ServiceNames: ['com.amazonaws.us-east-1.sts'] });
    assert.deepEqual(svcs.ServiceNames, ['com.amazonaws.us-east-1.sts']);
  });

  it('resumes from the store after a restart: states keep following the clock', async () => {
    const first = await setup();
    const vpc = (await first.call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const s = (await first.call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24' })).Subnet;
    const i = (await first.call('RunInstances', { MinCount: 1, MaxCount: 1, ImageId: 'ami-0123456789abcdef0', SubnetId: s.SubnetId })).Instances[0];
    first.deps.state.stop();
    // A new process: a fresh cache over the same store, and the same clock.
    const second = await setup('fast', first.backend, first.clock);
    assert.equal((await second.call('DescribeInstances', { InstanceIds: [i.InstanceId] })).Reservations[0].Instances[0].State.Name, 'pending');
    second.clock.advance(2_000);
    assert.equal((await second.call('DescribeInstances', { InstanceIds: [i.InstanceId] })).Reservations[0].Instances[0].State.Name, 'running');
    assert.equal((await second.call('DescribeSubnets', { SubnetIds: [s.SubnetId] })).Subnets[0].AvailableIpAddressCount, 250);
  });

  it('gives dual-stack VPCs IPv6 /64 subnets and egress-only internet gateways', async () => {
    const { call, fails } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16', AmazonProvidedIpv6CidrBlock: true })).Vpc;
    const v6 = vpc.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlock as string;
    assert.match(v6, /::\/56$/);
    const base = v6.replace('::/56', '');
    const sub = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24', Ipv6CidrBlock: `${base}::/64` })).Subnet;
    assert.equal(sub.Ipv6CidrBlockAssociationSet[0].Ipv6CidrBlockState.State, 'associated');
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', Ipv6CidrBlock: `${base}::/64` }, 'InvalidSubnet.Conflict');
    await fails('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24', Ipv6CidrBlock: '2001:db8::/64' }, 'InvalidSubnet.Range');
    const s2 = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.1.0/24' })).Subnet;
    const last = base.split(':');
    last[last.length - 1] = (parseInt(last[last.length - 1]!, 16) + 1).toString(16);
    const assoc = await call('AssociateSubnetCidrBlock', { SubnetId: s2.SubnetId, Ipv6CidrBlock: `${last.join(':')}::/64` });
    await call('DisassociateSubnetCidrBlock', { AssociationId: assoc.Ipv6CidrBlockAssociation.AssociationId });
    const eigw = (await call('CreateEgressOnlyInternetGateway', { VpcId: vpc.VpcId })).EgressOnlyInternetGateway;
    const rt = (await call('CreateRouteTable', { VpcId: vpc.VpcId })).RouteTable;
    await call('CreateRoute', { RouteTableId: rt.RouteTableId, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw.EgressOnlyInternetGatewayId });
    await call('DeleteRouteTable', { RouteTableId: rt.RouteTableId });
    await call('DeleteSubnet', { SubnetId: sub.SubnetId });
    await call('DeleteSubnet', { SubnetId: s2.SubnetId });
    await fails('DeleteVpc', { VpcId: vpc.VpcId }, 'DependencyViolation');
    await call('DeleteEgressOnlyInternetGateway', { EgressOnlyInternetGatewayId: eigw.EgressOnlyInternetGatewayId });
    await call('DeleteVpc', { VpcId: vpc.VpcId });
  });

  it('lets the VPC CNI attach ENIs and assign secondary addresses that go away with the instance (shared)', async () => {
    const { call, deps, scope, clock } = await setup();
    const vpc = (await call('CreateVpc', { CidrBlock: '10.0.0.0/16' })).Vpc;
    const s = (await call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24' })).Subnet;
    const i = (await shared.runInstances(deps, scope, { MinCount: 1, MaxCount: 1, SubnetId: s.SubnetId, InstanceType: 'm5.large', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'aws:autoscaling:groupName', Value: 'ng' }] }] }))[0]!;
    assert.ok(i.ImageId.startsWith('ami-'));
    const primary = i.NetworkInterfaces[0].NetworkInterfaceId;
    await shared.assignPrivateIpAddresses(deps.state, scope, primary, 9);
    const eni = await shared.createNetworkInterface(deps.state, scope, { SubnetId: s.SubnetId, Description: 'aws-K8S-' + i.InstanceId });
    await shared.attachNetworkInterface(deps.state, scope, eni.NetworkInterfaceId, i.InstanceId, 1);
    const ips = await shared.assignPrivateIpAddresses(deps.state, scope, eni.NetworkInterfaceId, 9);
    assert.equal(ips.length, 9);
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 251 - 20);
    assert.equal(shared.getNetworkInterface(deps.state, scope, eni.NetworkInterfaceId)!.PrivateIpAddresses.length, 10);
    await shared.unassignPrivateIpAddresses(deps.state, scope, eni.NetworkInterfaceId, ips.slice(0, 4));
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 251 - 16);
    clock.advance(2_000);
    assert.equal(shared.describeInstance(deps, scope, i.InstanceId)!.NetworkInterfaces.length, 2);
    await shared.terminateInstances(deps, scope, [i.InstanceId]);
    assert.equal(shared.getSubnet(deps.state, scope, s.SubnetId)!.AvailableIpAddressCount, 251);
    assert.equal(shared.getNetworkInterface(deps.state, scope, eni.NetworkInterfaceId), undefined);
  });

  it('knows instance types and EKS max pods', async () => {
    const { call } = await setup();
    assert.equal(maxPods('m5.large'), 29);
    assert.equal(maxPods('m5.xlarge'), 58);
    assert.equal(maxPods('t3.medium'), 17);
    assert.equal(maxPods('m5.large', { prefixDelegation: true }), 110);
    assert.equal(maxPods('m5.24xlarge', { prefixDelegation: true }), 250);
    const r = await call('DescribeInstanceTypes', { InstanceTypes: ['m5.large', 'r5.xlarge', 'm6g.medium'] });
    const by = Object.fromEntries(r.InstanceTypes.map((t: any) => [t.InstanceType, t]));
    assert.equal(by['m5.large'].VCpuInfo.DefaultVCpus, 2);
    assert.equal(by['m5.large'].MemoryInfo.SizeInMiB, 8192);
    assert.equal(by['m5.large'].NetworkInfo.MaximumNetworkInterfaces, 3);
    assert.equal(by['m5.large'].NetworkInfo.Ipv4AddressesPerInterface, 10);
    assert.deepEqual(by['m6g.medium'].ProcessorInfo.SupportedArchitectures, ['arm64']);
    assert.equal(shared.instanceTypeInfo('r5.xlarge')!.VCpuInfo.DefaultVCpus, 4);
    // seed 004: security groups for pods on r5.xlarge allow 18 pods (trunk branch interfaces)
    assert.equal(shared.instanceTypeFacts('r5.xlarge')!.branchInterfaces, 18);
    assert.equal(shared.maxPods('t3.medium'), 17);
    const amis = await call('DescribeImages', { Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['amazon-eks-node-al2023-arm64-standard-1.31-v*'] }] });
    assert.equal(amis.Images.length, 1);
    assert.equal(amis.Images[0].Architecture, 'arm64');
    assert.equal((await call('DescribeImages', { ImageIds: [amis.Images[0].ImageId] })).Images[0].Name, amis.Images[0].Name);
    const arm = await call('DescribeInstanceTypes', { Filters: [{ Name: 'processor-info.supported-architecture', Values: ['arm64'] }, { Name: 'instance-type', Values: ['t4g.*'] }] });
    assert.ok(arm.InstanceTypes.length >= 7);
  });
});
