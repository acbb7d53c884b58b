/**
 * VPCs: CreateVpc (with its default security group, main route table,
 * default network ACL and the region's default DHCP options), DescribeVpcs,
 * DeleteVpc (DependencyViolation while anything lives in it), VPC
 * attributes and secondary CIDR blocks.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { cidrContains, cidrOverlaps, parseCidr } from './cidr.ts';
import { dnsSuffix, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, type FilterSpec, paginate, selectByIds } from './filters.ts';
import { newHex, newId } from './ids.ts';
import { newDefaultNetworkAcl } from './network-acls.ts';
import { newRouteTable } from './route-tables.ts';
import { newSecurityGroup } from './security-groups.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';

/** The default DHCP options of a region (created with the first VPC). */
export function defaultDhcpOptions(store: Ec2Store): { doc: Doc; created: boolean } {
  const existing = store.list(T.dhcpOptions).find((d) => d._default);
  if (existing) return { doc: existing, created: false };
  const id = newId('dopt');
  return {
    created: true,
    doc: {
      DhcpOptionsId: id,
      OwnerId: store.scope.accountId,
      DhcpConfigurations: [
        { Key: 'domain-name', Values: [{ Value: dnsSuffix(store.scope.region) }] },
        { Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] },
      ],
      Tags: [],
      _default: true,
    },
  };
}

export const vpcFilters: FilterSpec = {
  cidr: (d) => d.CidrBlock,
  'cidr-block': (d) => d.CidrBlock,
  'cidr-block-association.cidr-block': (d) => d.CidrBlockAssociationSet?.map((a: Doc) => a.CidrBlock),
  'cidr-block-association.association-id': (d) => d.CidrBlockAssociationSet?.map((a: Doc) => a.AssociationId),
  'cidr-block-association.state': (d) => d.CidrBlockAssociationSet?.map((a: Doc) => a.CidrBlockState?.State),
  'dhcp-options-id': (d) => d.DhcpOptionsId,
  'ipv6-cidr-block-association.ipv6-cidr-block': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.Ipv6CidrBlock),
  'ipv6-cidr-block-association.association-id': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.AssociationId),
  'ipv6-cidr-block-association.state': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.Ipv6CidrBlockState?.State),
  'ipv6-cidr-block-association.ipv6-pool': (d) => d.Ipv6CidrBlockAssociationSet?.map((a: Doc) => a.Ipv6Pool),
  'is-default': (d) => d.IsDefault,
  isDefault: (d) => d.IsDefault,
  'owner-id': (d) => d.OwnerId,
  state: (d) => d.State,
  'vpc-id': (d) => d.VpcId,
};

/** vpcView is what clients see of a stored VPC. */
export function vpcView(d: Doc): Doc {
  return out(d);
}

function fakeIpv6Block(): string {
  const h = newHex(6);
  return `2600:1f${h.slice(0, 2)}:${h.slice(2, 6)}:${newHex(2)}00::/56`;
}

/** vpcCidrs returns every IPv4 block associated with the VPC. */
export function vpcCidrs(vpc: Doc): string[] {
  return (vpc.CidrBlockAssociationSet as Doc[] | undefined)
    ?.filter((a) => a.CidrBlockState?.State === 'associated')
    .map((a) => a.CidrBlock as string) ?? [vpc.CidrBlock];
}

/**
 * createVpc validates and stores a VPC with its default resources. Returns
 * the stored VPC document.
 */
