/**
 * What other localeks services may use from EC2 (EKS, Auto Scaling, the VPC
 * CNI simulator, the load balancer controller). Other services import only
 * this module from src/aws/ec2/.
 *
 * Every function takes the AwsState (or AwsDeps where simulated time
 * matters: instance states are computed from the clock) and the Scope
 * (account and region) of the resources. Documents returned are the model's
 * shapes as DescribeX returns them (copies: safe to keep). Errors are
 * AwsServiceErrors with EC2's codes (InvalidSubnetID.NotFound, ...), so a
 * caller may pass them through or map them to its own service's errors.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { AwsState, Scope } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { attachVolumeIn, createVolumeIn, type CreateVolumeSpec, deleteVolumeIn, detachVolumeIn, modifyVolumeIn, volumeView } from './ebs-volumes.ts';
import { storeOf } from './env.ts';
import { E } from './errors.ts';
import {
  describeInstanceIn,
  listInstancesIn,
  type RunInstancesSpec,
  runInstancesIn,
  terminateInstancesIn,
} from './instances.ts';
import { instanceTypeFacts as typeFacts, instanceTypeInfo as typeInfo, type InstanceTypeFacts, maxPods as computeMaxPods, type MaxPodsOptions } from './instance-types.ts';
import { allocateIps, releaseIps } from './ip-alloc.ts';
import { resolveLaunchTemplateVersion } from './launch-templates.ts';
import { createNetworkInterfaceIn, deleteNetworkInterfaceIn, eniView, type NetworkInterfaceSpec, networkInterfaceOperations } from './network-interfaces.ts';
import { hasInternetRoute, routeTableOfSubnet } from './route-tables.ts';
import { createSecurityGroupIn, deleteSecurityGroupIn, expandPermissions, addRules, securityGroupView } from './security-groups.ts';
import { clone, type Doc, T } from './store.ts';
import { subnetView } from './subnets.ts';
import { vpcView } from './vpcs.ts';

/** Model shapes as plain objects (member names as in src/aws/models/ec2.json). */
export type Vpc = Doc;
export type Subnet = Doc;
export type SecurityGroup = Doc;
export type Instance = Doc;
export type NetworkInterface = Doc;
export type LaunchTemplateVersion = Doc;
export type InstanceTypeInfo = Doc;
export type IpPermission = Doc;
export type Volume = Doc;
export type VolumeAttachment = Doc;
export type { RunInstancesSpec, NetworkInterfaceSpec, MaxPodsOptions, InstanceTypeFacts, CreateVolumeSpec };

/** getVpc returns the VPC (Vpc shape) or undefined. */
export function getVpc(state: AwsState, scope: Scope, vpcId: string): Vpc | undefined {
  const d = storeOf({ state }, scope).get(T.vpc, vpcId);
  return d && vpcView(d);
}

/** getSubnet returns the subnet (Subnet shape, with the current AvailableIpAddressCount) or undefined. */
export function getSubnet(state: AwsState, scope: Scope, subnetId: string): Subnet | undefined {
  const d = storeOf({ state }, scope).get(T.subnet, subnetId);
  return d && subnetView(d);
}

/** listSubnets returns the subnets of the scope, optionally only those of one VPC. */
export function listSubnets(state: AwsState, scope: Scope, opts: { vpcId?: string } = {}): Subnet[] {
  return storeOf({ state }, scope)
    .list(T.subnet)
    .filter((s) => !opts.vpcId || s.VpcId === opts.vpcId)
    .map(subnetView);
}

/** getSecurityGroup returns the group (SecurityGroup shape, with IpPermissions) or undefined. */
export function getSecurityGroup(state: AwsState, scope: Scope, groupId: string): SecurityGroup | undefined {
  const d = storeOf({ state }, scope).get(T.securityGroup, groupId);
  return d && securityGroupView(d);
}

/**
 * createSecurityGroup creates a group in a VPC (with the default egress
 * rule), as CreateSecurityGroup does. Throws InvalidVpcID.NotFound,
 * InvalidGroup.Duplicate.
 */
