/**
 * Group operations with AWS's validation: create, update, set desired
 * capacity, delete, terminate an instance, protection, processes, tags and
 * lifecycle hooks. Each validates first (nothing is written on error), then
 * commits under the group's lock and kicks the reconciler.
 *
 * Inputs are the model's input shapes (CreateAutoScalingGroupType, ...).
 */
import { randomUUID } from 'node:crypto';
import type { Scope } from '../core/state.ts';
import { type AutoScalingEngine, isoSecond } from './engine.ts';
import { E, validation } from './errors.ts';
import {
  type ActivityDoc,
  countsTowardCapacity,
  type GroupDoc,
  groupArn,
  type LifecycleHookDoc,
  METRICS,
  type RefreshDoc,
  PROCESS_NAMES,
  type TagDoc,
} from './model.ts';

const LAUNCH_HOOK = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATE_HOOK = 'autoscaling:EC2_INSTANCE_TERMINATING';
const MAX_TAGS = 50;

function checkBounds(min: number, max: number, desired: number): void {
  if (min > max) throw E.maxBelowMin(min, max);
  if (desired < min || desired > max) throw E.desiredOutOfRange(desired, min, max);
}

async function checkLaunchSource(engine: AutoScalingEngine, scope: Scope, input: any, requireOne: boolean): Promise<void> {
  const sources = [input.LaunchTemplate, input.LaunchConfigurationName, input.InstanceId, input.MixedInstancesPolicy].filter((x) => x !== undefined);
  if (requireOne ? sources.length !== 1 : sources.length > 1) throw E.oneLaunchSource();
  if (input.LaunchConfigurationName !== undefined) throw E.launchConfigurationMissing(input.LaunchConfigurationName);
  if (input.InstanceId !== undefined) throw validation(`Instance [${input.InstanceId}] is invalid.`);
  if (input.LaunchTemplate) await engine.resolveTemplate(scope, input.LaunchTemplate);
  if (input.MixedInstancesPolicy) {
    const spec = input.MixedInstancesPolicy.LaunchTemplate?.LaunchTemplateSpecification;
    if (!spec) throw validation('The launch template specification is required in the mixed instances policy.');
    await engine.resolveTemplate(scope, spec);
  }
}

/** zonesFor checks the subnets and AZs of a group; returns the AvailabilityZones to store. */
async function zonesFor(engine: AutoScalingEngine, scope: Scope, vpcZoneIdentifier: string | undefined, azs: string[] | undefined): Promise<string[]> {
  const subnets = await engine.resolveSubnets(scope, vpcZoneIdentifier);
  if (subnets.length > 0) {
    const zones = [...new Set(subnets.map((s) => s.AvailabilityZone))];
    if (azs && azs.length > 0 && (azs.some((z) => !zones.includes(z)) || zones.some((z) => !azs.includes(z)))) throw E.zonesMismatch();
    return zones;
  }
  if (!azs || azs.length === 0) throw E.noZones();
  return [...new Set(azs)];
}

function normalizeVpcZoneIdentifier(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const ids = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return ids.length ? [...new Set(ids)].join(',') : undefined;
}

function hookFromSpec(groupName: string, spec: any, existing?: LifecycleHookDoc): LifecycleHookDoc {
  const transition = spec.LifecycleTransition ?? existing?.LifecycleTransition;
  if (!transition) throw E.hookTransitionRequired();
  if (transition !== LAUNCH_HOOK && transition !== TERMINATE_HOOK) throw E.hookTransitionInvalid(transition);
  const heartbeat = spec.HeartbeatTimeout ?? existing?.HeartbeatTimeout ?? 3600;
  if (heartbeat < 30 || heartbeat > 7200) throw validation(`Heartbeat timeout ${heartbeat} is out of range: must be between 30 and 7200 seconds.`);
  const result = spec.DefaultResult ?? existing?.DefaultResult ?? 'ABANDON';
  if (result !== 'CONTINUE' && result !== 'ABANDON') throw validation(`Invalid value '${result}' for default result. Valid values are CONTINUE and ABANDON.`);
  const h: LifecycleHookDoc = {
    LifecycleHookName: spec.LifecycleHookName,
    AutoScalingGroupName: groupName,
    LifecycleTransition: transition,
    HeartbeatTimeout: heartbeat,
    GlobalTimeout: Math.min(heartbeat * 100, 172800),
    DefaultResult: result,
  };
  const target = spec.NotificationTargetARN ?? existing?.NotificationTargetARN;
  const role = spec.RoleARN ?? existing?.RoleARN;
  const meta = spec.NotificationMetadata ?? existing?.NotificationMetadata;
  if (target) h.NotificationTargetARN = target;
  if (role) h.RoleARN = role;
  if (meta) h.NotificationMetadata = meta;
  return h;
}

