/**
 * Elastic IP addresses: AllocateAddress, ReleaseAddress, AssociateAddress
 * (to an instance's primary ENI or an ENI), DisassociateAddress,
 * DescribeAddresses and DescribeAddressesAttribute.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput } from './filters.ts';
import { newHex, newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

function randomPublicIp(store: Ec2Store): string {
  const used = new Set(store.list(T.address).map((a) => a.PublicIp));
  for (;;) {
    const b = Buffer.from(newHex(6), 'hex');
    const ip = `54.${b[0]! % 250}.${b[1]}.${(b[2]! % 250) + 1}`;
    if (!used.has(ip)) return ip;
  }
}

export const addressFilters = {
  'allocation-id': (d: Doc) => d.AllocationId,
  'association-id': (d: Doc) => d.AssociationId,
  domain: (d: Doc) => d.Domain,
  'instance-id': (d: Doc) => d.InstanceId,
  'network-border-group': (d: Doc) => d.NetworkBorderGroup,
  'network-interface-id': (d: Doc) => d.NetworkInterfaceId,
  'network-interface-owner-id': (d: Doc) => d.NetworkInterfaceOwnerId,
  'private-ip-address': (d: Doc) => d.PrivateIpAddress,
  'public-ip': (d: Doc) => d.PublicIp,
};

export function addressOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);

  function find(store: Ec2Store, input: { AllocationId?: string; PublicIp?: string }): Doc {
    if (input.AllocationId) {
      const a = store.get(T.address, input.AllocationId);
      if (!a) throw E.allocation(input.AllocationId);
      return a;
    }
    if (input.PublicIp) {
      const a = store.list(T.address).find((x) => x.PublicIp === input.PublicIp);
      if (!a) throw ec2Error('InvalidAddress.NotFound', `Address '${input.PublicIp}' not found.`);
      return a;
    }
    throw E.missing('AllocationId');
  }

  /** unmap clears an address's association, updating the ENI and instance it pointed at. */
  function unmap(store: Ec2Store, a: Doc, ops: ReturnType<Ec2Store['put']>[]): void {
    const eni = a.NetworkInterfaceId && store.get(T.networkInterface, a.NetworkInterfaceId);
    if (eni) {
      const e = clone(eni);
      delete e.Association;
      ops.push(store.put(T.networkInterface, e.NetworkInterfaceId, e));
    }
    const inst = a.InstanceId && store.get(T.instance, a.InstanceId);
    if (inst) {
      const i = clone(inst);
      delete i.PublicIpAddress;
      i.PublicDnsName = '';
      ops.push(store.put(T.instance, i.InstanceId, i));
    }
    for (const k of ['AssociationId', 'InstanceId', 'NetworkInterfaceId', 'NetworkInterfaceOwnerId', 'PrivateIpAddress']) delete a[k];
  }

  return {
    async AllocateAddress(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'elastic-ip');
      return store.exclusive(async () => {
        const a: Doc = {
          AllocationId: newId('eipalloc'),
          PublicIp: input.Address ?? randomPublicIp(store),
          Domain: 'vpc',
          PublicIpv4Pool: input.PublicIpv4Pool ?? 'amazon',
          NetworkBorderGroup: input.NetworkBorderGroup ?? store.scope.region,
          Tags: tags,
        };
        await store.commit([store.put(T.address, a.AllocationId, a)]);
        return { AllocationId: a.AllocationId, PublicIp: a.PublicIp, Domain: a.Domain, PublicIpv4Pool: a.PublicIpv4Pool, NetworkBorderGroup: a.NetworkBorderGroup };
      });
    },

    async ReleaseAddress(input: { AllocationId?: string; PublicIp?: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const a = find(store, input);
        if (a.AssociationId) throw ec2Error('InvalidIPAddress.InUse', `Address [${a.AllocationId}] is in use.`);
        await store.commit([store.del(T.address, a.AllocationId)]);
      });
      return {};
    },

    async AssociateAddress(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const a = clone(find(store, input));
        let eniId: string | undefined = input.NetworkInterfaceId;
        let instanceId: string | undefined = input.InstanceId;
        if (instanceId) {
          const i = store.get(T.instance, instanceId);
          if (!i) throw E.instance(instanceId);
          if (i.State?.Name === 'terminated') throw ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a valid state for this operation.`);
          eniId = (i._eniIds as string[])[0];
        }
        if (!eniId) throw E.missing('InstanceId');
        const eni = store.get(T.networkInterface, eniId);
        if (!eni) throw E.eni(eniId);
        instanceId ??= eni.Attachment?.InstanceId;
        const ops: ReturnType<Ec2Store['put']>[] = [];
        if (a.AssociationId) {
          if (input.AllowReassociation === false) {
            throw ec2Error('Resource.AlreadyAssociated', `resource ${a.AllocationId} is already associated with associate-id ${a.AssociationId}`);
          }
          unmap(store, a, ops);
        }
        // An address already on the target ENI is replaced.
        for (const other of store.list(T.address)) {
          if (other.AllocationId !== a.AllocationId && other.NetworkInterfaceId === eniId) {
            if (input.AllowReassociation === false) {
              throw ec2Error('Resource.AlreadyAssociated', `resource ${eniId} is already associated with associate-id ${other.AssociationId}`);
            }
            const o = clone(other);
            unmap(store, o, ops);
            ops.push(store.put(T.address, o.AllocationId, o));
          }
        }
        a.AssociationId = newId('eipassoc');
        a.NetworkInterfaceId = eniId;
        a.NetworkInterfaceOwnerId = store.scope.accountId;
        a.PrivateIpAddress = input.PrivateIpAddress ?? eni.PrivateIpAddress;
        if (instanceId) a.InstanceId = instanceId;
        const e = clone(eni);
        e.Association = { PublicIp: a.PublicIp, IpOwnerId: store.scope.accountId, AllocationId: a.AllocationId, AssociationId: a.AssociationId };
        ops.push(store.put(T.networkInterface, e.NetworkInterfaceId, e));
        if (instanceId) {
          const inst = store.get(T.instance, instanceId);
          if (inst) {
            const i = clone(inst);
            i.PublicIpAddress = a.PublicIp;
            const dashed = a.PublicIp.replace(/\./g, '-');
            i.PublicDnsName = store.scope.region === 'us-east-1' ? `ec2-${dashed}.compute-1.amazonaws.com` : `ec2-${dashed}.${store.scope.region}.compute.amazonaws.com`;
            ops.push(store.put(T.instance, i.InstanceId, i));
          }
        }
        ops.push(store.put(T.address, a.AllocationId, a));
        await store.commit(ops);
        return { AssociationId: a.AssociationId };
      });
    },

    async DisassociateAddress(input: { AssociationId?: string; PublicIp?: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const cur = input.AssociationId
          ? store.list(T.address).find((x) => x.AssociationId === input.AssociationId)
          : store.list(T.address).find((x) => x.PublicIp === input.PublicIp);
        if (!cur) {
          if (input.AssociationId) throw ec2Error('InvalidAssociationID.NotFound', `The association ID '${input.AssociationId}' does not exist`);
          throw ec2Error('InvalidAddress.NotFound', `Address '${input.PublicIp}' not found.`);
        }
        if (!cur.AssociationId) return;
        if (store.list(T.natGateway).some((n) => n._eniId === cur.NetworkInterfaceId && n.State !== 'deleted')) {
          throw ec2Error('AuthFailure', `You do not have permission to access the specified resource.`);
        }
        const a = clone(cur);
        const ops: ReturnType<Ec2Store['put']>[] = [];
        unmap(store, a, ops);
        ops.push(store.put(T.address, a.AllocationId, a));
        await store.commit(ops);
      });
      return {};
    },

    DescribeAddresses(input: { AllocationIds?: string[]; PublicIps?: string[]; Filters?: FilterInput[] }, ctx: RequestContext) {
      const store = st(ctx);
      let docs = store.list(T.address);
      if (input.AllocationIds?.length) {
        docs = input.AllocationIds.map((id) => store.get(T.address, id) ?? (() => { throw E.allocation(id); })());
      }
      if (input.PublicIps?.length) {
        const ips = input.PublicIps;
        for (const ip of ips) {
          if (!docs.some((d) => d.PublicIp === ip)) throw ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`);
        }
        docs = docs.filter((d) => ips.includes(d.PublicIp));
      }
      const match = compileFilters(input.Filters, addressFilters);
      return { Addresses: docs.filter(match).map(out) };
    },

    DescribeAddressesAttribute(input: { AllocationIds?: string[]; Attribute?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const docs = input.AllocationIds?.length
        ? input.AllocationIds.map((id) => store.get(T.address, id) ?? (() => { throw E.allocation(id); })())
        : store.list(T.address);
      return { Addresses: docs.map((a) => ({ AllocationId: a.AllocationId, PublicIp: a.PublicIp })) };
    },
  };
}