export async function createSecurityGroup(
  state: AwsState,
  scope: Scope,
  p: { GroupName: string; Description: string; VpcId: string; Tags?: { Key: string; Value: string }[] },
): Promise<SecurityGroup> {
  const g = await createSecurityGroupIn(storeOf({ state }, scope), p);
  return securityGroupView(g);
}

/**
 * authorizeSecurityGroupIngress adds ingress permissions (IpPermission
 * shapes) to a group; rules that already exist are skipped rather than
 * rejected. Throws InvalidGroup.NotFound.
 */
export async function authorizeSecurityGroupIngress(state: AwsState, scope: Scope, groupId: string, perms: IpPermission[]): Promise<void> {
  const store = storeOf({ state }, scope);
  await store.exclusive(async () => {
    const cur = store.get(T.securityGroup, groupId);
    if (!cur) throw E.group(groupId);
    const g = clone(cur);
    const rules = expandPermissions(store, g, false, perms);
    for (const r of rules) {
      try {
        addRules(g, [r]);
      } catch {
        // already present
      }
    }
    await store.commit([store.put(T.securityGroup, groupId, g)]);
  });
}

/** deleteSecurityGroup deletes a group. Throws InvalidGroup.NotFound, DependencyViolation. */
export async function deleteSecurityGroup(state: AwsState, scope: Scope, groupId: string): Promise<void> {
  await deleteSecurityGroupIn(storeOf({ state }, scope), { GroupId: groupId });
}

/** isPublicSubnet is true when the subnet's route table routes to an internet gateway. */
export function isPublicSubnet(state: AwsState, scope: Scope, subnetId: string): boolean {
  const store = storeOf({ state }, scope);
  const s = store.get(T.subnet, subnetId);
  return !!s && hasInternetRoute(routeTableOfSubnet(store, s));
}

/**
 * allocatePrivateIps takes `count` free addresses of a subnet (the VPC CNI's
 * pod IPs, ENI secondary addresses), lowering its AvailableIpAddressCount.
 * Throws InvalidSubnetID.NotFound, InsufficientFreeAddressesInSubnet (then
 * nothing is taken).
 */
export async function allocatePrivateIps(state: AwsState, scope: Scope, subnetId: string, count: number): Promise<string[]> {
  const store = storeOf({ state }, scope);
  return store.exclusive(async () => {
    const cur = store.get(T.subnet, subnetId);
    if (!cur) throw E.subnet(subnetId);
    const s = clone(cur);
    const ips = allocateIps(s, count);
    await store.commit([store.put(T.subnet, subnetId, s)]);
    return ips;
  });
}

/** allocatePrivateIp takes one free address of a subnet (see allocatePrivateIps). */
export async function allocatePrivateIp(state: AwsState, scope: Scope, subnetId: string): Promise<string> {
  return (await allocatePrivateIps(state, scope, subnetId, 1))[0]!;
}

/** releasePrivateIps returns addresses to a subnet; addresses not in use are ignored. Throws InvalidSubnetID.NotFound. */
export async function releasePrivateIps(state: AwsState, scope: Scope, subnetId: string, ips: string[]): Promise<void> {
  const store = storeOf({ state }, scope);
  await store.exclusive(async () => {
    const cur = store.get(T.subnet, subnetId);
    if (!cur) throw E.subnet(subnetId);
    const s = clone(cur);
    releaseIps(s, ips);
    await store.commit([store.put(T.subnet, subnetId, s)]);
  });
}

/** releasePrivateIp returns one address to a subnet. */
export function releasePrivateIp(state: AwsState, scope: Scope, subnetId: string, ip: string): Promise<void> {
  return releasePrivateIps(state, scope, subnetId, [ip]);
}

/**
 * runInstances launches instances as RunInstances does (spec members as in
 * RunInstancesRequest, including LaunchTemplate {LaunchTemplateId |
 * LaunchTemplateName, Version}), returning the Instance shapes (state
 * pending; running after the profile's delay on deps.clock). Tags may use
 * the reserved `aws:` prefix (aws:autoscaling:groupName, aws:eks:...).
 * Throws EC2's errors (InvalidSubnetID.NotFound,
 * InsufficientFreeAddressesInSubnet, InvalidLaunchTemplateId.NotFound, ...).
 */
