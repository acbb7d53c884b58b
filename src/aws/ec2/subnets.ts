/**
 * Subnets: CreateSubnet (CIDR inside a VPC block, no overlap, an
 * availability zone of the region), DescribeSubnets, DeleteSubnet,
 * ModifySubnetAttribute. AvailableIpAddressCount is the subnet's size minus
 * the five addresses AWS reserves minus every address in use (instances,
 * NAT gateways, pods of the VPC CNI).
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { cidrContains, cidrOverlaps, parseCidr } from './cidr.ts';
import { ec2Arn, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, type FilterSpec, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { availableIps } from './ip-alloc.ts';
import { ipv6SubnetAssociation } from './ipv6.ts';
import { associateDefaultAcl } from './network-acls.ts';
import { natState } from './gateways.ts';
import { currentState } from './instances.ts';
import { findZone, type Zone, zonesOf } from './regions.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';
import { vpcCidrs } from './vpcs.ts';

/** subnetView is what clients see of a stored subnet. */
export function subnetView(d: Doc): Doc {
  const v = out(d);
  v.AvailableIpAddressCount = availableIps(d);
  return v;
}

export const subnetFilters: FilterSpec = {
  'availability-zone': (d) => d.AvailabilityZone,
  availabilityZone: (d) => d.AvailabilityZone,
  'availability-zone-id': (d) => d.AvailabilityZoneId,
  availabilityZoneId: (d) => d.AvailabilityZoneId,
  'available-ip-address-count': (d) => availableIps(d),
  'cidr-block': (d) => d.CidrBlock,
  cidr: (d) => d.CidrBlock,
  cidrBlock: (d) => d.CidrBlock,
  'default-for-az': (d) => d.DefaultForAz,
  defaultForAz: (d) => d.DefaultForAz,
  'ipv6-cidr-block-association.ipv6-cidr-block': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.Ipv6CidrBlock),
  'ipv6-cidr-block-association.association-id': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.AssociationId),
  'ipv6-cidr-block-association.state': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.Ipv6CidrBlockState?.State),
  'assign-ipv6-address-on-creation': (d) => d.AssignIpv6AddressOnCreation,
  'ipv6-native': (d) => d.Ipv6Native,
  'map-public-ip-on-launch': (d) => d.MapPublicIpOnLaunch,
  'owner-id': (d) => d.OwnerId,
  state: (d) => d.State,
  'subnet-arn': (d) => d.SubnetArn,
  'subnet-id': (d) => d.SubnetId,
  'vpc-id': (d) => d.VpcId,
};

