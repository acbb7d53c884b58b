/**
 * Tags on every EC2 resource: TagSpecifications at create time, CreateTags,
 * DeleteTags and DescribeTags. Tags live in each document's `Tags` member
 * (the model's TagList), so tag filters need no separate index.
 */
import type { RequestContext } from '../core/types.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, paginate } from './filters.ts';
import { clone, type Doc, Ec2Store, T } from './store.ts';

export interface Tag {
  Key: string;
  Value: string;
}

interface TagSpecification {
  ResourceType?: string;
  Tags?: { Key?: string; Value?: string }[];
}

/** Id prefix -> stored type, the model's ResourceType value, and the not-found error. */
const BY_PREFIX: Record<string, { type: string; resourceType: string; notFound: (id: string) => Error }> = {
  vpc: { type: T.vpc, resourceType: 'vpc', notFound: E.vpc },
  subnet: { type: T.subnet, resourceType: 'subnet', notFound: E.subnet },
  sg: { type: T.securityGroup, resourceType: 'security-group', notFound: E.group },
  rtb: { type: T.routeTable, resourceType: 'route-table', notFound: E.routeTable },
  acl: { type: T.networkAcl, resourceType: 'network-acl', notFound: E.networkAcl },
  dopt: { type: T.dhcpOptions, resourceType: 'dhcp-options', notFound: E.dhcpOptions },
  igw: { type: T.internetGateway, resourceType: 'internet-gateway', notFound: E.igw },
  nat: { type: T.natGateway, resourceType: 'natgateway', notFound: E.nat },
  eipalloc: { type: T.address, resourceType: 'elastic-ip', notFound: E.allocation },
  lt: { type: T.launchTemplate, resourceType: 'launch-template', notFound: (id) => ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`) },
  key: { type: T.keyPair, resourceType: 'key-pair', notFound: (id) => ec2Error('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`) },
  i: { type: T.instance, resourceType: 'instance', notFound: E.instance },
  eni: { type: T.networkInterface, resourceType: 'network-interface', notFound: E.eni },
  vpce: { type: T.vpcEndpoint, resourceType: 'vpc-endpoint', notFound: E.vpcEndpoint },
  vol: { type: T.volume, resourceType: 'volume', notFound: (id) => ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`) },
  eigw: { type: T.egressOnlyInternetGateway, resourceType: 'egress-only-internet-gateway', notFound: (id) => ec2Error('InvalidEgressOnlyInternetGatewayId.NotFound', `The eigw ID '${id}' does not exist`) },
};

/** resourceTypeOf returns the model ResourceType of an id ('vpc' for vpc-...), or undefined. */
export function resourceTypeOf(id: string): string | undefined {
  const p = id.slice(0, id.indexOf('-'));
  if (p === 'sgr') return 'security-group-rule';
  return BY_PREFIX[p]?.resourceType;
}

/** validateTags checks keys and values as EC2 does and returns clean Tags. */
export function validateTags(tags: { Key?: string; Value?: string }[] | undefined): Tag[] {
  const res: Tag[] = [];
  for (const t of tags ?? []) {
    const key = t.Key ?? '';
    if (key.length === 0 || key.length > 128) throw E.param(`Tag key must be between 1 and 128 characters long`);
    if (key.toLowerCase().startsWith('aws:')) throw E.param(`Tag keys starting with 'aws:' are reserved for internal use`);
    const value = t.Value ?? '';
    if (value.length > 256) throw E.param(`Tag value exceeds the maximum length of 256 characters`);
    res.push({ Key: key, Value: value });
  }
  return res;
}

/** mergeTags returns tags with updates applied (same key replaced), at most 50. */
export function mergeTags(tags: Tag[] | undefined, updates: Tag[]): Tag[] {
  const m = new Map<string, string>();
  for (const t of tags ?? []) m.set(t.Key, t.Value);
  for (const t of updates) m.set(t.Key, t.Value);
  if (m.size > 50) throw ec2Error('TagLimitExceeded', 'The maximum number of Tags for a resource has been reached.');
  return [...m].map(([Key, Value]) => ({ Key, Value }));
}

/**
 * tagsFor returns the tags of `TagSpecifications` for one resource type.
 * A specification for a type the operation cannot tag is InvalidParameterValue.
 */
export function tagsFor(specs: TagSpecification[] | undefined, resourceType: string, allowed: string[] = [resourceType]): Tag[] {
  let tags: Tag[] = [];
  for (const s of specs ?? []) {
    const rt = s.ResourceType ?? '';
    if (!allowed.includes(rt)) throw E.param(`'${rt}' is not a valid taggable resource type for this operation.`);
    if (rt === resourceType) tags = mergeTags(tags, validateTags(s.Tags));
  }
  return tags;
}

function findTarget(store: Ec2Store, id: string): { type: string; doc: Doc; ruleOf?: string } {
  const p = id.slice(0, id.indexOf('-'));
  if (p === 'sgr') {
    for (const g of store.list(T.securityGroup)) {
      if ((g._rules as Doc[] | undefined)?.some((r) => r.SecurityGroupRuleId === id)) return { type: T.securityGroup, doc: g, ruleOf: id };
    }
    throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
  }
  const t = BY_PREFIX[p];
  if (!t) throw ec2Error('InvalidID', `The ID '${id}' is not valid`);
  const doc = store.get(t.type, id);
  if (!doc) throw t.notFound(id);
  return { type: t.type, doc };
}

function idOf(type: string, doc: Doc): string {
  switch (type) {
    case T.vpc: return doc.VpcId;
    case T.subnet: return doc.SubnetId;
    case T.securityGroup: return doc.GroupId;
    case T.routeTable: return doc.RouteTableId;
    case T.networkAcl: return doc.NetworkAclId;
    case T.dhcpOptions: return doc.DhcpOptionsId;
    case T.internetGateway: return doc.InternetGatewayId;
    case T.natGateway: return doc.NatGatewayId;
    case T.address: return doc.AllocationId;
    case T.launchTemplate: return doc.LaunchTemplateId;
    case T.keyPair: return doc.KeyPairId;
    case T.instance: return doc.InstanceId;
    case T.networkInterface: return doc.NetworkInterfaceId;
    case T.vpcEndpoint: return doc.VpcEndpointId;
    case T.egressOnlyInternetGateway: return doc.EgressOnlyInternetGatewayId;
    case T.volume: return doc.VolumeId;
    default: return '';
  }
}

function changeTags(store: Ec2Store, ids: string[], fn: (tags: Tag[] | undefined) => Tag[]): Promise<void> {
  return store.exclusive(async () => {
    const targets = ids.map((id) => findTarget(store, id));
    const ops = [];
    const changed = new Map<string, Doc>();
    for (const t of targets) {
      const k = `${t.type}/${idOf(t.type, t.doc)}`;
      const doc = changed.get(k) ?? clone(t.doc);
      if (t.ruleOf) {
        const r = (doc._rules as Doc[]).find((x) => x.SecurityGroupRuleId === t.ruleOf)!;
        r.Tags = fn(r.Tags);
      } else {
        doc.Tags = fn(doc.Tags);
      }
      changed.set(k, doc);
    }
    for (const [k, doc] of changed) {
      const [type, id] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1)];
      ops.push(store.put(type, id, doc));
    }
    await store.commit(ops);
  });
}

const TAGGED_TYPES = Object.values(BY_PREFIX);

export function tagOperations(storeOf: (ctx: RequestContext) => Ec2Store) {
  return {
    async CreateTags(input: { Resources?: string[]; Tags?: Tag[] }, ctx: RequestContext) {
      const tags = validateTags(input.Tags);
      await changeTags(storeOf(ctx), input.Resources ?? [], (cur) => mergeTags(cur, tags));
      return {};
    },
    async DeleteTags(input: { Resources?: string[]; Tags?: { Key?: string; Value?: string }[] }, ctx: RequestContext) {
      const del = input.Tags ?? [];
      await changeTags(storeOf(ctx), input.Resources ?? [], (cur) =>
        (cur ?? []).filter((t) =>
          del.length === 0 ? false : !del.some((d) => d.Key === t.Key && (d.Value === undefined || d.Value === t.Value)),
        ),
      );
      return {};
    },
    DescribeTags(input: { Filters?: { Name?: string; Values?: string[] }[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = storeOf(ctx);
      const rows: Doc[] = [];
      for (const t of TAGGED_TYPES) {
        for (const doc of store.list(t.type)) {
          const id = idOf(t.type, doc);
          for (const tag of (doc.Tags as Tag[] | undefined) ?? []) {
            rows.push({ Key: tag.Key, Value: tag.Value, ResourceId: id, ResourceType: t.resourceType });
          }
        }
      }
      const match = compileFilters(input.Filters, {
        key: (r) => r.Key,
        value: (r) => r.Value,
        'resource-id': (r) => r.ResourceId,
        'resource-type': (r) => r.ResourceType,
      });
      const selected = rows.filter((r) => {
        // tag:<k> filters on DescribeTags match rows of that key and value.
        return match({ ...r, Tags: [{ Key: r.Key, Value: r.Value }] });
      });
      const { page, NextToken } = paginate(selected, input.MaxResults, input.NextToken);
      return { Tags: page, NextToken };
    },
  };
}
