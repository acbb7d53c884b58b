/**
 * Instances: RunInstances (from parameters and/or a launch template
 * version), DescribeInstances (reservations, filters, pagination),
 * Terminate/Stop/Start/Reboot, DescribeInstanceStatus and instance
 * attributes. Each instance has a primary ENI whose address comes from its
 * subnet.
 *
 * States advance on simulated time without timers: a stored instance
 * records when its current transition completes (`_until`), and every read
 * computes the state as of the clock's now (pending -> running, stopping ->
 * stopped, shutting-down -> terminated). Terminated instances stay visible
 * for an hour, as in EC2.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { delaysOf, storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, type FilterSpec, paginate } from './filters.ts';
import { newHex, newId } from './ids.ts';
import { instanceTypeFacts } from './instance-types.ts';
import { availableIps, releaseIps } from './ip-alloc.ts';
import { getKeyPairByName } from './key-pairs.ts';
import { resolveLaunchTemplateVersion } from './launch-templates.ts';
import { buildNetworkInterface, eniView } from './network-interfaces.ts';
import { findZone } from './regions.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { mergeTags, type Tag, validateTags } from './tags.ts';

let launches = 0;

const CODES: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };
const NEXT: Record<string, string> = { pending: 'running', stopping: 'stopped', 'shutting-down': 'terminated' };

function stateOf(name: string): Doc {
  return { Code: CODES[name], Name: name };
}

/** RunInstancesRequest members localeks honours (see the model for their meaning). */
export interface RunInstancesSpec {
  MinCount?: number;
  MaxCount?: number;
  ImageId?: string;
  InstanceType?: string;
  SubnetId?: string;
  SecurityGroupIds?: string[];
  SecurityGroups?: string[];
  KeyName?: string;
  UserData?: string;
  PrivateIpAddress?: string;
  IamInstanceProfile?: { Arn?: string; Name?: string };
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  TagSpecifications?: { ResourceType?: string; Tags?: Tag[] }[];
  NetworkInterfaces?: Doc[];
  Placement?: Doc;
  MetadataOptions?: Doc;
  Monitoring?: { Enabled?: boolean };
  InstanceMarketOptions?: Doc;
  DisableApiTermination?: boolean;
  DisableApiStop?: boolean;
  InstanceInitiatedShutdownBehavior?: string;
  EbsOptimized?: boolean;
  BlockDeviceMappings?: Doc[];
  CpuOptions?: Doc;
  ClientToken?: string;
  [k: string]: unknown;
}

/** currentState returns the instance's state name as of now (transitions that are due applied). */
export function currentState(i: Doc, now: number): string {
  let name = i.State.Name as string;
  if (i._until !== undefined && now >= i._until && NEXT[name]) name = NEXT[name]!;
  return name;
}

/** materialize applies due transitions to a document copy before changing it. */
function materialize(i: Doc, now: number): Doc {
  const name = currentState(i, now);
  if (name !== i.State.Name) {
    i.State = stateOf(name);
    if (name === 'terminated') i._terminatedAt = i._until;
    delete i._until;
  }
  return i;
}

function expired(i: Doc, now: number, tombstone: number): boolean {
  if (currentState(i, now) !== 'terminated') return false;
  const at = i._terminatedAt ?? i._until ?? 0;
  return now >= at + tombstone;
}

