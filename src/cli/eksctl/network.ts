/**
 * The cluster's network as eksctl lays it out (its "cluster" stack, without
 * CloudFormation): a VPC with DNS support and hostnames; per zone one public
 * subnet (map public IPs, `kubernetes.io/role/elb`) and one private subnet
 * (`kubernetes.io/role/internal-elb`); an internet gateway; a public route
 * table with 0.0.0.0/0 to the gateway; per zone a private route table with
 * 0.0.0.0/0 to a NAT gateway (one per zone for HighlyAvailable, one in the
 * first public subnet for Single, none for Disable); the control plane
 * security group and the shared node security group (all traffic between
 * nodes). With `vpc.id` and `vpc.subnets`, or subnets given only by id
 * (`--vpc-public-subnets` / `--vpc-private-subnets`), the existing network
 * is used and nothing is created.
 *
 * deleteNetwork removes what createNetwork made, found by the cluster tag,
 * in dependency order (NAT gateways and their addresses, gateway, route
 * tables, subnets, security groups, VPC).
 */
import type { ClusterConfig } from './cluster-config.ts';
import { planSubnets } from './cluster-config.ts';
import type { CliContext } from './context.ts';
import { clusterTags, stackName, TAG_CLUSTER, tagSpec, zoneSuffix } from './names.ts';
import { waitUntil } from './wait.ts';

/** The network a cluster is created in. */
export interface ClusterNetwork {
  vpcId: string;
  /** Subnet ids by zone. */
  publicSubnets: Map<string, string>;
  privateSubnets: Map<string, string>;
  /** The control plane security group (created), if any. */
  controlPlaneSecurityGroup?: string;
  /** The security group shared by all nodes (created), if any. */
  sharedNodeSecurityGroup?: string;
  /**
   * What is still being made when createNetwork returns (the cluster needs
   * only subnets and security groups): public IPs on launch in the public
   * subnets, the shared node security group's rule, gateways and route
   * tables. Resolves when the network is complete (node groups are created
   * after it, as eksctl creates them after the cluster stack), rejects with
   * what failed.
   */
  routing?: Promise<void>;
}

/** Created records what was made, for the failure report. */
export type Created = (what: string) => void;

