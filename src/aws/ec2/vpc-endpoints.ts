/**
 * VPC endpoints to AWS services (private EKS clusters reach ECR, STS, S3,
 * CloudWatch Logs through them): Gateway endpoints (S3, DynamoDB) add a
 * prefix-list route to their route tables; Interface endpoints place one
 * requester-managed ENI per subnet. Also DescribeVpcEndpointServices and
 * DescribePrefixLists for the AWS service prefix lists.
 */
import { createHash } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate, selectByIds } from './filters.ts';
import { newId } from './ids.ts';
import { releaseIps } from './ip-alloc.ts';
import { buildNetworkInterface, resolveGroups } from './network-interfaces.ts';
import { zonesOf } from './regions.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

const GATEWAY_SERVICES = ['s3', 'dynamodb'];
const INTERFACE_SERVICES = [
  's3', 'dynamodb', 'ec2', 'ec2messages', 'ecr.api', 'ecr.dkr', 'eks', 'eks-auth', 'sts', 'logs', 'monitoring', 'kms', 'ssm', 'ssmmessages',
  'elasticloadbalancing', 'autoscaling', 'sqs', 'sns', 'secretsmanager', 'xray', 'execute-api', 'cloudformation', 'lambda',
  'elasticfilesystem', 'ebs', 'events', 'athena', 'glue', 'kinesis-streams', 'aps-workspaces', 'appmesh-envoy-management',
];

const DEFAULT_POLICY = JSON.stringify({ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }] });

function shortService(serviceName: string, region: string): string | undefined {
  const prefix = `com.amazonaws.${region}.`;
  return serviceName.startsWith(prefix) ? serviceName.slice(prefix.length) : undefined;
}

/** prefixListId is the id of an AWS service's prefix list in a region (stable, pl- + 8 hex). */
export function prefixListId(region: string, svc: string): string {
  return `pl-${createHash('sha256').update(`${region}/${svc}`).digest('hex').slice(0, 8)}`;
}

function prefixListCidrs(svc: string): string[] {
  return svc === 's3' ? ['3.5.0.0/19', '16.182.0.0/16', '52.216.0.0/15', '54.231.0.0/16'] : ['3.218.180.0/22', '52.94.0.0/22', '52.119.224.0/20'];
}

function serviceDetails(region: string): Doc[] {
  const zones = zonesOf(region);
  const rows: Doc[] = [];
  const all = [...new Set([...INTERFACE_SERVICES, ...GATEWAY_SERVICES])].sort();
  for (const svc of all) {
    const name = `com.amazonaws.${region}.${svc}`;
    const types = [
      ...(INTERFACE_SERVICES.includes(svc) ? [{ ServiceType: 'Interface' }] : []),
      ...(GATEWAY_SERVICES.includes(svc) ? [{ ServiceType: 'Gateway' }] : []),
    ];
    rows.push({
      ServiceName: name,
      ServiceId: `vpce-svc-${createHash('sha256').update(name).digest('hex').slice(0, 17)}`,
      ServiceType: types,
      ServiceRegion: region,
      AvailabilityZones: zones.map((z) => z.ZoneName),
      AvailabilityZoneIds: zones.map((z) => z.ZoneId),
      Owner: 'amazon',
      BaseEndpointDnsNames: [`${svc}.${region}.vpce.amazonaws.com`],
      PrivateDnsName: `${svc}.${region}.amazonaws.com`,
      PrivateDnsNames: [{ PrivateDnsName: `${svc}.${region}.amazonaws.com` }],
      VpcEndpointPolicySupported: true,
      AcceptanceRequired: false,
      ManagesVpcEndpoints: false,
      PrivateDnsNameVerificationState: 'verified',
      SupportedIpAddressTypes: ['ipv4'],
      Tags: [],
    });
  }
  return rows;
}

function view(e: Doc): Doc {
  return { ...out(e), CreationTimestamp: new Date(e.CreationTimestamp) };
}