export function runInstances(deps: AwsDeps, scope: Scope, spec: RunInstancesSpec): Promise<Instance[]> {
  return runInstancesIn(deps, storeOf(deps, scope), spec, { internal: true }).then((r) => r.Instances);
}

/** terminateInstances starts terminating instances (shutting-down, then terminated); their IPs are released. Unknown ids throw InvalidInstanceID.NotFound. */
export async function terminateInstances(deps: AwsDeps, scope: Scope, instanceIds: string[]): Promise<void> {
  await terminateInstancesIn(deps, storeOf(deps, scope), instanceIds, { force: true });
}

/** describeInstance returns one instance (Instance shape, state as of now) or undefined. */
export function describeInstance(deps: AwsDeps, scope: Scope, instanceId: string): Instance | undefined {
  return describeInstanceIn(deps, storeOf(deps, scope), instanceId);
}

/** instanceUserData returns an instance's user data as stored (base64, as DescribeInstanceAttribute userData returns it), or undefined. */
export function instanceUserData(deps: AwsDeps, scope: Scope, instanceId: string): string | undefined {
  const d = storeOf(deps, scope).get(T.instance, instanceId);
  return d?._userData as string | undefined;
}

/**
 * instanceTransitionAt is the simulated time (ms) at which an instance's
 * current transitional state (pending, stopping, shutting-down) ends, or
 * undefined when it is in a steady state. Instance states are computed from
 * the clock, so watchers use this to wake up exactly when one changes.
 */
export function instanceTransitionAt(deps: AwsDeps, scope: Scope, instanceId: string): number | undefined {
  const until = storeOf(deps, scope).get(T.instance, instanceId)?._until;
  return typeof until === 'number' ? until : undefined;
}

/** listInstances returns the instances of the scope that match a predicate on their Instance shape (all when omitted). */
export function listInstances(deps: AwsDeps, scope: Scope, match?: (i: Instance) => boolean): Instance[] {
  return listInstancesIn(deps, storeOf(deps, scope)).filter((i) => !match || match(i));
}

/**
 * getLaunchTemplateVersion resolves a launch template (by id or name) and
 * version ('$Latest', '$Default', a number; default '$Default') to its
 * LaunchTemplateVersion shape, or undefined when the template or version
 * does not exist.
 */
export function getLaunchTemplateVersion(
  state: AwsState,
  scope: Scope,
  ref: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string },
): LaunchTemplateVersion | undefined {
  try {
    return resolveLaunchTemplateVersion(storeOf({ state }, scope), ref);
  } catch {
    return undefined;
  }
}

/**
 * createNetworkInterface creates an ENI in a subnet, taking its primary
 * address (and `SecondaryPrivateIpAddressCount` more) from the subnet: EKS
 * places its control-plane ENIs this way. Throws InvalidSubnetID.NotFound,
 * InvalidGroup.NotFound, InsufficientFreeAddressesInSubnet.
 */
export function createNetworkInterface(state: AwsState, scope: Scope, spec: NetworkInterfaceSpec): Promise<NetworkInterface> {
  return createNetworkInterfaceIn(storeOf({ state }, scope), spec);
}

/** deleteNetworkInterface deletes an ENI and releases its addresses. Throws InvalidNetworkInterfaceID.NotFound. */
export function deleteNetworkInterface(state: AwsState, scope: Scope, networkInterfaceId: string): Promise<void> {
  return deleteNetworkInterfaceIn(storeOf({ state }, scope), networkInterfaceId, { force: true });
}

/** A RequestContext for calling EC2's own handlers on behalf of another service. */
function internalCtx(scope: Scope): RequestContext {
  return {
    accountId: scope.accountId,
    region: scope.region,
    requestId: '',
    service: 'ec2',
    operation: '',
    accessKeyId: '',
    callerArn: `arn:aws:iam::${scope.accountId}:root`,
    callerUserId: scope.accountId,
    now: () => new Date(),
  };
}

