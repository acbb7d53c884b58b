/**
 * Elastic network interfaces: every instance's primary ENI, ENIs that
 * other services place in subnets (EKS control-plane ENIs, NAT gateways),
 * and the ENI API (Create/Delete/Describe/Attach/Detach/Assign/Unassign).
 * An ENI's addresses are taken from its subnet, so they lower the subnet's
 * AvailableIpAddressCount until the ENI is deleted.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { dnsSuffix, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate, selectByIds } from './filters.ts';
import { newHex, newId } from './ids.ts';
import { allocateIps, releaseIps } from './ip-alloc.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';

/** What a new ENI needs (CreateNetworkInterfaceRequest member names, plus internal options). */
export interface NetworkInterfaceSpec {
  SubnetId: string;
  /** Security group ids (the VPC's default group when empty). */
  Groups?: string[];
  Description?: string;
  PrivateIpAddress?: string;
  SecondaryPrivateIpAddressCount?: number;
  /** interface (default), nat_gateway, vpc_endpoint, branch, trunk, efa ... */
  InterfaceType?: string;
  /** Set for ENIs AWS services manage (RequesterManaged true). */
  RequesterId?: string;
  Tags?: Tag[];
}

export function privateDnsName(ip: string, region: string): string {
  return `ip-${ip.replace(/\./g, '-')}.${dnsSuffix(region)}`;
}

function macAddress(): string {
  return `0a:${newHex(10).match(/../g)!.join(':')}`;
}

/** resolveGroups validates security group ids against the subnet's VPC; returns GroupIdentifiers. */
export function resolveGroups(store: Ec2Store, vpcId: string, ids: string[] | undefined): Doc[] {
  if (!ids || ids.length === 0) {
    const vpc = store.get(T.vpc, vpcId);
    const g = vpc && store.get(T.securityGroup, vpc._defaultSecurityGroupId);
    return g ? [{ GroupId: g.GroupId, GroupName: g.GroupName }] : [];
  }
  return [...new Set(ids)].map((id) => {
    const g = store.get(T.securityGroup, id);
    if (!g) throw E.group(id);
    if (g.VpcId !== vpcId) {
      throw E.param(`Security group ${id} and subnet belong to different networks.`);
    }
    return { GroupId: g.GroupId, GroupName: g.GroupName };
  });
}

/**
 * buildNetworkInterface makes an ENI document, allocating its addresses in
 * `subnet` (a copy the caller commits along with the ENI).
 */
export function buildNetworkInterface(store: Ec2Store, subnet: Doc, spec: NetworkInterfaceSpec, primaryIp?: string): Doc {
  const groups = resolveGroups(store, subnet.VpcId, spec.Groups);
  const wanted = primaryIp ?? spec.PrivateIpAddress;
  const ips = allocateIps(subnet, 1 + (spec.SecondaryPrivateIpAddressCount ?? 0), wanted ? [wanted] : []);
  const region = store.scope.region;
  const doc: Doc = {
    NetworkInterfaceId: newId('eni'),
    SubnetId: subnet.SubnetId,
    VpcId: subnet.VpcId,
    AvailabilityZone: subnet.AvailabilityZone,
    AvailabilityZoneId: subnet.AvailabilityZoneId,
    Description: spec.Description ?? '',
    Groups: groups,
    InterfaceType: spec.InterfaceType ?? 'interface',
    MacAddress: macAddress(),
    OwnerId: store.scope.accountId,
    PrivateDnsName: privateDnsName(ips[0]!, region),
    PrivateIpAddress: ips[0],
    PrivateIpAddresses: ips.map((ip, i) => ({ Primary: i === 0, PrivateIpAddress: ip, PrivateDnsName: privateDnsName(ip, region) })),
    Ipv6Addresses: [],
    Ipv4Prefixes: undefined,
    RequesterManaged: !!spec.RequesterId,
    ...(spec.RequesterId ? { RequesterId: spec.RequesterId } : {}),
    SourceDestCheck: true,
    Status: 'available',
    Tags: spec.Tags ?? [],
  };
  return doc;
}

