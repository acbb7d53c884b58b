/**
 * Internet gateways and NAT gateways.
 *
 * A public NAT gateway takes an Elastic IP and a requester-managed ENI in
 * its subnet (one address of the subnet). It is `pending` and becomes
 * `available` after the profile's delay on the simulated clock (or `failed`
 * when its VPC has no internet gateway, as EC2 does); DeleteNatGateway makes
 * it `deleting`, then `deleted`, visible for an hour.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { delaysOf, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { releaseIps } from './ip-alloc.ts';
import { buildNetworkInterface } from './network-interfaces.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

const NAT_NEXT: Record<string, string> = { pending: 'available', deleting: 'deleted' };

/** natState is a NAT gateway's state as of now (pending/available/deleting/deleted/failed). */
export function natState(n: Doc, now: number): string {
  const s = n.State as string;
  if (n._until !== undefined && now >= n._until && NAT_NEXT[s]) {
    if (s === 'pending' && n._failure) return 'failed';
    return NAT_NEXT[s]!;
  }
  return s;
}

function natView(n: Doc, now: number): Doc {
  const v = out(n);
  const s = natState(n, now);
  v.State = s;
  v.CreateTime = new Date(n.CreateTime);
  if (s === 'deleted' || s === 'deleting') v.DeleteTime = new Date(n._deleteTime ?? n.CreateTime);
  if (s === 'failed') {
    v.FailureCode = n._failure.code;
    v.FailureMessage = n._failure.message;
  }
  if (s === 'available') v.NatGatewayAddresses = (n.NatGatewayAddresses as Doc[]).map((a) => ({ ...a, Status: 'succeeded' }));
  return v;
}

function natVisible(n: Doc, now: number, tombstone: number): boolean {
  const s = natState(n, now);
  return !((s === 'deleted' || s === 'failed') && now >= (n._until ?? 0) + tombstone);
}

function attachedIgw(store: Ec2Store, vpcId: string): Doc | undefined {
  return store.list(T.internetGateway).find((g) => (g.Attachments as Doc[]).some((a) => a.VpcId === vpcId));
}

