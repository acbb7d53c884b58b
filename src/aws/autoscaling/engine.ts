/**
 * AutoScalingEngine: Auto Scaling groups' writes and the reconciler that
 * makes each group's instances match its desired capacity.
 *
 * - Every write to a group (API calls, shared.ts calls from EKS, reconcile
 *   steps) runs under a per-group lock in this process and commits the group
 *   document with compare-and-swap together with its activity records.
 * - The reconciler is driven by ONE timer on the simulated clock: groups that
 *   need work are kept in a due-time map and the timer is armed for the
 *   earliest. A reconcile step reads the group, refreshes its instances from
 *   EC2 (Pending -> InService once running, Terminating -> gone once
 *   terminated, replaced when EC2 terminated them behind our back), then
 *   launches or terminates instances through EC2 to reach desired capacity.
 *   Groups with instances in transition are polled again shortly.
 * - Nothing lives only in memory: on start the engine lists every stored
 *   group (all accounts and regions) and reconciles it, so a restarted
 *   server resumes half-done scaling from the store.
 */
import { randomUUID } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import { AWS_PREFIX, type AwsState, type Scope, type StateOp } from '../core/state.ts';
import { AwsServiceError } from '../core/types.ts';
import type { Ec2Port, LaunchTemplateVersionInfo, SubnetInfo } from './ec2-port.ts';
import { E } from './errors.ts';
import {
  type RefreshDoc,
  type ActivityDoc,
  activitiesPrefix,
  activityKey,
  countsTowardCapacity,
  type GroupDoc,
  groupKey,
  groupsPrefix,
  type InstanceDoc,
  SERVICE,
  scopeOfKey,
} from './model.ts';

/** Registry: the engine serving an AwsState (used by shared.ts). */
const engines = new WeakMap<AwsState, AutoScalingEngine>();

/** engineFor returns the engine the autoscaling provider registered for this state. */
export function engineFor(state: AwsState): AutoScalingEngine {
  const e = engines.get(state);
  if (!e) throw new Error('the Auto Scaling provider is not running for this state');
  return e;
}

/** Listener called after a group's instances changed (EKS follows node groups this way). */
export type GroupListener = (scope: Scope, groupName: string, group: GroupDoc | undefined) => void;

interface Timing {
  /** How often groups with instances in transition are re-checked (simulated ms). */
  pollMs: number;
  /** First retry delay after a failed launch (doubles up to maxBackoffMs). */
  backoffMs: number;
  maxBackoffMs: number;
}

const TIMINGS: Record<string, Timing> = {
  instant: { pollMs: 10, backoffMs: 100, maxBackoffMs: 10_000 },
  fast: { pollMs: 200, backoffMs: 1_000, maxBackoffMs: 30_000 },
  realistic: { pollMs: 2_000, backoffMs: 10_000, maxBackoffMs: 300_000 },
};

const LAUNCH_HOOK = 'autoscaling:EC2_INSTANCE_LAUNCHING';
const TERMINATE_HOOK = 'autoscaling:EC2_INSTANCE_TERMINATING';

/** Scaling activities are kept six weeks, as AWS documents. */
const ACTIVITY_RETENTION_MS = 42 * 86_400_000;
/** And at most this many per account and region (newest first). */
const MAX_ACTIVITIES = 10_000;
/** Prune after this many activity writes. */
const PRUNE_EVERY = 1_000;

