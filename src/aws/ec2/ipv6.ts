/**
 * IPv6 for dual-stack VPCs (EKS IPv6 clusters, terraform-aws-modules/vpc
 * with enable_ipv6): subnet /64 blocks inside the VPC's /56
 * (CreateSubnet Ipv6CidrBlock, AssociateSubnetCidrBlock,
 * DisassociateSubnetCidrBlock) and egress-only internet gateways.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

export const EIGW_TYPE = 'egress-only-internet-gateway';

interface Cidr6 {
  base: bigint;
  prefix: number;
}

/** parseIpv6Cidr parses "2600:1f18:abcd:1200::/64" (host bits must be zero). */
export function parseIpv6Cidr(s: string): Cidr6 | undefined {
  const m = /^([0-9a-fA-F:]+)\/(\d{1,3})$/.exec(s ?? '');
  if (!m) return undefined;
  const prefix = Number(m[2]);
  if (prefix > 128) return undefined;
  const [head, tail, extra] = m[1]!.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail !== undefined ? (tail ? tail.split(':') : []) : [];
  if (tail === undefined && h.length !== 8) return undefined;
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let base = 0n;
  for (const g of groups) base = (base << 16n) | BigInt(parseInt(g, 16));
  const hostBits = 128n - BigInt(prefix);
  if (hostBits > 0n && (base & ((1n << hostBits) - 1n)) !== 0n) return undefined;
  return { base, prefix };
}

function contains6(outer: Cidr6, inner: Cidr6): boolean {
  if (inner.prefix < outer.prefix) return false;
  const shift = 128n - BigInt(outer.prefix);
  return inner.base >> shift === outer.base >> shift;
}

function overlaps6(a: Cidr6, b: Cidr6): boolean {
  return contains6(a, b) || contains6(b, a);
}

/**
 * ipv6SubnetAssociation validates a /64 for a subnet of `vpc` against the
 * VPC's IPv6 blocks and the other subnets' blocks; returns the association.
 */
export function ipv6SubnetAssociation(store: Ec2Store, vpc: Doc, subnetId: string | undefined, block: string): Doc {
  const c = parseIpv6Cidr(block);
  if (!c) throw E.param(`Value (${block}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`);
  if (c.prefix !== 64) throw ec2Error('InvalidSubnet.Range', `The IPv6 CIDR '${block}' is invalid.`);
  const vpcBlocks = ((vpc.Ipv6CidrBlockAssociationSet as Doc[] | undefined) ?? []).map((a) => parseIpv6Cidr(a.Ipv6CidrBlock)).filter((x): x is Cidr6 => !!x);
  if (!vpcBlocks.some((v) => contains6(v, c))) throw ec2Error('InvalidSubnet.Range', `The IPv6 CIDR '${block}' is invalid.`);
  for (const s of store.list(T.subnet)) {
    if (s.VpcId !== vpc.VpcId || s.SubnetId === subnetId) continue;
    for (const a of (s.Ipv6CidrBlockAssociationSet as Doc[] | undefined) ?? []) {
      const o = parseIpv6Cidr(a.Ipv6CidrBlock);
      if (o && overlaps6(o, c)) throw ec2Error('InvalidSubnet.Conflict', `The CIDR '${block}' conflicts with another subnet`);
    }
  }
  return { AssociationId: newId('subnet-cidr-assoc'), Ipv6CidrBlock: block, Ipv6CidrBlockState: { State: 'associated' }, Ipv6AddressAttribute: 'public', IpSource: 'amazon' };
}

export function ipv6Operations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  return {
    async AssociateSubnetCidrBlock(input: { SubnetId: string; Ipv6CidrBlock?: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const cur = store.get(T.subnet, input.SubnetId);
        if (!cur) throw E.subnet(input.SubnetId);
        if (!input.Ipv6CidrBlock) throw E.missing('ipv6CidrBlock');
        const s = clone(cur);
        if ((s.Ipv6CidrBlockAssociationSet as Doc[]).some((a) => a.Ipv6CidrBlockState?.State === 'associated')) {
          throw ec2Error('InvalidParameterValue', `The subnet ${s.SubnetId} already has an IPv6 CIDR block associated`);
        }
        const assoc = ipv6SubnetAssociation(store, store.get(T.vpc, s.VpcId)!, s.SubnetId, input.Ipv6CidrBlock);
        s.Ipv6CidrBlockAssociationSet.push(assoc);
        await store.commit([store.put(T.subnet, s.SubnetId, s)]);
        return { SubnetId: s.SubnetId, Ipv6CidrBlockAssociation: assoc };
      });
    },

    async DisassociateSubnetCidrBlock(input: { AssociationId: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const cur = store.list(T.subnet).find((s) => (s.Ipv6CidrBlockAssociationSet as Doc[] | undefined)?.some((a) => a.AssociationId === input.AssociationId));
        if (!cur) {
          throw ec2Error('InvalidSubnetCidrBlockAssociationID.NotFound', `The subnet CIDR block with association ID '${input.AssociationId}' does not exist`);
        }
        const s = clone(cur);
        const a = (s.Ipv6CidrBlockAssociationSet as Doc[]).find((x) => x.AssociationId === input.AssociationId)!;
        s.Ipv6CidrBlockAssociationSet = (s.Ipv6CidrBlockAssociationSet as Doc[]).filter((x) => x.AssociationId !== input.AssociationId);
        if (s.AssignIpv6AddressOnCreation) s.AssignIpv6AddressOnCreation = false;
        await store.commit([store.put(T.subnet, s.SubnetId, s)]);
        return { SubnetId: s.SubnetId, Ipv6CidrBlockAssociation: { ...a, Ipv6CidrBlockState: { State: 'disassociating' } } };
      });
    },

    async CreateEgressOnlyInternetGateway(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'egress-only-internet-gateway');
      return store.exclusive(async () => {
        if (!store.get(T.vpc, input.VpcId)) throw E.vpc(input.VpcId);
        const g = { EgressOnlyInternetGatewayId: newId('eigw'), Attachments: [{ State: 'attached', VpcId: input.VpcId }], Tags: tags };
        await store.commit([store.put(EIGW_TYPE, g.EgressOnlyInternetGatewayId, g)]);
        return { EgressOnlyInternetGateway: out(g), ClientToken: input.ClientToken };
      });
    },

    DescribeEgressOnlyInternetGateways(input: { EgressOnlyInternetGatewayIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const notFound = (id: string) => ec2Error('InvalidEgressOnlyInternetGatewayId.NotFound', `The eigw ID '${id}' does not exist`);
      const match = compileFilters(input.Filters, {});
      const docs = selectByIds(() => store.list(EIGW_TYPE), (id) => store.get(EIGW_TYPE, id), input.EgressOnlyInternetGatewayIds, notFound).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { EgressOnlyInternetGateways: page.map(out), NextToken };
    },

    async DeleteEgressOnlyInternetGateway(input: { EgressOnlyInternetGatewayId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        if (!store.get(EIGW_TYPE, input.EgressOnlyInternetGatewayId)) {
          throw ec2Error('InvalidEgressOnlyInternetGatewayId.NotFound', `The eigw ID '${input.EgressOnlyInternetGatewayId}' does not exist`);
        }
        await store.commit([store.del(EIGW_TYPE, input.EgressOnlyInternetGatewayId)]);
      });
      return { ReturnCode: true };
    },
  };
}