export function gatewayOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const getIgw = (store: Ec2Store, id: string) => {
    const g = store.get(T.internetGateway, id);
    if (!g) throw E.igw(id);
    return g;
  };
  const igwView = (g: Doc) => out(g);

  return {
    async CreateInternetGateway(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const g: Doc = { InternetGatewayId: newId('igw'), OwnerId: store.scope.accountId, Attachments: [], Tags: tagsFor(input.TagSpecifications, 'internet-gateway') };
      await store.commit([store.put(T.internetGateway, g.InternetGatewayId, g)]);
      return { InternetGateway: igwView(g) };
    },

    DescribeInternetGateways(input: { InternetGatewayIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, {
        'attachment.state': (d) => d.Attachments.map((a: Doc) => a.State),
        'attachment.vpc-id': (d) => d.Attachments.map((a: Doc) => a.VpcId),
        'internet-gateway-id': (d) => d.InternetGatewayId,
        'owner-id': (d) => d.OwnerId,
      });
      const docs = selectByIds(() => store.list(T.internetGateway), (id) => store.get(T.internetGateway, id), input.InternetGatewayIds, E.igw).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { InternetGateways: page.map(igwView), NextToken };
    },

    async AttachInternetGateway(input: { InternetGatewayId: string; VpcId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const g = clone(getIgw(store, input.InternetGatewayId));
        if (!store.get(T.vpc, input.VpcId)) throw E.vpc(input.VpcId);
        if (g.Attachments.length) {
          throw ec2Error('Resource.AlreadyAssociated', `resource ${g.InternetGatewayId} is already attached to network ${g.Attachments[0].VpcId}`);
        }
        const other = attachedIgw(store, input.VpcId);
        if (other) {
          throw ec2Error('Resource.AlreadyAssociated', `resource ${input.VpcId} is already attached to network ${other.InternetGatewayId}`);
        }
        g.Attachments = [{ State: 'available', VpcId: input.VpcId }];
        await store.commit([store.put(T.internetGateway, g.InternetGatewayId, g)]);
      });
      return {};
    },

    async DetachInternetGateway(input: { InternetGatewayId: string; VpcId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const g = clone(getIgw(store, input.InternetGatewayId));
        if (!(g.Attachments as Doc[]).some((a) => a.VpcId === input.VpcId)) {
          throw ec2Error('Gateway.NotAttached', `resource ${g.InternetGatewayId} is not attached to network ${input.VpcId}`);
        }
        const mapped =
          store.list(T.address).some((a) => a.NetworkInterfaceId && store.get(T.networkInterface, a.NetworkInterfaceId)?.VpcId === input.VpcId) ||
          store.list(T.natGateway).some((n) => n.VpcId === input.VpcId && n.ConnectivityType === 'public' && !['deleted', 'failed'].includes(natState(n, deps.clock.nowMs())));
        if (mapped) {
          throw E.dependency(`Network ${input.VpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`);
        }
        g.Attachments = [];
        await store.commit([store.put(T.internetGateway, g.InternetGatewayId, g)]);
      });
      return {};
    },

    async DeleteInternetGateway(input: { InternetGatewayId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const g = getIgw(store, input.InternetGatewayId);
        if (g.Attachments.length) {
          throw E.dependency(`The internetGateway '${g.InternetGatewayId}' has dependencies and cannot be deleted.`);
        }
        await store.commit([store.del(T.internetGateway, g.InternetGatewayId)]);
      });
      return {};
    },

    async CreateNatGateway(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'natgateway');
      const connectivity = input.ConnectivityType ?? 'public';
      return store.exclusive(async () => {
        const now = deps.clock.nowMs();
        if (!input.SubnetId) throw E.missing('SubnetId');
        const cur = store.get(T.subnet, input.SubnetId);
        if (!cur) throw E.subnet(input.SubnetId);
        if (input.ClientToken) {
          const same = store.list(T.natGateway).find((n) => n._clientToken === input.ClientToken);
          if (same) return { NatGatewayId: same.NatGatewayId, NatGateway: natView(same, now), ClientToken: input.ClientToken };
        }
        let eip: Doc | undefined;
        if (connectivity === 'public') {
          if (!input.AllocationId) throw E.missing('AllocationId');
          const a = store.get(T.address, input.AllocationId);
          if (!a) throw E.allocation(input.AllocationId);
          if (a.AssociationId) {
            throw ec2Error('Resource.AlreadyAssociated', `Elastic IP address [${a.AllocationId}] is already associated`);
          }
          eip = clone(a);
        }
        const subnet = clone(cur);
        const id = newId('nat');
        const eni = buildNetworkInterface(store, subnet, {
          SubnetId: subnet.SubnetId,
          Groups: [],
          Description: `Interface for NAT Gateway ${id}`,
          InterfaceType: 'nat_gateway',
          RequesterId: 'AWS:NAT',
          PrivateIpAddress: input.PrivateIpAddress,
        });
        eni.Groups = [];
        eni.Status = 'in-use';
        const address: Doc = {
          NetworkInterfaceId: eni.NetworkInterfaceId,
          PrivateIp: eni.PrivateIpAddress,
          IsPrimary: true,
          Status: 'associating',
        };
        const ops = [];
        if (eip) {
          eip.AssociationId = newId('eipassoc');
          eip.NetworkInterfaceId = eni.NetworkInterfaceId;
          eip.NetworkInterfaceOwnerId = store.scope.accountId;
          eip.PrivateIpAddress = eni.PrivateIpAddress;
          eni.Association = { PublicIp: eip.PublicIp, IpOwnerId: 'amazon', AllocationId: eip.AllocationId, AssociationId: eip.AssociationId };
          Object.assign(address, { AllocationId: eip.AllocationId, PublicIp: eip.PublicIp, AssociationId: eip.AssociationId });
          ops.push(store.put(T.address, eip.AllocationId, eip));
        }
        const failure = connectivity === 'public' && !attachedIgw(store, subnet.VpcId)
          ? { code: 'Gateway.NotAttached', message: `Network ${subnet.VpcId} has no Internet gateway attached` }
          : undefined;
        const nat: Doc = {
          NatGatewayId: id,
          SubnetId: subnet.SubnetId,
          VpcId: subnet.VpcId,
          State: 'pending',
          ConnectivityType: connectivity,
          CreateTime: new Date(now).toISOString(),
          NatGatewayAddresses: [address],
          Tags: tags,
          _until: now + delaysOf(deps).natCreate,
          _eniId: eni.NetworkInterfaceId,
          ...(failure ? { _failure: failure } : {}),
          ...(input.ClientToken ? { _clientToken: input.ClientToken } : {}),
        };
        ops.push(store.put(T.subnet, subnet.SubnetId, subnet), store.put(T.networkInterface, eni.NetworkInterfaceId, eni), store.put(T.natGateway, id, nat));
        await store.commit(ops);
        return { NatGateway: natView(nat, now), ClientToken: input.ClientToken };
      });
    },

    DescribeNatGateways(input: { NatGatewayIds?: string[]; Filter?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const now = deps.clock.nowMs();
      const tomb = delaysOf(deps).tombstone;
      const match = compileFilters(input.Filter, {
        'nat-gateway-id': (d) => d.NatGatewayId,
        state: (d) => d.State,
        'subnet-id': (d) => d.SubnetId,
        'vpc-id': (d) => d.VpcId,
      });
      const docs = selectByIds(
        () => store.list(T.natGateway).filter((n) => natVisible(n, now, tomb)),
        (id) => {
          const n = store.get(T.natGateway, id);
          return n && natVisible(n, now, tomb) ? n : undefined;
        },
        input.NatGatewayIds,
        E.nat,
      );
      const views = docs.map((n) => natView(n, now)).filter(match);
      const { page, NextToken } = paginate(views, input.MaxResults, input.NextToken);
      return { NatGateways: page, NextToken };
    },

    async DeleteNatGateway(input: { NatGatewayId: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const now = deps.clock.nowMs();
        const cur = store.get(T.natGateway, input.NatGatewayId);
        if (!cur || !natVisible(cur, now, delaysOf(deps).tombstone)) throw E.nat(input.NatGatewayId);
        const n = clone(cur);
        const s = natState(n, now);
        if (s === 'deleted' || s === 'deleting') return { NatGatewayId: n.NatGatewayId };
        n.State = 'deleting';
        n._until = now + delaysOf(deps).natDelete;
        n._deleteTime = new Date(now).toISOString();
        delete n._failure;
        const ops = [];
        // The ENI and the Elastic IP association go away with the gateway.
        const eni = store.get(T.networkInterface, n._eniId);
        if (eni) {
          ops.push(store.del(T.networkInterface, eni.NetworkInterfaceId));
          const sub = store.get(T.subnet, eni.SubnetId);
          if (sub) {
            const c = clone(sub);
            releaseIps(c, [eni.PrivateIpAddress]);
            ops.push(store.put(T.subnet, c.SubnetId, c));
          }
        }
        for (const a of n.NatGatewayAddresses as Doc[]) {
          const eip = a.AllocationId && store.get(T.address, a.AllocationId);
          if (eip && eip.NetworkInterfaceId === n._eniId) {
            const c = clone(eip);
            delete c.AssociationId;
            delete c.NetworkInterfaceId;
            delete c.NetworkInterfaceOwnerId;
            delete c.PrivateIpAddress;
            ops.push(store.put(T.address, c.AllocationId, c));
          }
          a.Status = 'disassociating';
        }
        ops.push(store.put(T.natGateway, n.NatGatewayId, n));
        await store.commit(ops);
        return { NatGatewayId: n.NatGatewayId };
      });
    },
  };
}
