/**
 * Network ACLs: each VPC's default ACL (allow all in and out), custom
 * ACLs, entries and subnet associations. Every subnet is associated with
 * exactly one ACL, the VPC's default until replaced.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { parseCidr } from './cidr.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

function allEntries(allow: boolean): Doc[] {
  const e: Doc[] = [];
  for (const egress of [true, false]) {
    if (allow) e.push({ CidrBlock: '0.0.0.0/0', Egress: egress, Protocol: '-1', RuleAction: 'allow', RuleNumber: 100 });
    e.push({ CidrBlock: '0.0.0.0/0', Egress: egress, Protocol: '-1', RuleAction: 'deny', RuleNumber: 32767 });
  }
  return e;
}

/** newDefaultNetworkAcl builds a network ACL; the default one allows everything, a custom one denies everything. */
export function newDefaultNetworkAcl(scope: Scope, vpcId: string, isDefault: boolean): Doc {
  return {
    NetworkAclId: newId('acl'),
    VpcId: vpcId,
    OwnerId: scope.accountId,
    IsDefault: isDefault,
    Entries: allEntries(isDefault),
    Associations: [],
    Tags: [],
  };
}

/** associateDefaultAcl returns the changed default ACL of the subnet's VPC with the subnet associated. */
export function associateDefaultAcl(store: Ec2Store, vpc: Doc, subnetId: string): Doc | undefined {
  const cur = store.get(T.networkAcl, vpc._defaultNetworkAclId);
  if (!cur) return undefined;
  const acl = clone(cur);
  acl.Associations.push({ NetworkAclAssociationId: newId('aclassoc'), NetworkAclId: acl.NetworkAclId, SubnetId: subnetId });
  return acl;
}

/** aclOfSubnet finds the ACL a subnet is associated with. */
export function aclOfSubnet(store: Ec2Store, subnetId: string): Doc | undefined {
  return store.list(T.networkAcl).find((a) => (a.Associations as Doc[]).some((x) => x.SubnetId === subnetId));
}

