/**
 * The Auto Scaling provider (query protocol, model autoscaling 2011-01-01):
 * groups from launch templates or mixed instances policies over several
 * subnets, min/max/desired honoured by launching and terminating EC2
 * instances (see engine.ts), instances, scaling activities, tags with
 * PropagateAtLaunch, suspended processes, lifecycle hooks and instance
 * protection. Describe calls that terraform makes for features localeks does
 * not model (load balancers, warm pools, policies, ...) answer empty lists.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { AwsProvider, RequestContext } from '../core/types.ts';
import { type Ec2Port, createEc2Port } from './ec2-port.ts';
import { AutoScalingEngine } from './engine.ts';
import { E, validation } from './errors.ts';
import * as groups from './groups.ts';
import { type ActivityDoc, type GroupDoc, groupOut, METRICS, PROCESS_NAMES, stripPrivate, type TagDoc } from './model.ts';

export interface AutoScalingProviderOptions {
  /** EC2 access (default: src/aws/ec2/shared.ts); tests inject a fake. */
  ec2?: Ec2Port;
}

/** The provider plus a stop() that cancels the reconciler's timer, and resync() for after a state restore or reset. */
export interface AutoScalingProvider extends AwsProvider {
  engine: AutoScalingEngine;
  stop(): void;
  resync(): void;
}

const scopeOf = (ctx: RequestContext) => ({ accountId: ctx.accountId, region: ctx.region });

/** paginate pages a list with MaxRecords (1-100, default `def`) and an opaque NextToken. */
function paginate<T>(items: T[], maxRecords: number | undefined, nextToken: string | undefined, def: number): { page: T[]; NextToken?: string } {
  const max = maxRecords ?? def;
  if (max < 1 || max > 100) throw E.maxRecords(max);
  let start = 0;
  if (nextToken) {
    try {
      const o = JSON.parse(Buffer.from(nextToken, 'base64url').toString('utf8'));
      if (typeof o.o !== 'number' || o.o < 0) throw new Error('bad token');
      start = o.o;
    } catch {
      throw E.invalidNextToken();
    }
  }
  const page = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(JSON.stringify({ o: start + max })).toString('base64url') : undefined;
  return next ? { page, NextToken: next } : { page };
}

function activityOut(a: ActivityDoc): Record<string, unknown> {
  const o: Record<string, any> = stripPrivate(a);
  o.StartTime = new Date(a.StartTime);
  if (a.EndTime) o.EndTime = new Date(a.EndTime);
  return o;
}

type TagFilter = (t: TagDoc) => boolean;

function tagFilters(filters: { Name?: string; Values?: string[] }[] | undefined): TagFilter[] {
  return (filters ?? []).map((f) => {
    const values = f.Values ?? [];
    switch (f.Name) {
      case 'auto-scaling-group':
        return (t) => values.includes(t.ResourceId);
      case 'key':
        return (t) => values.includes(t.Key);
      case 'value':
        return (t) => values.includes(t.Value);
      case 'propagate-at-launch':
        return (t) => values.includes(String(t.PropagateAtLaunch));
      default:
        throw validation(`Filter type ${f.Name} is not correct. Allowed Filter types are: auto-scaling-group key value propagate-at-launch`);
    }
  });
}

function groupFilters(filters: { Name?: string; Values?: string[] }[] | undefined): ((g: GroupDoc) => boolean)[] {
  return (filters ?? []).map((f) => {
    const values = f.Values ?? [];
    const name = f.Name ?? '';
    if (name === 'tag-key') return (g) => g.Tags.some((t) => values.includes(t.Key));
    if (name === 'tag-value') return (g) => g.Tags.some((t) => values.includes(t.Value));
    if (name.startsWith('tag:')) {
      const key = name.slice(4);
      return (g) => g.Tags.some((t) => t.Key === key && values.includes(t.Value));
    }
    throw validation(`Filter type ${name} is not correct. Allowed Filter types are: tag-key tag-value tag:<key>`);
  });
}