/** getNetworkInterface returns an ENI (NetworkInterface shape) or undefined. */
export function getNetworkInterface(state: AwsState, scope: Scope, networkInterfaceId: string): NetworkInterface | undefined {
  const d = storeOf({ state }, scope).get(T.networkInterface, networkInterfaceId);
  return d && eniView(d);
}

/**
 * attachNetworkInterface attaches an ENI to an instance at a device index
 * (the VPC CNI's extra ENIs), as AttachNetworkInterface does, with
 * DeleteOnTermination set as ipamd sets it. Returns the attachment id. Throws InvalidNetworkInterfaceID.NotFound,
 * InvalidInstanceID.NotFound, InvalidNetworkInterface.InUse.
 */
export async function attachNetworkInterface(state: AwsState, scope: Scope, networkInterfaceId: string, instanceId: string, deviceIndex: number): Promise<string> {
  const ops = networkInterfaceOperations({ state } as AwsDeps);
  const r = await ops.AttachNetworkInterface({ NetworkInterfaceId: networkInterfaceId, InstanceId: instanceId, DeviceIndex: deviceIndex }, internalCtx(scope));
  // Like the VPC CNI's ipamd, mark the ENI to go away with its instance.
  await ops.ModifyNetworkInterfaceAttribute({ NetworkInterfaceId: networkInterfaceId, Attachment: { AttachmentId: r.AttachmentId, DeleteOnTermination: true } }, internalCtx(scope));
  return r.AttachmentId;
}

/** detachNetworkInterface detaches an ENI from its instance (DetachNetworkInterface). Throws InvalidAttachmentID.NotFound, OperationNotPermitted for device index 0. */
export async function detachNetworkInterface(state: AwsState, scope: Scope, attachmentId: string): Promise<void> {
  const ops = networkInterfaceOperations({ state } as AwsDeps);
  await ops.DetachNetworkInterface({ AttachmentId: attachmentId }, internalCtx(scope));
}

/**
 * assignPrivateIpAddresses adds `count` secondary addresses from the ENI's
 * subnet to the ENI (what the VPC CNI's ipamd does for warm pod IPs),
 * lowering the subnet's AvailableIpAddressCount. Throws
 * InsufficientFreeAddressesInSubnet when the subnet is full (nothing taken).
 */
export async function assignPrivateIpAddresses(state: AwsState, scope: Scope, networkInterfaceId: string, count: number): Promise<string[]> {
  const ops = networkInterfaceOperations({ state } as AwsDeps);
  const r = await ops.AssignPrivateIpAddresses({ NetworkInterfaceId: networkInterfaceId, SecondaryPrivateIpAddressCount: count }, internalCtx(scope));
  return r.AssignedPrivateIpAddresses.map((a: { PrivateIpAddress: string }) => a.PrivateIpAddress);
}

/** unassignPrivateIpAddresses returns secondary addresses of an ENI to its subnet. */
export async function unassignPrivateIpAddresses(state: AwsState, scope: Scope, networkInterfaceId: string, ips: string[]): Promise<void> {
  const ops = networkInterfaceOperations({ state } as AwsDeps);
  await ops.UnassignPrivateIpAddresses({ NetworkInterfaceId: networkInterfaceId, PrivateIpAddresses: ips }, internalCtx(scope));
}

/** instanceTypeInfo returns the InstanceTypeInfo shape of a type (m5.large), or undefined when unknown. */
export function instanceTypeInfo(instanceType: string): InstanceTypeInfo | undefined {
  return typeInfo(instanceType);
}

/**
 * instanceTypeFacts returns the numbers the data plane needs for a type
 * (vCPUs, memory MiB, max ENIs, IPv4 addresses per ENI, trunk branch
 * interfaces for security groups for pods, architecture), or undefined.
 */
export function instanceTypeFacts(instanceType: string): InstanceTypeFacts | undefined {
  return typeFacts(instanceType);
}