/** createNetwork makes (or looks up) the cluster network. */
export async function createNetwork(ctx: CliContext, cfg: ClusterConfig, created: Created): Promise<ClusterNetwork> {
  const name = cfg.metadata.name;
  if (usesExistingSubnets(cfg)) return existingNetwork(ctx, cfg);
  const ec2 = <T = any>(op: string, input: Record<string, unknown>) => ctx.aws.call<T>('ec2', op, input);
  const stack = stackName(name, 'cluster');
  const tags = (resource: string, extra: Record<string, string> = {}) => ({ ...clusterTags(name, cfg.metadata.tags), Name: `${stack}/${resource}`, ...extra });
  const task = ctx.progress.task(`creating VPC ${cfg.vpc.cidr} with subnets in ${cfg.availabilityZones.join(', ')}`);

  const vpc = (await ec2('CreateVpc', { CidrBlock: cfg.vpc.cidr, TagSpecifications: tagSpec('vpc', tags('VPC')) })).Vpc;
  const vpcId: string = vpc.VpcId;
  created(`VPC ${vpcId}`);
  const igwP = ec2('CreateInternetGateway', { TagSpecifications: tagSpec('internet-gateway', tags('InternetGateway')) }).then(async (r) => {
    const id: string = r.InternetGateway.InternetGatewayId;
    created(`internet gateway ${id}`);
    await ec2('AttachInternetGateway', { InternetGatewayId: id, VpcId: vpcId });
    return id;
  });
  const dns = Promise.all([
    ec2('ModifyVpcAttribute', { VpcId: vpcId, EnableDnsSupport: { Value: true } }),
    ec2('ModifyVpcAttribute', { VpcId: vpcId, EnableDnsHostnames: { Value: true } }),
    ...((cfg.vpc as { extraCIDRs?: string[] }).extraCIDRs ?? []).map((c) => ec2('AssociateVpcCidrBlock', { VpcId: vpcId, CidrBlock: c })),
  ]);
  const sgs = createSecurityGroups(ctx, cfg, vpcId, tags, created);
  // Awaited below; a rejection meanwhile must not count as unhandled.
  for (const pr of [igwP, dns, sgs]) pr.catch(() => undefined);
  const plan = cfg.vpc.subnets ? customPlan(cfg) : planSubnets(cfg.vpc.cidr, cfg.availabilityZones);
  const publicSubnets = new Map<string, string>();
  const privateSubnets = new Map<string, string>();
  await Promise.all(
    plan.map(async (p) => {
      const kind = p.kind === 'public' ? 'Public' : 'Private';
      const role: Record<string, string> = p.kind === 'public' ? { 'kubernetes.io/role/elb': '1' } : { 'kubernetes.io/role/internal-elb': '1' };
      const s = (await ec2('CreateSubnet', { VpcId: vpcId, CidrBlock: p.cidr, AvailabilityZone: p.az, TagSpecifications: tagSpec('subnet', tags(`Subnet${kind}${zoneSuffix(p.az)}`, role)) })).Subnet;
      created(`subnet ${s.SubnetId}`);
      (p.kind === 'public' ? publicSubnets : privateSubnets).set(p.az, s.SubnetId);
    }),
  );
  const { groups, nodeRule } = await sgs;
  task.update('subnets created, routing');
  // The control plane needs only the subnets and security groups; the rest completes while it is created.
  const routing = (async () => {
    const publicIps = Promise.all([...publicSubnets.values()].map((id) => ec2('ModifySubnetAttribute', { SubnetId: id, MapPublicIpOnLaunch: { Value: true } })));
    publicIps.catch(() => undefined);
    const igw = await igwP;
    const publicRouting = (async () => {
      const rt = (await ec2('CreateRouteTable', { VpcId: vpcId, TagSpecifications: tagSpec('route-table', tags('PublicRouteTable')) })).RouteTable.RouteTableId;
      created(`route table ${rt}`);
      await ec2('CreateRoute', { RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw });
      await Promise.all([...publicSubnets.values()].map((s) => ec2('AssociateRouteTable', { RouteTableId: rt, SubnetId: s })));
    })();
    // NAT gateways: one per zone (HighlyAvailable), one in the first zone (Single), or none.
    const mode = cfg.vpc.nat.gateway;
    const natZones = mode === 'HighlyAvailable' ? [...publicSubnets.keys()] : mode === 'Single' ? [...publicSubnets.keys()].slice(0, 1) : [];
    const nats = new Map<string, string>();
    await Promise.all(
      natZones.map(async (az) => {
        const suffix = mode === 'HighlyAvailable' ? zoneSuffix(az) : '';
        const eip = await ec2('AllocateAddress', { Domain: 'vpc', TagSpecifications: tagSpec('elastic-ip', tags(`NATIP${suffix}`)) });
        created(`Elastic IP ${eip.AllocationId}`);
        const nat = (await ec2('CreateNatGateway', { SubnetId: publicSubnets.get(az), AllocationId: eip.AllocationId, TagSpecifications: tagSpec('natgateway', tags(`NATGateway${suffix}`)) })).NatGateway;
        created(`NAT gateway ${nat.NatGatewayId}`);
        nats.set(az, nat.NatGatewayId);
      }),
    );
    const privateRouting = Promise.all(
      [...privateSubnets].map(async ([az, subnet]) => {
        const rt = (await ec2('CreateRouteTable', { VpcId: vpcId, TagSpecifications: tagSpec('route-table', tags(`PrivateRouteTable${zoneSuffix(az)}`)) })).RouteTable.RouteTableId;
        created(`route table ${rt}`);
        const nat = nats.get(az) ?? nats.values().next().value;
        if (nat) await ec2('CreateRoute', { RouteTableId: rt, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat });
        await ec2('AssociateRouteTable', { RouteTableId: rt, SubnetId: subnet });
      }),
    );
    await Promise.all([dns, publicIps, nodeRule, publicRouting, privateRouting]);
    task.done(`${vpcId}: ${publicSubnets.size} public and ${privateSubnets.size} private subnets, ${nats.size} NAT gateway${nats.size === 1 ? '' : 's'}`);
  })();
  routing.catch(() => undefined); // awaited by the caller; not an unhandled rejection meanwhile
  return { vpcId, publicSubnets, privateSubnets, ...groups, routing };
}