function tagsFromInput(groupName: string, tags: any[] | undefined): TagDoc[] {
  const out = new Map<string, TagDoc>();
  for (const t of tags ?? []) {
    if (t.ResourceType !== undefined && t.ResourceType !== 'auto-scaling-group') throw E.tagResourceType(t.ResourceType);
    if (typeof t.Key === 'string' && t.Key.startsWith('aws:')) throw validation('Tag keys starting with "aws:" are reserved for internal use');
    out.set(t.Key, { ResourceId: groupName, ResourceType: 'auto-scaling-group', Key: t.Key, Value: t.Value ?? '', PropagateAtLaunch: t.PropagateAtLaunch ?? false });
  }
  if (out.size > MAX_TAGS) throw E.tagLimit();
  return [...out.values()];
}

/** createGroup validates and stores a new group, then starts launching its instances. */
export async function createGroup(engine: AutoScalingEngine, scope: Scope, input: any): Promise<GroupDoc> {
  const name: string = input.AutoScalingGroupName;
  return engine.withGroup(scope, name, async () => {
    if (engine.getGroup(scope, name)) throw E.alreadyExists(name);
    const min: number = input.MinSize;
    const max: number = input.MaxSize;
    if (min === undefined || max === undefined) throw validation('MinSize and MaxSize are required.');
    const desired: number = input.DesiredCapacity ?? min;
    checkBounds(min, max, desired);
    await checkLaunchSource(engine, scope, input, true);
    const vpcZoneIdentifier = normalizeVpcZoneIdentifier(input.VPCZoneIdentifier);
    const zones = await zonesFor(engine, scope, vpcZoneIdentifier, input.AvailabilityZones);
    const tags = tagsFromInput(name, input.Tags);
    const hooks = (input.LifecycleHookSpecificationList ?? []).map((s: any) => hookFromSpec(name, s));
    const now = engine.now();
    const g: GroupDoc = {
      AutoScalingGroupName: name,
      AutoScalingGroupARN: groupArn(scope, randomUUID(), name),
      MinSize: min,
      MaxSize: max,
      DesiredCapacity: desired,
      DefaultCooldown: input.DefaultCooldown ?? 300,
      AvailabilityZones: zones,
      LoadBalancerNames: input.LoadBalancerNames ?? [],
      TargetGroupARNs: input.TargetGroupARNs ?? [],
      HealthCheckType: input.HealthCheckType ?? 'EC2',
      HealthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
      Instances: [],
      CreatedTime: new Date(now).toISOString(),
      SuspendedProcesses: [],
      EnabledMetrics: [],
      Tags: tags,
      TerminationPolicies: input.TerminationPolicies?.length ? input.TerminationPolicies : ['Default'],
      NewInstancesProtectedFromScaleIn: input.NewInstancesProtectedFromScaleIn ?? false,
      ServiceLinkedRoleARN:
        input.ServiceLinkedRoleARN ?? `arn:aws:iam::${scope.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
      CapacityRebalance: input.CapacityRebalance ?? false,
      TrafficSources: input.TrafficSources ?? [],
      _hooks: hooks,
      _cause: `At ${isoSecond(now)} a user request created an AutoScalingGroup changing the desired capacity from 0 to ${desired}.`,
    };
    if (vpcZoneIdentifier) g.VPCZoneIdentifier = vpcZoneIdentifier;
    if (input.LaunchTemplate) g.LaunchTemplate = { ...input.LaunchTemplate };
    if (input.MixedInstancesPolicy) g.MixedInstancesPolicy = withDistributionDefaults(input.MixedInstancesPolicy);
    for (const k of ['MaxInstanceLifetime', 'DefaultInstanceWarmup', 'Context', 'DesiredCapacityType', 'PlacementGroup', 'DeletionProtection'] as const) {
      if (input[k] !== undefined) (g as any)[k] = input[k];
    }
    g.AvailabilityZoneDistribution = input.AvailabilityZoneDistribution ?? { CapacityDistributionStrategy: 'balanced-best-effort' };
    await engine.write(scope, name, 0, g);
    engine.kick(scope, name);
    return g;
  });
}

/** AWS fills in the distribution's defaults and returns them. */
function withDistributionDefaults(mip: any): any {
  const d = mip.InstancesDistribution ?? {};
  return {
    ...mip,
    InstancesDistribution: {
      OnDemandAllocationStrategy: d.OnDemandAllocationStrategy ?? 'prioritized',
      OnDemandBaseCapacity: d.OnDemandBaseCapacity ?? 0,
      OnDemandPercentageAboveBaseCapacity: d.OnDemandPercentageAboveBaseCapacity ?? 100,
      SpotAllocationStrategy: d.SpotAllocationStrategy ?? 'lowest-price',
      ...(d.SpotAllocationStrategy === undefined || d.SpotAllocationStrategy === 'lowest-price' ? { SpotInstancePools: d.SpotInstancePools ?? 2 } : {}),
      ...(d.SpotMaxPrice !== undefined ? { SpotMaxPrice: d.SpotMaxPrice } : {}),
    },
  };
}

/** updateGroup applies an UpdateAutoScalingGroup input (min/max/desired rules as AWS documents them). */
export async function updateGroup(engine: AutoScalingEngine, scope: Scope, input: any): Promise<GroupDoc> {
  const name: string = input.AutoScalingGroupName;
  return engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    if (cur.Status === 'Delete in progress') throw E.pendingDelete(name);
    const rev = engine.groupRevision(scope, name);
    const g: GroupDoc = structuredClone(cur);
    const min: number = input.MinSize ?? g.MinSize;
    const max: number = input.MaxSize ?? g.MaxSize;
    let desired: number = input.DesiredCapacity ?? g.DesiredCapacity;
    if (input.DesiredCapacity === undefined) {
      if (input.MinSize !== undefined && min > desired) desired = min;
      if (input.MaxSize !== undefined && max < desired) desired = max;
    }
    checkBounds(min, max, desired);
    await checkLaunchSource(engine, scope, input, false);
    if (input.VPCZoneIdentifier !== undefined || input.AvailabilityZones !== undefined) {
      const vzi = input.VPCZoneIdentifier !== undefined ? normalizeVpcZoneIdentifier(input.VPCZoneIdentifier) : g.VPCZoneIdentifier;
      g.AvailabilityZones = await zonesFor(engine, scope, vzi, input.VPCZoneIdentifier !== undefined ? input.AvailabilityZones : input.AvailabilityZones);
      if (vzi) g.VPCZoneIdentifier = vzi;
      else delete g.VPCZoneIdentifier;
    }
    if (input.LaunchTemplate) {
      g.LaunchTemplate = { ...input.LaunchTemplate };
      delete g.MixedInstancesPolicy;
    }
    if (input.MixedInstancesPolicy) {
      g.MixedInstancesPolicy = withDistributionDefaults({ ...(g.MixedInstancesPolicy ?? {}), ...input.MixedInstancesPolicy });
      delete g.LaunchTemplate;
    }
    const now = engine.now();
    if (desired !== g.DesiredCapacity || min !== g.MinSize || max !== g.MaxSize) {
      g._cause = `At ${isoSecond(now)} a user request update of AutoScalingGroup constraints to min: ${min}, max: ${max}, desired: ${desired} changing the desired capacity from ${g.DesiredCapacity} to ${desired}.`;
    }
    g.MinSize = min;
    g.MaxSize = max;
    g.DesiredCapacity = desired;
    for (const k of [
      'DefaultCooldown',
      'HealthCheckType',
      'HealthCheckGracePeriod',
      'NewInstancesProtectedFromScaleIn',
      'CapacityRebalance',
      'MaxInstanceLifetime',
      'DefaultInstanceWarmup',
      'Context',
      'DesiredCapacityType',
      'PlacementGroup',
      'ServiceLinkedRoleARN',
      'DeletionProtection',
      'AvailabilityZoneDistribution',
    ] as const) {
      if (input[k] !== undefined) (g as any)[k] = input[k];
    }
    if (input.TerminationPolicies !== undefined) g.TerminationPolicies = input.TerminationPolicies.length ? input.TerminationPolicies : ['Default'];
    g._launchRetryAt = undefined;
    g._launchFailures = undefined;
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
    return g;
  });
}

function groupRevision(engine: AutoScalingEngine, scope: Scope, name: string): number {
  return engine.groupRevision(scope, name);
}

/** setDesiredCapacity is SetDesiredCapacity. */
export async function setDesiredCapacity(engine: AutoScalingEngine, scope: Scope, name: string, desired: number): Promise<void> {
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    if (cur.Status === 'Delete in progress') throw E.pendingDelete(name);
    if (desired > cur.MaxSize) throw E.setDesiredAboveMax(desired, cur.MaxSize);
    if (desired < cur.MinSize) throw E.setDesiredBelowMin(desired, cur.MinSize);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    if (g.DesiredCapacity !== desired) {
      g._cause = `At ${isoSecond(engine.now())} a user request explicitly set group desired capacity changing the desired capacity from ${g.DesiredCapacity} to ${desired}.`;
    }
    g.DesiredCapacity = desired;
    g._launchRetryAt = undefined;
    g._launchFailures = undefined;
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
  });
}

/**
 * deleteGroup is DeleteAutoScalingGroup: without force, a group that still
 * has instances is refused (ResourceInUse, or ScalingActivityInProgress when
 * they are all on their way out); with force, its instances are terminated
 * and the group disappears once they are gone ("Delete in progress" meanwhile).
 */
export async function deleteGroup(engine: AutoScalingEngine, scope: Scope, name: string, force = false): Promise<void> {
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFoundNamed(name);
    const rev = groupRevision(engine, scope, name);
    if (cur.Status === 'Delete in progress') return;
    if (!force && cur.Instances.length > 0) {
      if (cur.Instances.every((i) => !countsTowardCapacity(i.LifecycleState))) throw E.activityInProgress();
      throw E.resourceInUse();
    }
    if (cur.Instances.length === 0) {
      await engine.write(scope, name, rev, undefined);
      return;
    }
    const g = structuredClone(cur);
    g.Status = 'Delete in progress';
    g._cause = `At ${isoSecond(engine.now())} a user request deleted the AutoScalingGroup.`;
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
  });
}

/** findInstanceGroup finds the group (in scope) that has an instance. */
export function findInstanceGroup(engine: AutoScalingEngine, scope: Scope, instanceId: string): GroupDoc | undefined {
  for (const g of engine.listGroups(scope)) {
    if (g.Instances.some((i) => i.InstanceId === instanceId)) return g;
  }
  return undefined;
}

/** terminateInstance is TerminateInstanceInAutoScalingGroup; returns the activity. */
export async function terminateInstance(engine: AutoScalingEngine, scope: Scope, instanceId: string, decrement: boolean): Promise<ActivityDoc> {
  const owner = findInstanceGroup(engine, scope, instanceId);
  if (!owner) throw E.instanceNotManaged(instanceId);
  const name = owner.AutoScalingGroupName;
  return engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    const idx = cur?.Instances.findIndex((i) => i.InstanceId === instanceId) ?? -1;
    if (!cur || idx < 0) throw E.instanceNotManaged(instanceId);
    if (decrement && cur.DesiredCapacity <= cur.MinSize) throw E.decrementBelowMin(cur.MinSize);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const inst = g.Instances[idx]!;
    const at = isoSecond(engine.now());
    const before = g.DesiredCapacity;
    if (decrement) {
      g.DesiredCapacity -= 1;
      g._cause = `At ${at} instance ${instanceId} was taken out of service in response to a user request, shrinking the capacity from ${before} to ${g.DesiredCapacity}.`;
    }
    const a = engine.newActivity(
      g,
      `Terminating EC2 instance: ${instanceId}`,
      decrement
        ? `At ${at} instance ${instanceId} was taken out of service in response to a user request, shrinking the capacity from ${before} to ${g.DesiredCapacity}.`
        : `At ${at} instance ${instanceId} was taken out of service in response to a user request.`,
      { 'Subnet ID': inst._subnetId ?? '', 'Availability Zone': inst.AvailabilityZone },
    );
    const ops = [engine.activityOp(scope, a)];
    if (countsTowardCapacity(inst.LifecycleState)) {
      const prev = engine.finishActivity(scope, inst._activityId, 'Cancelled');
      if (prev) ops.push(prev);
      inst._activityId = a.ActivityId;
      if (engine.beginTermination(g, inst)) await engine.ec2.terminateInstances(scope, [instanceId]);
    }
    await engine.write(scope, name, rev, g, ops);
    engine.kick(scope, name);
    return a;
  });
}

/** setInstanceProtection is SetInstanceProtection. */
export async function setInstanceProtection(engine: AutoScalingEngine, scope: Scope, name: string, ids: string[], protect: boolean): Promise<void> {
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    for (const id of ids) if (!cur.Instances.some((i) => i.InstanceId === id)) throw E.instanceNotInGroup(id, name);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    for (const i of g.Instances) if (ids.includes(i.InstanceId)) i.ProtectedFromScaleIn = protect;
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
  });
}

/** suspendProcesses / resumeProcesses (no list = all processes). */
export async function setProcesses(engine: AutoScalingEngine, scope: Scope, name: string, processes: string[] | undefined, suspend: boolean): Promise<void> {
  for (const p of processes ?? []) if (!PROCESS_NAMES.includes(p)) throw E.unknownProcess(p);
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const names = processes && processes.length > 0 ? processes : PROCESS_NAMES;
    if (suspend) {
      for (const p of names) {
        if (!g.SuspendedProcesses.some((s) => s.ProcessName === p)) {
          g.SuspendedProcesses.push({ ProcessName: p, SuspensionReason: `User suspended at ${isoSecond(engine.now())}` });
        }
      }
    } else {
      g.SuspendedProcesses = g.SuspendedProcesses.filter((s) => !names.includes(s.ProcessName));
    }
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
  });
}

/** createOrUpdateTags / deleteTags: tags of several groups, each group written under its lock. */
export async function changeTags(engine: AutoScalingEngine, scope: Scope, tags: any[], remove: boolean): Promise<void> {
  const byGroup = new Map<string, any[]>();
  for (const t of tags) {
    if (t.ResourceType !== undefined && t.ResourceType !== 'auto-scaling-group') throw E.tagResourceType(t.ResourceType);
    if (!t.ResourceId) throw validation('ResourceId is required for a tag.');
    if (!byGroup.has(t.ResourceId)) byGroup.set(t.ResourceId, []);
    byGroup.get(t.ResourceId)!.push(t);
  }
  // Validate every group first so that a bad request changes nothing.
  for (const [name, list] of byGroup) {
    const g = engine.getGroup(scope, name);
    if (!g) throw E.groupNotFoundNamed(name);
    if (!remove) {
      const keys = new Set([...g.Tags.map((t) => t.Key), ...list.map((t) => t.Key)]);
      if (keys.size > MAX_TAGS) throw E.tagLimit();
      tagsFromInput(name, list);
    }
  }
  for (const [name, list] of byGroup) {
    await engine.withGroup(scope, name, async () => {
      const cur = engine.getGroup(scope, name);
      if (!cur) throw E.groupNotFoundNamed(name);
      const rev = groupRevision(engine, scope, name);
      const g = structuredClone(cur);
      if (remove) {
        g.Tags = g.Tags.filter((t) => !list.some((d) => d.Key === t.Key && (d.Value === undefined || d.Value === t.Value)));
      } else {
        for (const t of tagsFromInput(name, list)) {
          const i = g.Tags.findIndex((x) => x.Key === t.Key);
          if (i >= 0) g.Tags[i] = t;
          else g.Tags.push(t);
        }
      }
      g.Tags.sort((a, b) => (a.Key < b.Key ? -1 : a.Key > b.Key ? 1 : 0));
      await engine.write(scope, name, rev, g);
    });
  }
}

/** putLifecycleHook creates or updates a hook. */
export async function putLifecycleHook(engine: AutoScalingEngine, scope: Scope, input: any): Promise<void> {
  const name: string = input.AutoScalingGroupName;
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const i = g._hooks.findIndex((h) => h.LifecycleHookName === input.LifecycleHookName);
    const hook = hookFromSpec(name, input, i >= 0 ? g._hooks[i] : undefined);
    if (i >= 0) g._hooks[i] = hook;
    else {
      if (g._hooks.length >= 50) throw E.hookLimit();
      g._hooks.push(hook);
    }
    await engine.write(scope, name, rev, g);
  });
}

/** deleteLifecycleHook removes a hook (ValidationError if missing). */
export async function deleteLifecycleHook(engine: AutoScalingEngine, scope: Scope, name: string, hookName: string): Promise<void> {
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    if (!cur._hooks.some((h) => h.LifecycleHookName === hookName)) throw E.hookNotFound(hookName, name);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    g._hooks = g._hooks.filter((h) => h.LifecycleHookName !== hookName);
    await engine.write(scope, name, rev, g);
  });
}

/**
 * The instance a lifecycle action call names (by InstanceId or LifecycleActionToken) that waits for that hook
 * (Pending:Wait or Terminating:Wait); `unresolved`: only while no result is recorded yet. Throws Auto Scaling's
 * "no active lifecycle action" otherwise.
 */
function waitingInstance(g: GroupDoc, input: any, unresolved: boolean): GroupDoc['Instances'][number] {
  const inst = g.Instances.find(
    (i) =>
      (i.LifecycleState === 'Pending:Wait' || i.LifecycleState === 'Terminating:Wait') &&
      i._hookName === input.LifecycleHookName &&
      (!unresolved || i._hookResult === undefined) &&
      (input.InstanceId ? i.InstanceId === input.InstanceId : i._hookToken === input.LifecycleActionToken),
  );
  if (!inst) throw E.noActiveLifecycleAction(input.InstanceId ?? input.LifecycleActionToken ?? '');
  return inst;
}

/** completeLifecycleAction lets a Pending:Wait instance go on (CONTINUE) or be terminated (ABANDON); a Terminating:Wait one is terminated either way. */
export async function completeLifecycleAction(engine: AutoScalingEngine, scope: Scope, input: any): Promise<void> {
  const name: string = input.AutoScalingGroupName;
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const inst = waitingInstance(cur, input, false);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const i = g.Instances.find((x) => x.InstanceId === inst.InstanceId)!;
    // The reconciler applies the result at the deadline; move the deadline to now.
    i._hookDeadline = engine.now();
    i._hookResult = input.LifecycleActionResult;
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
  });
}

/**
 * recordLifecycleActionHeartbeat is RecordLifecycleActionHeartbeat: the
 * instance's wait (Pending:Wait or Terminating:Wait) restarts its heartbeat
 * timeout (the hook's global timeout is not enforced).
 */
export async function recordLifecycleActionHeartbeat(engine: AutoScalingEngine, scope: Scope, input: any): Promise<void> {
  const name: string = input.AutoScalingGroupName;
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const inst = waitingInstance(cur, input, true);
    const hook = cur._hooks.find((h) => h.LifecycleHookName === inst._hookName);
    if (!hook) throw E.noActiveLifecycleAction(inst.InstanceId);
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const i = g.Instances.find((x) => x.InstanceId === inst.InstanceId)!;
    i._hookDeadline = engine.now() + hook.HeartbeatTimeout * 1000;
    await engine.write(scope, name, rev, g);
  });
}

/** setMetrics is Enable/DisableMetricsCollection (no list = every group metric). */
export async function setMetrics(engine: AutoScalingEngine, scope: Scope, name: string, metrics: string[] | undefined, granularity: string | undefined, enable: boolean): Promise<void> {
  if (enable && granularity !== '1Minute') throw validation(`Invalid granularity: ${granularity}. Valid granularity is 1Minute.`);
  for (const m of metrics ?? []) if (!METRICS.includes(m)) throw validation(`Invalid metric name: ${m}.`);
  await engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const rev = groupRevision(engine, scope, name);
    const g = structuredClone(cur);
    const names = metrics && metrics.length > 0 ? metrics : METRICS;
    const list = (g.EnabledMetrics as { Metric: string; Granularity: string }[]).filter((m) => !names.includes(m.Metric));
    if (enable) for (const m of names) list.push({ Metric: m, Granularity: '1Minute' });
    g.EnabledMetrics = list;
    await engine.write(scope, name, rev, g);
  });
}

/** startInstanceRefresh is StartInstanceRefresh (Rolling): replaces the group's instances in batches. */
export async function startInstanceRefresh(engine: AutoScalingEngine, scope: Scope, input: any): Promise<string> {
  const name: string = input.AutoScalingGroupName;
  if (input.Strategy !== undefined && input.Strategy !== 'Rolling') throw validation(`Invalid strategy: ${input.Strategy}. Valid strategies are Rolling and ReplaceRootVolume.`);
  return engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    if (cur.Status === 'Delete in progress') throw E.pendingDelete(name);
    if (cur._refreshes?.some((r) => r.Status === 'Pending' || r.Status === 'InProgress' || r.Status === 'Cancelling')) throw E.refreshInProgress();
    const desired = input.DesiredConfiguration;
    if (desired?.LaunchTemplate) await engine.resolveTemplate(scope, desired.LaunchTemplate);
    if (desired?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification) await engine.resolveTemplate(scope, desired.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification);
    const prefs = input.Preferences ?? {};
    const min = prefs.MinHealthyPercentage ?? 90;
    const max = prefs.MaxHealthyPercentage ?? 100;
    if (max < 100 || max > 200 || min > max) throw validation('MaxHealthyPercentage must be between 100 and 200 and not less than MinHealthyPercentage.');
    const rev = engine.groupRevision(scope, name);
    const g = structuredClone(cur);
    if (desired?.LaunchTemplate) {
      g.LaunchTemplate = { ...desired.LaunchTemplate };
      delete g.MixedInstancesPolicy;
    } else if (desired?.MixedInstancesPolicy) {
      g.MixedInstancesPolicy = withDistributionDefaults(desired.MixedInstancesPolicy);
      delete g.LaunchTemplate;
    }
    const skipMatching = prefs.SkipMatching ?? false;
    let targets = g.Instances.filter((i) => countsTowardCapacity(i.LifecycleState) && (prefs.ScaleInProtectedInstances === 'Ignore' ? !i.ProtectedFromScaleIn : true));
    if (skipMatching) {
      const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
      const v = spec ? await engine.resolveTemplate(scope, spec) : undefined;
      targets = targets.filter((i) => !v || i.LaunchTemplate?.LaunchTemplateId !== v.LaunchTemplateId || i.LaunchTemplate?.Version !== String(v.VersionNumber));
    }
    const now = engine.now();
    const r: RefreshDoc = {
      InstanceRefreshId: randomUUID(),
      AutoScalingGroupName: name,
      Status: 'Pending',
      StartTime: new Date(now).toISOString(),
      PercentageComplete: 0,
      InstancesToUpdate: targets.length,
      Strategy: 'Rolling',
      Preferences: { ...prefs, MinHealthyPercentage: min, MaxHealthyPercentage: max, SkipMatching: skipMatching, InstanceWarmup: prefs.InstanceWarmup ?? g.DefaultInstanceWarmup ?? g.HealthCheckGracePeriod },
      ...(desired ? { DesiredConfiguration: desired } : {}),
      _targets: targets.map((i) => i.InstanceId),
      _startMs: now,
    };
    g._refreshes = [...(g._refreshes ?? []).slice(-49), r];
    await engine.write(scope, name, rev, g);
    engine.kick(scope, name);
    return r.InstanceRefreshId;
  });
}

/** cancelInstanceRefresh is CancelInstanceRefresh: stops replacing (instances already replaced stay). */
export async function cancelInstanceRefresh(engine: AutoScalingEngine, scope: Scope, name: string): Promise<string> {
  return engine.withGroup(scope, name, async () => {
    const cur = engine.getGroup(scope, name);
    if (!cur) throw E.groupNotFound();
    const r = cur._refreshes?.[cur._refreshes.length - 1];
    if (!r || (r.Status !== 'Pending' && r.Status !== 'InProgress')) throw E.noActiveRefresh(name);
    const rev = engine.groupRevision(scope, name);
    const g = structuredClone(cur);
    const x = g._refreshes![g._refreshes!.length - 1]!;
    x.Status = 'Cancelled';
    x.StatusReason = 'Cancelled due to user request.';
    x.EndTime = new Date(engine.now()).toISOString();
    await engine.write(scope, name, rev, g);
    return x.InstanceRefreshId;
  });
}