export function networkAclOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const getAcl = (store: Ec2Store, id: string) => {
    const a = store.get(T.networkAcl, id);
    if (!a) throw E.networkAcl(id);
    return a;
  };
  function entryInput(input: Doc): Doc {
    if (input.CidrBlock !== undefined && !parseCidr(input.CidrBlock, false)) throw E.badCidr(input.CidrBlock);
    const n = input.RuleNumber;
    if (!(n >= 1 && n <= 32766)) throw E.param(`Value (${n}) for parameter ruleNumber is invalid. Rule number must be between 1 and 32766.`);
    const e: Doc = {
      RuleNumber: n,
      Protocol: String(input.Protocol),
      RuleAction: input.RuleAction,
      Egress: !!input.Egress,
    };
    if (input.CidrBlock !== undefined) e.CidrBlock = input.CidrBlock;
    if (input.Ipv6CidrBlock !== undefined) e.Ipv6CidrBlock = input.Ipv6CidrBlock;
    if (input.PortRange) e.PortRange = input.PortRange;
    if (input.IcmpTypeCode) e.IcmpTypeCode = input.IcmpTypeCode;
    return e;
  }
  return {
    DescribeNetworkAcls(input: { NetworkAclIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, {
        'association.association-id': (d) => d.Associations.map((a: Doc) => a.NetworkAclAssociationId),
        'association.network-acl-id': (d) => d.Associations.map((a: Doc) => a.NetworkAclId),
        'association.subnet-id': (d) => d.Associations.map((a: Doc) => a.SubnetId),
        default: (d) => d.IsDefault,
        'entry.cidr': (d) => d.Entries.map((e: Doc) => e.CidrBlock),
        'entry.egress': (d) => d.Entries.map((e: Doc) => e.Egress),
        'entry.protocol': (d) => d.Entries.map((e: Doc) => e.Protocol),
        'entry.rule-action': (d) => d.Entries.map((e: Doc) => e.RuleAction),
        'entry.rule-number': (d) => d.Entries.map((e: Doc) => e.RuleNumber),
        'network-acl-id': (d) => d.NetworkAclId,
        'owner-id': (d) => d.OwnerId,
        'vpc-id': (d) => d.VpcId,
      });
      const docs = selectByIds(() => store.list(T.networkAcl), (id) => store.get(T.networkAcl, id), input.NetworkAclIds, E.networkAcl).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { NetworkAcls: page.map(out), NextToken };
    },

    async CreateNetworkAcl(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'network-acl');
      return store.exclusive(async () => {
        if (!store.get(T.vpc, input.VpcId)) throw E.vpc(input.VpcId);
        const acl = newDefaultNetworkAcl(store.scope, input.VpcId, false);
        acl.Tags = tags;
        await store.commit([store.put(T.networkAcl, acl.NetworkAclId, acl)]);
        return { NetworkAcl: out(acl) };
      });
    },

    async DeleteNetworkAcl(input: { NetworkAclId: string }, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const acl = getAcl(store, input.NetworkAclId);
        if (acl.IsDefault) throw ec2Error('InvalidParameterValue', `cannot delete default network ACL ${acl.NetworkAclId}`);
        if (acl.Associations.length) throw E.dependency(`The networkAcl '${acl.NetworkAclId}' has dependencies and cannot be deleted.`);
        await store.commit([store.del(T.networkAcl, acl.NetworkAclId)]);
      });
      return {};
    },

    async CreateNetworkAclEntry(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const acl = clone(getAcl(store, input.NetworkAclId));
        const e = entryInput(input);
        if ((acl.Entries as Doc[]).some((x) => x.RuleNumber === e.RuleNumber && x.Egress === e.Egress)) {
          throw ec2Error('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${e.RuleNumber} already exists.`);
        }
        acl.Entries.push(e);
        acl.Entries.sort((a: Doc, b: Doc) => Number(a.Egress) - Number(b.Egress) || a.RuleNumber - b.RuleNumber);
        await store.commit([store.put(T.networkAcl, acl.NetworkAclId, acl)]);
      });
      return {};
    },

    async ReplaceNetworkAclEntry(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const acl = clone(getAcl(store, input.NetworkAclId));
        const e = entryInput(input);
        const i = (acl.Entries as Doc[]).findIndex((x) => x.RuleNumber === e.RuleNumber && x.Egress === e.Egress);
        if (i < 0) throw ec2Error('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${e.RuleNumber} does not exist.`);
        acl.Entries[i] = e;
        await store.commit([store.put(T.networkAcl, acl.NetworkAclId, acl)]);
      });
      return {};
    },

    async DeleteNetworkAclEntry(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const acl = clone(getAcl(store, input.NetworkAclId));
        const i = (acl.Entries as Doc[]).findIndex((x) => x.RuleNumber === input.RuleNumber && x.Egress === !!input.Egress);
        if (i < 0) throw ec2Error('InvalidNetworkAclEntry.NotFound', `The network acl entry identified by ${input.RuleNumber} does not exist.`);
        acl.Entries.splice(i, 1);
        await store.commit([store.put(T.networkAcl, acl.NetworkAclId, acl)]);
      });
      return {};
    },

    async ReplaceNetworkAclAssociation(input: { AssociationId: string; NetworkAclId: string }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const from = store.list(T.networkAcl).find((a) => (a.Associations as Doc[]).some((x) => x.NetworkAclAssociationId === input.AssociationId));
        if (!from) throw E.association(input.AssociationId);
        const to = getAcl(store, input.NetworkAclId);
        const old = (from.Associations as Doc[]).find((x) => x.NetworkAclAssociationId === input.AssociationId)!;
        const assoc = { NetworkAclAssociationId: newId('aclassoc'), NetworkAclId: to.NetworkAclId, SubnetId: old.SubnetId };
        if (from.NetworkAclId === to.NetworkAclId) {
          const a = clone(from);
          a.Associations = a.Associations.map((x: Doc) => (x.NetworkAclAssociationId === input.AssociationId ? assoc : x));
          await store.commit([store.put(T.networkAcl, a.NetworkAclId, a)]);
        } else {
          const f = clone(from);
          f.Associations = f.Associations.filter((x: Doc) => x.NetworkAclAssociationId !== input.AssociationId);
          const t = clone(to);
          t.Associations.push(assoc);
          await store.commit([store.put(T.networkAcl, f.NetworkAclId, f), store.put(T.networkAcl, t.NetworkAclId, t)]);
        }
        return { NewAssociationId: assoc.NetworkAclAssociationId };
      });
    },
  };
}