/** eniView is what DescribeNetworkInterfaces returns (tags are TagSet on this shape). */
export function eniView(d: Doc): Doc {
  const v = out(d);
  v.TagSet = d.Tags ?? [];
  delete v.Tags;
  if (v.Attachment?.AttachTime) v.Attachment = { ...v.Attachment, AttachTime: new Date(v.Attachment.AttachTime) };
  return v;
}

/** createNetworkInterfaceIn creates an ENI in a subnet and returns its view. */
export async function createNetworkInterfaceIn(store: Ec2Store, spec: NetworkInterfaceSpec): Promise<Doc> {
  return store.exclusive(async () => {
    const cur = store.get(T.subnet, spec.SubnetId);
    if (!cur) throw E.subnet(spec.SubnetId);
    const subnet = clone(cur);
    const eni = buildNetworkInterface(store, subnet, spec);
    await store.commit([store.put(T.subnet, subnet.SubnetId, subnet), store.put(T.networkInterface, eni.NetworkInterfaceId, eni)]);
    return eniView(eni);
  });
}

/** deleteNetworkInterfaceIn deletes an ENI and frees its addresses; an attached one needs force. */
export async function deleteNetworkInterfaceIn(store: Ec2Store, id: string, opts: { force?: boolean } = {}): Promise<void> {
  await store.exclusive(async () => {
    const eni = store.get(T.networkInterface, id);
    if (!eni) throw E.eni(id);
    if (eni.Attachment && !opts.force) {
      throw ec2Error('InvalidNetworkInterface.InUse', `The network interface '${id}' is currently in use.`);
    }
    const ops = [store.del(T.networkInterface, id)];
    const s = store.get(T.subnet, eni.SubnetId);
    if (s) {
      const subnet = clone(s);
      releaseIps(subnet, (eni.PrivateIpAddresses as Doc[]).map((p) => p.PrivateIpAddress));
      ops.push(store.put(T.subnet, subnet.SubnetId, subnet));
    }
    await store.commit(ops);
  });
}

export const eniFilters = {
  'addresses.private-ip-address': (d: Doc) => d.PrivateIpAddresses?.map((p: Doc) => p.PrivateIpAddress),
  'addresses.primary': (d: Doc) => d.PrivateIpAddresses?.map((p: Doc) => p.Primary),
  'attachment.attachment-id': (d: Doc) => d.Attachment?.AttachmentId,
  'attachment.instance-id': (d: Doc) => d.Attachment?.InstanceId,
  'attachment.instance-owner-id': (d: Doc) => d.Attachment?.InstanceOwnerId,
  'attachment.device-index': (d: Doc) => d.Attachment?.DeviceIndex,
  'attachment.status': (d: Doc) => d.Attachment?.Status,
  'attachment.delete-on-termination': (d: Doc) => d.Attachment?.DeleteOnTermination,
  'availability-zone': (d: Doc) => d.AvailabilityZone,
  description: (d: Doc) => d.Description,
  'group-id': (d: Doc) => d.Groups?.map((g: Doc) => g.GroupId),
  'group-name': (d: Doc) => d.Groups?.map((g: Doc) => g.GroupName),
  'interface-type': (d: Doc) => d.InterfaceType,
  'mac-address': (d: Doc) => d.MacAddress,
  'network-interface-id': (d: Doc) => d.NetworkInterfaceId,
  'owner-id': (d: Doc) => d.OwnerId,
  'private-ip-address': (d: Doc) => d.PrivateIpAddresses?.map((p: Doc) => p.PrivateIpAddress),
  'private-dns-name': (d: Doc) => d.PrivateDnsName,
  'requester-id': (d: Doc) => d.RequesterId,
  'requester-managed': (d: Doc) => d.RequesterManaged,
  'source-dest-check': (d: Doc) => d.SourceDestCheck,
  status: (d: Doc) => d.Status,
  'subnet-id': (d: Doc) => d.SubnetId,
  'vpc-id': (d: Doc) => d.VpcId,
};

