/**
 * Stored Auto Scaling documents and their keys.
 *
 * A group is one document in the model's `AutoScalingGroup` shape (its
 * `Instances` included, each in the model's `Instance` shape) plus private
 * members prefixed with `_`; scaling activities are documents of their own in
 * the model's `Activity` shape. Keys: `/aws/autoscaling/<account>/<region>/
 * group/<name>` and `.../activity/<ActivityId>`.
 */
import { awsKey, collectionPrefix, type Scope } from '../core/state.ts';

export const SERVICE = 'autoscaling';

/** A group member as stored: the model's Instance plus private fields. */
export interface InstanceDoc {
  InstanceId: string;
  InstanceType?: string;
  AvailabilityZone: string;
  AvailabilityZoneId?: string;
  LifecycleState: string;
  HealthStatus: string;
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  ProtectedFromScaleIn: boolean;
  WeightedCapacity?: string;
  _subnetId?: string;
  /** 'on-demand' or 'spot'. */
  _market?: string;
  /** The in-progress activity that launches or terminates this instance. */
  _activityId?: string;
  /** Epoch ms the instance joined the group. */
  _since?: number;
  /** Lifecycle hook wait: epoch ms when the default result applies. */
  _hookDeadline?: number;
  _hookName?: string;
  _hookToken?: string;
  /** Result given by CompleteLifecycleAction (else the hook's DefaultResult applies). */
  _hookResult?: string;
}

export interface LifecycleHookDoc {
  LifecycleHookName: string;
  AutoScalingGroupName: string;
  LifecycleTransition?: string;
  NotificationTargetARN?: string;
  RoleARN?: string;
  NotificationMetadata?: string;
  HeartbeatTimeout: number;
  GlobalTimeout: number;
  DefaultResult: string;
}

export interface TagDoc {
  ResourceId: string;
  ResourceType: string;
  Key: string;
  Value: string;
  PropagateAtLaunch: boolean;
}

/** A stored instance refresh: the model's InstanceRefresh (times as ISO strings) plus progress. */
export interface RefreshDoc {
  InstanceRefreshId: string;
  AutoScalingGroupName: string;
  Status: string;
  StatusReason?: string;
  StartTime: string;
  EndTime?: string;
  PercentageComplete: number;
  InstancesToUpdate: number;
  Strategy: string;
  Preferences: { MinHealthyPercentage: number; MaxHealthyPercentage: number; SkipMatching: boolean; InstanceWarmup?: number; [k: string]: unknown };
  DesiredConfiguration?: unknown;
  /** Instances the refresh replaces (ids), fixed at its start. */
  _targets: string[];
  /** Epoch ms the refresh started. */
  _startMs: number;
}

/** A stored group: model AutoScalingGroup members plus private ones. */
export interface GroupDoc {
  AutoScalingGroupName: string;
  AutoScalingGroupARN: string;
  LaunchTemplate?: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string };
  MixedInstancesPolicy?: any;
  MinSize: number;
  MaxSize: number;
  DesiredCapacity: number;
  DefaultCooldown: number;
  AvailabilityZones: string[];
  LoadBalancerNames: string[];
  TargetGroupARNs: string[];
  HealthCheckType: string;
  HealthCheckGracePeriod: number;
  Instances: InstanceDoc[];
  CreatedTime: string;
  SuspendedProcesses: { ProcessName: string; SuspensionReason: string }[];
  VPCZoneIdentifier?: string;
  EnabledMetrics: unknown[];
  Tags: TagDoc[];
  TerminationPolicies: string[];
  NewInstancesProtectedFromScaleIn: boolean;
  ServiceLinkedRoleARN: string;
  CapacityRebalance: boolean;
  TrafficSources: unknown[];
  Status?: string;
  MaxInstanceLifetime?: number;
  DefaultInstanceWarmup?: number;
  Context?: string;
  DesiredCapacityType?: string;
  PlacementGroup?: string;
  AvailabilityZoneDistribution?: { CapacityDistributionStrategy: string };
  DeletionProtection?: string;
  _hooks: LifecycleHookDoc[];
  /** Why desired capacity last changed (the first sentence of activity causes). */
  _cause?: string;
  /** Failed launch backoff: epoch ms before which no launch is retried. */
  _launchRetryAt?: number;
  _launchFailures?: number;
  /** Instance refreshes, newest last (the last one may be active). */
  _refreshes?: RefreshDoc[];
  /** Monotonic counter for round-robin choices (subnets within an AZ, spot pools). */
  _rr?: number;
}