/** instanceView is the Instance shape as of now. */
export function instanceView(store: Ec2Store, i: Doc, now: number): Doc {
  const v = out(i);
  const name = currentState(i, now);
  v.State = stateOf(name);
  v.LaunchTime = new Date(i.LaunchTime);
  if (v.UsageOperationUpdateTime) v.UsageOperationUpdateTime = new Date(v.UsageOperationUpdateTime);
  v.BlockDeviceMappings = (v.BlockDeviceMappings as Doc[] | undefined)?.map((b) => ({ ...b, Ebs: b.Ebs && { ...b.Ebs, AttachTime: new Date(b.Ebs.AttachTime) } }));
  if (name === 'terminated') {
    v.StateReason = { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
    v.NetworkInterfaces = [];
    v.SecurityGroups = [];
    v.BlockDeviceMappings = [];
    delete v.PrivateIpAddress;
    delete v.PublicIpAddress;
    v.PrivateDnsName = '';
    v.PublicDnsName = '';
    delete v.SubnetId;
    delete v.VpcId;
    return v;
  }
  if (name === 'stopped' || name === 'stopping') {
    delete v.PublicIpAddress;
    v.PublicDnsName = '';
    if (name === 'stopped') v.StateReason = { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' };
  }
  v.NetworkInterfaces = ((i._eniIds as string[]) ?? [])
    .map((id) => store.get(T.networkInterface, id))
    .filter((e): e is Doc => !!e)
    .map((e) => {
      const ev = eniView(e);
      return {
        Attachment: ev.Attachment && {
          AttachTime: ev.Attachment.AttachTime,
          AttachmentId: ev.Attachment.AttachmentId,
          DeleteOnTermination: ev.Attachment.DeleteOnTermination,
          DeviceIndex: ev.Attachment.DeviceIndex,
          NetworkCardIndex: ev.Attachment.NetworkCardIndex,
          Status: ev.Attachment.Status,
        },
        Description: ev.Description,
        Groups: ev.Groups,
        InterfaceType: ev.InterfaceType,
        Ipv6Addresses: ev.Ipv6Addresses,
        MacAddress: ev.MacAddress,
        NetworkInterfaceId: ev.NetworkInterfaceId,
        OwnerId: ev.OwnerId,
        PrivateDnsName: ev.PrivateDnsName,
        PrivateIpAddress: ev.PrivateIpAddress,
        PrivateIpAddresses: ev.PrivateIpAddresses,
        SourceDestCheck: ev.SourceDestCheck,
        Status: ev.Status,
        SubnetId: ev.SubnetId,
        VpcId: ev.VpcId,
        ...(ev.Ipv4Prefixes ? { Ipv4Prefixes: ev.Ipv4Prefixes } : {}),
      };
    });
  const primary = v.NetworkInterfaces.find((n: Doc) => n.Attachment?.DeviceIndex === 0);
  if (primary) v.SecurityGroups = primary.Groups;
  return v;
}

export const instanceFilters: FilterSpec = {
  'affinity': (d) => d.Placement?.Affinity,
  architecture: (d) => d.Architecture,
  'availability-zone': (d) => d.Placement?.AvailabilityZone,
  'block-device-mapping.device-name': (d) => d.BlockDeviceMappings?.map((b: Doc) => b.DeviceName),
  'block-device-mapping.volume-id': (d) => d.BlockDeviceMappings?.map((b: Doc) => b.Ebs?.VolumeId),
  'client-token': (d) => d.ClientToken,
  'dns-name': (d) => d.PublicDnsName,
  'group-id': (d) => d.SecurityGroups?.map((g: Doc) => g.GroupId),
  'group-name': (d) => d.SecurityGroups?.map((g: Doc) => g.GroupName),
  'hypervisor': (d) => d.Hypervisor,
  'iam-instance-profile.arn': (d) => d.IamInstanceProfile?.Arn,
  'image-id': (d) => d.ImageId,
  'instance-id': (d) => d.InstanceId,
  'instance-lifecycle': (d) => d.InstanceLifecycle,
  'instance-state-code': (d) => d.State?.Code,
  'instance-state-name': (d) => d.State?.Name,
  'instance-type': (d) => d.InstanceType,
  'instance.group-id': (d) => d.SecurityGroups?.map((g: Doc) => g.GroupId),
  'instance.group-name': (d) => d.SecurityGroups?.map((g: Doc) => g.GroupName),
  'ip-address': (d) => d.PublicIpAddress,
  'key-name': (d) => d.KeyName,
  'launch-index': (d) => d.AmiLaunchIndex,
  'launch-time': (d) => d.LaunchTime,
  'metadata-options.http-tokens': (d) => d.MetadataOptions?.HttpTokens,
  'metadata-options.http-endpoint': (d) => d.MetadataOptions?.HttpEndpoint,
  'monitoring-state': (d) => d.Monitoring?.State,
  'network-interface.network-interface-id': (d) => d.NetworkInterfaces?.map((n: Doc) => n.NetworkInterfaceId),
  'network-interface.subnet-id': (d) => d.NetworkInterfaces?.map((n: Doc) => n.SubnetId),
  'network-interface.vpc-id': (d) => d.NetworkInterfaces?.map((n: Doc) => n.VpcId),
  'network-interface.private-dns-name': (d) => d.NetworkInterfaces?.map((n: Doc) => n.PrivateDnsName),
  'network-interface.addresses.private-ip-address': (d) => d.NetworkInterfaces?.flatMap((n: Doc) => n.PrivateIpAddresses.map((p: Doc) => p.PrivateIpAddress)),
  'network-interface.group-id': (d) => d.NetworkInterfaces?.flatMap((n: Doc) => n.Groups.map((g: Doc) => g.GroupId)),
  'owner-id': (d) => d._ownerId,
  'placement-group-name': (d) => d.Placement?.GroupName,
  'platform-details': (d) => d.PlatformDetails,
  'private-dns-name': (d) => d.PrivateDnsName,
  'private-ip-address': (d) => d.PrivateIpAddress,
  'reservation-id': (d) => d._reservationId,
  'requester-id': (d) => d._requesterId,
  'root-device-type': (d) => d.RootDeviceType,
  'spot-instance-request-id': (d) => d.SpotInstanceRequestId,
  'subnet-id': (d) => d.SubnetId,
  'tenancy': (d) => d.Placement?.Tenancy,
  'virtualization-type': (d) => d.VirtualizationType,
  'vpc-id': (d) => d.VpcId,
};

function publicIp(): string {
  const b = Buffer.from(newHex(6), 'hex');
  return `3.${b[0]! % 250}.${b[1]}.${(b[2]! % 250) + 1}`;
}

function publicDns(ip: string, region: string): string {
  const dashed = ip.replace(/\./g, '-');
  return region === 'us-east-1' ? `ec2-${dashed}.compute-1.amazonaws.com` : `ec2-${dashed}.${region}.compute.amazonaws.com`;
}

function tagsOf(specs: RunInstancesSpec['TagSpecifications'], type: string, internal: boolean): Tag[] {
  let tags: Tag[] = [];
  for (const s of specs ?? []) {
    if (s.ResourceType === type) {
      tags = mergeTags(tags, internal ? (s.Tags ?? []).map((t) => ({ Key: t.Key, Value: t.Value ?? '' })) : validateTags(s.Tags));
    }
  }
  return tags;
}

/**
 * mergeWithTemplate overlays the request on the launch template version's
 * data, as RunInstances does: request parameters win.
 */
function mergeWithTemplate(store: Ec2Store, spec: RunInstancesSpec): { spec: RunInstancesSpec; lt?: Doc } {
  if (!spec.LaunchTemplate) return { spec };
  const ver = resolveLaunchTemplateVersion(store, spec.LaunchTemplate);
  const data = ver.LaunchTemplateData ?? {};
  const merged: RunInstancesSpec = { ...data, ...Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) };
  // Tags from both: the template's tag specifications, then the request's.
  merged.TagSpecifications = [...(data.TagSpecifications ?? []), ...(spec.TagSpecifications ?? [])];
  if (data.SecurityGroupIds && !spec.SecurityGroupIds) merged.SecurityGroupIds = data.SecurityGroupIds;
  return { spec: merged, lt: ver };
}

/**
 * runInstancesIn launches MinCount..MaxCount instances (as many as the
 * subnet has addresses for, at least MinCount) and returns the Reservation.
 * `internal` callers (Auto Scaling, EKS) may use reserved `aws:` tags.
 */
export async function runInstancesIn(deps: AwsDeps, store: Ec2Store, input: RunInstancesSpec, opts: { internal?: boolean; requesterId?: string; callerArn?: string } = {}): Promise<Doc> {
  const min = input.MinCount ?? 1;
  const max = input.MaxCount ?? min;
  if (min < 1) throw E.param(`Value (${min}) for parameter minCount is invalid. Expected a positive integer.`);
  if (max < min) throw E.param(`Value (${min}) for parameter minCount is invalid. Must be less than or equal to maxCount`);
  if (max > 1000) throw ec2Error('InstanceLimitExceeded', `You have requested more instances (${max}) than your current instance limit of 1000 allows for the specified instance type.`);
  return store.exclusive(async () => {
    const { spec, lt } = mergeWithTemplate(store, input);
    // Auto Scaling and EKS launch from templates that may leave the image to
    // EKS (its optimized AMI); localeks has no images, so they get a stand-in.
    if (!spec.ImageId && opts.internal) spec.ImageId = 'ami-0e0c5e0000000e1c5';
    if (!spec.ImageId) throw E.missing('ImageId');
    if (!/^ami-[0-9a-f]{8,17}$/.test(spec.ImageId)) {
      throw ec2Error('InvalidAMIID.Malformed', `Invalid id: "${spec.ImageId}" (expecting "ami-...")`);
    }
    const instanceType = spec.InstanceType ?? 'm1.small';
    const nic0 = (spec.NetworkInterfaces ?? []).find((n) => (n.DeviceIndex ?? 0) === 0);
    const subnetId = spec.SubnetId ?? nic0?.SubnetId;
    if (!subnetId) {
      throw ec2Error('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
    }
    const cur = store.get(T.subnet, subnetId);
    if (!cur) throw E.subnet(subnetId);
    if (spec.Placement?.AvailabilityZone && spec.Placement.AvailabilityZone !== cur.AvailabilityZone) {
      throw E.param(`The specified subnet ${subnetId} and availability zone ${spec.Placement.AvailabilityZone} are not in the same location`);
    }
    if (spec.KeyName && !getKeyPairByName(store, spec.KeyName)) throw E.keyPair(spec.KeyName);
    let groupIds: string[] | undefined = spec.SecurityGroupIds ?? nic0?.Groups;
    if (spec.SecurityGroups?.length) {
      const byName = spec.SecurityGroups.map((n) => {
        const g = store.list(T.securityGroup).find((x) => x.VpcId === cur.VpcId && x.GroupName === n);
        if (!g) throw ec2Error('InvalidGroup.NotFound', `The security group '${n}' does not exist in VPC '${cur.VpcId}'`);
        return g.GroupId as string;
      });
      groupIds = [...(groupIds ?? []), ...byName];
    }
    const subnet = clone(cur);
    const vpc = store.get(T.vpc, subnet.VpcId);
    const now = deps.clock.nowMs();
    const delays = delaysOf(deps);
    const available = availableIps(subnet);
    const count = Math.min(max, available);
    if (count < min) {
      throw ec2Error('InsufficientFreeAddressesInSubnet', `There are not enough free addresses in subnet '${subnetId}' to satisfy the requested number of instances.`);
    }
    const facts = instanceTypeFacts(instanceType);
    const zone = findZone(store.scope.region, subnet.AvailabilityZone);
    const reservationId = newId('r');
    const instanceTags = tagsOf(spec.TagSpecifications, 'instance', !!opts.internal);
    const eniTags = tagsOf(spec.TagSpecifications, 'network-interface', !!opts.internal);
    if (lt) {
      instanceTags.push(
        { Key: 'aws:ec2launchtemplate:id', Value: lt.LaunchTemplateId },
        { Key: 'aws:ec2launchtemplate:version', Value: String(lt.VersionNumber) },
      );
    }
    const mapPublic = nic0?.AssociatePublicIpAddress ?? subnet.MapPublicIpOnLaunch;
    const spot = spec.InstanceMarketOptions?.MarketType === 'spot';
    const ops = [];
    const instances: Doc[] = [];
    const launch = new Date(now).toISOString();
    for (let n = 0; n < count; n++) {
      const id = newId('i');
      const eni = buildNetworkInterface(
        store,
        subnet,
        { SubnetId: subnet.SubnetId, Groups: groupIds, Description: nic0?.Description ?? '', Tags: eniTags, SecondaryPrivateIpAddressCount: nic0?.SecondaryPrivateIpAddressCount },
        n === 0 ? (spec.PrivateIpAddress ?? nic0?.PrivateIpAddress) : undefined,
      );
      eni.Attachment = {
        AttachmentId: newId('eni-attach'),
        AttachTime: launch,
        DeleteOnTermination: nic0?.DeleteOnTermination ?? true,
        DeviceIndex: 0,
        NetworkCardIndex: 0,
        InstanceId: id,
        InstanceOwnerId: store.scope.accountId,
        Status: 'attached',
      };
      eni.Status = 'in-use';
      const pub = mapPublic ? publicIp() : undefined;
      if (pub) eni.Association = { PublicIp: pub, PublicDnsName: publicDns(pub, store.scope.region), IpOwnerId: 'amazon' };
      const threads = facts && facts.architecture !== 'arm64' && facts.vcpus > 1 ? 2 : 1;
      const inst: Doc = {
        InstanceId: id,
        ImageId: spec.ImageId,
        InstanceType: instanceType,
        KeyName: spec.KeyName,
        LaunchTime: launch,
        AmiLaunchIndex: n,
        Architecture: facts?.architecture ?? 'x86_64',
        Placement: { AvailabilityZone: subnet.AvailabilityZone, AvailabilityZoneId: zone?.ZoneId, GroupName: '', Tenancy: spec.Placement?.Tenancy ?? vpc?.InstanceTenancy ?? 'default' },
        PrivateDnsName: eni.PrivateDnsName,
        PrivateIpAddress: eni.PrivateIpAddress,
        PublicDnsName: pub ? publicDns(pub, store.scope.region) : '',
        ...(pub ? { PublicIpAddress: pub } : {}),
        ProductCodes: [],
        State: stateOf('pending'),
        StateTransitionReason: '',
        SubnetId: subnet.SubnetId,
        VpcId: subnet.VpcId,
        ClientToken: spec.ClientToken ?? '',
        EbsOptimized: spec.EbsOptimized ?? false,
        EnaSupport: true,
        Hypervisor: 'xen',
        RootDeviceName: '/dev/xvda',
        RootDeviceType: 'ebs',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { AttachTime: launch, DeleteOnTermination: true, Status: 'attached', VolumeId: newId('vol') } }],
        _rootVolume: rootVolume(spec),
        SourceDestCheck: true,
        VirtualizationType: 'hvm',
        Monitoring: { State: spec.Monitoring?.Enabled ? 'enabled' : 'disabled' },
        CpuOptions: { CoreCount: Math.max(1, (facts?.vcpus ?? 1) / threads), ThreadsPerCore: threads },
        CapacityReservationSpecification: { CapacityReservationPreference: 'open' },
        HibernationOptions: { Configured: false },
        MetadataOptions: {
          State: 'applied',
          HttpTokens: spec.MetadataOptions?.HttpTokens ?? 'optional',
          HttpPutResponseHopLimit: spec.MetadataOptions?.HttpPutResponseHopLimit ?? 1,
          HttpEndpoint: spec.MetadataOptions?.HttpEndpoint ?? 'enabled',
          HttpProtocolIpv6: spec.MetadataOptions?.HttpProtocolIpv6 ?? 'disabled',
          InstanceMetadataTags: spec.MetadataOptions?.InstanceMetadataTags ?? 'disabled',
        },
        EnclaveOptions: { Enabled: false },
        BootMode: facts?.architecture === 'arm64' ? 'uefi' : 'legacy-bios',
        CurrentInstanceBootMode: facts?.architecture === 'arm64' ? 'uefi' : 'legacy-bios',
        PlatformDetails: 'Linux/UNIX',
        UsageOperation: 'RunInstances',
        UsageOperationUpdateTime: launch,
        PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
        MaintenanceOptions: { AutoRecovery: 'default' },
        ...(spec.IamInstanceProfile ? { IamInstanceProfile: instanceProfile(store, spec.IamInstanceProfile) } : {}),
        ...(spot ? { InstanceLifecycle: 'spot', SpotInstanceRequestId: newId('sir') } : {}),
        Tags: instanceTags,
        _until: now + delays.instanceStart,
        _reservationId: reservationId,
        _ownerId: store.scope.accountId,
        ...(opts.requesterId ? { _requesterId: opts.requesterId } : {}),
        _eniIds: [eni.NetworkInterfaceId],
        _userData: spec.UserData,
        _disableApiTermination: !!spec.DisableApiTermination,
        _disableApiStop: !!spec.DisableApiStop,
        _shutdownBehavior: spec.InstanceInitiatedShutdownBehavior ?? 'stop',
      };
      ops.push(store.put(T.networkInterface, eni.NetworkInterfaceId, eni), store.put(T.instance, id, inst));
      instances.push(inst);
    }
    // Drop instances terminated more than an hour ago (they are invisible
    // already). Listing every instance is the costly part with thousands of
    // nodes, so only every 64th launch sweeps.
    let swept = 0;
    const sweep = launches++ % 64 === 0;
    for (const old of sweep ? store.list(T.instance) : []) {
      if (swept >= 50) break;
      if (expired(old, now, delays.tombstone)) {
        ops.push(store.del(T.instance, old.InstanceId));
        swept++;
      }
    }
    ops.push(store.put(T.subnet, subnet.SubnetId, subnet));
    // Views are computed after the commit so that their ENIs exist.
    await store.commit(ops);
    const views = instances.map((i) => instanceView(store, i, now));
    const groups = views[0]?.SecurityGroups ?? [];
    return {
      ReservationId: reservationId,
      OwnerId: store.scope.accountId,
      ...(opts.requesterId ? { RequesterId: opts.requesterId } : {}),
      Groups: [],
      Instances: views.map((v) => ({ ...v, SecurityGroups: groups })),
    };
  });
}