export async function createVpc(store: Ec2Store, input: { CidrBlock?: string; InstanceTenancy?: string; AmazonProvidedIpv6CidrBlock?: boolean; Tags?: Tag[] }): Promise<Doc> {
  const cidrText = input.CidrBlock;
  if (!cidrText) throw E.missing('cidrBlock');
  const c = parseCidr(cidrText);
  if (!c) throw E.badCidr(cidrText);
  if (c.prefix < 16 || c.prefix > 28) throw ec2Error('InvalidVpc.Range', `The CIDR '${cidrText}' is invalid.`);
  if (input.InstanceTenancy === 'host') throw ec2Error('InvalidParameterValue', `The tenancy value host is not supported.`);
  const scope = store.scope;
  const vpcId = newId('vpc');
  const tags = input.Tags ?? [];
  return store.exclusive(async () => {
    const dhcp = defaultDhcpOptions(store);
    const sg = newSecurityGroup(scope, { GroupName: 'default', Description: 'default VPC security group', VpcId: vpcId, Tags: [] }, { defaultVpcGroup: true });
    const rtb = newRouteTable(scope, vpcId, [cidrText], [], { main: true });
    const acl = newDefaultNetworkAcl(scope, vpcId, true);
    const vpc: Doc = {
      VpcId: vpcId,
      OwnerId: scope.accountId,
      CidrBlock: cidrText,
      State: 'available',
      DhcpOptionsId: dhcp.doc.DhcpOptionsId,
      InstanceTenancy: input.InstanceTenancy ?? 'default',
      IsDefault: false,
      CidrBlockAssociationSet: [
        { AssociationId: newId('vpc-cidr-assoc'), CidrBlock: cidrText, CidrBlockState: { State: 'associated' } },
      ],
      Ipv6CidrBlockAssociationSet: input.AmazonProvidedIpv6CidrBlock
        ? [
            {
              AssociationId: newId('vpc-cidr-assoc'),
              Ipv6CidrBlock: fakeIpv6Block(),
              Ipv6CidrBlockState: { State: 'associated' },
              NetworkBorderGroup: scope.region,
              Ipv6Pool: 'Amazon',
              IpSource: 'amazon',
              Ipv6AddressAttribute: 'public',
            },
          ]
        : [],
      BlockPublicAccessStates: { InternetGatewayBlockMode: 'off' },
      Tags: tags,
      _subnets: [],
      _enableDnsSupport: true,
      _enableDnsHostnames: false,
      _enableNetworkAddressUsageMetrics: false,
      _defaultSecurityGroupId: sg.GroupId,
      _mainRouteTableId: rtb.RouteTableId,
      _defaultNetworkAclId: acl.NetworkAclId,
    };
    const ops = [store.put(T.vpc, vpcId, vpc), store.put(T.securityGroup, sg.GroupId, sg), store.put(T.routeTable, rtb.RouteTableId, rtb), store.put(T.networkAcl, acl.NetworkAclId, acl)];
    if (dhcp.created) ops.push(store.put(T.dhcpOptions, dhcp.doc.DhcpOptionsId, dhcp.doc));
    await store.commit(ops);
    return vpc;
  });
}

/** vpcDependencies returns the first thing that keeps a VPC from being deleted, or undefined. */
function vpcDependency(store: Ec2Store, vpc: Doc): string | undefined {
  const id = vpc.VpcId;
  if (Array.isArray(vpc._subnets) ? vpc._subnets.length > 0 : store.list(T.subnet).some((s) => s.VpcId === id)) return 'subnet';
  if (store.list(T.internetGateway).some((g) => g.Attachments?.some((a: Doc) => a.VpcId === id))) return 'internet-gateway';
  if (store.list(T.securityGroup).some((g) => g.VpcId === id && g.GroupId !== vpc._defaultSecurityGroupId)) return 'security-group';
  if (store.list(T.routeTable).some((r) => r.VpcId === id && r.RouteTableId !== vpc._mainRouteTableId)) return 'route-table';
  if (store.list(T.networkAcl).some((a) => a.VpcId === id && a.NetworkAclId !== vpc._defaultNetworkAclId)) return 'network-acl';
  if (store.list(T.networkInterface).some((n) => n.VpcId === id)) return 'network-interface';
  if (store.list(T.vpcEndpoint).some((e) => e.VpcId === id && e.State !== 'deleted')) return 'vpc-endpoint';
  if (store.list(T.egressOnlyInternetGateway).some((g) => g.Attachments?.some((a: Doc) => a.VpcId === id))) return 'egress-only-internet-gateway';
  return undefined;
}