/**
 * maxPods is the EKS max pods of an instance type: ENIs x (IPv4 addresses
 * per ENI - 1) + 2 (m5.large 29); with prefix delegation, 110 for types
 * under 30 vCPUs and 250 above (capped by the prefix-based count).
 * Unknown types answer 110.
 */
export function maxPods(instanceType: string, opts: MaxPodsOptions = {}): number {
  return computeMaxPods(instanceType, opts);
}

/**
 * createVolume creates an EBS volume as CreateVolume does (spec members as
 * in CreateVolumeRequest; VolumeType gp2 by default), with `tags` added
 * as given (the EBS CSI driver's tags). Returns the Volume shape (State
 * `creating`, `available` after the profile's delay). Throws EC2's errors
 * (InvalidParameterValue for an unknown zone or a size out of range, ...).
 */
export function createVolume(deps: AwsDeps, scope: Scope, spec: CreateVolumeSpec, tags: { Key: string; Value: string }[] = []): Promise<Volume> {
  return createVolumeIn(deps, storeOf(deps, scope), spec, tags);
}

/** listVolumes returns the volumes made by createVolume/CreateVolume (Volume shapes, as of now) that match a predicate (all when omitted). */
export function listVolumes(deps: AwsDeps, scope: Scope, match?: (v: Volume) => boolean): Volume[] {
  const store = storeOf(deps, scope);
  const now = deps.clock.nowMs();
  return store.list(T.volume).map((v) => volumeView(store, v, now)).filter((v) => !match || match(v));
}

/** describeVolume returns a volume made by createVolume/CreateVolume (Volume shape, as of now) or undefined. */
export function describeVolume(deps: AwsDeps, scope: Scope, volumeId: string): Volume | undefined {
  const store = storeOf(deps, scope);
  const v = store.get(T.volume, volumeId);
  return v && volumeView(store, v, deps.clock.nowMs());
}

/**
 * attachVolume attaches a volume to an instance (AttachVolume) at `device`,
 * or at the first free /dev/xvdXX as the EBS CSI driver picks it. Returns
 * the VolumeAttachment shape (State attaching, attached after the profile's
 * delay). Throws InvalidVolume.NotFound, InvalidInstanceID.NotFound,
 * VolumeInUse, InvalidVolume.ZoneMismatch, IncorrectState.
 */
export function attachVolume(deps: AwsDeps, scope: Scope, volumeId: string, instanceId: string, device?: string): Promise<VolumeAttachment> {
  return attachVolumeIn(deps, storeOf(deps, scope), volumeId, instanceId, device);
}

/** detachVolume starts detaching a volume (DetachVolume), from `instanceId` when given. Throws InvalidVolume.NotFound, IncorrectState (not attached), InvalidAttachment.NotFound. */
export function detachVolume(deps: AwsDeps, scope: Scope, volumeId: string, instanceId?: string): Promise<VolumeAttachment> {
  return detachVolumeIn(deps, storeOf(deps, scope), volumeId, { instanceId });
}

/** deleteVolume deletes a volume (DeleteVolume). Throws InvalidVolume.NotFound, VolumeInUse while it is attached. */
export function deleteVolume(deps: AwsDeps, scope: Scope, volumeId: string): Promise<void> {
  return deleteVolumeIn(deps, storeOf(deps, scope), volumeId);
}

/**
 * modifyVolume is ModifyVolume (the EBS CSI driver's ControllerExpandVolume
 * uses it): the volume takes its new size/type at once, the returned
 * VolumeModification goes modifying -> optimizing -> completed. Throws
 * InvalidVolume.NotFound, InvalidParameterValue (a smaller size),
 * VolumeModificationRateExceeded (within 6 hours of the last one).
 */
export function modifyVolume(deps: AwsDeps, scope: Scope, volumeId: string, change: { Size?: number; VolumeType?: string; Iops?: number; Throughput?: number }): Promise<Doc> {
  return modifyVolumeIn(deps, storeOf(deps, scope), { VolumeId: volumeId, ...change });
}