/** rootVolume is the size and type of the root EBS volume the launch asked for (8 GiB gp3 by default). */
function rootVolume(spec: RunInstancesSpec): Doc {
  const ebs = (spec.BlockDeviceMappings ?? []).find((b) => b.Ebs)?.Ebs ?? {};
  return { Size: ebs.VolumeSize ?? 8, VolumeType: ebs.VolumeType ?? 'gp3', Iops: ebs.Iops ?? 3000, Throughput: ebs.Throughput ?? 125, Encrypted: !!ebs.Encrypted, KmsKeyId: ebs.KmsKeyId };
}

function instanceProfile(store: Ec2Store, p: { Arn?: string; Name?: string }): Doc {
  const arn = p.Arn ?? `arn:aws:iam::${store.scope.accountId}:instance-profile/${p.Name}`;
  // The profile id is stable per ARN (AIPA + 17 characters), as IAM issues them.
  let h = 0;
  for (const c of arn) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return { Arn: arn, Id: `AIPA${h.toString(36).toUpperCase().padStart(7, '0')}EXAMPLE1234`.slice(0, 21) };
}

function getInstance(store: Ec2Store, id: string, now: number, tombstone: number): Doc {
  const i = store.get(T.instance, id);
  if (!i || expired(i, now, tombstone)) throw E.instance(id);
  return i;
}

