/**
 * What other services may do with Auto Scaling (EKS builds managed node
 * groups on these). Every function takes the AwsState the server's providers
 * share and the account/region scope; inputs use the Auto Scaling model's
 * member names. Errors are AwsServiceErrors with Auto Scaling's codes
 * (ValidationError, AlreadyExists, ...), and nothing is written on error.
 *
 * Instances are launched and terminated asynchronously by the Auto Scaling
 * reconciler (on the simulated clock) through EC2's shared module; follow
 * them with listGroupInstances() or onGroupChange().
 *
 * @example
 *   await createGroup(state, scope, {
 *     AutoScalingGroupName: 'eks-ng-1', MinSize: 1, MaxSize: 3, DesiredCapacity: 2,
 *     VPCZoneIdentifier: 'subnet-a,subnet-b',
 *     LaunchTemplate: { LaunchTemplateId: 'lt-0123', Version: '1' },
 *     Tags: [{ Key: 'eks:nodegroup-name', Value: 'ng-1', PropagateAtLaunch: true }],
 *   });
 */
import type { AwsState, Scope } from '../core/state.ts';
import { engineFor, type GroupListener } from './engine.ts';
import * as groups from './groups.ts';
import { type GroupDoc, groupOut, type InstanceDoc, stripPrivate } from './model.ts';

export type { GroupListener } from './engine.ts';

/** The AutoScalingGroup members createGroup accepts (the model's CreateAutoScalingGroupType). */
export interface CreateGroupInput {
  AutoScalingGroupName: string;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity?: number;
  /** Comma-separated subnet ids. */
  VPCZoneIdentifier?: string;
  AvailabilityZones?: string[];
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  MixedInstancesPolicy?: {
    LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
      Overrides?: { InstanceType?: string; WeightedCapacity?: string }[];
    };
    InstancesDistribution?: {
      OnDemandBaseCapacity?: number;
      OnDemandPercentageAboveBaseCapacity?: number;
      OnDemandAllocationStrategy?: string;
      SpotAllocationStrategy?: string;
    };
  };
  Tags?: { Key: string; Value?: string; PropagateAtLaunch?: boolean }[];
  NewInstancesProtectedFromScaleIn?: boolean;
  HealthCheckGracePeriod?: number;
  [member: string]: unknown;
}

/** UpdateAutoScalingGroupType members: min/max/desired, launch template (and version), subnets, ... */
export interface UpdateGroupInput {
  AutoScalingGroupName: string;
  MinSize?: number;
  MaxSize?: number;
  DesiredCapacity?: number;
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  MixedInstancesPolicy?: CreateGroupInput['MixedInstancesPolicy'];
  VPCZoneIdentifier?: string;
  [member: string]: unknown;
}

/** A member instance as DescribeAutoScalingGroups shows it, plus its subnet and market. */
export interface GroupInstance {
  InstanceId: string;
  InstanceType?: string;
  AvailabilityZone: string;
  LifecycleState: string;
  HealthStatus: string;
  ProtectedFromScaleIn: boolean;
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  SubnetId?: string;
  /** 'on-demand' or 'spot'. */
  Market: string;
}

/** createGroup is CreateAutoScalingGroup; resolves with the stored group (model shape) once written. */
export async function createGroup(state: AwsState, scope: Scope, input: CreateGroupInput): Promise<Record<string, unknown>> {
  return groupOut(await groups.createGroup(engineFor(state), scope, input));
}

/**
 * updateGroup is UpdateAutoScalingGroup: changes min/max/desired (AWS's
 * rules: a new MinSize above desired raises desired, a new MaxSize below it
 * lowers it), the launch template or its version (new instances use it;
 * existing ones are not replaced), subnets, and the other members.
 */
export async function updateGroup(state: AwsState, scope: Scope, input: UpdateGroupInput): Promise<Record<string, unknown>> {
  return groupOut(await groups.updateGroup(engineFor(state), scope, input));
}

/**
 * launchTemplateUpdate is what UpdateAutoScalingGroup needs to point a group
 * (as describeGroup returns it) at another launch template version: its
 * LaunchTemplate, or the template of its MixedInstancesPolicy with the
 * overrides and instances distribution kept.
 */