async function createSecurityGroups(ctx: CliContext, cfg: ClusterConfig, vpcId: string, tags: (r: string) => Record<string, string>, created: Created) {
  const name = cfg.metadata.name;
  const ec2 = (op: string, input: Record<string, unknown>) => ctx.aws.call('ec2', op, input);
  const [cp, shared] = await Promise.all([
    ec2('CreateSecurityGroup', { VpcId: vpcId, GroupName: `${stackName(name, 'cluster')}-ControlPlaneSecurityGroup`, Description: 'Communication between the control plane and worker nodegroups', TagSpecifications: tagSpec('security-group', tags('ControlPlaneSecurityGroup')) }),
    ec2('CreateSecurityGroup', { VpcId: vpcId, GroupName: `${stackName(name, 'cluster')}-ClusterSharedNodeSecurityGroup`, Description: 'Communication between all nodes in the cluster', TagSpecifications: tagSpec('security-group', tags('ClusterSharedNodeSecurityGroup')) }),
  ]);
  created(`security group ${cp.GroupId}`);
  created(`security group ${shared.GroupId}`);
  // Awaited with the routing (node groups are created after it); not needed by the control plane.
  const nodeRule = ec2('AuthorizeSecurityGroupIngress', { GroupId: shared.GroupId, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: shared.GroupId, Description: 'Allow nodes to communicate with each other (all ports)' }] }] });
  nodeRule.catch(() => undefined);
  return { groups: { controlPlaneSecurityGroup: cp.GroupId as string, sharedNodeSecurityGroup: shared.GroupId as string }, nodeRule };
}

/** customPlan: vpc.subnets given with cidr and az per entry (keys are zone names or aliases). */
function customPlan(cfg: ClusterConfig): Array<{ az: string; cidr: string; kind: 'public' | 'private' }> {
  const out: Array<{ az: string; cidr: string; kind: 'public' | 'private' }> = [];
  for (const kind of ['public', 'private'] as const) {
    for (const [key, s] of Object.entries(cfg.vpc.subnets?.[kind] ?? {})) out.push({ az: s.az ?? key, cidr: s.cidr!, kind });
  }
  return out;
}

/**
 * usesExistingSubnets: vpc.id is given, or every vpc.subnets entry names a
 * subnet id without a CIDR to create (--vpc-public-subnets /
 * --vpc-private-subnets; the VPC is the subnets' own).
 */
export function usesExistingSubnets(cfg: ClusterConfig): boolean {
  if (cfg.vpc.id) return true;
  const all = [...Object.values(cfg.vpc.subnets?.public ?? {}), ...Object.values(cfg.vpc.subnets?.private ?? {})];
  return all.length > 0 && all.every((s) => s.id && !s.cidr);
}

/**
 * existingNetwork reads the subnets named in vpc.subnets (by id) and checks
 * they are all in one VPC (vpc.id when given). Subnets are keyed by their
 * zone (by their id when a zone has more than one).
 */
async function existingNetwork(ctx: CliContext, cfg: ClusterConfig): Promise<ClusterNetwork> {
  const task = ctx.progress.task(cfg.vpc.id ? `using existing VPC ${cfg.vpc.id}` : 'using existing subnets');
  const publicSubnets = new Map<string, string>();
  const privateSubnets = new Map<string, string>();
  const ids: Array<[string, 'public' | 'private']> = [];
  for (const kind of ['public', 'private'] as const) for (const s of Object.values(cfg.vpc.subnets?.[kind] ?? {})) if (s.id) ids.push([s.id, kind]);
  const r = ids.length ? await ctx.aws.call('ec2', 'DescribeSubnets', { SubnetIds: ids.map(([id]) => id) }) : { Subnets: [] };
  const vpcId: string | undefined = cfg.vpc.id ?? r.Subnets?.[0]?.VpcId;
  for (const s of r.Subnets ?? []) {
    if (s.VpcId !== vpcId) throw new Error(cfg.vpc.id ? `subnet ${s.SubnetId} is in ${s.VpcId}, not in vpc.id ${cfg.vpc.id}` : `subnets ${r.Subnets[0].SubnetId} and ${s.SubnetId} are in different VPCs (${vpcId}, ${s.VpcId}); a cluster's subnets must share one VPC`);
    const kind = ids.find(([id]) => id === s.SubnetId)![1];
    const m = kind === 'public' ? publicSubnets : privateSubnets;
    m.set(m.has(s.AvailabilityZone) ? s.SubnetId : s.AvailabilityZone, s.SubnetId);
  }
  task.done(`${vpcId}: ${publicSubnets.size} public and ${privateSubnets.size} private subnets`);
  return { vpcId: vpcId!, publicSubnets, privateSubnets, controlPlaneSecurityGroup: cfg.vpc.securityGroup, sharedNodeSecurityGroup: cfg.vpc.sharedNodeSecurityGroup };
}