/** createSubnetIn validates and stores a subnet (and its default ACL association). */
export async function createSubnetIn(store: Ec2Store, input: { VpcId: string; CidrBlock?: string; Ipv6CidrBlock?: string; AvailabilityZone?: string; AvailabilityZoneId?: string; Tags?: Tag[] }): Promise<Doc> {
  const text = input.CidrBlock;
  if (!text) throw E.missing('cidrBlock');
  const c = parseCidr(text);
  if (!c) throw E.badCidr(text);
  const region = store.scope.region;
  let zone: Zone | undefined;
  if (input.AvailabilityZone !== undefined || input.AvailabilityZoneId !== undefined) {
    if (input.AvailabilityZone !== undefined && input.AvailabilityZoneId !== undefined) {
      throw E.combination('Only one of availabilityZone or availabilityZoneId may be specified.');
    }
    const want = (input.AvailabilityZone ?? input.AvailabilityZoneId)!;
    zone = findZone(region, want);
    if (!zone) {
      const param = input.AvailabilityZone !== undefined ? 'availabilityZone' : 'availabilityZoneId';
      const names = zonesOf(region).map((z) => (param === 'availabilityZone' ? z.ZoneName : z.ZoneId));
      throw E.param(`Value (${want}) for parameter ${param} is invalid. Subnets can currently only be created in the following availability zones: ${names.join(', ')}.`);
    }
  }
  return store.exclusive(async () => {
    const vpc = store.get(T.vpc, input.VpcId);
    if (!vpc) throw E.vpc(input.VpcId);
    if (c.prefix < 16 || c.prefix > 28) throw ec2Error('InvalidSubnet.Range', `The CIDR '${text}' is invalid.`);
    if (!vpcCidrs(vpc).some((b) => cidrContains(parseCidr(b)!, c))) {
      throw ec2Error('InvalidSubnet.Range', `The CIDR '${text}' is invalid.`);
    }
    const siblings = subnetsOfVpc(store, vpc);
    for (const s of siblings) {
      if (cidrOverlaps(parseCidr(s.CidrBlock)!, c)) throw ec2Error('InvalidSubnet.Conflict', `The CIDR '${text}' conflicts with another subnet`);
    }
    if (!zone) {
      const zs = zonesOf(region);
      zone = zs[siblings.length % zs.length]!;
    }
    const id = newId('subnet');
    const v6 = input.Ipv6CidrBlock ? [ipv6SubnetAssociation(store, vpc, undefined, input.Ipv6CidrBlock)] : [];
    const subnet: Doc = {
      SubnetId: id,
      SubnetArn: ec2Arn(store.scope, 'subnet', id),
      VpcId: vpc.VpcId,
      OwnerId: store.scope.accountId,
      CidrBlock: text,
      AvailabilityZone: zone.ZoneName,
      AvailabilityZoneId: zone.ZoneId,
      State: 'available',
      DefaultForAz: false,
      MapPublicIpOnLaunch: false,
      MapCustomerOwnedIpOnLaunch: false,
      AssignIpv6AddressOnCreation: false,
      EnableDns64: false,
      Ipv6Native: false,
      Ipv6CidrBlockAssociationSet: v6,
      PrivateDnsNameOptionsOnLaunch: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
      BlockPublicAccessStates: { InternetGatewayBlockMode: 'off' },
      Tags: input.Tags ?? [],
      _used: 0,
    };
    // The VPC document lists its subnets (`_subnets`), an index kept in the
    // same commit so that overlap checks and vpc-id lookups need no scan.
    const v = clone(vpc);
    v._subnets = [...siblings.map((x) => x.SubnetId as string), id];
    const ops = [store.put(T.subnet, id, subnet), store.putIfUnchanged(T.vpc, v.VpcId, v)];
    const acl = associateDefaultAcl(store, vpc, id);
    if (acl) ops.push(store.put(T.networkAcl, acl.NetworkAclId, acl));
    await store.commit(ops);
    return subnet;
  });
}

/** subnetsOfVpc returns a VPC's subnets, from its `_subnets` index when it has one. */
export function subnetsOfVpc(store: Ec2Store, vpc: Doc): Doc[] {
  if (Array.isArray(vpc._subnets)) {
    return (vpc._subnets as string[]).map((id) => store.get(T.subnet, id)).filter((x): x is Doc => !!x);
  }
  return store.list(T.subnet).filter((s) => s.VpcId === vpc.VpcId);
}

/**
 * candidates narrows DescribeSubnets to the subnets of the VPCs an exact
 * vpc-id filter names (the common query) instead of every subnet; the
 * filters are still applied to the result. Order is by id, as list() gives.
 */
function candidates(store: Ec2Store, filters: FilterInput[] | undefined): Doc[] {
  const f = filters?.find((x) => x.Name === 'vpc-id');
  if (!f?.Values?.length || f.Values.some((v) => /[*?]/.test(v))) return store.list(T.subnet);
  const found: Doc[] = [];
  for (const vpcId of new Set(f.Values)) {
    const vpc = store.get(T.vpc, vpcId);
    if (!vpc) continue;
    if (!Array.isArray(vpc._subnets)) return store.list(T.subnet);
    found.push(...subnetsOfVpc(store, vpc));
  }
  return found.sort((a, b) => (a.SubnetId < b.SubnetId ? -1 : a.SubnetId > b.SubnetId ? 1 : 0));
}