/** createAutoScalingProvider builds the provider and starts its reconciler (which resumes stored groups). */
export function createAutoScalingProvider(deps: AwsDeps, opts: AutoScalingProviderOptions = {}): AutoScalingProvider {
  const engine = new AutoScalingEngine(deps, opts.ec2 ?? createEc2Port(deps));
  const requireGroup = (ctx: RequestContext, name: string): GroupDoc => {
    const g = engine.getGroup(scopeOf(ctx), name);
    if (!g) throw E.groupNotFound();
    return g;
  };

  const operations: AwsProvider['operations'] = {
    async CreateAutoScalingGroup(input, ctx) {
      await groups.createGroup(engine, scopeOf(ctx), input);
      return {};
    },

    async UpdateAutoScalingGroup(input, ctx) {
      await groups.updateGroup(engine, scopeOf(ctx), input);
      return {};
    },

    async DeleteAutoScalingGroup(input, ctx) {
      await groups.deleteGroup(engine, scopeOf(ctx), input.AutoScalingGroupName, input.ForceDelete ?? false);
      return {};
    },

    DescribeAutoScalingGroups(input, ctx) {
      let list = engine.listGroups(scopeOf(ctx));
      const names: string[] | undefined = input.AutoScalingGroupNames;
      if (names && names.length > 0) list = list.filter((g) => names.includes(g.AutoScalingGroupName));
      for (const f of groupFilters(input.Filters)) list = list.filter(f);
      const { page, NextToken } = paginate(list, input.MaxRecords, input.NextToken, 50);
      return { AutoScalingGroups: page.map((g) => groupOut(g, input.IncludeInstances ?? true)), NextToken };
    },

    async SetDesiredCapacity(input, ctx) {
      await groups.setDesiredCapacity(engine, scopeOf(ctx), input.AutoScalingGroupName, input.DesiredCapacity);
      return {};
    },

    async TerminateInstanceInAutoScalingGroup(input, ctx) {
      const a = await groups.terminateInstance(engine, scopeOf(ctx), input.InstanceId, input.ShouldDecrementDesiredCapacity);
      return { Activity: activityOut(a) };
    },

    DescribeAutoScalingInstances(input, ctx) {
      const ids: string[] | undefined = input.InstanceIds;
      const rows: Record<string, unknown>[] = [];
      for (const g of engine.listGroups(scopeOf(ctx))) {
        for (const i of g.Instances) {
          if (ids && ids.length > 0 && !ids.includes(i.InstanceId)) continue;
          rows.push({ ...stripPrivate(i), AutoScalingGroupName: g.AutoScalingGroupName });
        }
      }
      rows.sort((a, b) => String(a.InstanceId).localeCompare(String(b.InstanceId)));
      const { page, NextToken } = paginate(rows, input.MaxRecords, input.NextToken, 50);
      return { AutoScalingInstances: page, NextToken };
    },

    DescribeScalingActivities(input, ctx) {
      const scope = scopeOf(ctx);
      let list = engine.listActivities(scope);
      const ids: string[] | undefined = input.ActivityIds;
      if (ids && ids.length > 0) list = list.filter((a) => ids.includes(a.ActivityId));
      if (input.AutoScalingGroupName !== undefined) {
        const g = engine.getGroup(scope, input.AutoScalingGroupName);
        list = list.filter((a) => a.AutoScalingGroupName === input.AutoScalingGroupName);
        if (!input.IncludeDeletedGroups) list = g ? list.filter((a) => a.AutoScalingGroupARN === g.AutoScalingGroupARN) : [];
      } else if (!input.IncludeDeletedGroups) {
        const live = new Set(engine.listGroups(scope).map((g) => g.AutoScalingGroupARN));
        list = list.filter((a) => live.has(a.AutoScalingGroupARN));
      }
      list.sort((a, b) => b._seq - a._seq);
      const { page, NextToken } = paginate(list, input.MaxRecords, input.NextToken, 100);
      return { Activities: page.map(activityOut), NextToken };
    },

    async CreateOrUpdateTags(input, ctx) {
      await groups.changeTags(engine, scopeOf(ctx), input.Tags, false);
      return {};
    },

    async DeleteTags(input, ctx) {
      await groups.changeTags(engine, scopeOf(ctx), input.Tags, true);
      return {};
    },

    DescribeTags(input, ctx) {
      const fs = tagFilters(input.Filters);
      const tags: TagDoc[] = [];
      for (const g of engine.listGroups(scopeOf(ctx))) for (const t of g.Tags) if (fs.every((f) => f(t))) tags.push(t);
      const { page, NextToken } = paginate(tags, input.MaxRecords, input.NextToken, 50);
      return { Tags: page.map((t) => ({ ...t })), NextToken };
    },

    async SuspendProcesses(input, ctx) {
      await groups.setProcesses(engine, scopeOf(ctx), input.AutoScalingGroupName, input.ScalingProcesses, true);
      return {};
    },

    async ResumeProcesses(input, ctx) {
      await groups.setProcesses(engine, scopeOf(ctx), input.AutoScalingGroupName, input.ScalingProcesses, false);
      return {};
    },

    DescribeScalingProcessTypes() {
      return { Processes: PROCESS_NAMES.map((ProcessName) => ({ ProcessName })) };
    },

    async SetInstanceProtection(input, ctx) {
      await groups.setInstanceProtection(engine, scopeOf(ctx), input.AutoScalingGroupName, input.InstanceIds, input.ProtectedFromScaleIn);
      return {};
    },

    async PutLifecycleHook(input, ctx) {
      await groups.putLifecycleHook(engine, scopeOf(ctx), input);
      return {};
    },

    DescribeLifecycleHooks(input, ctx) {
      const g = requireGroup(ctx, input.AutoScalingGroupName);
      const names: string[] | undefined = input.LifecycleHookNames;
      const hooks = g._hooks.filter((h) => !names || names.length === 0 || names.includes(h.LifecycleHookName));
      return { LifecycleHooks: hooks.map((h) => ({ ...h })) };
    },

    async DeleteLifecycleHook(input, ctx) {
      await groups.deleteLifecycleHook(engine, scopeOf(ctx), input.AutoScalingGroupName, input.LifecycleHookName);
      return {};
    },

    DescribeLifecycleHookTypes() {
      return { LifecycleHookTypes: ['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING'] };
    },

    async RecordLifecycleActionHeartbeat(input, ctx) {
      await groups.recordLifecycleActionHeartbeat(engine, scopeOf(ctx), input);
      return {};
    },

    async CompleteLifecycleAction(input, ctx) {
      await groups.completeLifecycleAction(engine, scopeOf(ctx), input);
      return {};
    },

    async EnableMetricsCollection(input, ctx) {
      await groups.setMetrics(engine, scopeOf(ctx), input.AutoScalingGroupName, input.Metrics, input.Granularity, true);
      return {};
    },

    async DisableMetricsCollection(input, ctx) {
      await groups.setMetrics(engine, scopeOf(ctx), input.AutoScalingGroupName, input.Metrics, undefined, false);
      return {};
    },

    // Features localeks does not model answer as AWS does for a group without them.
    DescribeLoadBalancers(input, ctx) {
      requireGroup(ctx, input.AutoScalingGroupName);
      return { LoadBalancers: [] };
    },
    DescribeLoadBalancerTargetGroups(input, ctx) {
      requireGroup(ctx, input.AutoScalingGroupName);
      return { LoadBalancerTargetGroups: [] };
    },
    DescribeTrafficSources(input, ctx) {
      requireGroup(ctx, input.AutoScalingGroupName);
      return { TrafficSources: [] };
    },
    DescribeWarmPool(input, ctx) {
      requireGroup(ctx, input.AutoScalingGroupName);
      return { Instances: [] };
    },
    DescribeNotificationConfigurations() {
      return { NotificationConfigurations: [] };
    },
    DescribePolicies() {
      return { ScalingPolicies: [] };
    },
    DescribeScheduledActions() {
      return { ScheduledUpdateGroupActions: [] };
    },
    DescribeLaunchConfigurations() {
      return { LaunchConfigurations: [] };
    },
    async StartInstanceRefresh(input, ctx) {
      return { InstanceRefreshId: await groups.startInstanceRefresh(engine, scopeOf(ctx), input) };
    },
    async CancelInstanceRefresh(input, ctx) {
      return { InstanceRefreshId: await groups.cancelInstanceRefresh(engine, scopeOf(ctx), input.AutoScalingGroupName) };
    },
    DescribeInstanceRefreshes(input, ctx) {
      const g = requireGroup(ctx, input.AutoScalingGroupName);
      const ids: string[] | undefined = input.InstanceRefreshIds;
      const list = [...(g._refreshes ?? [])].reverse().filter((r) => !ids || ids.length === 0 || ids.includes(r.InstanceRefreshId));
      const { page, NextToken } = paginate(list, input.MaxRecords, input.NextToken, 50);
      return {
        InstanceRefreshes: page.map((r) => ({ ...stripPrivate(r), StartTime: new Date(r.StartTime), EndTime: r.EndTime ? new Date(r.EndTime) : undefined })),
        NextToken,
      };
    },
    DescribeAccountLimits(_input, ctx) {
      return {
        MaxNumberOfAutoScalingGroups: 500,
        MaxNumberOfLaunchConfigurations: 200,
        NumberOfAutoScalingGroups: engine.listGroups(scopeOf(ctx)).length,
        NumberOfLaunchConfigurations: 0,
      };
    },
    DescribeTerminationPolicyTypes() {
      return {
        TerminationPolicyTypes: ['AllocationStrategy', 'ClosestToNextInstanceHour', 'Default', 'NewestInstance', 'OldestInstance', 'OldestLaunchConfiguration', 'OldestLaunchTemplate'],
      };
    },
    DescribeAdjustmentTypes() {
      return { AdjustmentTypes: ['ChangeInCapacity', 'ExactCapacity', 'PercentChangeInCapacity'].map((AdjustmentType) => ({ AdjustmentType })) };
    },
    DescribeMetricCollectionTypes() {
      return { Metrics: METRICS.map((Metric) => ({ Metric })), Granularities: [{ Granularity: '1Minute' }] };
    },
    DescribeAutoScalingNotificationTypes() {
      return {
        AutoScalingNotificationTypes: [
          'autoscaling:EC2_INSTANCE_LAUNCH',
          'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
          'autoscaling:EC2_INSTANCE_TERMINATE',
          'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
          'autoscaling:TEST_NOTIFICATION',
        ],
      };
    },
  };

  return { service: 'autoscaling', operations, engine, stop: () => engine.stop(), resync: () => engine.resync() };
}