/** isoSecond formats a time as AWS writes it in activity causes: 2024-05-02T10:00:00Z. */
export function isoSecond(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class AutoScalingEngine {
  private readonly state: AwsState;
  private readonly timing: Timing;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** group key -> simulated epoch ms when it is due */
  private readonly due = new Map<string, number>();
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;
  private running = false;
  private stopped = false;
  private seq = 0;
  private readonly listeners = new Set<GroupListener>();
  private activityWrites = 0;

  constructor(
    private readonly deps: AwsDeps,
    readonly ec2: Ec2Port,
  ) {
    this.state = deps.state;
    this.timing = TIMINGS[deps.config.timingProfile] ?? TIMINGS.fast!;
    engines.set(this.state, this);
    // Resume every stored group once the provider set is built (the state cache is loaded by then).
    this.deps.clock.after(0, () => this.resumeAll());
  }

  /** stop cancels the reconciler timer (the server's close calls it through the provider). */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (engines.get(this.state) === this) engines.delete(this.state);
  }

  /**
   * resync forgets which groups were due and reconciles every stored group
   * again, as after a restart: called when a snapshot restore or a reset
   * replaced the state under the engine (groups half-way through scaling in
   * the restored state resume; groups that are gone are dropped).
   */
  resync(): void {
    if (this.stopped) return;
    this.due.clear();
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = Infinity;
    this.resumeAll();
  }

  now(): number {
    return this.deps.clock.nowMs();
  }

  onGroupChange(fn: GroupListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---------------------------------------------------------------- locking and writes

  /** withGroup runs fn under the group's lock. */
  withGroup<R>(scope: Scope, name: string, fn: () => Promise<R>): Promise<R> {
    const k = groupKey(scope, name);
    const prev = this.locks.get(k) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(k, tail);
    void tail.then(() => {
      if (this.locks.get(k) === tail) this.locks.delete(k);
    });
    return run;
  }

  getGroup(scope: Scope, name: string): GroupDoc | undefined {
    return this.state.get<GroupDoc>(groupKey(scope, name));
  }

  /** groupRevision is the store revision of the group document (0 when absent). */
  groupRevision(scope: Scope, name: string): number {
    return this.state.revision(groupKey(scope, name));
  }

  /** listGroups lists the groups of one account and region, by name. */
  listGroups(scope: Scope): GroupDoc[] {
    return this.state.list<GroupDoc>(groupsPrefix(scope));
  }

  /** listActivities lists the stored activities of one account and region (any order). */
  listActivities(scope: Scope): ActivityDoc[] {
    return this.state.list<ActivityDoc>(activitiesPrefix(scope));
  }

  getActivity(scope: Scope, id: string): ActivityDoc | undefined {
    return this.state.get<ActivityDoc>(activityKey(scope, id));
  }

  /**
   * write commits the group (put, or delete when next is undefined) with CAS
   * against the revision read at `rev`, plus extra ops (activities).
   */
  async write(scope: Scope, name: string, rev: number, next: GroupDoc | undefined, extra: StateOp[] = []): Promise<void> {
    const key = groupKey(scope, name);
    const op: StateOp = next === undefined ? { op: 'delete', key, expectedRevision: rev || undefined } : { op: 'put', key, doc: next, expectedRevision: rev };
    await this.state.commit([op, ...extra]);
    this.activityWrites += extra.length;
    if (this.activityWrites >= PRUNE_EVERY) {
      this.activityWrites = 0;
      await this.pruneActivities(scope).catch((e) => this.deps.log.warn({ err: e }, 'autoscaling: activity pruning failed'));
    }
    for (const l of this.listeners) {
      try {
        l(scope, name, next);
      } catch (e) {
        this.deps.log.warn({ err: e }, 'autoscaling: group listener failed');
      }
    }
  }

  /**
   * pruneActivities drops activity records AWS would no longer return: older
   * than six weeks (simulated), and beyond the newest MAX_ACTIVITIES of a scope.
   */
  async pruneActivities(scope: Scope): Promise<number> {
    const all = this.listActivities(scope).sort((a, b) => b._seq - a._seq);
    const cutoff = this.now() - ACTIVITY_RETENTION_MS;
    const drop = all.filter((a, i) => i >= MAX_ACTIVITIES || Date.parse(a.StartTime) < cutoff);
    for (let i = 0; i < drop.length; i += 500) {
      await this.state.commit(drop.slice(i, i + 500).map((a) => ({ op: 'delete' as const, key: activityKey(scope, a.ActivityId) })));
    }
    return drop.length;
  }

  /** newActivity makes an activity record (not yet written). */
  newActivity(g: GroupDoc, description: string, cause: string, details: Record<string, string>, status = 'InProgress'): ActivityDoc {
    const now = this.now();
    return {
      ActivityId: randomUUID(),
      AutoScalingGroupName: g.AutoScalingGroupName,
      AutoScalingGroupARN: g.AutoScalingGroupARN,
      Description: description,
      Cause: cause,
      StartTime: new Date(now).toISOString(),
      StatusCode: status,
      Progress: status === 'InProgress' ? 50 : 100,
      Details: JSON.stringify(details),
      ...(status === 'InProgress' ? {} : { EndTime: new Date(now).toISOString() }),
      _seq: now * 1000 + (this.seq++ % 1000),
    };
  }

  activityOp(scope: Scope, a: ActivityDoc): StateOp {
    return { op: 'put', key: activityKey(scope, a.ActivityId), doc: a };
  }

  /** finishActivity returns the op that completes a stored in-progress activity (undefined if none). */
  finishActivity(scope: Scope, id: string | undefined, status: string, message?: string): StateOp | undefined {
    if (!id) return undefined;
    const a = this.state.get<ActivityDoc>(activityKey(scope, id));
    if (!a || a.StatusCode !== 'InProgress') return undefined;
    const done: ActivityDoc = { ...a, StatusCode: status, Progress: 100, EndTime: new Date(this.now()).toISOString() };
    if (message) done.StatusMessage = message;
    return this.activityOp(scope, done);
  }

  // ---------------------------------------------------------------- references

  /** resolveSubnets checks VPCZoneIdentifier's subnets; returns them in order. */
  async resolveSubnets(scope: Scope, vpcZoneIdentifier: string | undefined): Promise<SubnetInfo[]> {
    const ids = (vpcZoneIdentifier ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const out: SubnetInfo[] = [];
    for (const id of [...new Set(ids)]) {
      const s = await this.ec2.getSubnet(scope, id);
      if (!s) throw E.subnetMissing(id);
      out.push(s);
    }
    if (new Set(out.map((s) => s.VpcId)).size > 1) throw E.subnetsDifferentVpcs();
    return out;
  }

  /** resolveTemplate checks a LaunchTemplateSpecification; returns the version it points at now. */
  async resolveTemplate(scope: Scope, spec: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }): Promise<LaunchTemplateVersionInfo> {
    if (!!spec.LaunchTemplateId === !!spec.LaunchTemplateName) throw E.launchTemplateIdOrName();
    const v = await this.ec2.getLaunchTemplateVersion(scope, { ...spec, Version: spec.Version ?? '$Default' });
    if (v) return v;
    const latest = await this.ec2.getLaunchTemplateVersion(scope, { ...spec, Version: '$Latest' });
    if (!latest) throw E.launchTemplateMissing(spec);
    throw E.launchTemplateVersionMissing(spec);
  }

  // ---------------------------------------------------------------- reconciler scheduling

  /** kick asks for the group to be reconciled after delayMs (simulated). */
  kick(scope: Scope, name: string, delayMs = 0): void {
    this.kickKey(groupKey(scope, name), delayMs);
  }

  private kickKey(key: string, delayMs: number): void {
    if (this.stopped) return;
    const at = this.now() + Math.max(0, delayMs);
    const cur = this.due.get(key);
    if (cur !== undefined && cur <= at) return;
    this.due.set(key, at);
    this.arm(at);
  }

  private arm(at: number): void {
    if (this.stopped || this.running) return;
    if (this.cancelTimer && this.timerAt <= at) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.deps.clock.after(Math.max(0, at - this.now()), () => {
      this.cancelTimer = undefined;
      this.timerAt = Infinity;
      void this.runDue();
    });
  }

  private resumeAll(): void {
    for (const prefix of this.state.collectionsUnder(`${AWS_PREFIX}${SERVICE}/`)) {
      if (!prefix.endsWith('/group/')) continue;
      for (const g of this.state.list<GroupDoc>(prefix)) this.kickKey(`${prefix}${encodeURIComponent(g.AutoScalingGroupName)}`, 0);
    }
  }

  private async runDue(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      const now = this.now();
      const ready = [...this.due].filter(([, at]) => at <= now).map(([k]) => k);
      for (const k of ready) this.due.delete(k);
      for (const key of ready) {
        if (this.stopped) return;
        const scope = scopeOfKey(key);
        const name = decodeURIComponent(key.slice(key.lastIndexOf('/') + 1));
        try {
          const again = await this.withGroup(scope, name, () => this.reconcile(scope, name));
          if (again !== undefined) this.kickKey(key, again);
        } catch (e) {
          this.deps.log.warn({ err: e, group: name }, 'autoscaling: reconcile failed; retrying');
          this.kickKey(key, this.timing.backoffMs);
        }
      }
    } finally {
      this.running = false;
      let next = Infinity;
      for (const at of this.due.values()) next = Math.min(next, at);
      if (next !== Infinity) this.arm(next);
    }
  }

  // ---------------------------------------------------------------- reconcile

  /**
   * reconcile makes one pass over a group (under its lock). Returns the delay
   * before the next pass, or undefined when the group is settled.
   */
  private async reconcile(scope: Scope, name: string): Promise<number | undefined> {
    const key = groupKey(scope, name);
    const cur = this.state.get<GroupDoc>(key);
    if (!cur) return undefined;
    const rev = this.state.revision(key);
    const g: GroupDoc = structuredClone(cur);
    const ops: StateOp[] = [];
    const now = this.now();
    const at = isoSecond(now);
    let changed = false;
    const suspended = new Set(g.SuspendedProcesses.map((p) => p.ProcessName));

    // 1. Follow each member's EC2 state.
    const keep: InstanceDoc[] = [];
    const toTerminate: InstanceDoc[] = [];
    for (const inst of g.Instances) {
      const ec2State = this.ec2.instanceState(scope, inst.InstanceId);
      if (inst.LifecycleState === 'Terminating:Wait' && ec2State !== undefined && ec2State !== 'terminated') {
        // A termination lifecycle hook holds the instance until
        // CompleteLifecycleAction (either result) or its heartbeat timeout.
        if (inst._hookDeadline !== undefined && now >= inst._hookDeadline) {
          const t = clearHook({ ...inst, LifecycleState: 'Terminating:Proceed' });
          toTerminate.push(t);
          keep.push(t);
          changed = true;
        } else keep.push(inst);
        continue;
      }
      if (inst.LifecycleState.startsWith('Terminating')) {
        if (ec2State === undefined || ec2State === 'terminated') {
          const op = this.finishActivity(scope, inst._activityId, 'Successful');
          if (op) ops.push(op);
          changed = true;
          continue;
        }
        keep.push(inst);
        continue;
      }
      if (ec2State === undefined || ec2State === 'terminated' || ec2State === 'shutting-down' || ec2State === 'stopped' || ec2State === 'stopping') {
        // EC2 stopped or terminated it outside Auto Scaling: health check replacement.
        const op = this.finishActivity(scope, inst._activityId, 'Cancelled', 'Instance was terminated before it entered service.');
        if (op) ops.push(op);
        const stopped = ec2State === 'stopped' || ec2State === 'stopping';
        const a = this.newActivity(
          g,
          `Terminating EC2 instance: ${inst.InstanceId}`,
          `At ${at} an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.`,
          { 'Subnet ID': inst._subnetId ?? '', 'Availability Zone': inst.AvailabilityZone },
          stopped ? 'InProgress' : 'Successful',
        );
        ops.push(this.activityOp(scope, a));
        changed = true;
        if (stopped) {
          const replaced: InstanceDoc = { ...inst, HealthStatus: 'Unhealthy', LifecycleState: 'Terminating', _activityId: a.ActivityId };
          toTerminate.push(replaced);
          keep.push(replaced);
        }
        continue;
      }
      if (inst.LifecycleState === 'Pending' && ec2State === 'running') {
        const hook = g._hooks.find((h) => h.LifecycleTransition === LAUNCH_HOOK);
        if (hook) {
          keep.push({ ...inst, LifecycleState: 'Pending:Wait', _hookName: hook.LifecycleHookName, _hookToken: randomUUID(), _hookDeadline: now + hook.HeartbeatTimeout * 1000 });
        } else {
          const op = this.finishActivity(scope, inst._activityId, 'Successful');
          if (op) ops.push(op);
          keep.push({ ...inst, LifecycleState: 'InService', _activityId: undefined });
        }
        changed = true;
        continue;
      }
      if (inst.LifecycleState === 'Pending:Wait' && inst._hookDeadline !== undefined && now >= inst._hookDeadline) {
        const hook = g._hooks.find((h) => h.LifecycleHookName === inst._hookName);
        const result = inst._hookResult ?? hook?.DefaultResult ?? 'ABANDON';
        changed = true;
        if (result === 'CONTINUE') {
          const op = this.finishActivity(scope, inst._activityId, 'Successful');
          if (op) ops.push(op);
          keep.push(clearHook({ ...inst, LifecycleState: 'InService', _activityId: undefined }));
        } else {
          const op = this.finishActivity(scope, inst._activityId, 'Failed', 'Instance failed to complete user\'s Lifecycle Action: Lifecycle Action with token was abandoned: Heartbeat Timeout');
          if (op) ops.push(op);
          const t = clearHook({ ...inst, LifecycleState: 'Terminating' });
          toTerminate.push(t);
          keep.push(t);
        }
        continue;
      }
      keep.push(inst);
    }
    g.Instances = keep;

    // 2. Desired capacity (0 while a delete is in progress).
    const deleting = g.Status === 'Delete in progress';
    const desired = deleting ? 0 : g.DesiredCapacity;
    const active = () => g.Instances.filter((i) => countsTowardCapacity(i.LifecycleState));
    let retryIn: number | undefined;

    if (deleting) {
      for (const inst of g.Instances) {
        if (inst.LifecycleState === 'Terminating:Wait') {
          // ForceDelete drops outstanding lifecycle actions.
          inst.LifecycleState = 'Terminating:Proceed';
          delete inst._hookDeadline;
          delete inst._hookName;
          delete inst._hookToken;
          delete inst._hookResult;
          toTerminate.push(inst);
          changed = true;
          continue;
        }
        if (inst.LifecycleState.startsWith('Terminating')) continue;
        const a = this.newActivity(
          g,
          `Terminating EC2 instance: ${inst.InstanceId}`,
          `At ${at} an instance was taken out of service in response to a user request to delete the group.`,
          { 'Subnet ID': inst._subnetId ?? '', 'Availability Zone': inst.AvailabilityZone },
        );
        ops.push(this.activityOp(scope, a));
        const t: InstanceDoc = { ...inst, LifecycleState: 'Terminating', _activityId: a.ActivityId };
        Object.assign(inst, t);
        toTerminate.push(inst);
        changed = true;
      }
    } else if (active().length > desired && !suspended.has('Terminate')) {
      const before = active().length;
      const victims = this.pickVictims(g, before - desired);
      for (const v of victims) {
        const a = this.newActivity(
          g,
          `Terminating EC2 instance: ${v.InstanceId}`,
          `${g._cause ?? `At ${at} a user request changed the desired capacity.`}  At ${at} an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${before} to ${desired}.`,
          { 'Subnet ID': v._subnetId ?? '', 'Availability Zone': v.AvailabilityZone },
        );
        ops.push(this.activityOp(scope, a));
        const op = this.finishActivity(scope, v._activityId, 'Cancelled');
        if (op) ops.push(op);
        v._activityId = a.ActivityId;
        if (this.beginTermination(g, v)) toTerminate.push(v);
        changed = true;
      }
    } else if (active().length < desired && !suspended.has('Launch')) {
      if (g._launchRetryAt !== undefined && now < g._launchRetryAt) {
        retryIn = g._launchRetryAt - now;
      } else {
        // At most 200 launches per pass, so one commit stays bounded; the next pass continues.
        const r = await this.launch(scope, g, Math.min(200, desired - active().length), ops);
        changed = true;
        if (r.failed) {
          const failures = (g._launchFailures ?? 0) + 1;
          const delay = Math.min(this.timing.maxBackoffMs, this.timing.backoffMs * 2 ** Math.min(failures - 1, 16));
          g._launchFailures = failures;
          g._launchRetryAt = now + delay;
          retryIn = delay;
        } else {
          g._launchFailures = undefined;
          g._launchRetryAt = undefined;
        }
      }
    }

    // 2b. An instance refresh replaces its target instances batch by batch.
    const refresh = g._refreshes?.[g._refreshes.length - 1];
    if (refresh && (refresh.Status === 'Pending' || refresh.Status === 'InProgress') && !deleting) {
      if (this.stepRefresh(scope, g, refresh, toTerminate, ops, at)) changed = true;
    }

    // 3. Terminate through EC2, then record everything in one commit.
    if (toTerminate.length > 0) {
      try {
        await this.ec2.terminateInstances(
          scope,
          toTerminate.map((i) => i.InstanceId).filter((id) => this.ec2.instanceState(scope, id) !== undefined),
        );
      } catch (e) {
        this.deps.log.warn({ err: e, group: name }, 'autoscaling: terminate failed');
      }
    }
    let remove = false;
    if (deleting && g.Instances.length === 0) remove = true;
    if (changed || remove) {
      try {
        await this.write(scope, name, rev, remove ? undefined : g, ops);
      } catch (e) {
        // Another writer changed the group: re-read and go again.
        await this.state.refresh(key);
        return this.timing.pollMs;
      }
    }
    if (remove) return undefined;
    const refreshing = g._refreshes?.some((r) => r.Status === 'Pending' || r.Status === 'InProgress') ?? false;
    const transitional = refreshing || g.Instances.some((i) => i.LifecycleState !== 'InService' && i.LifecycleState !== 'Standby');
    const settled = !transitional && active().length === desired;
    if (retryIn !== undefined) return Math.min(retryIn, transitional ? this.timing.pollMs : retryIn);
    if (!settled) return this.timing.pollMs;
    return undefined;
  }

  /**
   * stepRefresh advances a Rolling instance refresh by one step: once every
   * member is InService and capacity is met, it takes out the next batch of
   * target instances (as many as MinHealthyPercentage allows, at least one);
   * the reconciler launches their replacements from the group's current
   * configuration. Returns true when it changed the group.
   */
  private stepRefresh(scope: Scope, g: GroupDoc, r: RefreshDoc, toTerminate: InstanceDoc[], ops: StateOp[], at: string): boolean {
    let changed = false;
    if (r.Status === 'Pending') {
      r.Status = 'InProgress';
      changed = true;
    }
    const live = new Set(g.Instances.map((i) => i.InstanceId));
    const remaining = r._targets.filter((id) => live.has(id) && g.Instances.find((i) => i.InstanceId === id)!.LifecycleState === 'InService');
    const done = r.InstancesToUpdate - r._targets.filter((id) => live.has(id)).length;
    const pct = r.InstancesToUpdate === 0 ? 100 : Math.floor((done * 100) / r.InstancesToUpdate);
    if (pct !== r.PercentageComplete) {
      r.PercentageComplete = pct;
      changed = true;
    }
    const active = g.Instances.filter((i) => countsTowardCapacity(i.LifecycleState));
    const settled = active.length >= g.DesiredCapacity && g.Instances.every((i) => i.LifecycleState === 'InService' || i.LifecycleState === 'Standby');
    if (!settled) return changed;
    if (remaining.length === 0) {
      r.Status = 'Successful';
      r.StatusReason = undefined;
      r.PercentageComplete = 100;
      r.EndTime = new Date(this.now()).toISOString();
      return true;
    }
    const minHealthy = Math.ceil((g.DesiredCapacity * r.Preferences.MinHealthyPercentage) / 100);
    const batch = Math.max(1, active.length - minHealthy);
    for (const id of remaining.slice(0, batch)) {
      const v = g.Instances.find((i) => i.InstanceId === id)!;
      const a = this.newActivity(
        g,
        `Terminating EC2 instance: ${v.InstanceId}`,
        `At ${at} an instance was taken out of service in response to an instance refresh.  At ${at} instance ${v.InstanceId} was selected for termination.`,
        { 'Subnet ID': v._subnetId ?? '', 'Availability Zone': v.AvailabilityZone, InstanceRefreshId: r.InstanceRefreshId },
      );
      ops.push(this.activityOp(scope, a));
      v._activityId = a.ActivityId;
      if (this.beginTermination(g, v)) toTerminate.push(v);
    }
    r.StatusReason = `Waiting for instances to be replaced (${remaining.length} of ${r.InstancesToUpdate} left).`;
    return true;
  }

  /**
   * beginTermination takes a member out of service for termination: with an
   * autoscaling:EC2_INSTANCE_TERMINATING lifecycle hook it waits in
   * Terminating:Wait (until CompleteLifecycleAction or the hook's heartbeat
   * timeout, when the reconciler terminates it); without one it is
   * Terminating. Returns true when the caller must terminate it now.
   */
  beginTermination(g: GroupDoc, inst: InstanceDoc): boolean {
    const hook = g._hooks.find((h) => h.LifecycleTransition === TERMINATE_HOOK);
    if (!hook) {
      inst.LifecycleState = 'Terminating';
      return true;
    }
    inst.LifecycleState = 'Terminating:Wait';
    inst._hookName = hook.LifecycleHookName;
    inst._hookToken = randomUUID();
    inst._hookDeadline = this.now() + hook.HeartbeatTimeout * 1000;
    delete inst._hookResult;
    return false;
  }

  /**
   * pickVictims chooses instances to terminate per the Default termination
   * policy: from the AZ with the most instances, prefer an outdated launch
   * template, then pending ones, then the oldest. Linear per pick (zone
   * counts kept incrementally), so scaling in thousands stays cheap.
   */
  private pickVictims(g: GroupDoc, n: number): InstanceDoc[] {
    const currentLt = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    const perAz = new Map<string, number>();
    for (const i of g.Instances) if (countsTowardCapacity(i.LifecycleState)) perAz.set(i.AvailabilityZone, (perAz.get(i.AvailabilityZone) ?? 0) + 1);
    // Candidates per AZ, each list sorted best victim first.
    const rank = (i: InstanceDoc) => (sameTemplate(i.LaunchTemplate, currentLt) ? 2 : 0) + pendingFirst(i);
    const byAz = new Map<string, InstanceDoc[]>();
    for (const i of g.Instances) {
      if (!countsTowardCapacity(i.LifecycleState) || i.ProtectedFromScaleIn) continue;
      if (!byAz.has(i.AvailabilityZone)) byAz.set(i.AvailabilityZone, []);
      byAz.get(i.AvailabilityZone)!.push(i);
    }
    for (const list of byAz.values()) list.sort((a, b) => rank(a) - rank(b) || (a._since ?? 0) - (b._since ?? 0));
    const chosen: InstanceDoc[] = [];
    for (let k = 0; k < n; k++) {
      let bestAz: string | undefined;
      for (const [az, list] of byAz) {
        if (list.length === 0) continue;
        if (bestAz === undefined || (perAz.get(az) ?? 0) > (perAz.get(bestAz) ?? 0)) bestAz = az;
      }
      if (bestAz === undefined) break;
      chosen.push(byAz.get(bestAz)!.shift()!);
      perAz.set(bestAz, (perAz.get(bestAz) ?? 0) - 1);
    }
    return chosen;
  }

  /** launch starts up to n instances balanced over the group's zones. */
  private async launch(scope: Scope, g: GroupDoc, n: number, ops: StateOp[]): Promise<{ failed: boolean }> {
    const at = isoSecond(this.now());
    const before = g.Instances.filter((i) => countsTowardCapacity(i.LifecycleState)).length;
    const target = before + n;
    const fail = (message: string, details: Record<string, string>) => {
      const a = this.newActivity(
        g,
        'Launching a new EC2 instance.  Status Reason: ' + message,
        `${g._cause ?? `At ${at} a user request changed the desired capacity.`}  At ${at} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${before} to ${target}.`,
        details,
        'Failed',
      );
      a.StatusMessage = message;
      ops.push(this.activityOp(scope, a));
    };
    let subnets: SubnetInfo[];
    try {
      subnets = await this.resolveSubnets(scope, g.VPCZoneIdentifier);
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e), {});
      return { failed: true };
    }
    if (subnets.length === 0) {
      fail('No default VPC for this user. Launching EC2 instance failed.', {});
      return { failed: true };
    }
    const mip = g.MixedInstancesPolicy;
    const ltSpec = g.LaunchTemplate ?? mip?.LaunchTemplate?.LaunchTemplateSpecification;
    if (!ltSpec) {
      fail('The group has no launch template. Launching EC2 instance failed.', {});
      return { failed: true };
    }
    let lt: LaunchTemplateVersionInfo;
    try {
      lt = await this.resolveTemplate(scope, ltSpec);
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e), {});
      return { failed: true };
    }
    const overrides: { InstanceType?: string; WeightedCapacity?: string }[] = (mip?.LaunchTemplate?.Overrides ?? []).filter((o: any) => o.InstanceType);
    const dist = mip?.InstancesDistribution ?? {};
    const base: number = dist.OnDemandBaseCapacity ?? 0;
    const pct: number = dist.OnDemandPercentageAboveBaseCapacity ?? 100;
    const onDemandTarget = (total: number) => Math.min(total, base) + Math.ceil((Math.max(0, total - base) * pct) / 100);
    const propagate = g.Tags.filter((t) => t.PropagateAtLaunch).map((t) => ({ Key: t.Key, Value: t.Value }));
    const tags = [...propagate.filter((t) => t.Key !== 'aws:autoscaling:groupName'), { Key: 'aws:autoscaling:groupName', Value: g.AutoScalingGroupName }];

    let failed = false;
    for (let k = 0; k < n; k++) {
      const members = g.Instances.filter((i) => countsTowardCapacity(i.LifecycleState));
      const onDemandNow = members.filter((i) => i._market !== 'spot').length;
      const market: 'spot' | 'on-demand' = mip && onDemandNow >= onDemandTarget(members.length + 1) ? 'spot' : 'on-demand';
      let instanceType: string | undefined;
      let weight: string | undefined;
      if (overrides.length > 0) {
        // On-Demand: "prioritized" takes the first override; Spot spreads over the pools.
        const o = market === 'spot' ? overrides[(g._rr ?? 0) % overrides.length]! : overrides[0]!;
        instanceType = o.InstanceType;
        weight = o.WeightedCapacity;
      }
      // Zones ordered by how few members they have (ties keep the subnet order).
      const perAz = new Map<string, number>();
      for (const s of subnets) perAz.set(s.AvailabilityZone, 0);
      for (const i of members) perAz.set(i.AvailabilityZone, (perAz.get(i.AvailabilityZone) ?? 0) + 1);
      const zones = [...perAz.keys()].filter((z) => subnets.some((s) => s.AvailabilityZone === z)).sort((a, b) => perAz.get(a)! - perAz.get(b)!);
      let launched = false;
      let lastErr = '';
      let lastSubnet: SubnetInfo | undefined;
      for (const z of zones) {
        const inZone = subnets.filter((s) => s.AvailabilityZone === z);
        const subnet = inZone[(g._rr ?? 0) % inZone.length]!;
        lastSubnet = subnet;
        g._rr = (g._rr ?? 0) + 1;
        try {
          const inst = await this.ec2.runInstance(scope, {
            LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: String(lt.VersionNumber) },
            SubnetId: subnet.SubnetId,
            InstanceType: instanceType,
            Tags: tags,
            Market: mip ? market : undefined,
          });
          const a = this.newActivity(
            g,
            `Launching a new EC2 instance: ${inst.InstanceId}`,
            `${g._cause ?? `At ${at} a user request changed the desired capacity.`}  At ${at} an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${before} to ${target}.`,
            { 'Subnet ID': subnet.SubnetId, 'Availability Zone': inst.AvailabilityZone || subnet.AvailabilityZone },
          );
          ops.push(this.activityOp(scope, a));
          const doc: InstanceDoc = {
            InstanceId: inst.InstanceId,
            InstanceType: inst.InstanceType ?? instanceType ?? lt.InstanceType,
            AvailabilityZone: inst.AvailabilityZone || subnet.AvailabilityZone,
            LifecycleState: 'Pending',
            HealthStatus: 'Healthy',
            LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, Version: String(lt.VersionNumber) },
            ProtectedFromScaleIn: g.NewInstancesProtectedFromScaleIn,
            _subnetId: subnet.SubnetId,
            _market: market,
            _activityId: a.ActivityId,
            _since: this.now(),
          };
          if (subnet.AvailabilityZoneId) doc.AvailabilityZoneId = subnet.AvailabilityZoneId;
          if (weight) doc.WeightedCapacity = weight;
          g.Instances.push(doc);
          launched = true;
          break;
        } catch (e) {
          if (!(e instanceof AwsServiceError)) throw e;
          lastErr = `${e.message} Launching EC2 instance failed.`;
        }
      }
      if (!launched) {
        fail(lastErr, lastSubnet ? { 'Subnet ID': lastSubnet.SubnetId, 'Availability Zone': lastSubnet.AvailabilityZone } : {});
        failed = true;
        break;
      }
    }
    return { failed };
  }
}

function clearHook(i: InstanceDoc): InstanceDoc {
  const { _hookDeadline: _d, _hookName: _n, _hookToken: _t, _hookResult: _r, ...rest } = i;
  return rest;
}

function pendingFirst(i: InstanceDoc): number {
  return i.LifecycleState.startsWith('Pending') ? 0 : 1;
}

function sameTemplate(a: InstanceDoc['LaunchTemplate'], b: GroupDoc['LaunchTemplate']): boolean {
  if (!a || !b) return !a && !b;
  if (b.LaunchTemplateId && a.LaunchTemplateId !== b.LaunchTemplateId) return false;
  if (b.LaunchTemplateName && a.LaunchTemplateName !== b.LaunchTemplateName) return false;
  // $Latest / $Default move: only compare explicit versions.
  if (b.Version && /^\d+$/.test(b.Version) && a.Version !== b.Version) return false;
  return true;
}