export function launchTemplateUpdate(
  group: Record<string, any> | undefined,
  spec: { LaunchTemplateId: string; Version: string },
): Pick<UpdateGroupInput, 'LaunchTemplate' | 'MixedInstancesPolicy'> {
  const mixed = group?.MixedInstancesPolicy;
  return mixed ? { MixedInstancesPolicy: { ...mixed, LaunchTemplate: { ...mixed.LaunchTemplate, LaunchTemplateSpecification: spec } } } : { LaunchTemplate: spec };
}

/** setDesiredCapacity is SetDesiredCapacity (must lie within min..max). */
export async function setDesiredCapacity(state: AwsState, scope: Scope, name: string, desired: number): Promise<void> {
  await groups.setDesiredCapacity(engineFor(state), scope, name, desired);
}

/**
 * deleteGroup deletes a group. By default it is a ForceDelete (what a node
 * group deletion needs): instances are terminated, the group shows Status
 * "Delete in progress" and disappears once they are gone. With
 * { forceDelete: false } a group with instances is refused (ResourceInUse).
 * Deleting a missing group throws ValidationError.
 */
export async function deleteGroup(state: AwsState, scope: Scope, name: string, opts: { forceDelete?: boolean } = {}): Promise<void> {
  await groups.deleteGroup(engineFor(state), scope, name, opts.forceDelete ?? true);
}

/** describeGroup returns the group in the model's AutoScalingGroup shape (with Instances), or undefined. */
export function describeGroup(state: AwsState, scope: Scope, name: string): Record<string, unknown> | undefined {
  const g = engineFor(state).getGroup(scope, name);
  return g ? groupOut(g) : undefined;
}

/** listGroupInstances lists a group's instances (every lifecycle state, or only those in `lifecycleState`); [] for a missing group. */
export function listGroupInstances(state: AwsState, scope: Scope, name: string, lifecycleState?: string): GroupInstance[] {
  const g: GroupDoc | undefined = engineFor(state).getGroup(scope, name);
  const all = g?.Instances ?? [];
  return (lifecycleState === undefined ? all : all.filter((i) => i.LifecycleState === lifecycleState)).map((i: InstanceDoc) => ({
    ...stripPrivate(i),
    SubnetId: i._subnetId,
    Market: i._market ?? 'on-demand',
  }));
}

/**
 * terminateGroupInstance is TerminateInstanceInAutoScalingGroup (node group
 * rollouts use it after draining a node). With decrement, desired capacity
 * drops by one (refused below MinSize); without, a replacement is launched.
 */
export async function terminateGroupInstance(state: AwsState, scope: Scope, instanceId: string, decrement: boolean): Promise<void> {
  await groups.terminateInstance(engineFor(state), scope, instanceId, decrement);
}

/**
 * completeLifecycleAction is CompleteLifecycleAction for one instance: an
 * instance in Pending:Wait goes InService (CONTINUE) or is terminated
 * (ABANDON); one in Terminating:Wait is terminated. Throws ValidationError
 * ("No active Lifecycle Action found ...") when that hook does not hold it.
 */
export async function completeLifecycleAction(
  state: AwsState,
  scope: Scope,
  input: { AutoScalingGroupName: string; LifecycleHookName: string; InstanceId: string; LifecycleActionResult: 'CONTINUE' | 'ABANDON' },
): Promise<void> {
  await groups.completeLifecycleAction(engineFor(state), scope, input);
}

/** setInstanceProtection is SetInstanceProtection. */
export async function setInstanceProtection(state: AwsState, scope: Scope, name: string, instanceIds: string[], protectedFromScaleIn: boolean): Promise<void> {
  await groups.setInstanceProtection(engineFor(state), scope, name, instanceIds, protectedFromScaleIn);
}

/**
 * onGroupChange calls fn after every write to any group of this state (its
 * new document, or undefined once deleted), e.g. when instances launch or
 * reach InService. Returns an unsubscribe function.
 */
export function onGroupChange(state: AwsState, fn: GroupListener): () => void {
  return engineFor(state).onGroupChange(fn);
}