export function vpcOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext | Scope) => storeOf(deps, ctx);
  return {
    async CreateVpc(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const vpc = await createVpc(store, { ...input, Tags: tagsFor(input.TagSpecifications, 'vpc') });
      return { Vpc: vpcView(vpc) };
    },

    DescribeVpcs(input: { VpcIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, vpcFilters);
      const docs = selectByIds(() => store.list(T.vpc), (id) => store.get(T.vpc, id), input.VpcIds, E.vpc).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { Vpcs: page.map(vpcView), NextToken };
    },

    async DeleteVpc(input: { VpcId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const vpc = store.get(T.vpc, input.VpcId);
        if (!vpc) throw E.vpc(input.VpcId);
        if (vpcDependency(store, vpc)) {
          throw E.dependency(`The vpc '${input.VpcId}' has dependencies and cannot be deleted.`);
        }
        await store.commit([
          store.del(T.vpc, vpc.VpcId),
          store.del(T.securityGroup, vpc._defaultSecurityGroupId),
          store.del(T.routeTable, vpc._mainRouteTableId),
          store.del(T.networkAcl, vpc._defaultNetworkAclId),
        ]);
      });
      return {};
    },

    DescribeVpcAttribute(input: { VpcId: string; Attribute: string }, ctx: RequestContext) {
      const vpc = st(ctx).get(T.vpc, input.VpcId);
      if (!vpc) throw E.vpc(input.VpcId);
      const res: Doc = { VpcId: vpc.VpcId };
      switch (input.Attribute) {
        case 'enableDnsSupport': res.EnableDnsSupport = { Value: vpc._enableDnsSupport }; break;
        case 'enableDnsHostnames': res.EnableDnsHostnames = { Value: vpc._enableDnsHostnames }; break;
        case 'enableNetworkAddressUsageMetrics': res.EnableNetworkAddressUsageMetrics = { Value: vpc._enableNetworkAddressUsageMetrics }; break;
        default: throw E.param(`Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
      }
      return res;
    },

    async ModifyVpcAttribute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const set = ['EnableDnsSupport', 'EnableDnsHostnames', 'EnableNetworkAddressUsageMetrics'].filter((k) => input[k] !== undefined);
      if (set.length !== 1) {
        throw ec2Error('InvalidParameterCombination', 'Fields for multiple attribute types specified: ' + set.join(', '));
      }
      await store.exclusive(async () => {
        const cur = store.get(T.vpc, input.VpcId);
        if (!cur) throw E.vpc(input.VpcId);
        const vpc = clone(cur);
        const k = set[0]!;
        const v = input[k]?.Value;
        if (typeof v !== 'boolean') throw E.param(`Value for parameter ${k} is invalid`);
        if (k === 'EnableDnsHostnames' && v && !vpc._enableDnsSupport) {
          throw E.param('Cannot enable DNS hostnames for a VPC without DNS support');
        }
        if (k === 'EnableDnsSupport' && !v && vpc._enableDnsHostnames) {
          throw E.param('Cannot disable DNS support for a VPC with DNS hostnames enabled');
        }
        vpc[`_${k[0]!.toLowerCase()}${k.slice(1)}`] = v;
        await store.commit([store.put(T.vpc, vpc.VpcId, vpc)]);
      });
      return {};
    },

    async AssociateVpcCidrBlock(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const cur = store.get(T.vpc, input.VpcId);
        if (!cur) throw E.vpc(input.VpcId);
        const vpc = clone(cur);
        if (input.AmazonProvidedIpv6CidrBlock || input.Ipv6CidrBlock) {
          const assoc = {
            AssociationId: newId('vpc-cidr-assoc'),
            Ipv6CidrBlock: input.Ipv6CidrBlock ?? fakeIpv6Block(),
            Ipv6CidrBlockState: { State: 'associated' },
            NetworkBorderGroup: input.Ipv6CidrBlockNetworkBorderGroup ?? store.scope.region,
            Ipv6Pool: 'Amazon',
          };
          vpc.Ipv6CidrBlockAssociationSet = [...(vpc.Ipv6CidrBlockAssociationSet ?? []), assoc];
          await store.commit([store.put(T.vpc, vpc.VpcId, vpc)]);
          return { VpcId: vpc.VpcId, Ipv6CidrBlockAssociation: assoc };
        }
        const text = input.CidrBlock;
        if (!text) throw E.missing('cidrBlock');
        const c = parseCidr(text);
        if (!c) throw E.badCidr(text);
        if (c.prefix < 16 || c.prefix > 28) throw ec2Error('InvalidVpc.Range', `The CIDR '${text}' is invalid.`);
        const existing = vpcCidrs(vpc);
        if (existing.length >= 5) {
          throw ec2Error('CidrLimitExceeded', `This network '${vpc.VpcId}' has met its maximum number of allowed CIDRs: 5`);
        }
        for (const e of existing) {
          if (cidrOverlaps(parseCidr(e)!, c)) {
            throw ec2Error('InvalidVpc.Range', `The CIDR '${text}' is invalid.`);
          }
        }
        const assoc = { AssociationId: newId('vpc-cidr-assoc'), CidrBlock: text, CidrBlockState: { State: 'associated' } };
        vpc.CidrBlockAssociationSet = [...vpc.CidrBlockAssociationSet, assoc];
        // The new block is routed locally in every route table of the VPC.
        const ops = [store.put(T.vpc, vpc.VpcId, vpc)];
        for (const rt of store.list(T.routeTable)) {
          if (rt.VpcId !== vpc.VpcId) continue;
          const r = clone(rt);
          r.Routes.push({ DestinationCidrBlock: text, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' });
          ops.push(store.put(T.routeTable, r.RouteTableId, r));
        }
        await store.commit(ops);
        return { VpcId: vpc.VpcId, CidrBlockAssociation: assoc };
      });
    },

    async DisassociateVpcCidrBlock(input: { AssociationId: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        for (const cur of store.list(T.vpc)) {
          const v4 = (cur.CidrBlockAssociationSet as Doc[]).find((a) => a.AssociationId === input.AssociationId);
          const v6 = (cur.Ipv6CidrBlockAssociationSet as Doc[] | undefined)?.find((a) => a.AssociationId === input.AssociationId);
          if (!v4 && !v6) continue;
          const vpc = clone(cur);
          if (v6) {
            vpc.Ipv6CidrBlockAssociationSet = vpc.Ipv6CidrBlockAssociationSet.filter((a: Doc) => a.AssociationId !== input.AssociationId);
            await store.commit([store.put(T.vpc, vpc.VpcId, vpc)]);
            return { VpcId: vpc.VpcId, Ipv6CidrBlockAssociation: { ...v6, Ipv6CidrBlockState: { State: 'disassociating' } } };
          }
          if (v4!.CidrBlock === vpc.CidrBlock) {
            throw ec2Error(
              'OperationNotPermitted',
              `The vpc CIDR block with association ID ${input.AssociationId} may not be disassociated. It is the primary IPv4 CIDR block of the VPC`,
            );
          }
          const block = parseCidr(v4!.CidrBlock)!;
          if (store.list(T.subnet).some((s) => s.VpcId === vpc.VpcId && cidrContains(block, parseCidr(s.CidrBlock)!))) {
            throw E.dependency(`The vpc CIDR block with association ID '${input.AssociationId}' has dependencies and cannot be disassociated.`);
          }
          vpc.CidrBlockAssociationSet = vpc.CidrBlockAssociationSet.filter((a: Doc) => a.AssociationId !== input.AssociationId);
          const ops = [store.put(T.vpc, vpc.VpcId, vpc)];
          for (const rt of store.list(T.routeTable)) {
            if (rt.VpcId !== vpc.VpcId) continue;
            const r = clone(rt);
            r.Routes = r.Routes.filter((x: Doc) => !(x.GatewayId === 'local' && x.DestinationCidrBlock === v4!.CidrBlock));
            ops.push(store.put(T.routeTable, r.RouteTableId, r));
          }
          await store.commit(ops);
          return { VpcId: vpc.VpcId, CidrBlockAssociation: { ...v4, CidrBlockState: { State: 'disassociating' } } };
        }
        throw ec2Error('InvalidVpcCidrBlockAssociationID.NotFound', `The vpc CIDR block association ID '${input.AssociationId}' does not exist`);
      });
    },

    DescribeDhcpOptions(input: { DhcpOptionsIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, {
        'dhcp-options-id': (d) => d.DhcpOptionsId,
        key: (d) => d.DhcpConfigurations.map((c: Doc) => c.Key),
        value: (d) => d.DhcpConfigurations.flatMap((c: Doc) => c.Values.map((v: Doc) => v.Value)),
        'owner-id': (d) => d.OwnerId,
      });
      const docs = selectByIds(() => store.list(T.dhcpOptions), (id) => store.get(T.dhcpOptions, id), input.DhcpOptionsIds, E.dhcpOptions).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { DhcpOptions: page.map(out), NextToken };
    },

    async CreateDhcpOptions(input: { DhcpConfigurations?: { Key?: string; Values?: string[] }[]; TagSpecifications?: Doc[] }, ctx: RequestContext) {
      const store = st(ctx);
      const doc: Doc = {
        DhcpOptionsId: newId('dopt'),
        OwnerId: store.scope.accountId,
        DhcpConfigurations: (input.DhcpConfigurations ?? []).map((c) => ({ Key: c.Key, Values: (c.Values ?? []).map((v) => ({ Value: v })) })),
        Tags: tagsFor(input.TagSpecifications, 'dhcp-options'),
      };
      await store.commit([store.put(T.dhcpOptions, doc.DhcpOptionsId, doc)]);
      return { DhcpOptions: out(doc) };
    },

    async AssociateDhcpOptions(input: { DhcpOptionsId: string; VpcId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const cur = store.get(T.vpc, input.VpcId);
        if (!cur) throw E.vpc(input.VpcId);
        let id = input.DhcpOptionsId;
        if (id === 'default') id = defaultDhcpOptions(store).doc.DhcpOptionsId;
        else if (!store.get(T.dhcpOptions, id)) throw E.dhcpOptions(id);
        const vpc = clone(cur);
        vpc.DhcpOptionsId = id;
        await store.commit([store.put(T.vpc, vpc.VpcId, vpc)]);
      });
      return {};
    },

    async DeleteDhcpOptions(input: { DhcpOptionsId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        if (!store.get(T.dhcpOptions, input.DhcpOptionsId)) throw E.dhcpOptions(input.DhcpOptionsId);
        if (store.list(T.vpc).some((v) => v.DhcpOptionsId === input.DhcpOptionsId)) {
          throw E.dependency(`The dhcpOptions '${input.DhcpOptionsId}' has dependencies and cannot be deleted.`);
        }
        await store.commit([store.del(T.dhcpOptions, input.DhcpOptionsId)]);
      });
      return {};
    },
  };
}