/** terminateInstancesIn moves instances to shutting-down (terminated after the delay), deleting their ENIs and releasing addresses. */
export async function terminateInstancesIn(deps: AwsDeps, store: Ec2Store, ids: string[], opts: { force?: boolean } = {}): Promise<Doc[]> {
  const delays = delaysOf(deps);
  return store.exclusive(async () => {
    const now = deps.clock.nowMs();
    const docs = ids.map((id) => getInstance(store, id, now, delays.tombstone));
    const changes: Doc[] = [];
    const ops = [];
    const subnets = new Map<string, Doc>();
    for (const d of docs) {
      const i = materialize(clone(d), now);
      const prev = stateOf(i.State.Name);
      if (i._disableApiTermination && !opts.force) {
        throw ec2Error('OperationNotPermitted', `The instance '${i.InstanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`);
      }
      if (i.State.Name !== 'terminated' && i.State.Name !== 'shutting-down') {
        i.State = stateOf(delays.instanceTerminate > 0 ? 'shutting-down' : 'terminated');
        i._until = now + delays.instanceTerminate;
        if (i.State.Name === 'terminated') i._terminatedAt = now;
        i.StateTransitionReason = `User initiated (${new Date(now).toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
        for (const eniId of (i._eniIds as string[]) ?? []) {
          const eni = store.get(T.networkInterface, eniId);
          if (!eni) continue;
          if (eni.Attachment?.DeleteOnTermination === false && eni.Attachment.DeviceIndex !== 0) {
            const e = clone(eni);
            delete e.Attachment;
            e.Status = 'available';
            ops.push(store.put(T.networkInterface, eniId, e));
            continue;
          }
          const s = subnets.get(eni.SubnetId) ?? clone(store.get(T.subnet, eni.SubnetId));
          if (s) {
            releaseIps(s, [...(eni.PrivateIpAddresses as Doc[]).map((p) => p.PrivateIpAddress), ...((eni._prefixIps as string[]) ?? [])]);
            subnets.set(eni.SubnetId, s);
          }
          ops.push(store.del(T.networkInterface, eniId));
        }
        i._eniIds = [];
        ops.push(store.put(T.instance, i.InstanceId, i));
      }
      changes.push({ InstanceId: i.InstanceId, PreviousState: prev, CurrentState: stateOf(i.State.Name) });
    }
    for (const s of subnets.values()) ops.push(store.put(T.subnet, s.SubnetId, s));
    await store.commit(ops);
    return changes;
  });
}

/** describeInstanceIn returns one instance's view, or undefined. */
export function describeInstanceIn(deps: AwsDeps, store: Ec2Store, id: string): Doc | undefined {
  const now = deps.clock.nowMs();
  const i = store.get(T.instance, id);
  if (!i || expired(i, now, delaysOf(deps).tombstone)) return undefined;
  return instanceView(store, i, now);
}

/** listInstancesIn returns every visible instance's view. */
export function listInstancesIn(deps: AwsDeps, store: Ec2Store): Doc[] {
  const now = deps.clock.nowMs();
  const tomb = delaysOf(deps).tombstone;
  return store.list(T.instance).filter((i) => !expired(i, now, tomb)).map((i) => instanceView(store, i, now));
}

export function instanceOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const delays = () => delaysOf(deps);

  function selected(store: Ec2Store, ids: string[] | undefined, filters: FilterInput[] | undefined): Doc[] {
    const now = deps.clock.nowMs();
    const tomb = delays().tombstone;
    const match = compileFilters(filters, instanceFilters);
    let docs: Doc[];
    if (ids?.length) {
      const missing = ids.filter((id) => {
        const i = store.get(T.instance, id);
        return !i || expired(i, now, tomb);
      });
      if (missing.length > 1) throw ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
      if (missing.length === 1) throw E.instance(missing[0]!);
      docs = [...new Set(ids)].map((id) => store.get(T.instance, id)!);
    } else {
      docs = store.list(T.instance).filter((i) => !expired(i, now, tomb));
    }
    // Most filters read fields stored on the instance itself; only ENI and
    // security group filters need the full view, so match a light view first
    // and build full views for the matches only.
    const needsFull = filters?.some((f) => /^(network-interface\.|group-|instance\.group-)/.test(f.Name ?? '')) ?? false;
    if (needsFull) return docs.map((i) => instanceView(store, i, now)).filter(match);
    if (!filters?.length) return docs;
    return docs.filter((i) => {
      // A prototype-linked light view: the stored fields plus the state as of now.
      const light = Object.create(i) as Doc;
      light.State = stateOf(currentState(i, now));
      return match(light);
    });
  }

  /** views turns selected documents (or views) into views as of now. */
  function views(store: Ec2Store, docs: Doc[]): Doc[] {
    const now = deps.clock.nowMs();
    return docs.map((d) => (d._reservationId === undefined ? d : instanceView(store, d, now)));
  }

  async function changeState(ctx: RequestContext, ids: string[], fn: (i: Doc, now: number) => void): Promise<Doc[]> {
    const store = st(ctx);
    return store.exclusive(async () => {
      const now = deps.clock.nowMs();
      const docs = ids.map((id) => getInstance(store, id, now, delays().tombstone));
      const changes: Doc[] = [];
      const ops = [];
      for (const d of docs) {
        const i = materialize(clone(d), now);
        const prev = stateOf(i.State.Name);
        fn(i, now);
        ops.push(store.put(T.instance, i.InstanceId, i));
        changes.push({ InstanceId: i.InstanceId, PreviousState: prev, CurrentState: stateOf(i.State.Name) });
      }
      await store.commit(ops);
      return changes;
    });
  }

  return {
    async RunInstances(input: RunInstancesSpec, ctx: RequestContext) {
      return runInstancesIn(deps, st(ctx), input, { callerArn: ctx.callerArn });
    },

    DescribeInstances(input: { InstanceIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      if (input.MaxResults !== undefined && input.InstanceIds?.length) {
        throw E.combination('The parameter instancesSet cannot be used with the parameter maxResults');
      }
      const docs = selected(store, input.InstanceIds, input.Filters);
      const { page, NextToken } = paginate(docs, input.MaxResults, input.NextToken);
      const byRes = new Map<string, Doc>();
      for (const v of views(store, page)) {
        const doc = store.get(T.instance, v.InstanceId)!;
        let r = byRes.get(doc._reservationId);
        if (!r) {
          r = { ReservationId: doc._reservationId, OwnerId: doc._ownerId, Groups: [], Instances: [] };
          if (doc._requesterId) r.RequesterId = doc._requesterId;
          byRes.set(doc._reservationId, r);
        }
        r.Instances.push(v);
      }
      return { Reservations: [...byRes.values()], NextToken };
    },

    async TerminateInstances(input: { InstanceIds: string[] }, ctx: RequestContext) {
      return { TerminatingInstances: await terminateInstancesIn(deps, st(ctx), input.InstanceIds) };
    },

    async StopInstances(input: { InstanceIds: string[]; Force?: boolean }, ctx: RequestContext) {
      const changes = await changeState(ctx, input.InstanceIds, (i, now) => {
        if (i._disableApiStop) {
          throw ec2Error('OperationNotPermitted', `The instance '${i.InstanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`);
        }
        const s = i.State.Name;
        if (s === 'terminated' || s === 'shutting-down') {
          throw ec2Error('IncorrectInstanceState', `This instance '${i.InstanceId}' is not in a state from which it can be stopped.`);
        }
        if (s === 'running' || s === 'pending') {
          i.State = stateOf(delays().instanceStop > 0 ? 'stopping' : 'stopped');
          i._until = now + delays().instanceStop;
          i.StateTransitionReason = `User initiated (${new Date(now).toISOString().replace('T', ' ').slice(0, 19)} GMT)`;
          delete i.PublicIpAddress;
          i.PublicDnsName = '';
        }
      });
      return { StoppingInstances: changes };
    },

    async StartInstances(input: { InstanceIds: string[] }, ctx: RequestContext) {
      const changes = await changeState(ctx, input.InstanceIds, (i, now) => {
        const s = i.State.Name;
        if (s === 'terminated' || s === 'shutting-down' || s === 'stopping') {
          throw ec2Error('IncorrectInstanceState', `The instance '${i.InstanceId}' is not in a state from which it can be started.`);
        }
        if (s === 'stopped') {
          i.State = stateOf('pending');
          i._until = now + delays().instanceStart;
          i.StateTransitionReason = '';
        }
      });
      return { StartingInstances: changes };
    },

    async RebootInstances(input: { InstanceIds: string[] }, ctx: RequestContext) {
      const store = st(ctx);
      const now = deps.clock.nowMs();
      for (const id of input.InstanceIds) getInstance(store, id, now, delays().tombstone);
      return {};
    },

    DescribeInstanceStatus(input: { InstanceIds?: string[]; Filters?: FilterInput[]; IncludeAllInstances?: boolean; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      let all = views(store, selected(store, input.InstanceIds, undefined));
      if (!input.IncludeAllInstances) all = all.filter((v) => v.State.Name === 'running');
      const statuses = all.map((v) => {
        const running = v.State.Name === 'running';
        const summary = (ok: boolean) => (running ? { Status: ok ? 'ok' : 'initializing', Details: [{ Name: 'reachability', Status: ok ? 'passed' : 'initializing' }] } : { Status: 'not-applicable' });
        return {
          InstanceId: v.InstanceId,
          AvailabilityZone: v.Placement.AvailabilityZone,
          AvailabilityZoneId: v.Placement.AvailabilityZoneId,
          InstanceState: v.State,
          InstanceStatus: summary(true),
          SystemStatus: summary(true),
          AttachedEbsStatus: running ? { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] } : { Status: 'not-applicable' },
          Events: [],
        };
      });
      const match = compileFilters(input.Filters, {
        'availability-zone': (d) => d.AvailabilityZone,
        'instance-state-name': (d) => d.InstanceState.Name,
        'instance-state-code': (d) => d.InstanceState.Code,
        'instance-status.status': (d) => d.InstanceStatus.Status,
        'instance-status.reachability': (d) => d.InstanceStatus.Details?.[0]?.Status,
        'system-status.status': (d) => d.SystemStatus.Status,
        'system-status.reachability': (d) => d.SystemStatus.Details?.[0]?.Status,
      });
      const { page, NextToken } = paginate(statuses.filter(match), input.MaxResults, input.NextToken);
      return { InstanceStatuses: page, NextToken };
    },

    DescribeInstanceAttribute(input: { InstanceId: string; Attribute: string }, ctx: RequestContext) {
      const store = st(ctx);
      const now = deps.clock.nowMs();
      const doc = getInstance(store, input.InstanceId, now, delays().tombstone);
      const v = instanceView(store, doc, now);
      const res: Doc = { InstanceId: v.InstanceId };
      switch (input.Attribute) {
        case 'instanceType': res.InstanceType = { Value: v.InstanceType }; break;
        case 'userData': res.UserData = doc._userData ? { Value: doc._userData } : {}; break;
        case 'disableApiTermination': res.DisableApiTermination = { Value: !!doc._disableApiTermination }; break;
        case 'disableApiStop': res.DisableApiStop = { Value: !!doc._disableApiStop }; break;
        case 'instanceInitiatedShutdownBehavior': res.InstanceInitiatedShutdownBehavior = { Value: doc._shutdownBehavior ?? 'stop' }; break;
        case 'rootDeviceName': res.RootDeviceName = { Value: v.RootDeviceName }; break;
        case 'blockDeviceMapping': res.BlockDeviceMappings = v.BlockDeviceMappings; break;
        case 'groupSet': res.Groups = v.SecurityGroups; break;
        case 'sourceDestCheck': res.SourceDestCheck = { Value: v.SourceDestCheck }; break;
        case 'ebsOptimized': res.EbsOptimized = { Value: v.EbsOptimized }; break;
        case 'enaSupport': res.EnaSupport = { Value: v.EnaSupport }; break;
        case 'sriovNetSupport': res.SriovNetSupport = {}; break;
        case 'kernel': res.KernelId = {}; break;
        case 'ramdisk': res.RamdiskId = {}; break;
        case 'productCodes': res.ProductCodes = []; break;
        case 'enclaveOptions': res.EnclaveOptions = { Enabled: false }; break;
        default: throw E.param(`Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
      }
      return res;
    },

    async ModifyInstanceMetadataOptions(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const now = deps.clock.nowMs();
        const i = materialize(clone(getInstance(store, input.InstanceId, now, delays().tombstone)), now);
        if (i.State.Name === 'terminated' || i.State.Name === 'shutting-down') {
          throw ec2Error('IncorrectInstanceState', `The instance '${i.InstanceId}' is not in a valid state for this operation.`);
        }
        const m = i.MetadataOptions;
        for (const k of ['HttpTokens', 'HttpPutResponseHopLimit', 'HttpEndpoint', 'HttpProtocolIpv6', 'InstanceMetadataTags']) {
          if (input[k] !== undefined) m[k] = input[k];
        }
        m.State = 'applied';
        await store.commit([store.put(T.instance, i.InstanceId, i)]);
        return { InstanceId: i.InstanceId, InstanceMetadataOptions: { ...m, State: 'pending' } };
      });
    },

    async ModifyInstanceAttribute(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      await store.exclusive(async () => {
        const now = deps.clock.nowMs();
        const i = materialize(clone(getInstance(store, input.InstanceId, now, delays().tombstone)), now);
        const ops = [];
        const attr = input.Attribute as string | undefined;
        const val = input.Value as string | undefined;
        const type = input.InstanceType?.Value ?? (attr === 'instanceType' ? val : undefined);
        if (type !== undefined) {
          if (i.State.Name !== 'stopped') throw ec2Error('IncorrectInstanceState', `The instance '${i.InstanceId}' is not in the 'stopped' state.`);
          i.InstanceType = type;
          const f = instanceTypeFacts(type);
          if (f) i.Architecture = f.architecture;
        }
        if (input.DisableApiTermination) i._disableApiTermination = !!input.DisableApiTermination.Value;
        if (input.DisableApiStop) i._disableApiStop = !!input.DisableApiStop.Value;
        if (input.InstanceInitiatedShutdownBehavior) i._shutdownBehavior = input.InstanceInitiatedShutdownBehavior.Value;
        if (input.UserData) {
          if (i.State.Name !== 'stopped') throw ec2Error('IncorrectInstanceState', `The instance '${i.InstanceId}' is not in the 'stopped' state.`);
          const u = input.UserData.Value;
          i._userData = Buffer.isBuffer(u) ? u.toString('base64') : u;
        }
        if (input.EbsOptimized) i.EbsOptimized = !!input.EbsOptimized.Value;
        if (input.SourceDestCheck || input.Groups) {
          const primary = store.get(T.networkInterface, (i._eniIds as string[])[0]!);
          if (primary) {
            const e = clone(primary);
            if (input.SourceDestCheck) {
              e.SourceDestCheck = !!input.SourceDestCheck.Value;
              i.SourceDestCheck = e.SourceDestCheck;
            }
            if (input.Groups) {
              e.Groups = (input.Groups as string[]).map((id) => {
                const g = store.get(T.securityGroup, id);
                if (!g) throw E.group(id);
                return { GroupId: g.GroupId, GroupName: g.GroupName };
              });
            }
            ops.push(store.put(T.networkInterface, e.NetworkInterfaceId, e));
          }
        }
        ops.push(store.put(T.instance, i.InstanceId, i));
        await store.commit(ops);
      });
      return {};
    },
  };
}