/** deleteNetwork removes the VPC created for `cluster` and everything in it, if there is one. */
export async function deleteNetwork(ctx: CliContext, cluster: string): Promise<void> {
  const ec2 = <T = any>(op: string, input: Record<string, unknown>) => ctx.aws.call<T>('ec2', op, input);
  const byTag = [{ Name: `tag:${TAG_CLUSTER}`, Values: [cluster] }];
  const vpcs = (await ec2('DescribeVpcs', { Filters: byTag })).Vpcs ?? [];
  for (const vpc of vpcs) {
    const vpcId: string = vpc.VpcId;
    const task = ctx.progress.task(`deleting VPC ${vpcId} and its subnets, gateways and route tables`);
    const inVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
    const nats = ((await ec2('DescribeNatGateways', { Filter: inVpc })).NatGateways ?? []).filter((n: any) => n.State !== 'deleted');
    await Promise.all(nats.map((n: any) => ec2('DeleteNatGateway', { NatGatewayId: n.NatGatewayId })));
    if (nats.length) {
      task.update(`waiting for ${nats.length} NAT gateway${nats.length === 1 ? '' : 's'} to be deleted`);
      await waitUntil(
        async () => (((await ec2('DescribeNatGateways', { NatGatewayIds: nats.map((n: any) => n.NatGatewayId) })).NatGateways ?? []).every((n: any) => n.State === 'deleted' || n.State === 'failed') ? true : undefined),
        { deadline: ctx.deadline, what: 'NAT gateways to be deleted' },
      );
    }
    const addresses = (await ec2('DescribeAddresses', { Filters: byTag })).Addresses ?? [];
    await Promise.all(addresses.map((a: any) => ec2('ReleaseAddress', { AllocationId: a.AllocationId })));
    const igws = (await ec2('DescribeInternetGateways', { Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] })).InternetGateways ?? [];
    for (const g of igws) {
      await ec2('DetachInternetGateway', { InternetGatewayId: g.InternetGatewayId, VpcId: vpcId });
      await ec2('DeleteInternetGateway', { InternetGatewayId: g.InternetGatewayId });
    }
    const tables = (await ec2('DescribeRouteTables', { Filters: inVpc })).RouteTables ?? [];
    await Promise.all(
      tables.map(async (t: any) => {
        if ((t.Associations ?? []).some((a: any) => a.Main)) return;
        await Promise.all((t.Associations ?? []).map((a: any) => ec2('DisassociateRouteTable', { AssociationId: a.RouteTableAssociationId })));
        await ec2('DeleteRouteTable', { RouteTableId: t.RouteTableId });
      }),
    );
    // Network interfaces left by terminated nodes or the control plane (requester-managed ones go with their owner).
    const enis = (await ec2('DescribeNetworkInterfaces', { Filters: inVpc })).NetworkInterfaces ?? [];
    await Promise.all(enis.filter((n: any) => n.Status === 'available').map((n: any) => ec2('DeleteNetworkInterface', { NetworkInterfaceId: n.NetworkInterfaceId }).catch(() => undefined)));
    const subnets = (await ec2('DescribeSubnets', { Filters: inVpc })).Subnets ?? [];
    await Promise.all(subnets.map((s: any) => ec2('DeleteSubnet', { SubnetId: s.SubnetId })));
    const groups = ((await ec2('DescribeSecurityGroups', { Filters: inVpc })).SecurityGroups ?? []).filter((g: any) => g.GroupName !== 'default');
    // Rules referring to other groups first, then the groups.
    await Promise.all(groups.filter((g: any) => g.IpPermissions?.length).map((g: any) => ec2('RevokeSecurityGroupIngress', { GroupId: g.GroupId, IpPermissions: g.IpPermissions })));
    await Promise.all(groups.map((g: any) => ec2('DeleteSecurityGroup', { GroupId: g.GroupId })));
    await ec2('DeleteVpc', { VpcId: vpcId });
    task.done();
  }
}