/** A stored scaling activity (the model's Activity plus ordering). */
export interface ActivityDoc {
  ActivityId: string;
  AutoScalingGroupName: string;
  AutoScalingGroupARN: string;
  Description: string;
  Cause: string;
  StartTime: string;
  EndTime?: string;
  StatusCode: string;
  StatusMessage?: string;
  Progress: number;
  Details: string;
  _seq: number;
}

export function groupKey(scope: Scope, name: string): string {
  return awsKey(scope, SERVICE, 'group', name);
}

export function groupsPrefix(scope: Scope): string {
  return collectionPrefix(scope, SERVICE, 'group');
}

export function activityKey(scope: Scope, id: string): string {
  return awsKey(scope, SERVICE, 'activity', id);
}

export function activitiesPrefix(scope: Scope): string {
  return collectionPrefix(scope, SERVICE, 'activity');
}

/** scopeOfKey recovers account and region from a group or activity key. */
export function scopeOfKey(key: string): Scope {
  const parts = key.split('/');
  // ['', 'aws', 'autoscaling', account, region, type, id]
  return { accountId: parts[3]!, region: parts[4]! };
}

/** groupArn builds arn:aws:autoscaling:<region>:<account>:autoScalingGroup:<uuid>:autoScalingGroupName/<name>. */
export function groupArn(scope: Scope, uuid: string, name: string): string {
  return `arn:aws:autoscaling:${scope.region}:${scope.accountId}:autoScalingGroup:${uuid}:autoScalingGroupName/${name}`;
}

/** stripPrivate copies a document without `_` members (one level). */
export function stripPrivate<T extends object>(doc: T): T {
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (k.charCodeAt(0) !== 95) r[k] = v;
  return r as T;
}

/** The processes SuspendProcesses/ResumeProcesses know (DescribeScalingProcessTypes). */
export const PROCESS_NAMES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions',
];

/** Lifecycle states in which an instance counts toward desired capacity. */
export function countsTowardCapacity(state: string): boolean {
  return !state.startsWith('Terminating') && state !== 'Terminated' && state !== 'Detaching' && state !== 'Detached' && state !== 'Standby' && state !== 'EnteringStandby';
}

/** groupOut is the model AutoScalingGroup a client sees (Date for CreatedTime, private members removed). */
export function groupOut(g: GroupDoc, includeInstances = true): Record<string, unknown> {
  const o: Record<string, any> = stripPrivate(g);
  o.CreatedTime = new Date(g.CreatedTime);
  o.Instances = includeInstances ? g.Instances.map((i) => stripPrivate(i)) : undefined;
  o.Tags = g.Tags.map((t) => ({ ...t }));
  return o;
}

/** Group metrics EnableMetricsCollection accepts (DescribeMetricCollectionTypes). */
export const METRICS = [
  'GroupMinSize',
  'GroupMaxSize',
  'GroupDesiredCapacity',
  'GroupInServiceInstances',
  'GroupPendingInstances',
  'GroupStandbyInstances',
  'GroupTerminatingInstances',
  'GroupTotalInstances',
  'GroupInServiceCapacity',
  'GroupPendingCapacity',
  'GroupStandbyCapacity',
  'GroupTerminatingCapacity',
  'GroupTotalCapacity',
  'WarmPoolDesiredCapacity',
  'WarmPoolWarmedCapacity',
  'WarmPoolPendingCapacity',
  'WarmPoolTerminatingCapacity',
  'WarmPoolTotalCapacity',
  'GroupAndWarmPoolDesiredCapacity',
  'GroupAndWarmPoolTotalCapacity',
];