export function networkInterfaceOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const getEni = (store: Ec2Store, id: string) => {
    const e = store.get(T.networkInterface, id);
    if (!e) throw E.eni(id);
    return e;
  };
  return {
    async CreateNetworkInterface(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const eni = await createNetworkInterfaceIn(store, {
        SubnetId: input.SubnetId,
        Groups: input.Groups,
        Description: input.Description,
        PrivateIpAddress: input.PrivateIpAddress ?? input.PrivateIpAddresses?.find((p: Doc) => p.Primary)?.PrivateIpAddress,
        SecondaryPrivateIpAddressCount: input.SecondaryPrivateIpAddressCount,
        InterfaceType: input.InterfaceType,
        Tags: tagsFor(input.TagSpecifications, 'network-interface'),
      });
      return { NetworkInterface: eni };
    },

    async DeleteNetworkInterface(input: { NetworkInterfaceId: string }, ctx: RequestContext) {
      await deleteNetworkInterfaceIn(st(ctx), input.NetworkInterfaceId);
      return {};
    },

    DescribeNetworkInterfaces(input: { NetworkInterfaceIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, eniFilters);
      const docs = selectByIds(() => store.list(T.networkInterface), (id) => store.get(T.networkInterface, id), input.NetworkInterfaceIds, E.eni).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { NetworkInterfaces: page.map(eniView), NextToken };
    },

    async AttachNetworkInterface(input: { NetworkInterfaceId: string; InstanceId: string; DeviceIndex: number; NetworkCardIndex?: number }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const eni = clone(getEni(store, input.NetworkInterfaceId));
        const inst = store.get(T.instance, input.InstanceId);
        if (!inst || inst.State?.Name === 'terminated') throw E.instance(input.InstanceId);
        if (eni.Attachment) throw ec2Error('InvalidNetworkInterface.InUse', `Interface: [${eni.NetworkInterfaceId}] in use.`);
        if (inst.Placement?.AvailabilityZone !== eni.AvailabilityZone) {
          throw E.param(`Instance ${inst.InstanceId} and network interface ${eni.NetworkInterfaceId} are not in the same availability zone`);
        }
        const i = clone(inst);
        if ((i._eniIds as string[]).some((id) => store.get(T.networkInterface, id)?.Attachment?.DeviceIndex === input.DeviceIndex)) {
          throw ec2Error('InvalidParameterValue', `Instance '${i.InstanceId}' already has an interface attached at device index '${input.DeviceIndex}'.`);
        }
        eni.Attachment = {
          AttachmentId: newId('eni-attach'),
          AttachTime: ctx.now().toISOString(),
          DeleteOnTermination: false,
          DeviceIndex: input.DeviceIndex,
          NetworkCardIndex: input.NetworkCardIndex ?? 0,
          InstanceId: i.InstanceId,
          InstanceOwnerId: store.scope.accountId,
          Status: 'attached',
        };
        eni.Status = 'in-use';
        i._eniIds.push(eni.NetworkInterfaceId);
        await store.commit([store.put(T.networkInterface, eni.NetworkInterfaceId, eni), store.put(T.instance, i.InstanceId, i)]);
        return { AttachmentId: eni.Attachment.AttachmentId, NetworkCardIndex: eni.Attachment.NetworkCardIndex };
      });
    },

    async DetachNetworkInterface(input: { AttachmentId: string; Force?: boolean }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const cur = store.list(T.networkInterface).find((e) => e.Attachment?.AttachmentId === input.AttachmentId);
        if (!cur) throw ec2Error('InvalidAttachmentID.NotFound', `The network interface attachment ID '${input.AttachmentId}' does not exist`);
        if (cur.Attachment.DeviceIndex === 0) {
          throw ec2Error('OperationNotPermitted', 'The network interface at device index 0 and networkCard index 0 cannot be detached.');
        }
        const eni = clone(cur);
        const ops = [];
        const inst = store.get(T.instance, eni.Attachment.InstanceId);
        if (inst) {
          const i = clone(inst);
          i._eniIds = (i._eniIds as string[]).filter((x) => x !== eni.NetworkInterfaceId);
          ops.push(store.put(T.instance, i.InstanceId, i));
        }
        delete eni.Attachment;
        eni.Status = 'available';
        ops.push(store.put(T.networkInterface, eni.NetworkInterfaceId, eni));
        await store.commit(ops);
      });
      return {};
    },

    async AssignPrivateIpAddresses(input: { NetworkInterfaceId: string; PrivateIpAddresses?: string[]; SecondaryPrivateIpAddressCount?: number; Ipv4PrefixCount?: number }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const eni = clone(getEni(store, input.NetworkInterfaceId));
        const subnet = clone(store.get(T.subnet, eni.SubnetId)!);
        const wanted = input.PrivateIpAddresses ?? [];
        const count = wanted.length || input.SecondaryPrivateIpAddressCount || 0;
        if (count === 0 && !input.Ipv4PrefixCount) throw E.missing('secondaryPrivateIpAddressCount');
        const ips = count ? allocateIps(subnet, count, wanted) : [];
        const region = store.scope.region;
        for (const ip of ips) eni.PrivateIpAddresses.push({ Primary: false, PrivateIpAddress: ip, PrivateDnsName: privateDnsName(ip, region) });
        const prefixes: Doc[] = [];
        for (let p = 0; p < (input.Ipv4PrefixCount ?? 0); p++) {
          // A /28 prefix holds 16 addresses. They are counted against the subnet;
          // localeks does not keep them contiguous (the prefix names the first).
          const block = allocateIps(subnet, 16);
          prefixes.push({ Ipv4Prefix: `${block[0]}/28` });
          eni._prefixIps = [...(eni._prefixIps ?? []), ...block];
        }
        if (prefixes.length) eni.Ipv4Prefixes = [...(eni.Ipv4Prefixes ?? []), ...prefixes];
        await store.commit([store.put(T.subnet, subnet.SubnetId, subnet), store.put(T.networkInterface, eni.NetworkInterfaceId, eni)]);
        return {
          NetworkInterfaceId: eni.NetworkInterfaceId,
          AssignedPrivateIpAddresses: ips.map((ip) => ({ PrivateIpAddress: ip })),
          AssignedIpv4Prefixes: prefixes,
        };
      });
    },

    async UnassignPrivateIpAddresses(input: { NetworkInterfaceId: string; PrivateIpAddresses?: string[]; Ipv4Prefixes?: string[] }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const eni = clone(getEni(store, input.NetworkInterfaceId));
        const subnet = clone(store.get(T.subnet, eni.SubnetId)!);
        const drop = input.PrivateIpAddresses ?? [];
        for (const ip of drop) {
          const p = (eni.PrivateIpAddresses as Doc[]).find((x) => x.PrivateIpAddress === ip);
          if (!p) throw ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${eni.NetworkInterfaceId}`);
          if (p.Primary) throw ec2Error('InvalidParameterValue', `The primary IP address of an interface cannot be unassigned.`);
        }
        eni.PrivateIpAddresses = (eni.PrivateIpAddresses as Doc[]).filter((x) => !drop.includes(x.PrivateIpAddress));
        releaseIps(subnet, drop);
        await store.commit([store.put(T.subnet, subnet.SubnetId, subnet), store.put(T.networkInterface, eni.NetworkInterfaceId, eni)]);
      });
      return {};
    },

    async ModifyNetworkInterfaceAttribute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const eni = clone(getEni(store, input.NetworkInterfaceId));
        if (input.Groups) eni.Groups = resolveGroups(store, eni.VpcId, input.Groups);
        if (input.SourceDestCheck) eni.SourceDestCheck = !!input.SourceDestCheck.Value;
        if (input.Description) eni.Description = input.Description.Value ?? '';
        if (input.Attachment && eni.Attachment) eni.Attachment.DeleteOnTermination = !!input.Attachment.DeleteOnTermination;
        await store.commit([store.put(T.networkInterface, eni.NetworkInterfaceId, eni)]);
      });
      return {};
    },
  };
}
