/**
 * Security groups and their rules. A group document keeps its rules as the
 * model's SecurityGroupRule shapes in `_rules` (one rule per protocol, port
 * range and peer, each with its sgr- id); DescribeSecurityGroups folds them
 * back into IpPermissions / IpPermissionsEgress as EC2 does.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { parseCidr } from './cidr.ts';
import { ec2Arn, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, type FilterSpec, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';

const PROTOCOL_NUMBERS: Record<string, string> = { '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6', all: '-1' };

/** normalizeProtocol maps 6/17/1/58/all to tcp/udp/icmp/icmpv6/-1 and rejects unknown names. */
export function normalizeProtocol(p: string | undefined): string {
  const s = String(p ?? '').toLowerCase();
  if (PROTOCOL_NUMBERS[s]) return PROTOCOL_NUMBERS[s]!;
  if (s === '-1' || s === 'tcp' || s === 'udp' || s === 'icmp' || s === 'icmpv6') return s;
  if (/^\d+$/.test(s) && Number(s) <= 255) return s;
  throw E.param(`Invalid value '${p}' for IP protocol. Unknown protocol.`);
}

interface IpPermission {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  PrefixListIds?: { PrefixListId?: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId?: string; GroupName?: string; UserId?: string; Description?: string; VpcId?: string }[];
}

function ruleKey(r: Doc): string {
  const peer = r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId;
  return `${r.IsEgress ? 'e' : 'i'}|${r.IpProtocol}|${r.FromPort}|${r.ToPort}|${peer}`;
}

function newRule(scope: Scope, groupId: string, egress: boolean, fields: Doc): Doc {
  const id = newId('sgr');
  return {
    SecurityGroupRuleId: id,
    GroupId: groupId,
    GroupOwnerId: scope.accountId,
    IsEgress: egress,
    ...fields,
    SecurityGroupRuleArn: ec2Arn(scope, 'security-group-rule', id),
    Tags: fields.Tags ?? [],
  };
}

/**
 * newSecurityGroup builds a group document with EC2's default egress rule
 * (all traffic to 0.0.0.0/0); a VPC's default group also admits all traffic
 * from itself.
 */
