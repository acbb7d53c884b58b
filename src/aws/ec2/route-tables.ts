/**
 * Route tables: the VPC's main table, custom tables, routes to internet
 * gateways, NAT gateways, instances and network interfaces, and subnet or
 * gateway associations. A subnet without an explicit association uses the
 * main table; a subnet is public when that table routes to an internet gateway.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { parseCidr } from './cidr.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, type FilterSpec, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';

/** newRouteTable builds a route table document with a local route per VPC CIDR. */
export function newRouteTable(scope: Scope, vpcId: string, cidrs: string[], tags: Tag[], opts: { main?: boolean } = {}): Doc {
  const id = newId('rtb');
  return {
    RouteTableId: id,
    VpcId: vpcId,
    OwnerId: scope.accountId,
    Routes: cidrs.map((c) => ({ DestinationCidrBlock: c, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' })),
    Associations: opts.main
      ? [{ Main: true, RouteTableAssociationId: newId('rtbassoc'), RouteTableId: id, AssociationState: { State: 'associated' } }]
      : [],
    PropagatingVgws: [],
    Tags: tags,
  };
}

/** routeTableOfSubnet returns the table a subnet uses (explicit association, else the VPC's main table). */
export function routeTableOfSubnet(store: Ec2Store, subnet: Doc): Doc | undefined {
  let main: Doc | undefined;
  for (const rt of store.list(T.routeTable)) {
    if (rt.VpcId !== subnet.VpcId) continue;
    for (const a of rt.Associations as Doc[]) {
      if (a.SubnetId === subnet.SubnetId) return rt;
      if (a.Main) main = rt;
    }
  }
  return main;
}

/** hasInternetRoute tells whether a table routes somewhere through an internet gateway. */
export function hasInternetRoute(rt: Doc | undefined): boolean {
  return !!rt?.Routes?.some((r: Doc) => typeof r.GatewayId === 'string' && r.GatewayId.startsWith('igw-'));
}

function routeState(store: Ec2Store, r: Doc): string {
  if (r.NatGatewayId) {
    const n = store.get(T.natGateway, r.NatGatewayId);
    return n && n.State !== 'deleted' && n.State !== 'deleting' && n.State !== 'failed' ? 'active' : 'blackhole';
  }
  if (typeof r.GatewayId === 'string' && r.GatewayId.startsWith('igw-')) {
    const g = store.get(T.internetGateway, r.GatewayId);
    return g?.Attachments?.length ? 'active' : 'blackhole';
  }
  if (r.InstanceId) {
    const i = store.get(T.instance, r.InstanceId);
    return i && i.State?.Name !== 'terminated' && i.State?.Name !== 'stopped' ? 'active' : 'blackhole';
  }
  return 'active';
}

/** routeTableView is a stored table as DescribeRouteTables returns it. */
export function routeTableView(store: Ec2Store, rt: Doc): Doc {
  const v = out(rt);
  v.Routes = (rt.Routes as Doc[]).map((r) => ({ ...r, State: routeState(store, r) }));
  return v;
}

export const routeTableFilters: FilterSpec = {
  'association.route-table-association-id': (d) => d.Associations.map((a: Doc) => a.RouteTableAssociationId),
  'association.route-table-id': (d) => d.Associations.map((a: Doc) => a.RouteTableId),
  'association.subnet-id': (d) => d.Associations.map((a: Doc) => a.SubnetId),
  'association.gateway-id': (d) => d.Associations.map((a: Doc) => a.GatewayId),
  'association.main': (d) => (d.Associations.some((a: Doc) => a.Main) ? true : d.Associations.length ? false : undefined),
  'owner-id': (d) => d.OwnerId,
  'route-table-id': (d) => d.RouteTableId,
  'route.destination-cidr-block': (d) => d.Routes.map((r: Doc) => r.DestinationCidrBlock),
  'route.destination-ipv6-cidr-block': (d) => d.Routes.map((r: Doc) => r.DestinationIpv6CidrBlock),
  'route.destination-prefix-list-id': (d) => d.Routes.map((r: Doc) => r.DestinationPrefixListId),
  'route.gateway-id': (d) => d.Routes.map((r: Doc) => r.GatewayId),
  'route.instance-id': (d) => d.Routes.map((r: Doc) => r.InstanceId),
  'route.nat-gateway-id': (d) => d.Routes.map((r: Doc) => r.NatGatewayId),
  'route.network-interface-id': (d) => d.Routes.map((r: Doc) => r.NetworkInterfaceId),
  'route.transit-gateway-id': (d) => d.Routes.map((r: Doc) => r.TransitGatewayId),
  'route.vpc-peering-connection-id': (d) => d.Routes.map((r: Doc) => r.VpcPeeringConnectionId),
  'route.origin': (d) => d.Routes.map((r: Doc) => r.Origin),
  'route.state': (d) => d.Routes.map((r: Doc) => r.State),
  'vpc-id': (d) => d.VpcId,
};

function destinationOf(input: Doc): { key: 'DestinationCidrBlock' | 'DestinationIpv6CidrBlock' | 'DestinationPrefixListId'; value: string } {
  if (input.DestinationCidrBlock !== undefined) {
    if (!parseCidr(input.DestinationCidrBlock, false)) throw E.badCidr(input.DestinationCidrBlock, 'destinationCidrBlock');
    return { key: 'DestinationCidrBlock', value: input.DestinationCidrBlock };
  }
  if (input.DestinationIpv6CidrBlock !== undefined) return { key: 'DestinationIpv6CidrBlock', value: input.DestinationIpv6CidrBlock };
  if (input.DestinationPrefixListId !== undefined) return { key: 'DestinationPrefixListId', value: input.DestinationPrefixListId };
  throw E.missing('destinationCidrBlock');
}

const TARGETS = [
  'GatewayId', 'NatGatewayId', 'InstanceId', 'NetworkInterfaceId', 'VpcPeeringConnectionId', 'TransitGatewayId',
  'EgressOnlyInternetGatewayId', 'LocalGatewayId', 'CarrierGatewayId', 'VpcEndpointId', 'CoreNetworkArn',
] as const;

/** buildRoute validates the route's single target and returns the stored route. */
function buildRoute(store: Ec2Store, rt: Doc, input: Doc, dest: { key: string; value: string }): Doc {
  const given = TARGETS.filter((t) => input[t] !== undefined);
  if (given.length === 0) throw E.missing('target');
  if (given.length > 1) throw E.combination('More than one target specified for this route');
  const route: Doc = { [dest.key]: dest.value, Origin: 'CreateRoute', State: 'active' };
  const t = given[0]!;
  const id = input[t] as string;
  switch (t) {
    case 'GatewayId': {
      if (id === 'local') {
        route.GatewayId = 'local';
        break;
      }
      if (id.startsWith('vpce-')) {
        const e = store.get(T.vpcEndpoint, id);
        if (!e) throw E.vpcEndpoint(id);
        route.GatewayId = id;
        break;
      }
      const g = store.get(T.internetGateway, id);
      if (!g) throw ec2Error('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
      if (!g.Attachments?.some((a: Doc) => a.VpcId === rt.VpcId)) {
        throw E.param(`route table ${rt.RouteTableId} and network gateway ${id} belong to different networks`);
      }
      route.GatewayId = id;
      break;
    }
    case 'NatGatewayId': {
      const n = store.get(T.natGateway, id);
      if (!n || n.State === 'deleted') throw ec2Error('InvalidNatGatewayID.NotFound', `The natGateway ID '${id}' does not exist`);
      route.NatGatewayId = id;
      break;
    }
    case 'InstanceId': {
      const i = store.get(T.instance, id);
      if (!i || i.State?.Name === 'terminated') throw E.instance(id);
      route.InstanceId = id;
      route.InstanceOwnerId = store.scope.accountId;
      route.NetworkInterfaceId = i.NetworkInterfaces?.[0]?.NetworkInterfaceId;
      break;
    }
    case 'NetworkInterfaceId': {
      const n = store.get(T.networkInterface, id);
      if (!n) throw E.eni(id);
      route.NetworkInterfaceId = id;
      if (n.Attachment?.InstanceId) {
        route.InstanceId = n.Attachment.InstanceId;
        route.InstanceOwnerId = store.scope.accountId;
      }
      break;
    }
    default:
      route[t] = id;
  }
  return route;
}

function findAssociation(store: Ec2Store, associationId: string): { rt: Doc; assoc: Doc } | undefined {
  for (const rt of store.list(T.routeTable)) {
    const assoc = (rt.Associations as Doc[]).find((a) => a.RouteTableAssociationId === associationId);
    if (assoc) return { rt, assoc };
  }
  return undefined;
}

export function routeTableOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const getRt = (store: Ec2Store, id: string) => {
    const rt = store.get(T.routeTable, id);
    if (!rt) throw E.routeTable(id);
    return rt;
  };

  return {
    async CreateRouteTable(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'route-table');
      return store.exclusive(async () => {
        const vpc = store.get(T.vpc, input.VpcId);
        if (!vpc) throw E.vpc(input.VpcId);
        const cidrs = (vpc.CidrBlockAssociationSet as Doc[]).filter((a) => a.CidrBlockState?.State === 'associated').map((a) => a.CidrBlock);
        const rt = newRouteTable(store.scope, vpc.VpcId, cidrs, tags);
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
        return { RouteTable: routeTableView(store, rt) };
      });
    },

    async DeleteRouteTable(input: { RouteTableId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const rt = getRt(store, input.RouteTableId);
        if ((rt.Associations as Doc[]).length > 0) {
          throw E.dependency(`The routeTable '${rt.RouteTableId}' has dependencies and cannot be deleted.`);
        }
        await store.commit([store.del(T.routeTable, rt.RouteTableId)]);
      });
      return {};
    },

    DescribeRouteTables(input: { RouteTableIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, routeTableFilters);
      const docs = selectByIds(() => store.list(T.routeTable), (id) => store.get(T.routeTable, id), input.RouteTableIds, E.routeTable);
      const views = docs.map((d) => routeTableView(store, d)).filter(match);
      const { page, NextToken } = paginate(views, input.MaxResults, input.NextToken);
      return { RouteTables: page, NextToken };
    },

    async CreateRoute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const rt = clone(getRt(store, input.RouteTableId));
        const dest = destinationOf(input);
        if ((rt.Routes as Doc[]).some((r) => r[dest.key] === dest.value)) {
          throw ec2Error('RouteAlreadyExists', `The route identified by ${dest.value} already exists.`);
        }
        rt.Routes.push(buildRoute(store, rt, input, dest));
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
      });
      return { Return: true };
    },

    async ReplaceRoute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const rt = clone(getRt(store, input.RouteTableId));
        const dest = destinationOf(input);
        const i = (rt.Routes as Doc[]).findIndex((r) => r[dest.key] === dest.value);
        if (i < 0) {
          throw ec2Error('InvalidRoute.NotFound', `There is no route defined for '${dest.value}' in the route table. Use CreateRoute instead.`);
        }
        const route = input.LocalTarget ? { [dest.key]: dest.value, GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' } : buildRoute(store, rt, input, dest);
        if (rt.Routes[i].Origin === 'CreateRouteTable' && route.GatewayId === 'local') route.Origin = 'CreateRouteTable';
        rt.Routes[i] = route;
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
      });
      return {};
    },

    async DeleteRoute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const rt = clone(getRt(store, input.RouteTableId));
        const dest = destinationOf(input);
        const i = (rt.Routes as Doc[]).findIndex((r) => r[dest.key] === dest.value);
        if (i < 0) throw ec2Error('InvalidRoute.NotFound', `No route with destination-cidr-block ${dest.value} in route table ${rt.RouteTableId}`);
        if (rt.Routes[i].GatewayId === 'local') {
          throw E.param(`cannot remove local route ${dest.value} in route table ${rt.RouteTableId}`);
        }
        rt.Routes.splice(i, 1);
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
      });
      return {};
    },

    async AssociateRouteTable(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const rt = clone(getRt(store, input.RouteTableId));
        const assoc: Doc = { Main: false, RouteTableAssociationId: newId('rtbassoc'), RouteTableId: rt.RouteTableId, AssociationState: { State: 'associated' } };
        if (input.SubnetId) {
          const subnet = store.get(T.subnet, input.SubnetId);
          if (!subnet) throw E.subnet(input.SubnetId);
          if (subnet.VpcId !== rt.VpcId) {
            throw E.param(`Route table ${rt.RouteTableId} and subnet ${subnet.SubnetId} belong to different networks`);
          }
          const existing = store.list(T.routeTable).find((t) => (t.Associations as Doc[]).some((a) => a.SubnetId === subnet.SubnetId));
          if (existing) {
            throw ec2Error('Resource.AlreadyAssociated', `the specified association for route table ${rt.RouteTableId} conflicts with an existing association`);
          }
          assoc.SubnetId = subnet.SubnetId;
        } else if (input.GatewayId) {
          const g = store.get(T.internetGateway, input.GatewayId);
          if (!g) throw E.igw(input.GatewayId);
          if (store.list(T.routeTable).some((t) => (t.Associations as Doc[]).some((a) => a.GatewayId === g.InternetGatewayId))) {
            throw ec2Error('Resource.AlreadyAssociated', `the specified association for route table ${rt.RouteTableId} conflicts with an existing association`);
          }
          assoc.GatewayId = g.InternetGatewayId;
        } else {
          throw E.missing('subnetId');
        }
        rt.Associations.push(assoc);
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
        return { AssociationId: assoc.RouteTableAssociationId, AssociationState: assoc.AssociationState };
      });
    },

    async DisassociateRouteTable(input: { AssociationId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const found = findAssociation(store, input.AssociationId);
        if (!found) throw E.association(input.AssociationId);
        if (found.assoc.Main) throw E.param(`cannot disassociate the main route table association ${input.AssociationId}`);
        const rt = clone(found.rt);
        rt.Associations = rt.Associations.filter((a: Doc) => a.RouteTableAssociationId !== input.AssociationId);
        await store.commit([store.put(T.routeTable, rt.RouteTableId, rt)]);
      });
      return {};
    },

    async ReplaceRouteTableAssociation(input: { AssociationId: string; RouteTableId: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const found = findAssociation(store, input.AssociationId);
        if (!found) throw E.association(input.AssociationId);
        const target = getRt(store, input.RouteTableId);
        if (target.VpcId !== found.rt.VpcId) {
          throw E.param(`Route table ${target.RouteTableId} and association ${input.AssociationId} belong to different networks`);
        }
        const assoc: Doc = { ...found.assoc, RouteTableAssociationId: newId('rtbassoc'), RouteTableId: target.RouteTableId };
        const ops = [];
        if (found.rt.RouteTableId === target.RouteTableId) {
          const rt = clone(found.rt);
          rt.Associations = rt.Associations.map((a: Doc) => (a.RouteTableAssociationId === input.AssociationId ? assoc : a));
          ops.push(store.put(T.routeTable, rt.RouteTableId, rt));
        } else {
          const from = clone(found.rt);
          from.Associations = from.Associations.filter((a: Doc) => a.RouteTableAssociationId !== input.AssociationId);
          const to = clone(target);
          to.Associations.push(assoc);
          ops.push(store.put(T.routeTable, from.RouteTableId, from), store.put(T.routeTable, to.RouteTableId, to));
          if (assoc.Main) {
            const vpc = clone(store.get(T.vpc, to.VpcId)!);
            vpc._mainRouteTableId = to.RouteTableId;
            ops.push(store.put(T.vpc, vpc.VpcId, vpc));
          }
        }
        await store.commit(ops);
        return { NewAssociationId: assoc.RouteTableAssociationId, AssociationState: assoc.AssociationState };
      });
    },
  };
}
