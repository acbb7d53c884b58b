/**
 * Auto Scaling's errors with the codes, statuses and messages the real
 * service returns (query protocol: <Error><Code>...; status 400 unless noted).
 */
import { type AwsServiceError, awsError } from '../core/types.ts';

export const validation = (message: string): AwsServiceError => awsError('ValidationError', message, 400);

export const E = {
  alreadyExists: (name: string) => awsError('AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`, 400),
  groupNotFound: () => validation('AutoScalingGroup name not found - null'),
  groupNotFoundNamed: (name: string) => validation(`AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`),
  resourceInUse: () => awsError('ResourceInUse', 'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.', 400),
  activityInProgress: () =>
    awsError('ScalingActivityInProgress', 'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.', 400),
  pendingDelete: (name: string) => validation(`AutoScalingGroup ${name} is pending delete.`),
  oneLaunchSource: () =>
    validation('Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.'),
  launchTemplateIdOrName: () => validation('Valid requests must contain either launchTemplateId or LaunchTemplateName'),
  launchTemplateMissing: (spec: { LaunchTemplateId?: string; LaunchTemplateName?: string }) =>
    validation(
      spec.LaunchTemplateId
        ? `You must use a valid fully-formed launch template. The specified launch template, with template ID ${spec.LaunchTemplateId}, does not exist.`
        : `You must use a valid fully-formed launch template. The specified launch template, with template name ${spec.LaunchTemplateName}, does not exist.`,
    ),
  launchTemplateVersionMissing: (spec: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }) =>
    validation(
      `You must use a valid fully-formed launch template. The specified launch template version ${spec.Version} for launch template ${spec.LaunchTemplateId ?? spec.LaunchTemplateName} does not exist.`,
    ),
  launchConfigurationMissing: (name: string) => validation(`Launch configuration name not found - Launch configuration ${name} not found`),
  maxBelowMin: (min: number, max: number) => validation(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`),
  desiredOutOfRange: (desired: number, min: number, max: number) =>
    validation(`Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`),
  setDesiredAboveMax: (desired: number, max: number) => validation(`New SetDesiredCapacity value ${desired} is above max value ${max} for the AutoScalingGroup.`),
  setDesiredBelowMin: (desired: number, min: number) => validation(`New SetDesiredCapacity value ${desired} is below min value ${min} for the AutoScalingGroup.`),
  noZones: () => validation('At least one Availability Zone or VPC Subnet is required.'),
  subnetMissing: (id: string) => validation(`The subnet ID '${id}' does not exist`),
  subnetsDifferentVpcs: () => validation('The subnets specified in VPCZoneIdentifier must belong to the same VPC.'),
  zonesMismatch: () => validation('The availability zones of the specified subnets and the Auto Scaling group do not match'),
  instanceNotManaged: (id: string) => validation(`Instance Id not found - No managed instance found for instance ID: ${id}`),
  instanceNotInGroup: (id: string, group: string) => validation(`The instance ${id} is not part of Auto Scaling group ${group}.`),
  decrementBelowMin: (min: number) =>
    validation(
      `Currently, desiredSize equals minSize (${min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`,
    ),
  unknownProcess: (name: string) => validation(`Process names must be one of the following: ${name} is not a valid process name.`),
  hookNotFound: (hook: string, group: string) => validation(`No Lifecycle Hook found for hook name ${hook} and group ${group}`),
  hookTransitionRequired: () => validation('A lifecycle transition must be specified when creating a lifecycle hook.'),
  hookTransitionInvalid: (t: string) => validation(`Invalid value '${t}' for lifecycle transition. Valid values are autoscaling:EC2_INSTANCE_LAUNCHING and autoscaling:EC2_INSTANCE_TERMINATING.`),
  noActiveLifecycleAction: (id: string) => validation(`No active Lifecycle Action found with instance ID ${id}`),
  tagResourceType: (t: string) => validation(`Invalid resource type: ${t}. Valid resource type is auto-scaling-group.`),
  tagLimit: () => awsError('LimitExceeded', 'The quota for tags per resource has been reached. Max allowed: 50.', 400),
  hookLimit: () => awsError('LimitExceeded', 'Max lifecycle hooks per group (50) has been reached.', 400),
  refreshInProgress: () => awsError('InstanceRefreshInProgress', 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.', 400),
  noActiveRefresh: (name: string) => awsError('ActiveInstanceRefreshNotFound', `No in progress or pending Instance Refresh found for Auto Scaling group ${name}`, 400),
  invalidNextToken: () => awsError('InvalidNextToken', 'The token provided is not valid.', 400),
  maxRecords: (n: number) => validation(`MaxRecords value ${n} is out of range: must be between 1 and 100.`),
};