export function newSecurityGroup(
  scope: Scope,
  p: { GroupName: string; Description: string; VpcId: string; Tags?: Tag[] },
  opts: { defaultVpcGroup?: boolean } = {},
): Doc {
  const id = newId('sg');
  const rules = [newRule(scope, id, true, { IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' })];
  if (opts.defaultVpcGroup) {
    rules.unshift(newRule(scope, id, false, { IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: id, UserId: scope.accountId } }));
  }
  return {
    GroupId: id,
    GroupName: p.GroupName,
    Description: p.Description,
    VpcId: p.VpcId,
    OwnerId: scope.accountId,
    SecurityGroupArn: ec2Arn(scope, 'security-group', id),
    Tags: p.Tags ?? [],
    _rules: rules,
    _default: opts.defaultVpcGroup ? true : undefined,
  };
}

/** ipPermissions folds rules of one direction into the model's IpPermission list. */
export function ipPermissions(rules: Doc[], egress: boolean): Doc[] {
  const groups = new Map<string, Doc>();
  for (const r of rules) {
    if (r.IsEgress !== egress) continue;
    const k = `${r.IpProtocol}|${r.FromPort}|${r.ToPort}`;
    let p = groups.get(k);
    if (!p) {
      p = { IpProtocol: r.IpProtocol, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] };
      if (r.IpProtocol !== '-1') {
        p.FromPort = r.FromPort;
        p.ToPort = r.ToPort;
      }
      groups.set(k, p);
    }
    const d = r.Description !== undefined ? { Description: r.Description } : {};
    if (r.CidrIpv4) p.IpRanges.push({ CidrIp: r.CidrIpv4, ...d });
    else if (r.CidrIpv6) p.Ipv6Ranges.push({ CidrIpv6: r.CidrIpv6, ...d });
    else if (r.PrefixListId) p.PrefixListIds.push({ PrefixListId: r.PrefixListId, ...d });
    else if (r.ReferencedGroupInfo) p.UserIdGroupPairs.push({ GroupId: r.ReferencedGroupInfo.GroupId, UserId: r.ReferencedGroupInfo.UserId, ...d });
  }
  return [...groups.values()];
}

/** securityGroupView is what DescribeSecurityGroups returns for a stored group. */
export function securityGroupView(g: Doc): Doc {
  const v = out(g);
  delete v._rules;
  v.IpPermissions = ipPermissions(g._rules, false);
  v.IpPermissionsEgress = ipPermissions(g._rules, true);
  return v;
}

/** ruleView is a stored rule as DescribeSecurityGroupRules returns it. */
function ruleView(r: Doc): Doc {
  return r;
}

function checkCidr(c: string | undefined, param: string): string {
  if (!c || !parseCidr(c, true)) throw E.param(`CIDR block ${c} is malformed`);
  return c;
}

/**
 * expandPermissions turns IpPermissions into rule documents (not yet
 * stored), validating protocols, ports, CIDRs and referenced groups.
 */
export function expandPermissions(store: Ec2Store, group: Doc, egress: boolean, perms: IpPermission[], tags: Tag[] = []): Doc[] {
  const rules: Doc[] = [];
  for (const p of perms) {
    const proto = normalizeProtocol(p.IpProtocol);
    let from = p.FromPort;
    let to = p.ToPort;
    if (proto === '-1' || !['tcp', 'udp', 'icmp', 'icmpv6'].includes(proto)) {
      from = -1;
      to = -1;
    } else if (proto === 'tcp' || proto === 'udp') {
      if (from === undefined || to === undefined) {
        throw E.param(`Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.`);
      }
      if (from < 0 || to > 65535 || from > to) {
        throw E.param(`Invalid value '${from}-${to}' for portRange. Ports must be between 0 and 65535 and from port must not be greater than to port.`);
      }
    } else {
      from = from ?? -1;
      to = to ?? -1;
    }
    const base = { IpProtocol: proto, FromPort: from, ToPort: to };
    const n0 = rules.length;
    for (const r of p.IpRanges ?? []) {
      rules.push(newRule(store.scope, group.GroupId, egress, { ...base, CidrIpv4: checkCidr(r.CidrIp, 'cidrIp'), Description: r.Description, Tags: tags }));
    }
    for (const r of p.Ipv6Ranges ?? []) {
      if (!r.CidrIpv6 || !/^[0-9a-fA-F:]+\/\d{1,3}$/.test(r.CidrIpv6)) throw E.param(`CIDR block ${r.CidrIpv6} is malformed`);
      rules.push(newRule(store.scope, group.GroupId, egress, { ...base, CidrIpv6: r.CidrIpv6, Description: r.Description, Tags: tags }));
    }
    for (const r of p.PrefixListIds ?? []) {
      rules.push(newRule(store.scope, group.GroupId, egress, { ...base, PrefixListId: r.PrefixListId, Description: r.Description, Tags: tags }));
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      let ref: Doc | undefined;
      if (r.GroupId) {
        ref = store.get(T.securityGroup, r.GroupId);
        if (!ref && r.UserId && r.UserId !== store.scope.accountId) ref = { GroupId: r.GroupId, OwnerId: r.UserId };
        if (!ref) throw E.group(r.GroupId);
      } else if (r.GroupName) {
        ref = store.list(T.securityGroup).find((g) => g.GroupName === r.GroupName && g.VpcId === group.VpcId);
        if (!ref) throw E.group(r.GroupName);
      } else {
        throw E.param('Invalid security group reference: a GroupId is required');
      }
      rules.push(
        newRule(store.scope, group.GroupId, egress, {
          ...base,
          ReferencedGroupInfo: { GroupId: ref.GroupId, UserId: r.UserId ?? ref.OwnerId ?? store.scope.accountId },
          Description: r.Description,
          Tags: tags,
        }),
      );
    }
    if (rules.length === n0) {
      // A permission with no peer (e.g. only a protocol) is what the legacy
      // CidrIp form omits; EC2 rejects it.
      throw ec2Error('MissingParameter', 'Either CidrIp, Ipv6Ranges, PrefixListIds or a source security group must be specified');
    }
  }
  return rules;
}

function duplicateMessage(r: Doc): string {
  const peer = r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId;
  const proto = r.IpProtocol === '-1' ? 'ALL' : r.IpProtocol.toUpperCase();
  const ports = r.IpProtocol === '-1' ? '' : `, from port: ${r.FromPort}, to port: ${r.ToPort}`;
  return `the specified rule "peer: ${peer}, ${proto}${ports}, ALLOW" already exists`;
}

/** addRules appends new rules to a group document copy, rejecting duplicates. */
export function addRules(group: Doc, rules: Doc[]): void {
  const have = new Set((group._rules as Doc[]).map(ruleKey));
  for (const r of rules) {
    const k = ruleKey(r);
    if (have.has(k)) throw ec2Error('InvalidPermission.Duplicate', duplicateMessage(r));
    have.add(k);
  }
  if ((group._rules as Doc[]).filter((r) => r.IsEgress === rules[0]?.IsEgress).length + rules.length > 120) {
    throw ec2Error('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
  }
  group._rules.push(...rules);
}

export const securityGroupFilters: FilterSpec = {
  description: (d) => d.Description,
  'group-id': (d) => d.GroupId,
  'group-name': (d) => d.GroupName,
  'owner-id': (d) => d.OwnerId,
  'vpc-id': (d) => d.VpcId,
  ...permissionFilters('ip-permission', false),
  ...permissionFilters('egress.ip-permission', true),
};

function permissionFilters(prefix: string, egress: boolean): FilterSpec {
  const rs = (d: Doc) => (d._rules as Doc[]).filter((r) => r.IsEgress === egress);
  return {
    [`${prefix}.cidr`]: (d) => rs(d).map((r) => r.CidrIpv4),
    [`${prefix}.from-port`]: (d) => rs(d).map((r) => r.FromPort),
    [`${prefix}.to-port`]: (d) => rs(d).map((r) => r.ToPort),
    [`${prefix}.protocol`]: (d) => rs(d).map((r) => r.IpProtocol),
    [`${prefix}.group-id`]: (d) => rs(d).map((r) => r.ReferencedGroupInfo?.GroupId),
    [`${prefix}.user-id`]: (d) => rs(d).map((r) => r.ReferencedGroupInfo?.UserId),
    [`${prefix}.ipv6-cidr`]: (d) => rs(d).map((r) => r.CidrIpv6),
    [`${prefix}.prefix-list-id`]: (d) => rs(d).map((r) => r.PrefixListId),
  };
}

/** findGroup resolves GroupId or (in the VPC-less legacy form) GroupName. */
function findGroup(store: Ec2Store, input: { GroupId?: string; GroupName?: string }): Doc {
  if (input.GroupId) {
    if (!input.GroupId.startsWith('sg-')) throw E.groupId(input.GroupId);
    const g = store.get(T.securityGroup, input.GroupId);
    if (!g) throw E.group(input.GroupId);
    return g;
  }
  if (input.GroupName) {
    throw ec2Error('InvalidGroup.NotFound', `The security group '${input.GroupName}' does not exist in default VPC 'none'`);
  }
  throw E.missing('GroupId');
}

/** legacyPermissions turns the flat CidrIp/IpProtocol/FromPort/ToPort form into IpPermissions. */
function legacyPermissions(input: Doc): IpPermission[] {
  if (input.IpPermissions?.length) return input.IpPermissions;
  if (input.IpProtocol === undefined && input.CidrIp === undefined && input.SourceSecurityGroupName === undefined) return [];
  const p: IpPermission = { IpProtocol: input.IpProtocol ?? '-1', FromPort: input.FromPort, ToPort: input.ToPort };
  if (input.CidrIp) p.IpRanges = [{ CidrIp: input.CidrIp }];
  if (input.SourceSecurityGroupName) p.UserIdGroupPairs = [{ GroupName: input.SourceSecurityGroupName, UserId: input.SourceSecurityGroupOwnerId }];
  return [p];
}

/** createSecurityGroupIn validates and stores a new group. */
export async function createSecurityGroupIn(store: Ec2Store, p: { GroupName?: string; Description?: string; VpcId?: string; Tags?: Tag[] }): Promise<Doc> {
  const name = p.GroupName ?? '';
  const desc = p.Description ?? '';
  if (!name) throw E.missing('GroupName');
  if (!p.VpcId) throw ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
  if (name.length > 255) throw E.param(`Invalid value '${name}' for groupName. Length exceeds maximum of 255`);
  if (/^sg-/i.test(name)) throw E.param(`Group names may not be in the format sg-*`);
  if (desc.length > 255 || !/^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/.test(desc)) {
    throw E.param(`Invalid value '${desc}' for GroupDescription. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*`);
  }
  return store.exclusive(async () => {
    if (!store.get(T.vpc, p.VpcId!)) throw E.vpc(p.VpcId!);
    if (store.list(T.securityGroup).some((g) => g.VpcId === p.VpcId && g.GroupName === name)) {
      throw ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${p.VpcId}'`);
    }
    const g = newSecurityGroup(store.scope, { GroupName: name, Description: desc, VpcId: p.VpcId!, Tags: p.Tags });
    await store.commit([store.put(T.securityGroup, g.GroupId, g)]);
    return g;
  });
}

/** deleteSecurityGroupIn deletes a group unless it is a default group or still used. */
export async function deleteSecurityGroupIn(store: Ec2Store, input: { GroupId?: string; GroupName?: string }): Promise<string> {
  return store.exclusive(async () => {
    const g = findGroup(store, input);
    if (g._default) {
      throw ec2Error('CannotDelete', `the specified group: "${g.GroupId}" name: "default" cannot be deleted by a user`);
    }
    const id = g.GroupId;
    const referenced = store.list(T.securityGroup).some((o) => o.GroupId !== id && (o._rules as Doc[]).some((r) => r.ReferencedGroupInfo?.GroupId === id));
    const used =
      referenced ||
      store.list(T.networkInterface).some((n) => n.Groups?.some((x: Doc) => x.GroupId === id)) ||
      store.list(T.vpcEndpoint).some((e) => e.State !== 'deleted' && e.Groups?.some((x: Doc) => x.GroupId === id));
    if (used) throw E.dependency(`resource ${id} has a dependent object`);
    await store.commit([store.del(T.securityGroup, id)]);
    return id;
  });
}

function matchesRevoke(r: Doc, want: Doc): boolean {
  return ruleKey(r) === ruleKey(want);
}

export function securityGroupOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);

  async function authorize(input: Doc, ctx: RequestContext, egress: boolean) {
    const store = st(ctx);
    return store.exclusive(async () => {
      const cur = findGroup(store, input);
      const g = clone(cur);
      const tags = tagsFor(input.TagSpecifications, 'security-group-rule');
      const perms = egress ? input.IpPermissions ?? [] : legacyPermissions(input);
      if (perms.length === 0) throw E.missing('IpPermissions');
      const rules = expandPermissions(store, g, egress, perms, tags);
      addRules(g, rules);
      await store.commit([store.put(T.securityGroup, g.GroupId, g)]);
      return { Return: true, SecurityGroupRules: rules.map(ruleView) };
    });
  }

  async function revoke(input: Doc, ctx: RequestContext, egress: boolean) {
    const store = st(ctx);
    return store.exclusive(async () => {
      const cur = findGroup(store, input);
      const g = clone(cur);
      let removed: Doc[] = [];
      if (input.SecurityGroupRuleIds?.length) {
        for (const id of input.SecurityGroupRuleIds as string[]) {
          const r = (g._rules as Doc[]).find((x) => x.SecurityGroupRuleId === id && x.IsEgress === egress);
          if (!r) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
          removed.push(r);
        }
      } else {
        const perms = egress ? input.IpPermissions ?? [] : legacyPermissions(input);
        if (perms.length === 0) throw E.missing('IpPermissions');
        // Referenced groups may already be gone when revoking; tolerate that.
        const wanted = expandPermissionsLenient(store, g, egress, perms);
        for (const w of wanted) {
          const r = (g._rules as Doc[]).find((x) => matchesRevoke(x, w));
          if (!r) throw ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
          removed.push(r);
        }
      }
      removed = [...new Set(removed)];
      g._rules = (g._rules as Doc[]).filter((r) => !removed.includes(r));
      await store.commit([store.put(T.securityGroup, g.GroupId, g)]);
      return {
        Return: true,
        RevokedSecurityGroupRules: removed.map((r) => ({
          SecurityGroupRuleId: r.SecurityGroupRuleId,
          GroupId: r.GroupId,
          IsEgress: r.IsEgress,
          IpProtocol: r.IpProtocol,
          FromPort: r.FromPort,
          ToPort: r.ToPort,
          CidrIpv4: r.CidrIpv4,
          CidrIpv6: r.CidrIpv6,
          PrefixListId: r.PrefixListId,
          ReferencedGroupId: r.ReferencedGroupInfo?.GroupId,
          Description: r.Description,
        })),
      };
    });
  }

  async function updateDescriptions(input: Doc, ctx: RequestContext, egress: boolean) {
    const store = st(ctx);
    return store.exclusive(async () => {
      const g = clone(findGroup(store, input));
      if (input.SecurityGroupRuleDescriptions?.length) {
        for (const d of input.SecurityGroupRuleDescriptions as Doc[]) {
          const r = (g._rules as Doc[]).find((x) => x.SecurityGroupRuleId === d.SecurityGroupRuleId && x.IsEgress === egress);
          if (!r) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${d.SecurityGroupRuleId}' does not exist`);
          r.Description = d.Description;
        }
      } else {
        const wanted = expandPermissionsLenient(store, g, egress, input.IpPermissions ?? []);
        for (const w of wanted) {
          const r = (g._rules as Doc[]).find((x) => matchesRevoke(x, w));
          if (!r) throw ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
          r.Description = w.Description;
        }
      }
      await store.commit([store.put(T.securityGroup, g.GroupId, g)]);
      return { Return: true };
    });
  }

  return {
    async CreateSecurityGroup(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const g = await createSecurityGroupIn(store, { ...input, Tags: tagsFor(input.TagSpecifications, 'security-group') });
      return { GroupId: g.GroupId, SecurityGroupArn: g.SecurityGroupArn, Tags: g.Tags.length ? g.Tags : undefined };
    },

    async DeleteSecurityGroup(input: Doc, ctx: RequestContext) {
      const id = await deleteSecurityGroupIn(st(ctx), input);
      return { Return: true, GroupId: id };
    },

    DescribeSecurityGroups(input: { GroupIds?: string[]; GroupNames?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, securityGroupFilters);
      let docs = selectByIds(() => store.list(T.securityGroup), (id) => store.get(T.securityGroup, id), input.GroupIds, (id) => (id.startsWith('sg-') ? E.group(id) : E.groupId(id)));
      if (input.GroupNames?.length) {
        const names = new Set(input.GroupNames);
        docs = docs.filter((g) => names.has(g.GroupName));
        for (const n of names) {
          if (!docs.some((g) => g.GroupName === n)) throw ec2Error('InvalidGroup.NotFound', `The security group '${n}' does not exist in default VPC 'none'`);
        }
      }
      const { page, NextToken } = paginate(docs.filter(match), input.MaxResults, input.NextToken);
      return { SecurityGroups: page.map(securityGroupView), NextToken };
    },

    DescribeSecurityGroupRules(input: { SecurityGroupRuleIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, {
        'group-id': (r) => r.GroupId,
        'security-group-rule-id': (r) => r.SecurityGroupRuleId,
      });
      let rules: Doc[] = [];
      // Narrow by group-id first: it is the common query and saves a full scan.
      const gf = input.Filters?.find((f) => f.Name === 'group-id');
      const groups = gf ? (gf.Values ?? []).map((id) => store.get(T.securityGroup, id)).filter((g): g is Doc => !!g) : store.list(T.securityGroup);
      for (const g of groups) rules.push(...(g._rules as Doc[]));
      if (input.SecurityGroupRuleIds?.length) {
        const byId = new Map(rules.map((r) => [r.SecurityGroupRuleId, r]));
        rules = input.SecurityGroupRuleIds.map((id) => {
          const r = byId.get(id);
          if (!r) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
          return r;
        });
      }
      const { page, NextToken } = paginate(rules.filter(match), input.MaxResults, input.NextToken);
      return { SecurityGroupRules: page.map(ruleView), NextToken };
    },

    AuthorizeSecurityGroupIngress: (input: Doc, ctx: RequestContext) => authorize(input, ctx, false),
    AuthorizeSecurityGroupEgress: (input: Doc, ctx: RequestContext) => authorize(input, ctx, true),
    RevokeSecurityGroupIngress: (input: Doc, ctx: RequestContext) => revoke(input, ctx, false),
    RevokeSecurityGroupEgress: (input: Doc, ctx: RequestContext) => revoke(input, ctx, true),
    UpdateSecurityGroupRuleDescriptionsIngress: (input: Doc, ctx: RequestContext) => updateDescriptions(input, ctx, false),
    UpdateSecurityGroupRuleDescriptionsEgress: (input: Doc, ctx: RequestContext) => updateDescriptions(input, ctx, true),

    async ModifySecurityGroupRules(input: { GroupId: string; SecurityGroupRules: Doc[] }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const g = clone(findGroup(store, input));
        for (const u of input.SecurityGroupRules) {
          const idx = (g._rules as Doc[]).findIndex((x) => x.SecurityGroupRuleId === u.SecurityGroupRuleId);
          if (idx < 0) throw ec2Error('InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${u.SecurityGroupRuleId}' does not exist`);
          const old = g._rules[idx];
          const req = u.SecurityGroupRule ?? {};
          const perm: IpPermission = {
            IpProtocol: req.IpProtocol,
            FromPort: req.FromPort,
            ToPort: req.ToPort,
            IpRanges: req.CidrIpv4 ? [{ CidrIp: req.CidrIpv4, Description: req.Description }] : undefined,
            Ipv6Ranges: req.CidrIpv6 ? [{ CidrIpv6: req.CidrIpv6, Description: req.Description }] : undefined,
            PrefixListIds: req.PrefixListId ? [{ PrefixListId: req.PrefixListId, Description: req.Description }] : undefined,
            UserIdGroupPairs: req.ReferencedGroupId ? [{ GroupId: req.ReferencedGroupId, Description: req.Description }] : undefined,
          };
          const [nr] = expandPermissions(store, g, old.IsEgress, [perm], old.Tags);
          g._rules[idx] = { ...nr, SecurityGroupRuleId: old.SecurityGroupRuleId, SecurityGroupRuleArn: old.SecurityGroupRuleArn };
        }
        await store.commit([store.put(T.securityGroup, g.GroupId, g)]);
        return { Return: true };
      });
    },
  };
}

/** Like expandPermissions, but a referenced group that no longer exists is matched by id. */
function expandPermissionsLenient(store: Ec2Store, group: Doc, egress: boolean, perms: IpPermission[]): Doc[] {
  const fixed = perms.map((p) => ({
    ...p,
    UserIdGroupPairs: p.UserIdGroupPairs?.map((u) =>
      u.GroupId && !store.get(T.securityGroup, u.GroupId) ? { ...u, UserId: u.UserId ?? `${store.scope.accountId}:gone` } : u,
    ),
  }));
  return expandPermissions(store, group, egress, fixed);
}