export function subnetOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  return {
    async CreateSubnet(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const subnet = await createSubnetIn(store, { ...(input as { VpcId: string }), Tags: tagsFor(input.TagSpecifications, 'subnet') });
      return { Subnet: subnetView(subnet) };
    },

    DescribeSubnets(input: { SubnetIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, subnetFilters);
      const docs = selectByIds(() => candidates(store, input.Filters), (id) => store.get(T.subnet, id), input.SubnetIds, E.subnet).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { Subnets: page.map(subnetView), NextToken };
    },

    async DeleteSubnet(input: { SubnetId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const subnet = store.get(T.subnet, input.SubnetId);
        if (!subnet) throw E.subnet(input.SubnetId);
        const id = subnet.SubnetId;
        const busy =
          store.list(T.networkInterface).some((n) => n.SubnetId === id) ||
          store.list(T.natGateway).some((n) => n.SubnetId === id && !['deleted', 'failed'].includes(natState(n, deps.clock.nowMs()))) ||
          store.list(T.instance).some((i) => i.SubnetId === id && currentState(i, deps.clock.nowMs()) !== 'terminated') ||
          store.list(T.vpcEndpoint).some((e) => e.State !== 'deleted' && e.SubnetIds?.includes(id));
        if (busy) throw E.dependency(`The subnet '${id}' has dependencies and cannot be deleted.`);
        const ops = [store.del(T.subnet, id)];
        const vpc = store.get(T.vpc, subnet.VpcId);
        if (vpc?._subnets) {
          const v = clone(vpc);
          v._subnets = (v._subnets as string[]).filter((x) => x !== id);
          ops.push(store.putIfUnchanged(T.vpc, v.VpcId, v));
        }
        for (const rt of store.list(T.routeTable)) {
          if (rt.VpcId !== subnet.VpcId || !(rt.Associations as Doc[]).some((a) => a.SubnetId === id)) continue;
          const r = clone(rt);
          r.Associations = r.Associations.filter((a: Doc) => a.SubnetId !== id);
          ops.push(store.put(T.routeTable, r.RouteTableId, r));
        }
        // Most subnets stay with their VPC's default ACL: look there before scanning every ACL.
        const defaultAcl = vpc?._defaultNetworkAclId ? store.get(T.networkAcl, vpc._defaultNetworkAclId) : undefined;
        const acls = defaultAcl && (defaultAcl.Associations as Doc[]).some((a) => a.SubnetId === id) ? [defaultAcl] : store.list(T.networkAcl);
        for (const acl of acls) {
          if (acl.VpcId !== subnet.VpcId || !(acl.Associations as Doc[]).some((a) => a.SubnetId === id)) continue;
          const a = clone(acl);
          a.Associations = a.Associations.filter((x: Doc) => x.SubnetId !== id);
          ops.push(store.put(T.networkAcl, a.NetworkAclId, a));
        }
        await store.commit(ops);
      });
      return {};
    },

    async ModifySubnetAttribute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const cur = store.get(T.subnet, input.SubnetId);
        if (!cur) throw E.subnet(input.SubnetId);
        const s = clone(cur);
        const bool = (k: string) => input[k]?.Value;
        if (input.MapPublicIpOnLaunch) s.MapPublicIpOnLaunch = !!bool('MapPublicIpOnLaunch');
        if (input.AssignIpv6AddressOnCreation) s.AssignIpv6AddressOnCreation = !!bool('AssignIpv6AddressOnCreation');
        if (input.MapCustomerOwnedIpOnLaunch) s.MapCustomerOwnedIpOnLaunch = !!bool('MapCustomerOwnedIpOnLaunch');
        if (input.EnableDns64) s.EnableDns64 = !!bool('EnableDns64');
        if (input.EnableResourceNameDnsARecordOnLaunch) s.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord = !!bool('EnableResourceNameDnsARecordOnLaunch');
        if (input.EnableResourceNameDnsAAAARecordOnLaunch) s.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord = !!bool('EnableResourceNameDnsAAAARecordOnLaunch');
        if (input.PrivateDnsHostnameTypeOnLaunch) s.PrivateDnsNameOptionsOnLaunch.HostnameType = input.PrivateDnsHostnameTypeOnLaunch;
        if (input.EnableLniAtDeviceIndex !== undefined) s.EnableLniAtDeviceIndex = input.EnableLniAtDeviceIndex;
        if (input.DisableLniAtDeviceIndex?.Value) delete s.EnableLniAtDeviceIndex;
        if (input.CustomerOwnedIpv4Pool !== undefined) s.CustomerOwnedIpv4Pool = input.CustomerOwnedIpv4Pool;
        await store.commit([store.put(T.subnet, s.SubnetId, s)]);
      });
      return {};
    },
  };
}