export function vpcEndpointOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);

  function addRoutes(store: Ec2Store, e: Doc, rtIds: string[], ops: ReturnType<Ec2Store['put']>[]): void {
    const pl = prefixListId(store.scope.region, e._svc);
    for (const id of rtIds) {
      const rt = store.get(T.routeTable, id);
      if (!rt) throw E.routeTable(id);
      if (rt.VpcId !== e.VpcId) throw E.param(`Route table ${id} does not belong to vpc ${e.VpcId}`);
      const r = clone(rt);
      if (!(r.Routes as Doc[]).some((x) => x.DestinationPrefixListId === pl)) {
        r.Routes.push({ DestinationPrefixListId: pl, GatewayId: e.VpcEndpointId, Origin: 'CreateRoute', State: 'active' });
      }
      ops.push(store.put(T.routeTable, id, r));
    }
  }

  function removeRoutes(store: Ec2Store, e: Doc, rtIds: string[], ops: ReturnType<Ec2Store['put']>[]): void {
    for (const id of rtIds) {
      const rt = store.get(T.routeTable, id);
      if (!rt) continue;
      const r = clone(rt);
      r.Routes = (r.Routes as Doc[]).filter((x) => x.GatewayId !== e.VpcEndpointId);
      ops.push(store.put(T.routeTable, id, r));
    }
  }

  function addEnis(store: Ec2Store, e: Doc, subnetIds: string[], ops: ReturnType<Ec2Store['put']>[]): void {
    for (const sid of subnetIds) {
      const cur = store.get(T.subnet, sid);
      if (!cur) throw E.subnet(sid);
      if (cur.VpcId !== e.VpcId) throw E.param(`Subnet ${sid} does not belong to vpc ${e.VpcId}`);
      if ((e.SubnetIds as string[]).some((x) => store.get(T.subnet, x)?.AvailabilityZone === cur.AvailabilityZone)) {
        throw ec2Error('DuplicateSubnetsInSameZone', `Found another VPC endpoint subnet in the availability zone of ${sid}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`);
      }
      const subnet = clone(cur);
      const eni = buildNetworkInterface(store, subnet, {
        SubnetId: sid,
        Groups: (e.Groups as Doc[]).map((g) => g.GroupId),
        Description: `VPC Endpoint Interface ${e.VpcEndpointId}`,
        InterfaceType: 'vpc_endpoint',
        RequesterId: 'AWS:VPCE',
      });
      eni.Status = 'in-use';
      e.SubnetIds.push(sid);
      e.NetworkInterfaceIds.push(eni.NetworkInterfaceId);
      ops.push(store.put(T.subnet, sid, subnet), store.put(T.networkInterface, eni.NetworkInterfaceId, eni));
    }
  }

  function removeEnis(store: Ec2Store, e: Doc, subnetIds: string[], ops: ReturnType<Ec2Store['put'] | Ec2Store['del']>[]): void {
    for (const eniId of [...(e.NetworkInterfaceIds as string[])]) {
      const eni = store.get(T.networkInterface, eniId);
      if (!eni || !subnetIds.includes(eni.SubnetId)) continue;
      const s = store.get(T.subnet, eni.SubnetId);
      if (s) {
        const c = clone(s);
        releaseIps(c, [eni.PrivateIpAddress]);
        ops.push(store.put(T.subnet, c.SubnetId, c));
      }
      ops.push(store.del(T.networkInterface, eniId));
      e.NetworkInterfaceIds = (e.NetworkInterfaceIds as string[]).filter((x) => x !== eniId);
    }
    e.SubnetIds = (e.SubnetIds as string[]).filter((x) => !subnetIds.includes(x));
  }

  return {
    async CreateVpcEndpoint(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'vpc-endpoint');
      return store.exclusive(async () => {
        const vpc = store.get(T.vpc, input.VpcId);
        if (!vpc) throw E.vpc(input.VpcId);
        const type = input.VpcEndpointType ?? 'Gateway';
        const svc = input.ServiceName ? shortService(input.ServiceName, store.scope.region) : undefined;
        const known = svc && (type === 'Gateway' ? GATEWAY_SERVICES : INTERFACE_SERVICES).includes(svc);
        if (!known) throw ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${input.ServiceName}' does not exist`);
        const id = newId('vpce');
        const e: Doc = {
          VpcEndpointId: id,
          VpcEndpointType: type,
          VpcId: vpc.VpcId,
          ServiceName: input.ServiceName,
          State: 'available',
          PolicyDocument: input.PolicyDocument ?? DEFAULT_POLICY,
          RouteTableIds: [],
          SubnetIds: [],
          Groups: [],
          NetworkInterfaceIds: [],
          IpAddressType: input.IpAddressType ?? 'ipv4',
          DnsOptions: { DnsRecordIpType: input.DnsOptions?.DnsRecordIpType ?? 'ipv4' },
          PrivateDnsEnabled: type === 'Interface' ? (input.PrivateDnsEnabled ?? true) : false,
          RequesterManaged: false,
          DnsEntries: type === 'Interface' ? [{ DnsName: `${id}.${svc}.${store.scope.region}.vpce.amazonaws.com`, HostedZoneId: 'Z7HUB22UULQXV' }] : [],
          CreationTimestamp: ctx.now().toISOString(),
          OwnerId: store.scope.accountId,
          Tags: tags,
          _svc: svc,
        };
        const ops: any[] = [];
        if (type === 'Gateway') {
          e.RouteTableIds = [...new Set((input.RouteTableIds as string[] | undefined) ?? [])];
          addRoutes(store, e, e.RouteTableIds, ops);
        } else {
          e.Groups = resolveGroups(store, vpc.VpcId, input.SecurityGroupIds);
          addEnis(store, e, [...new Set((input.SubnetIds as string[] | undefined) ?? [])], ops);
        }
        ops.push(store.put(T.vpcEndpoint, id, e));
        await store.commit(ops);
        return { VpcEndpoint: view(e), ClientToken: input.ClientToken };
      });
    },

    DescribeVpcEndpoints(input: { VpcEndpointIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      const match = compileFilters(input.Filters, {
        'ip-address-type': (d) => d.IpAddressType,
        'service-name': (d) => d.ServiceName,
        'vpc-id': (d) => d.VpcId,
        'vpc-endpoint-id': (d) => d.VpcEndpointId,
        'vpc-endpoint-state': (d) => d.State,
        'vpc-endpoint-type': (d) => d.VpcEndpointType,
      });
      const docs = selectByIds(() => store.list(T.vpcEndpoint), (id) => store.get(T.vpcEndpoint, id), input.VpcEndpointIds, E.vpcEndpoint).filter(match);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      return { VpcEndpoints: page.map(view), NextToken };
    },

    async ModifyVpcEndpoint(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const cur = store.get(T.vpcEndpoint, input.VpcEndpointId);
        if (!cur) throw E.vpcEndpoint(input.VpcEndpointId);
        const e = clone(cur);
        const ops: any[] = [];
        if (input.AddRouteTableIds?.length) {
          addRoutes(store, e, input.AddRouteTableIds, ops);
          e.RouteTableIds = [...new Set([...e.RouteTableIds, ...input.AddRouteTableIds])];
        }
        if (input.RemoveRouteTableIds?.length) {
          removeRoutes(store, e, input.RemoveRouteTableIds, ops);
          e.RouteTableIds = e.RouteTableIds.filter((x: string) => !input.RemoveRouteTableIds.includes(x));
        }
        if (input.RemoveSubnetIds?.length) removeEnis(store, e, input.RemoveSubnetIds, ops);
        if (input.AddSubnetIds?.length) addEnis(store, e, input.AddSubnetIds, ops);
        if (input.AddSecurityGroupIds?.length) {
          e.Groups = resolveGroups(store, e.VpcId, [...e.Groups.map((g: Doc) => g.GroupId), ...input.AddSecurityGroupIds]);
        }
        if (input.RemoveSecurityGroupIds?.length) e.Groups = e.Groups.filter((g: Doc) => !input.RemoveSecurityGroupIds.includes(g.GroupId));
        if (input.ResetPolicy) e.PolicyDocument = DEFAULT_POLICY;
        if (input.PolicyDocument !== undefined) e.PolicyDocument = input.PolicyDocument;
        if (input.PrivateDnsEnabled !== undefined) e.PrivateDnsEnabled = input.PrivateDnsEnabled;
        ops.push(store.put(T.vpcEndpoint, e.VpcEndpointId, e));
        await store.commit(ops);
        return { Return: true };
      });
    },

    async DeleteVpcEndpoints(input: { VpcEndpointIds: string[] }, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const unsuccessful: Doc[] = [];
        const ops: any[] = [];
        for (const id of input.VpcEndpointIds) {
          const cur = store.get(T.vpcEndpoint, id);
          if (!cur) {
            unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidVpcEndpoint.NotFound', Message: `The VPC endpoint '${id}' does not exist` } });
            continue;
          }
          const e = clone(cur);
          removeRoutes(store, e, e.RouteTableIds, ops);
          removeEnis(store, e, [...e.SubnetIds], ops);
          ops.push(store.del(T.vpcEndpoint, id));
        }
        await store.commit(ops);
        return { Unsuccessful: unsuccessful };
      });
    },

    DescribeVpcEndpointServices(input: { ServiceNames?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      let rows = serviceDetails(ctx.region);
      if (input.ServiceNames?.length) {
        for (const n of input.ServiceNames) {
          if (!rows.some((r) => r.ServiceName === n)) throw ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${n}' does not exist`);
        }
        rows = rows.filter((r) => input.ServiceNames!.includes(r.ServiceName));
      }
      const match = compileFilters(input.Filters, {
        'service-name': (d) => d.ServiceName,
        'service-type': (d) => d.ServiceType.map((t: Doc) => t.ServiceType),
        'service-region': (d) => d.ServiceRegion,
        owner: (d) => d.Owner,
        'supported-ip-address-types': (d) => d.SupportedIpAddressTypes,
      });
      const { page, NextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
      return { ServiceDetails: page, ServiceNames: page.map((r) => r.ServiceName), NextToken };
    },

    DescribePrefixLists(input: { PrefixListIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const rows = GATEWAY_SERVICES.map((svc) => ({
        PrefixListId: prefixListId(ctx.region, svc),
        PrefixListName: `com.amazonaws.${ctx.region}.${svc}`,
        Cidrs: prefixListCidrs(svc),
      }));
      for (const id of input.PrefixListIds ?? []) {
        if (!rows.some((r) => r.PrefixListId === id)) throw ec2Error('InvalidPrefixListID.NotFound', `The prefix list ID '${id}' does not exist`);
      }
      const match = compileFilters(input.Filters, {
        'prefix-list-id': (d) => d.PrefixListId,
        'prefix-list-name': (d) => d.PrefixListName,
      });
      const want = input.PrefixListIds?.length ? input.PrefixListIds : undefined;
      const { page, NextToken } = paginate(rows.filter((r) => (!want || want.includes(r.PrefixListId)) && match(r)), input.MaxResults, input.NextToken);
      return { PrefixLists: page, NextToken };
    },
  };
}
