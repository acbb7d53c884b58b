/**
 * The simulated data plane of every ACTIVE EKS cluster, in one process loop:
 *
 * - nodes: each running EC2 instance of a managed node group's Auto Scaling
 *   group, and each self-managed instance whose user data bootstraps the
 *   cluster and whose role is mapped (aws-auth or an EC2_LINUX access entry;
 *   src/sim/kubelet/bootstrap.ts), registers as a Node
 *   (src/sim/controllers/node-object.ts); the kubelet renews Leases and
 *   posts status heartbeats; a terminated (or gone) instance's Node is
 *   deleted, and its pods with it (PodGC);
 * - node lifecycle (node-lifecycle.ts): a kubelet silent for the grace
 *   period (instance stopped, or the sim.localeks.io/kubelet=stopped node
 *   annotation) makes the node Unknown, tainted unreachable, its pods not
 *   Ready and evicted per their NoExecute tolerations;
 * - scheduler: pending pods of schedulerName default-scheduler are bound
 *   (src/sim/scheduler/scheduler.ts), or get PodScheduled=False/Unschedulable
 *   and a FailedScheduling Warning event from default-scheduler with
 *   upstream's FitError message; the fargate-scheduler gives pods of a
 *   Fargate profile their own node (src/sim/fargate/);
 * - Deployment and ReplicaSet controllers, then the workload controllers
 *   (workload-controllers.ts);
 * - kubelet: pods bound to our nodes go ContainerCreating -> init
 *   containers -> Running -> Ready (src/sim/kubelet/pod-status.ts) with a
 *   pod IP from the node's warm pool (src/sim/cni/node-ipam.ts: real ENIs
 *   and secondary addresses per the aws-node DaemonSet's settings;
 *   hostNetwork and Fargate pods: the node's IP); pods whose program ends
 *   complete or restart per restartPolicy (CrashLoopBackOff); deleted pods
 *   get Killing events and are removed after their preStop hooks, at most
 *   their grace period.
 *
 * Driving: one periodic timer on the simulated clock (TICK_MS) polls EC2
 * instance states (they are computed from the clock, so there is no event to
 * watch), each cluster's watch cache (onAny) triggers a pass, and one more
 * clock timer wakes the loop at the earliest pending transition. Never one
 * timer per object. Every write goes through the cluster's ClusterRegistry
 * (admission and validation apply).
 *
 * Not done yet: security groups for pods (branch ENIs), liveness probes,
 * per-container outcomes (all containers of a pod end and restart together).
 */
import { randomBytes } from 'node:crypto';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { allocatePrivateIps, createNetworkInterface, deleteNetworkInterface, getSubnet, instanceTransitionAt, instanceTypeFacts, instanceUserData, listInstances, maxPods, releasePrivateIps } from '../../aws/ec2/shared.ts';
import { onGroupChange } from '../../aws/autoscaling/shared.ts';
import { getInstanceProfileByArn, getRole } from '../../aws/iam/shared.ts';
import { parseAwsAuth } from '../../kube/authn/aws-auth.ts';
import { type BootstrapInfo, kubeletMaxPods, parseBootstrap } from '../kubelet/bootstrap.ts';
import { CAPACITY_ANNOTATION, FARGATE_PROFILE_LABEL, FARGATE_SCHEDULER, fargateSize, matchProfile, unsupportedReason } from '../fargate/fargate.ts';
import { buildFargateNode, COMPUTE_TYPE_LABEL, FARGATE_SUBNET_ANNOTATION } from '../fargate/fargate-node.ts';
import { reconcileNodeIps } from '../cni/node-ipam.ts';
import { POD_ENI_RESOURCE, podWantsBranchEni, policyGroups, SGP_CRD_NAME, securityGroupPolicyCrd, TRUNK_LABEL } from '../cni/pod-eni.ts';
import { type CniConfig, cniConfigFromEnv, DEFAULT_CNI_CONFIG, ipAssignFailureMessage } from '../cni/warm-pool.ts';
import { authenticationMode, findAccessEntry, listFargateProfiles, listNodegroups, scopeOfCluster } from '../../aws/eks/shared.ts';
import type { KObject } from '../../kube/api/types.ts';
import type { Resource } from '../../kube/api/scheme.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { timestamp } from '../../kube/apiserver/registry/generic-store.ts';
import type { CacheEvent } from '../../kube/apiserver/registry/watch-cache.ts';
import type { ClusterDirectory, ClusterInfo } from '../../kube/types.ts';
import { type Clock, earliestTimer } from '../clock.ts';
import { ANNOTATION_START_DELAY, backOffRestartedStatus, carryInitTimes, carryRestarts, initDurationMs, initStatus, containerCreatingStatus, parseDuration, programOutcome, readinessDelayMs, restartBackoffMs, restartedStatus, runningStatus, stopDurationMs, terminatedStatus } from '../kubelet/pod-status.ts';
import { assumePod, nodeInfo, schedule, type NodeInfo } from '../scheduler/scheduler.ts';
import { buildNode, nodeNameOf } from './node-object.ts';
import { desiredTaints, evictionTime, NODE_MONITOR_GRACE_MS, NODE_STATUS_REPORT_MS, readyStatus, type Taint, unknownConditions } from './node-lifecycle.ts';
import { syncReplicaSets } from './replicaset-controller.ts';
import { syncDeployments } from './deployment-controller.ts';
import { inParallel } from '../../util/in-parallel.ts';
import { WorkSlice } from './work-slice.ts';
import { WORKLOAD_CONTROLLERS, workloadResources } from './workload-controllers.ts';
import { volumeLookup, volumesAttached } from './volume-attacher.ts';
import { volumeBindingFilter } from '../scheduler/volume-binding.ts';
import { eventName } from './object-events.ts';

/** A Node annotation: `stopped` makes its kubelet stop posting status and renewing its Lease, as if the kubelet process died. */
export const ANNOTATION_KUBELET = 'sim.localeks.io/kubelet';

/** How often (simulated ms) instance states are polled. */
export const TICK_MS = 1000;

/** Node passes woken by Auto Scaling group changes are at least this far apart (simulated ms). */
const GROUP_WAKE_MS = 100;

/** The kubelet's node lease renew interval (10 s, a quarter of the 40 s lease duration). */
export const LEASE_RENEW_MS = 10_000;

/** Writes one scheduling pass keeps in flight (the store commits concurrent writes together). */
const WRITE_CONCURRENCY = 256;

/** Event writes a cluster's recorders keep in flight (emitEvent); a recorder waits for room beyond that. */
const EVENT_CONCURRENCY = 512;

/** Nodes whose warm pools one pass reconciles at a time. */
const IPAM_CONCURRENCY = 32;

/** Time from binding to Running per timing profile (sim.localeks.io/start-delay overrides). */
const START_DELAY_MS: Record<string, number> = { instant: 0, fast: 100, realistic: 3000 };

/** Time from binding to Running for a Fargate pod (its micro-VM boots first), per timing profile. */
const FARGATE_START_DELAY_MS: Record<string, number> = { instant: 0, fast: 100, realistic: 45_000 };

const SCHEDULER = 'default-scheduler';

interface Log {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  debug?(o: object, msg?: string): void;
}

export interface DataPlaneOptions {
  deps: AwsDeps;
  clock: Clock;
  directory: ClusterDirectory;
  /** The registry of a cluster (ClusterApiServer.registry). */
  registry(cluster: ClusterInfo): ClusterRegistry;
  log: Log;
}

export interface DataPlane {
  /** Stops the timers and listeners; in-flight passes finish on their own. */
  stop(): void;
  /** Runs one full pass for every cluster now (tests). */
  syncNow(): Promise<void>;
}

/** Our node of an instance. */
interface OwnNode {
  instanceId: string;
  subnetId: string;
  ip: string;
  instanceType: string;
  /** A Fargate pod's node (the pod uses the node's address). */
  fargate?: boolean;
}

interface ClusterRt {
  info: ClusterInfo;
  reg: ClusterRegistry;
  unsubscribe: () => void;
  running: boolean;
  again: boolean;
  againNodes: boolean;
  /** node name -> its instance (kept after deletion, to return pod addresses). */
  nodes: Map<string, OwnNode>;
  /** node names of nodes currently registered by us. */
  live: Set<string>;
  /** node name -> signature of what we last wrote. */
  nodeSig: Map<string, string>;
  /** pod uid -> FitError message last reported. */
  unschedulable: Map<string, string>;
  /** nodes whose warm pool ipamd should reconcile on the next pass (addresses freed, new node, CNI settings changed). */
  ipamDirty: Set<string>;
  /** The aws-node settings last applied (JSON). */
  cniSig: string;
  /** node name -> max pods fixed at registration (prefix delegation raises it). */
  maxPodsOf: Map<string, number>;
  /** pod uids that got the CNI's FailedCreatePodSandBox event. */
  ipFailed: Set<string>;
  /** pod uids whose Killing events were recorded. */
  killing: Set<string>;
  /** The SecurityGroupPolicy CRD exists. */
  sgpCrd: boolean;
  /** Branch ENIs of pods that are gone, to delete. */
  branchRelease: string[];
  /** instance id -> what its user data bootstraps (null: nothing). */
  bootstrapOf: Map<string, BootstrapInfo | null>;
  /** Fargate nodes: name -> address, its subnet, and whether its pod was bound. */
  fargate: Map<string, { subnetId: string; ip: string; bound: boolean }>;
  /** pod uids being written (avoid concurrent transitions). */
  busy: Set<string>;
  /** Event writes in flight (emitEvent), and writers waiting for room. */
  eventsInFlight: number;
  eventRoom: Array<() => void>;
  /** node name -> simulated ms of its Lease's last renewal. */
  leaseRenewed: Map<string, number>;
  /** node name -> simulated ms the kubelet was last running. */
  lastAlive: Map<string, number>;
  /** node name -> simulated ms the kubelet last posted its status. */
  statusAt: Map<string, number>;
  /** nodes whose kubelet is not running (instance stopped, or the kubelet annotation). */
  down: Set<string>;
  /** nodes whose instance is stopping or stopped. */
  shutdown: Set<string>;
  /** node name -> its NoExecute taints (nodes with none are absent). */
  noExecute: Map<string, Taint[]>;
  /** nodes whose Ready condition is Unknown. */
  unknown: Set<string>;
  /** Where the next scheduling cycle starts looking (kube-scheduler's nextStartNodeIndex). */
  nextStartNodeIndex: number;
}

function res(reg: ClusterRegistry, group: string, version: string, resource: string): Resource {
  const r = reg.scheme.get(group, version, resource);
  if (!r) throw new Error(`resource ${group}/${version}/${resource} is not served`);
  return r;
}

function tagOf(i: Record<string, any>, key: string): string | undefined {
  return (i.Tags ?? []).find((t: any) => t.Key === key)?.Value;
}

function isTerminal(p: KObject): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** startDataPlane starts the loop; see the module comment. */
export function startDataPlane(opts: DataPlaneOptions): DataPlane {
  const { deps, clock, directory, log } = opts;
  const clusters = new Map<string, ClusterRt>();
  let stopped = false;
  let cancelTick: (() => void) | undefined;
  const startDelay = START_DELAY_MS[deps.config.timingProfile] ?? START_DELAY_MS.fast!;
  const fargateStartDelay = FARGATE_START_DELAY_MS[deps.config.timingProfile] ?? FARGATE_START_DELAY_MS.fast!;
  const TRIGGERS = new Set(['pods', 'nodes', 'apps/replicasets', 'apps/deployments', ...workloadResources()]);

  const passTimer = earliestTimer(clock, () => {
    for (const c of clusters.values()) kick(c, false);
  });
  function wake(at: number): void {
    if (!stopped) passTimer.at(at);
  }

  /**
   * Instance states change on the clock without an event: besides the
   * periodic tick, one timer wakes a node pass exactly when the earliest
   * pending/stopping instance of any cluster changes state.
   */
  const nodeTimer = earliestTimer(clock, () => {
    for (const c of clusters.values()) kick(c, true);
  });
  function wakeNodes(at: number): void {
    if (!stopped) nodeTimer.at(at);
  }

  /**
   * An Auto Scaling group that launched or changed instances wakes a node
   * pass soon (which schedules the next at their boot), instead of waiting
   * for the tick: nodes then join when their instance is running. At most
   * one such wake per GROUP_WAKE_MS, so a group launching thousands of
   * instances does not run back-to-back node passes.
   */
  let lastGroupWake = -Infinity;
  const unsubscribeGroups = onGroupChange(deps.state, () => {
    const at = Math.max(clock.nowMs(), lastGroupWake + GROUP_WAKE_MS);
    lastGroupWake = at;
    wakeNodes(at);
  });

  function kick(c: ClusterRt, nodes: boolean): void {
    if (stopped) return;
    if (c.running) {
      c.again = true;
      c.againNodes ||= nodes;
      return;
    }
    c.running = true;
    void (async () => {
      let withNodes = nodes;
      for (;;) {
        c.again = false;
        c.againNodes = false;
        try {
          await pass(c, withNodes);
        } catch (e) {
          log.warn({ err: e, cluster: c.info.name }, 'data plane pass failed');
        }
        if (!c.again || stopped) break;
        withNodes = c.againNodes;
      }
      c.running = false;
    })();
  }

  function runtimeOf(info: ClusterInfo): ClusterRt {
    const reg = opts.registry(info);
    let c = clusters.get(info.uid);
    if (c && c.reg === reg) {
      c.info = info;
      return c;
    }
    c?.unsubscribe();
    const rt: ClusterRt = {
      info,
      reg,
      unsubscribe: () => {},
      running: false,
      again: false,
      againNodes: false,
      nodes: c?.nodes ?? new Map(),
      live: c?.live ?? new Set(),
      nodeSig: new Map(),
      unschedulable: new Map(),
      ipamDirty: new Set(),
      cniSig: '',
      maxPodsOf: new Map(),
      ipFailed: new Set(),
      killing: new Set(),
      sgpCrd: false,
      branchRelease: [],
      bootstrapOf: new Map(),
      fargate: new Map(),
      busy: new Set(),
      eventsInFlight: 0,
      eventRoom: [],
      leaseRenewed: new Map(),
      nextStartNodeIndex: 0,
      lastAlive: new Map(),
      statusAt: new Map(),
      down: new Set(),
      shutdown: new Set(),
      noExecute: new Map(),
      unknown: new Set(),
    };
    rt.unsubscribe = reg.cache.onAny((evs: CacheEvent[]) => {
      let relevant = false;
      for (const ev of evs) {
        if (!TRIGGERS.has(ev.resource)) continue;
        relevant = true;
        if (ev.resource === 'pods' && ev.type === 'DELETED') podGone(rt, ev.obj);
      }
      if (relevant) kick(rt, false);
    });
    clusters.set(info.uid, rt);
    return rt;
  }

  /** A pod left the store: its address goes back to its node's warm pool (ipamd may then give addresses back to the subnet). */
  function podGone(c: ClusterRt, pod: KObject): void {
    const uid = pod.metadata?.uid ?? '';
    c.unschedulable.delete(uid);
    c.ipFailed.delete(uid);
    c.killing.delete(uid);
    const branch = branchEniOf(pod);
    if (branch) c.branchRelease.push(branch);
    const node = pod.spec?.nodeName;
    if (pod.status?.podIP && node && c.nodes.has(node) && !c.nodes.get(node)!.fargate && !pod.spec?.hostNetwork) c.ipamDirty.add(node);
  }

  /** The branch ENI id of a pod with security groups (its vpc.amazonaws.com/pod-eni annotation), if any. */
  function branchEniOf(pod: KObject): string | undefined {
    const raw = pod.metadata?.annotations?.[POD_ENI_RESOURCE];
    if (!raw) return undefined;
    try {
      return JSON.parse(raw)?.[0]?.eniId;
    } catch {
      return undefined;
    }
  }

  /**
   * A pod with security groups gets its own branch ENI (the policy's groups)
   * in its node's subnet: its address is the pod IP, recorded in the
   * vpc.amazonaws.com/pod-eni annotation as the VPC resource controller does.
   */
  async function startWithBranchEni(c: ClusterRt, pod: KObject, own: OwnNode, nowTs: string): Promise<void> {
    const m = pod.metadata!;
    const scope = scopeOfCluster(c.info);
    const groups = policyGroups(c.reg, pod);
    let eni: Record<string, any>;
    try {
      eni = await createNetworkInterface(deps.state, scope, {
        SubnetId: own.subnetId,
        ...(groups.length > 0 ? { Groups: groups } : {}),
        Description: 'aws-k8s-branch-eni',
        InterfaceType: 'branch',
        Tags: [
          { Key: 'eks:eni:owner', Value: 'eks-vpc-resource-controller' },
          { Key: 'vpcresources.k8s.aws/cluster-name', Value: c.info.name },
          { Key: 'vpcresources.k8s.aws/trunk-eni-id', Value: own.instanceId },
        ],
      });
    } catch (e) {
      if (c.ipFailed.has(m.uid!)) return;
      c.ipFailed.add(m.uid!);
      await recordEvent(c, pod, 'Warning', 'FailedCreatePodSandBox', ipAssignFailureMessage(randomBytes(32).toString('hex')), 'kubelet');
      log.warn({ err: e, pod: m.name }, 'branch ENI not created');
      return;
    }
    const ip: string = eni.PrivateIpAddress;
    const cidr = getSubnet(deps.state, scope, own.subnetId)?.CidrBlock;
    const annotation = JSON.stringify([{ eniId: eni.NetworkInterfaceId, ifAddress: eni.MacAddress, privateIp: ip, vlanId: 1, subnetCidr: cidr }]);
    try {
      await c.reg.guaranteedUpdate(res(c.reg, '', 'v1', 'pods'), m.namespace!, m.name!, (cur) => {
        if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [POD_ENI_RESOURCE]: annotation };
        return next;
      }, { fieldManager: 'vpc-resource-controller' });
      await startPod(c, { ...pod, metadata: { ...m, annotations: { ...(m.annotations ?? {}), [POD_ENI_RESOURCE]: annotation } } }, { hostIP: own.ip, podIP: ip }, nowTs);
      c.ipFailed.delete(m.uid!);
    } catch (e) {
      await deleteNetworkInterface(deps.state, scope, eni.NetworkInterfaceId).catch(() => {});
      throw e;
    }
  }

  /** The VPC CNI settings of the cluster: the aws-node DaemonSet's container environment, or the defaults. */
  function cniConfig(c: ClusterRt): CniConfig {
    const dsRes = c.reg.scheme.get('apps', 'v1', 'daemonsets');
    const ds = dsRes && c.reg.cache.get(c.reg.keyFor(dsRes, 'kube-system', 'aws-node'))?.obj;
    if (!ds) return DEFAULT_CNI_CONFIG;
    const ctr = (ds.spec?.template?.spec?.containers ?? []).find((x: any) => x.name === 'aws-node') ?? ds.spec?.template?.spec?.containers?.[0];
    const env: Record<string, string> = {};
    for (const e of ctr?.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
    return cniConfigFromEnv(env);
  }

  function tick(): void {
    if (stopped) return;
    cancelTick = clock.after(TICK_MS, tick);
    const seen = new Set<string>();
    for (const info of directory.all()) {
      if (info.status !== 'ACTIVE' && info.status !== 'UPDATING') continue;
      seen.add(info.uid);
      try {
        kick(runtimeOf(info), true);
      } catch (e) {
        log.warn({ err: e, cluster: info.name }, 'data plane: cannot reach the cluster registry');
      }
    }
    for (const [uid, c] of clusters) {
      if (seen.has(uid)) continue;
      c.unsubscribe();
      clusters.delete(uid);
    }
  }

  async function pass(c: ClusterRt, withNodes: boolean): Promise<void> {
    await c.reg.fresh();
    if (!c.sgpCrd) await installSgpCrd(c);
    if (withNodes) await syncNodes(c);
    if (c.branchRelease.length > 0) {
      const ids = c.branchRelease.splice(0);
      for (const id of ids) await deleteNetworkInterface(deps.state, scopeOfCluster(c.info), id).catch((e) => log.debug?.({ err: e, eni: id }, 'branch ENI deletion failed'));
    }
    await syncDeployments({ reg: c.reg, nowMs: clock.nowMs(), log });
    await c.reg.fresh();
    await syncReplicaSets({ reg: c.reg, nowMs: clock.nowMs(), wake, log });
    for (const ctl of WORKLOAD_CONTROLLERS) {
      await c.reg.fresh();
      try {
        await ctl.sync({ reg: c.reg, info: c.info, deps, clock, nowMs: clock.nowMs(), wake, log });
      } catch (e) {
        log.warn({ err: e, cluster: c.info.name, controller: ctl.name }, 'controller pass failed');
      }
    }
    await c.reg.fresh();
    await schedulePods(c);
    await c.reg.fresh();
    await runKubelets(c);
    // ReplicaSet and Deployment status from what the kubelets just did (ready
    // replicas would otherwise show one to two passes late); the next burst
    // of creates comes with the next pass.
    await c.reg.fresh();
    await syncReplicaSets({ reg: c.reg, nowMs: clock.nowMs(), wake, log, statusOnly: true });
    await c.reg.fresh();
    await syncDeployments({ reg: c.reg, nowMs: clock.nowMs(), log });
  }

  /** The SecurityGroupPolicy CRD EKS serves in every cluster (src/sim/cni/pod-eni.ts), created once if missing. */
  async function installSgpCrd(c: ClusterRt): Promise<void> {
    const crdRes = c.reg.scheme.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    if (!crdRes) return;
    try {
      if (!c.reg.cache.get(c.reg.keyFor(crdRes, '', SGP_CRD_NAME))) await c.reg.create(crdRes, '', securityGroupPolicyCrd(), { fieldManager: 'eks' });
      c.sgpCrd = true;
    } catch (e) {
      if ((e as any)?.status?.reason === 'AlreadyExists' || /already exists/.test(String((e as any)?.message))) c.sgpCrd = true;
      else log.debug?.({ err: e }, 'SecurityGroupPolicy CRD not installed yet');
    }
  }

  // ---------------------------------------------------------------- nodes

  async function syncNodes(c: ClusterRt): Promise<void> {
    const info = c.info;
    const scope = scopeOfCluster(info);
    const byAsg = new Map<string, any>();
    for (const ng of listNodegroups(deps.state, info)) {
      for (const g of ng.resources?.autoScalingGroups ?? []) byAsg.set(g.name, ng);
    }
    const nodesRes = res(c.reg, '', 'v1', 'nodes');
    const nowMs = clock.nowMs();
    const now = timestamp(new Date(nowMs));
    const want = new Map<string, KObject>();
    const cni = cniConfig(c);
    const cniSig = JSON.stringify(cni);
    if (cniSig !== c.cniSig) {
      c.cniSig = cniSig;
      for (const n of c.nodes.keys()) c.ipamDirty.add(n);
    }
    // Self-managed nodes: instances whose user data bootstraps this cluster (read once per instance).
    const selfManaged = (x: Record<string, any>): BootstrapInfo | undefined => {
      if (tagOf(x, 'eks:nodegroup-name')) return undefined;
      let b = c.bootstrapOf.get(x.InstanceId);
      if (b === undefined) {
        b = parseBootstrap(instanceUserData(deps, scope, x.InstanceId)) ?? null;
        c.bootstrapOf.set(x.InstanceId, b);
      }
      return b && b.clusterName === info.name ? b : undefined;
    };
    let roleMapped: ((i: Record<string, any>) => boolean) | undefined;
    {
      for (const i of listInstances(deps, scope, (x) => byAsg.has(tagOf(x, 'aws:autoscaling:groupName') ?? '') || selfManaged(x) !== undefined)) {
        const st: string = i.State?.Name ?? '';
        if (st === 'pending' || st === 'stopping' || st === 'shutting-down') {
          const at = instanceTransitionAt(deps, scope, i.InstanceId);
          if (at !== undefined && at > clock.nowMs()) wakeNodes(at);
        }
        if (st !== 'running' && st !== 'stopping' && st !== 'stopped') continue;
        const managed = byAsg.get(tagOf(i, 'aws:autoscaling:groupName') ?? '');
        const boot = managed ? undefined : selfManaged(i);
        const ng = managed ?? { nodegroupName: '', clusterName: info.name, labels: boot!.labels, taints: boot!.taints };
        let authorized = true;
        if (!managed) {
          roleMapped ??= nodeRoleMapper(c);
          authorized = roleMapped(i);
          // A kubelet whose role is not mapped cannot register (it gets 401s): no Node.
          if (!authorized && !c.reg.cache.get(c.reg.keyFor(nodesRes, '', nodeNameOf(i)))) continue;
        }
        const facts = instanceTypeFacts(i.InstanceType);
        const node = buildNode({
          selfManaged: !managed,
          instance: i,
          nodegroup: ng,
          region: info.region,
          kubernetesVersion: info.kubernetesVersion,
          vcpus: facts?.vcpus ?? 2,
          memoryMiB: facts?.memoryMiB ?? 4096,
          maxPods: fixedMaxPods(c, nodeNameOf(i), i, cni),
          architecture: facts?.architecture,
          now,
        });
        const name = node.metadata!.name!;
        if (cni.podEni && (facts?.branchInterfaces ?? 0) > 0) {
          // Security groups for pods: the trunk ENI's branch interfaces as an extended resource.
          node.metadata!.labels![TRUNK_LABEL] = 'true';
          node.status.capacity[POD_ENI_RESOURCE] = String(facts!.branchInterfaces);
          node.status.allocatable[POD_ENI_RESOURCE] = String(facts!.branchInterfaces);
        }
        const existingNode = c.reg.cache.get(c.reg.keyFor(nodesRes, '', name))?.obj;
        const up = authorized && st === 'running' && existingNode?.metadata?.annotations?.[ANNOTATION_KUBELET] !== 'stopped';
        if (up) {
          c.lastAlive.set(name, nowMs);
          c.down.delete(name);
        } else {
          c.down.add(name);
          if (!c.lastAlive.has(name)) c.lastAlive.set(name, nowMs);
        }
        if (!c.nodes.has(name)) c.ipamDirty.add(name);
        if (st !== 'running') c.shutdown.add(name);
        else c.shutdown.delete(name);
        want.set(name, node);
        c.nodes.set(name, { instanceId: i.InstanceId, subnetId: i.SubnetId, ip: i.PrivateIpAddress, instanceType: i.InstanceType });
      }
    }
    // Register or refresh (the kubelet: only while it runs).
    for (const [name, node] of want) {
      const sig = JSON.stringify([node.metadata!.labels, node.spec, node.status.capacity, node.status.allocatable, node.status.nodeInfo.kubeletVersion]);
      const existing = c.reg.cache.get(c.reg.keyFor(nodesRes, '', name));
      if (c.down.has(name)) {
        // A silent kubelet writes nothing; it posts its whole status again when it comes back.
        c.nodeSig.delete(name);
        if (existing) c.live.add(name);
        continue;
      }
      const changed = !existing || c.nodeSig.get(name) !== sig;
      const heartbeatDue = nowMs - (c.statusAt.get(name) ?? 0) >= NODE_STATUS_REPORT_MS;
      if (!changed && !heartbeatDue) continue;
      try {
        if (!existing) {
          await c.reg.create(nodesRes, '', structuredClone(node), { fieldManager: 'kubelet' });
          c.live.add(name);
          await renewLeases(c, name);
          log.info({ cluster: info.name, node: name }, 'node registered');
        } else {
          if (changed) {
            const prevTaints = new Set(((JSON.parse(c.nodeSig.get(name) ?? 'null')?.[1]?.taints ?? []) as any[]).map((t) => `${t.key}:${t.effect}`));
            await c.reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
              if (!cur) throw new Error('node gone');
              const next = structuredClone(cur);
              next.metadata!.labels = { ...(cur.metadata?.labels ?? {}), ...node.metadata!.labels };
              next.metadata!.resourceVersion = '';
              next.spec ??= {};
              next.spec.providerID = node.spec.providerID;
              const ours: any[] = node.spec.taints ?? [];
              const keep = (cur.spec?.taints ?? []).filter((t: any) => !prevTaints.has(`${t.key}:${t.effect}`) && !ours.some((o) => o.key === t.key && o.effect === t.effect));
              const taints = [...ours, ...keep];
              if (taints.length > 0) next.spec.taints = taints;
              else delete next.spec.taints;
              return next;
            }, { fieldManager: 'kubelet' });
          }
          await c.reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
            if (!cur) throw new Error('node gone');
            const next = structuredClone(cur);
            const prev: any[] = cur.status?.conditions ?? [];
            const conditions = node.status.conditions.map((cd: any) => {
              const old = prev.find((x) => x.type === cd.type);
              return { ...cd, lastTransitionTime: old && old.status === cd.status ? old.lastTransitionTime : now };
            });
            next.status = { ...(cur.status ?? {}), ...node.status, conditions };
            next.metadata!.resourceVersion = '';
            return next;
          }, { fieldManager: 'kubelet', subresource: 'status' });
        }
        c.statusAt.set(name, nowMs);
        c.nodeSig.set(name, sig);
        c.live.add(name);
      } catch (e) {
        log.warn({ err: e, cluster: info.name, node: name }, 'node registration failed');
      }
    }
    // Fargate nodes' kubelets post status heartbeats too.
    for (const name of c.fargate.keys()) {
      if (!c.statusAt.has(name)) c.statusAt.set(name, nowMs);
      if (nowMs - c.statusAt.get(name)! < NODE_STATUS_REPORT_MS) continue;
      c.statusAt.set(name, nowMs);
      await c.reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
        if (!cur) throw new Error('node gone');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        next.status.conditions = (cur.status?.conditions ?? []).map((x: any) => ({ ...x, lastHeartbeatTime: now }));
        return next;
      }, { fieldManager: 'kubelet', subresource: 'status' }).catch((e) => log.debug?.({ err: e, node: name }, 'fargate heartbeat failed'));
    }
    // Instances gone: delete their Nodes (and the pods bound to them, as PodGC does).
    for (const e of c.reg.cache.list('nodes', '')) {
      const n = e.obj;
      const name = n.metadata!.name!;
      if (want.has(name) || c.fargate.has(name)) continue;
      if (n.metadata?.labels?.[COMPUTE_TYPE_LABEL] === 'fargate') {
        // A Fargate node from before a restart: adopt it.
        const ip = (n.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '';
        const subnetId = n.metadata?.annotations?.[FARGATE_SUBNET_ANNOTATION] ?? '';
        c.fargate.set(name, { subnetId, ip, bound: true });
        c.nodes.set(name, { instanceId: '', subnetId, ip, instanceType: 'fargate', fargate: true });
        c.live.add(name);
        continue;
      }
      if (!c.live.has(name) && !(String(n.spec?.providerID ?? '').startsWith('aws:///') && n.metadata?.labels?.['eks.amazonaws.com/nodegroup'])) continue;
      try {
        await c.reg.delete(nodesRes, '', name, { preconditions: { uid: n.metadata!.uid } });
        log.info({ cluster: info.name, node: name }, 'node deleted (instance terminated)');
      } catch (err) {
        log.warn({ err, node: name }, 'node deletion failed');
      }
      forgetNode(c, name);
    }
    await renewLeases(c);
    await nodeLifecycle(c);
  }

  /**
   * Whether an instance's role may act as a node: its instance profile's
   * role is in aws-auth mapRoles with the system:nodes group (CONFIG_MAP
   * modes) or has an EC2_LINUX/EC2_WINDOWS access entry (API modes).
   */
  function nodeRoleMapper(c: ClusterRt): (i: Record<string, any>) => boolean {
    const mode = authenticationMode(deps.state, c.info);
    const cmRes = c.reg.scheme.get('', 'v1', 'configmaps');
    const cm = mode !== 'API' && cmRes ? c.reg.cache.get(c.reg.keyFor(cmRes, 'kube-system', 'aws-auth'))?.obj : undefined;
    const mapRoles = cm ? parseAwsAuth(cm.data).mapRoles : [];
    return (i) => {
      const profileArn: string | undefined = i.IamInstanceProfile?.Arn;
      const roleName = profileArn ? getInstanceProfileByArn(deps.state, profileArn)?._roles?.[0] : undefined;
      const role = roleName ? getRole(deps.state, c.info.accountId, roleName) : undefined;
      if (!role) return false;
      const plain = `arn:aws:iam::${c.info.accountId}:role/${roleName}`;
      if (mode !== 'CONFIG_MAP') {
        const e = findAccessEntry(deps.state, c.info, role.Arn) ?? findAccessEntry(deps.state, c.info, plain);
        if (e && (e.type === 'EC2_LINUX' || e.type === 'EC2_WINDOWS')) return true;
      }
      return mapRoles.some((m) => (m.rolearn === role.Arn || m.rolearn === plain) && m.groups.includes('system:nodes'));
    };
  }

  /**
   * Max pods of a node, as its bootstrap fixed it when it joined: what its user data gives the kubelet (--max-pods, nodeadm
   * maxPods), else EKS's value for its type (prefix delegation on at that time raises it).
   */
  function fixedMaxPods(c: ClusterRt, name: string, instance: Record<string, any>, cni: CniConfig): number {
    let n = c.maxPodsOf.get(name);
    if (n === undefined) {
      n = kubeletMaxPods(instanceUserData(deps, scopeOfCluster(c.info), instance.InstanceId)) ?? maxPods(instance.InstanceType, { prefixDelegation: cni.prefixDelegation });
      c.maxPodsOf.set(name, n);
    }
    return n;
  }

  function forgetNode(c: ClusterRt, name: string): void {
    c.maxPodsOf.delete(name);
    c.live.delete(name);
    c.nodeSig.delete(name);
    c.leaseRenewed.delete(name);
    c.lastAlive.delete(name);
    c.statusAt.delete(name);
    c.down.delete(name);
    c.shutdown.delete(name);
    c.noExecute.delete(name);
    c.unknown.delete(name);
  }

  /**
   * The node lifecycle controller (node-lifecycle.ts): Ready=Unknown after
   * the grace period without a kubelet, the lifecycle taints, and the
   * NoExecute taints noted for the taint eviction pass in runKubelets.
   */
  async function nodeLifecycle(c: ClusterRt): Promise<void> {
    const nowMs = clock.nowMs();
    const now = timestamp(new Date(nowMs));
    const nodesRes = res(c.reg, '', 'v1', 'nodes');
    const jobs: Promise<unknown>[] = [];
    for (const name of c.live) {
      let node = c.reg.cache.get(c.reg.keyFor(nodesRes, '', name))?.obj;
      if (!node) continue;
      const silentFor = nowMs - (c.lastAlive.get(name) ?? nowMs);
      const goUnknown = c.down.has(name) && silentFor >= NODE_MONITOR_GRACE_MS && readyStatus(node) !== 'Unknown';
      if (c.down.has(name) && !goUnknown && readyStatus(node) !== 'Unknown') wake((c.lastAlive.get(name) ?? nowMs) + NODE_MONITOR_GRACE_MS);
      if (goUnknown) node = { ...node, status: { ...node.status, conditions: unknownConditions(node.status?.conditions ?? [], now) } };
      const taints = desiredTaints(node, now, c.shutdown.has(name));
      const effective: Taint[] = taints ?? node.spec?.taints ?? [];
      const ne = effective.filter((t) => t.effect === 'NoExecute');
      if (ne.length > 0) c.noExecute.set(name, ne);
      else c.noExecute.delete(name);
      if (readyStatus(node) === 'Unknown') c.unknown.add(name);
      else c.unknown.delete(name);
      if (!goUnknown && !taints) continue;
      jobs.push((async () => {
        if (goUnknown) {
          await c.reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
            if (!cur) throw new Error('node gone');
            const next = structuredClone(cur);
            next.metadata!.resourceVersion = '';
            next.status = { ...(cur.status ?? {}), conditions: unknownConditions(cur.status?.conditions ?? [], now) };
            return next;
          }, { fieldManager: 'kube-controller-manager', subresource: 'status' });
          log.info({ cluster: c.info.name, node: name }, 'node NotReady: kubelet stopped posting node status');
        }
        if (taints) {
          await c.reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
            if (!cur) throw new Error('node gone');
            const t = desiredTaints({ ...cur, status: node!.status }, now, c.shutdown.has(name));
            if (!t) return cur;
            const next = structuredClone(cur);
            next.metadata!.resourceVersion = '';
            next.spec ??= {};
            if (t.length > 0) next.spec.taints = t;
            else delete next.spec.taints;
            return next;
          }, { fieldManager: 'kube-controller-manager' });
        }
      })().catch((e) => log.debug?.({ err: e, node: name }, 'node lifecycle write failed')));
    }
    await Promise.all(jobs);
  }

  /**
   * The kubelet's node Lease in kube-node-lease: created at registration and
   * renewed every LEASE_RENEW_MS of simulated time (all due nodes in one
   * batch per tick); created again if it went missing.
   */
  async function renewLeases(c: ClusterRt, force?: string): Promise<void> {
    const leaseRes = c.reg.scheme.get('coordination.k8s.io', 'v1', 'leases');
    if (!leaseRes) return;
    const nowMs = clock.nowMs();
    const renewTime = new Date(nowMs).toISOString().replace('Z', '000Z');
    const nodesRes = res(c.reg, '', 'v1', 'nodes');
    const jobs: Promise<unknown>[] = [];
    for (const name of force ? [force] : c.live) {
      if (c.down.has(name)) continue;
      if (!force && nowMs - (c.leaseRenewed.get(name) ?? 0) < LEASE_RENEW_MS) continue;
      c.leaseRenewed.set(name, nowMs);
      const node = c.reg.cache.get(c.reg.keyFor(nodesRes, '', name))?.obj;
      jobs.push(
        c.reg
          .guaranteedUpdate(leaseRes, 'kube-node-lease', name, (cur) => {
            if (cur) {
              const next = structuredClone(cur);
              next.metadata!.resourceVersion = '';
              next.spec = { ...(next.spec ?? {}), holderIdentity: name, leaseDurationSeconds: 40, renewTime };
              return next;
            }
            return {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace: 'kube-node-lease', ...(node ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata!.uid }] } : {}) },
              spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
            };
          }, { fieldManager: 'kubelet', createIfMissing: true })
          .catch(() => c.leaseRenewed.delete(name)),
      );
    }
    await Promise.all(jobs);
  }

  // ---------------------------------------------------------------- scheduler

  async function recordEvent(c: ClusterRt, pod: KObject, type: string, reason: string, message: string, component: string, fieldPath?: string): Promise<void> {
    const evRes = res(c.reg, '', 'v1', 'events');
    const isScheduler = component.endsWith('-scheduler');
    const now = timestamp(clock.now());
    const m = pod.metadata!;
    try {
      await c.reg.create(evRes, m.namespace!, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName(m.name!, clock.nowMs()), namespace: m.namespace },
        involvedObject: { kind: 'Pod', namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: 'v1', resourceVersion: m.resourceVersion, ...(fieldPath ? { fieldPath } : {}) },
        reason,
        message,
        source: { component, ...(isScheduler ? {} : { host: pod.spec?.nodeName }) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        type,
        reportingComponent: component,
        reportingInstance: isScheduler ? `${component}-${c.info.name}` : pod.spec?.nodeName ?? '',
      }, { fieldManager: component, handOff: true });
    } catch (e) {
      log.warn({ err: e, reason }, 'event not recorded');
    }
  }

  /**
   * An event sent as client-go's recorder sends it: in the background, so
   * the component goes on without waiting for the write (the scheduler's
   * next binding, the kubelet's next pod). Resolves once the write has
   * started; with EVENT_CONCURRENCY writes in flight it first waits for
   * room (never dropping the event). Names grow with time (eventName), so
   * lists and `kubectl describe` show a pod's events in the order sent.
   */
  function emitEvent(c: ClusterRt, pod: KObject, type: string, reason: string, message: string, component: string, fieldPath?: string): Promise<void> {
    const start = () => {
      c.eventsInFlight++;
      void recordEvent(c, pod, type, reason, message, component, fieldPath).finally(() => {
        c.eventsInFlight--;
        c.eventRoom.shift()?.();
      });
    };
    if (c.eventsInFlight < EVENT_CONCURRENCY && c.eventRoom.length === 0) {
      start();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      c.eventRoom.push(() => {
        start();
        resolve();
      });
    });
  }

  async function schedulePods(c: ClusterRt): Promise<void> {
    const pods = c.reg.cache.list('pods', '').map((e) => e.obj);
    const fargatePending = pods.filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp && !isTerminal(p) && p.spec?.schedulerName === FARGATE_SCHEDULER && !c.busy.has(p.metadata!.uid!));
    if (fargatePending.length > 0) await scheduleFargate(c, fargatePending);
    const pending = pods.filter((p) => !p.spec?.nodeName && !p.metadata?.deletionTimestamp && !isTerminal(p) && (p.spec?.schedulerName ?? SCHEDULER) === SCHEDULER && !c.busy.has(p.metadata!.uid!));
    if (pending.length === 0) return;
    const byNode = new Map<string, KObject[]>();
    for (const p of pods) {
      const n = p.spec?.nodeName;
      if (!n) continue;
      const l = byNode.get(n) ?? [];
      l.push(p);
      byNode.set(n, l);
    }
    const infos: NodeInfo[] = c.reg.cache.list('nodes', '').map((e) => nodeInfo(e.obj, byNode.get(e.obj.metadata!.name!) ?? []));
    const byName = new Map(infos.map((i) => [i.node.metadata!.name!, i]));
    const podsRes = res(c.reg, '', 'v1', 'pods');
    // Higher priority first, then oldest (the scheduling queue's order).
    pending.sort((a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) || String(a.metadata!.creationTimestamp).localeCompare(String(b.metadata!.creationTimestamp)));
    // Decide every placement first (one scheduling cycle per pod, each
    // assuming the ones before it, as the scheduler cache does), then write
    // the bindings concurrently so the store commits them in batches.
    const writes: Array<() => Promise<void>> = [];
    const slice = new WorkSlice();
    for (const pod of pending) {
      // Let API requests through between slices of placements (passes never overlap: nothing else binds these pods).
      if (slice.due()) await slice.yield();
      const m = pod.metadata!;
      const r = schedule(pod, infos, c.nextStartNodeIndex, volumeBindingFilter(pod, volumeLookup(c.reg)));
      if (infos.length > 0) c.nextStartNodeIndex = (c.nextStartNodeIndex + r.evaluatedNodes) % infos.length;
      if ('nodeName' in r) {
        const target = byName.get(r.nodeName)!;
        // Assume the pod on the node for the rest of this pass.
        const assumed = { ...pod, spec: { ...pod.spec, nodeName: r.nodeName } };
        assumePod(target, assumed);
        c.busy.add(m.uid!);
        writes.push(async () => {
          try {
            await bindPod(c, pod, r.nodeName);
            c.unschedulable.delete(m.uid!);
            await emitEvent(c, pod, 'Normal', 'Scheduled', `Successfully assigned ${m.namespace}/${m.name} to ${r.nodeName}`, SCHEDULER);
          } catch (e) {
            log.debug?.({ err: e, pod: m.name }, 'binding failed');
          } finally {
            c.busy.delete(m.uid!);
          }
        });
        continue;
      }
      writes.push(() => markUnschedulable(c, pod, r.error, SCHEDULER));
    }
    await inParallel(writes, WRITE_CONCURRENCY);
  }

  /**
   * The pods/binding subresource as kube-scheduler posts it: upstream's
   * BindingREST writes spec.nodeName and the PodScheduled=True condition
   * (podutil.UpdatePodCondition: in place, its transition time kept when the
   * status does not change) straight to storage, with no strategy,
   * validation or managed fields (a pod's managedFields show no scheduler).
   */
  async function bindPod(c: ClusterRt, pod: KObject, nodeName: string): Promise<void> {
    const m = pod.metadata!;
    await c.reg.guaranteedUpdate(res(c.reg, '', 'v1', 'pods'), m.namespace!, m.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
      if (cur.metadata?.deletionTimestamp) throw new Error(`pod ${m.name} is being deleted, cannot be assigned to a host`);
      if (cur.spec?.nodeName) throw new Error(`pod ${m.name} is already assigned to node "${cur.spec.nodeName}"`);
      // cur is the watch cache's object (readOnlyCurrent): new spec, status and metadata objects, the rest shared.
      const status = { ...(cur.status ?? {}) };
      const conds: any[] = [...(status.conditions ?? [])];
      const i = conds.findIndex((x: any) => x.type === 'PodScheduled');
      const old = i >= 0 ? conds[i] : undefined;
      const cond = { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : timestamp(clock.now()) };
      if (i >= 0) conds[i] = cond;
      else conds.push(cond);
      status.conditions = conds;
      return { ...cur, metadata: { ...cur.metadata, resourceVersion: '' }, spec: { ...cur.spec, nodeName }, status };
    }, { subresource: 'binding', storageOnly: true, readOnlyCurrent: true, handOff: true });
  }

  /** PodScheduled=False/Unschedulable and a FailedScheduling event, once per pod and message. */
  async function markUnschedulable(c: ClusterRt, pod: KObject, message: string, component: string): Promise<void> {
    const m = pod.metadata!;
    if (c.unschedulable.get(m.uid!) === message) return;
    c.unschedulable.set(m.uid!, message);
    try {
      await c.reg.guaranteedUpdate(res(c.reg, '', 'v1', 'pods'), m.namespace!, m.name!, (cur) => {
        if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        next.status ??= {};
        next.status.phase ??= 'Pending';
        const conds: any[] = (next.status.conditions ?? []).filter((x: any) => x.type !== 'PodScheduled');
        conds.push({ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: timestamp(clock.now()), reason: 'Unschedulable', message });
        next.status.conditions = conds;
        return next;
      }, { fieldManager: component, subresource: 'status' });
      await recordEvent(c, pod, 'Warning', 'FailedScheduling', message, component);
    } catch (e) {
      log.debug?.({ err: e, pod: m.name }, 'recording unschedulable failed');
    }
  }

  // ---------------------------------------------------------------- Fargate

  /**
   * The fargate-scheduler: each pending pod of a Fargate profile gets an
   * address in one of the profile's subnets and its own Node
   * (src/sim/fargate/fargate-node.ts) sized to the next CPU/memory
   * combination, is bound there and annotated CapacityProvisioned; pods
   * Fargate cannot run get its FailedScheduling event and stay Pending.
   */
  async function scheduleFargate(c: ClusterRt, pending: KObject[]): Promise<void> {
    const scope = scopeOfCluster(c.info);
    const profiles = listFargateProfiles(deps.state, c.info);
    const nodesRes = res(c.reg, '', 'v1', 'nodes');
    const podsRes = res(c.reg, '', 'v1', 'pods');
    for (const pod of pending) {
      const m = pod.metadata!;
      const size = fargateSize(pod);
      const reason = unsupportedReason(pod, (claim) => ebsClaimProblem(c, m.namespace!, claim)) ?? (size ? undefined : 'Pod not supported on Fargate: resource requests exceed the largest Fargate size (16 vCPU, 120 GB)');
      if (reason) {
        await markUnschedulable(c, pod, reason, FARGATE_SCHEDULER);
        continue;
      }
      const profile = matchProfile(profiles, pod);
      const subnets: string[] = (profile as any)?.subnets ?? [];
      if (!profile || subnets.length === 0) continue; // profile gone: the pod waits
      let h = 0;
      for (const ch of m.uid!) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
      const subnetId = subnets[h % subnets.length]!;
      let ip: string;
      try {
        ip = (await allocatePrivateIps(deps.state, scope, subnetId, 1))[0]!;
      } catch (e) {
        log.warn({ err: e, subnetId }, 'fargate: no address for the pod');
        continue;
      }
      const az: string = getSubnet(deps.state, scope, subnetId)?.AvailabilityZone ?? `${c.info.region}a`;
      const node = buildFargateNode({ ip, subnetId, az, region: c.info.region, kubernetesVersion: c.info.kubernetesVersion, size: size!, podUid: m.uid!, now: timestamp(clock.now()) });
      const name = node.metadata!.name!;
      try {
        await c.reg.create(nodesRes, '', node, { fieldManager: 'kubelet' });
        c.nodes.set(name, { instanceId: '', subnetId, ip, instanceType: 'fargate', fargate: true });
        c.fargate.set(name, { subnetId, ip, bound: false });
        c.live.add(name);
        await renewLeases(c, name);
        await c.reg.guaranteedUpdate(podsRes, m.namespace!, m.name!, (cur) => {
          if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
          if (cur.metadata?.deletionTimestamp || cur.spec?.nodeName) throw new Error('pod no longer pending');
          const next = structuredClone(cur);
          next.spec.nodeName = name;
          next.metadata!.resourceVersion = '';
          next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [CAPACITY_ANNOTATION]: size!.capacityProvisioned };
          const conds: any[] = ((next.status ??= {}).conditions ?? []).filter((x: any) => x.type !== 'PodScheduled');
          conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(clock.now()) });
          next.status.conditions = conds;
          return next;
        }, { fieldManager: FARGATE_SCHEDULER });
        c.fargate.get(name)!.bound = true;
        c.unschedulable.delete(m.uid!);
        await recordEvent(c, pod, 'Normal', 'Scheduled', `Successfully assigned ${m.namespace}/${m.name} to ${name}`, FARGATE_SCHEDULER);
        log.info({ cluster: c.info.name, pod: `${m.namespace}/${m.name}`, node: name, size: size!.capacityProvisioned }, 'fargate: pod placed on its own node');
      } catch (e) {
        log.debug?.({ err: e, pod: m.name }, 'fargate: placing the pod failed');
        await removeFargateNode(c, name).catch(() => {});
      }
    }
  }

  /** Why Fargate cannot mount a claim: it is bound to an EBS volume (Fargate mounts only EFS and other CSI/NFS volumes). */
  function ebsClaimProblem(c: ClusterRt, ns: string, claim: string): string | undefined {
    const pvcRes = c.reg.scheme.get('', 'v1', 'persistentvolumeclaims');
    const pvRes = c.reg.scheme.get('', 'v1', 'persistentvolumes');
    if (!pvcRes || !pvRes) return undefined;
    const pvName = c.reg.cache.get(c.reg.keyFor(pvcRes, ns, claim))?.obj.spec?.volumeName;
    if (!pvName) return undefined;
    const pv = c.reg.cache.get(c.reg.keyFor(pvRes, '', pvName))?.obj;
    const driver = pv?.spec?.csi?.driver ?? (pv?.spec?.awsElasticBlockStore ? 'kubernetes.io/aws-ebs' : undefined);
    if (driver === 'ebs.csi.aws.com' || driver === 'kubernetes.io/aws-ebs') return `PVC ${claim} bound to invalid PV ${pvName} with CSI Driver: ${driver}`;
    return undefined;
  }

  /** A Fargate node whose pod is gone goes away with its address. */
  async function removeFargateNode(c: ClusterRt, name: string): Promise<void> {
    const f = c.fargate.get(name);
    c.fargate.delete(name);
    c.nodes.delete(name);
    forgetNode(c, name);
    const nodesRes = res(c.reg, '', 'v1', 'nodes');
    const cur = c.reg.cache.get(c.reg.keyFor(nodesRes, '', name))?.obj;
    if (cur) await c.reg.delete(nodesRes, '', name, { preconditions: { uid: cur.metadata!.uid } }).catch(() => {});
    if (f) await releasePrivateIps(deps.state, scopeOfCluster(c.info), f.subnetId, [f.ip]).catch(() => {});
  }

  // ---------------------------------------------------------------- kubelet

  async function writeStatus(c: ClusterRt, pod: KObject, status: Record<string, unknown>): Promise<void> {
    const m = pod.metadata!;
    await c.reg.guaranteedUpdate(res(c.reg, '', 'v1', 'pods'), m.namespace!, m.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
      // cur is the watch cache's object (readOnlyCurrent); a status write takes only the status from what it returns.
      return { ...cur, metadata: { ...cur.metadata, resourceVersion: '' }, status };
    }, { fieldManager: 'kubelet', subresource: 'status', readOnlyCurrent: true, handOff: true });
  }

  function scheduledAt(pod: KObject): string | undefined {
    return (pod.status?.conditions ?? []).find((x: any) => x.type === 'PodScheduled' && x.status === 'True')?.lastTransitionTime;
  }

  async function runKubelets(c: ClusterRt): Promise<void> {
    const now = clock.nowMs();
    const nowTs = timestamp(new Date(now));
    const podsRes = res(c.reg, '', 'v1', 'pods');
    /** Writes of this pass, started WRITE_CONCURRENCY at a time after the scan. */
    const jobs: Array<() => Promise<void>> = [];
    /** node -> pods waiting for an address; node -> addresses its pods use. */
    const needIp = new Map<string, KObject[]>();
    const assignedOn = new Map<string, Set<string>>();
    /** Fargate nodes that still have their pod; the profiles still running pods. */
    const fargateInUse = new Set<string>();
    const liveProfiles = c.fargate.size > 0 ? new Set(listFargateProfiles(deps.state, c.info).filter((p) => p.status !== 'DELETING').map((p) => p.fargateProfileName as string)) : undefined;
    const guard = (pod: KObject, f: () => Promise<void>) => {
      const uid = pod.metadata!.uid!;
      if (c.busy.has(uid)) return;
      c.busy.add(uid);
      jobs.push(() => f().catch((e) => log.debug?.({ err: e, pod: pod.metadata?.name }, 'kubelet write failed')).finally(() => c.busy.delete(uid)));
    };
    const slice = new WorkSlice();
    for (const e of c.reg.cache.list('pods', '')) {
      // A long scan lets the API server answer in between (the list is an immutable snapshot).
      if (slice.due()) await slice.yield();
      const pod = e.obj;
      const nodeName: string | undefined = pod.spec?.nodeName;
      if (!nodeName) continue;
      const own = c.nodes.get(nodeName);
      if (!own) continue;
      if (own.fargate) {
        fargateInUse.add(nodeName);
        // Deleting a Fargate profile deletes the pods it runs.
        const profile = pod.metadata?.labels?.[FARGATE_PROFILE_LABEL];
        if (profile && liveProfiles && !liveProfiles.has(profile) && !pod.metadata?.deletionTimestamp) {
          const pm = pod.metadata!;
          guard(pod, async () => {
            await c.reg.delete(podsRes, pm.namespace!, pm.name!, { preconditions: { uid: pm.uid } });
          });
          continue;
        }
      }
      const sharesNodeIp = !!pod.spec?.hostNetwork || !!own.fargate;
      const m = pod.metadata!;
      // PodGC: pods of a node that is gone.
      if (!c.live.has(nodeName)) {
        guard(pod, async () => {
          await c.reg.delete(podsRes, m.namespace!, m.name!, { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
        });
        continue;
      }
      // Taint-based eviction (NoExecute taints the pod does not tolerate, or tolerates for a while).
      const ne = c.noExecute.get(nodeName);
      if (ne && !m.deletionTimestamp && !isTerminal(pod)) {
        const at = evictionTime(pod, ne);
        if (at === 'now' || (at !== undefined && at <= now)) {
          guard(pod, () => taintEvict(c, pod));
          continue;
        }
        if (at !== undefined) wake(at);
      }
      if (c.down.has(nodeName)) {
        // No kubelet: nothing moves; the node lifecycle controller marks its pods not Ready once the node is Unknown.
        if (c.unknown.has(nodeName) && !m.deletionTimestamp && (pod.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True')) {
          guard(pod, () => markNotReady(c, pod, nowTs));
        }
        continue;
      }
      if (m.deletionTimestamp) {
        // Graceful termination: Killing events, the preStop hooks and the program's own shutdown, at most the grace period.
        const killAt = Date.parse(m.deletionTimestamp);
        const began = killAt - (m.deletionGracePeriodSeconds ?? 30) * 1000;
        const running = pod.status?.phase === 'Running';
        const due = running ? Math.min(killAt, began + stopDurationMs(pod)) : Math.min(killAt, began);
        if (running && !c.killing.has(m.uid!)) {
          c.killing.add(m.uid!);
          jobs.push(() => killingEvents(c, pod));
        }
        if (due <= now || isTerminal(pod)) {
          guard(pod, async () => {
            await c.reg.delete(podsRes, m.namespace!, m.name!, { gracePeriodSeconds: 0, preconditions: { uid: m.uid } });
          });
        } else wake(due);
        continue;
      }
      if (isTerminal(pod)) continue;
      if (pod.status?.podIP && !sharesNodeIp && !m.annotations?.[POD_ENI_RESOURCE]) {
        let set = assignedOn.get(nodeName);
        if (!set) assignedOn.set(nodeName, (set = new Set()));
        set.add(pod.status.podIP);
      }
      const net = { hostIP: own.ip, podIP: sharesNodeIp ? own.ip : pod.status?.podIP };
      const st = pod.status ?? {};
      // A pod the kubelet sees only once its start delay from binding has
      // passed goes Pending -> Running (or its first init container) in one
      // status write: its ContainerCreating period ended before the
      // kubelet's sync loop observed it. Pods needing a branch ENI, and pods
      // left without an address, still show ContainerCreating.
      const startsAtOnce = !st.hostIP && !podWantsBranchEni(pod) && Date.parse(scheduledAt(pod) ?? nowTs) + delayOf(pod, !!own.fargate) <= now;
      if (!st.hostIP && !startsAtOnce) {
        guard(pod, () => writeStatus(c, pod, containerCreatingStatus(pod, net, nowTs, scheduledAt(pod))));
        wake(now + delayOf(pod, !!own.fargate));
        continue;
      }
      if (st.phase === 'Pending' || !st.phase) {
        const inits: any[] = pod.spec?.initContainers ?? [];
        const initIdx = (st.initContainerStatuses ?? []).findIndex((x: any) => x.state?.running);
        if (initIdx >= 0) {
          // Init containers run one after the other.
          const due = Date.parse(st.initContainerStatuses[initIdx].state.running.startedAt) + initDurationMs(pod);
          if (due > now) {
            wake(due);
            continue;
          }
          const podNet = { hostIP: own.ip, podIP: sharesNodeIp ? own.ip : st.podIP };
          guard(pod, async () => {
            if (initIdx + 1 < inits.length) {
              await writeStatus(c, pod, initStatus(pod, podNet, nowTs, initIdx + 1, st, scheduledAt(pod)));
              await containerEvents(c, pod, [inits[initIdx + 1]]);
            } else {
              await writeStatus(c, pod, carryInitTimes(runningStatus(pod, podNet, nowTs, nowTs, readinessDelayMs(pod) === 0, scheduledAt(pod)), st));
              await containerEvents(c, pod, pod.spec?.containers ?? []);
            }
          });
          continue;
        }
        if (!volumesAttached(c.reg, pod, nodeName)) {
          // The kubelet's volume manager waits for the pod's EBS volumes (volume-attacher.ts).
          if (!st.hostIP) guard(pod, () => writeStatus(c, pod, containerCreatingStatus(pod, net, nowTs, scheduledAt(pod))));
          wake(now + 250);
          continue;
        }
        const due = startsAtOnce ? now : Date.parse(st.startTime ?? nowTs) + delayOf(pod, !!own.fargate);
        if (due > now) {
          wake(due);
          continue;
        }
        if (sharesNodeIp) {
          guard(pod, () => startPod(c, pod, net, nowTs));
        } else if (podWantsBranchEni(pod)) {
          guard(pod, () => startWithBranchEni(c, pod, own, nowTs));
        } else if (!c.busy.has(m.uid!)) {
          const l = needIp.get(nodeName) ?? [];
          l.push(pod);
          needIp.set(nodeName, l);
        }
        continue;
      }
      if (st.phase === 'Running') {
        const cs0 = st.containerStatuses?.[0];
        if (cs0?.state?.waiting?.reason === 'CrashLoopBackOff') {
          // Back-off over: the kubelet starts the container again.
          const due = Date.parse(cs0.lastState?.terminated?.finishedAt ?? nowTs) + restartBackoffMs(cs0.restartCount ?? 1);
          if (due <= now) {
            guard(pod, async () => {
              await writeStatus(c, pod, backOffRestartedStatus(pod, st, net, nowTs, scheduledAt(pod)));
              await containerEvents(c, pod, pod.spec?.containers ?? []);
            });
          } else wake(due);
          continue;
        }
        const startedAt: string = cs0?.state?.running?.startedAt ?? st.startTime ?? nowTs;
        const startMs = Date.parse(startedAt);
        const ready = (st.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');
        const outcome = programOutcome(pod);
        if (outcome && startMs + outcome.afterMs <= now) {
          const policy = pod.spec?.restartPolicy ?? 'Always';
          if (policy === 'Always' || (policy === 'OnFailure' && outcome.exitCode !== 0)) {
            // restartPolicy Always: the container is restarted (at once after exit 0, after a back-off otherwise);
            // OnFailure: a failed container is restarted in place after a back-off (the Job controller counts the restarts).
            guard(pod, async () => {
              await writeStatus(c, pod, restartedStatus(pod, st, net, nowTs, outcome.exitCode, scheduledAt(pod)));
              if (outcome.exitCode === 0) await containerEvents(c, pod, pod.spec?.containers ?? []);
              else {
                for (const ctr of pod.spec?.containers ?? []) {
                  await recordEvent(c, pod, 'Warning', 'BackOff', 'Back-off restarting failed container ' + ctr.name + ' in pod ' + m.name + '_' + m.namespace + '(' + m.uid + ')', 'kubelet', `spec.containers{${ctr.name}}`);
                }
              }
            });
            continue;
          }
          guard(pod, async () => {
            await writeStatus(c, pod, terminatedStatus(pod, net, startedAt, nowTs, outcome.exitCode));
            if (net.podIP && !sharesNodeIp) c.ipamDirty.add(nodeName);
          });
          continue;
        }
        if (outcome) wake(startMs + outcome.afterMs);
        if (!ready) {
          const due = startMs + readinessDelayMs(pod);
          if (due <= now) guard(pod, () => writeStatus(c, pod, carryRestarts(runningStatus(pod, net, startedAt, nowTs, true, scheduledAt(pod)), st)));
          else wake(due);
        }
      }
    }
    // Pod addresses: ipamd of each node that has waiting pods or changed, from its warm pool.
    const scope = scopeOfCluster(c.info);
    const cni = cniConfig(c);
    const ipamNodes = new Set([...needIp.keys(), ...c.ipamDirty]);
    c.ipamDirty.clear();
    // Nodes' ipamds work side by side (as EC2 API calls from many nodes do; one that finds the subnet short retries next pass).
    const ipamTasks: Array<() => Promise<void>> = [];
    for (const nodeName of ipamNodes) {
      const own = c.nodes.get(nodeName);
      if (!own || own.fargate || !c.live.has(nodeName) || c.down.has(nodeName)) continue;
      ipamTasks.push(async () => {
        const facts = instanceTypeFacts(own.instanceType);
        const waiting = needIp.get(nodeName) ?? [];
        let free: string[];
        try {
          free = await reconcileNodeIps({
            deps, scope, instanceId: own.instanceId, clusterName: c.info.name, cfg: cni,
            limits: { maxEnis: facts?.maxEnis ?? 3, ipv4PerEni: facts?.ipv4PerEni ?? 10 },
            assigned: assignedOn.get(nodeName) ?? new Set(), waiting: waiting.length,
          });
        } catch (e) {
          log.warn({ err: e, node: nodeName }, 'ipamd: reconciling the warm pool failed');
          free = [];
          c.ipamDirty.add(nodeName);
        }
        waiting.forEach((pod, k) => {
          const ip = free[k];
          if (!ip) {
            const uid = pod.metadata!.uid!;
            if (c.ipFailed.has(uid)) return;
            c.ipFailed.add(uid);
            guard(pod, async () => {
              // The sandbox waits for an address: ContainerCreating, as the kubelet reports it.
              if (!pod.status?.hostIP) await writeStatus(c, pod, containerCreatingStatus(pod, { hostIP: own.ip }, nowTs, scheduledAt(pod)));
              await recordEvent(c, pod, 'Warning', 'FailedCreatePodSandBox', ipAssignFailureMessage(randomBytes(32).toString('hex')), 'kubelet');
            });
            return;
          }
          guard(pod, async () => {
            await startPod(c, pod, { hostIP: own.ip, podIP: ip }, nowTs);
            c.ipFailed.delete(pod.metadata!.uid!);
          });
        });
      });
    }
    await inParallel(ipamTasks, IPAM_CONCURRENCY);
    // Fargate nodes whose pod is gone.
    for (const [name, f] of c.fargate) {
      if (f.bound && !fargateInUse.has(name)) jobs.push(() => removeFargateNode(c, name).catch((e) => log.debug?.({ err: e, node: name }, 'fargate node removal failed')));
    }
    await inParallel(jobs, WRITE_CONCURRENCY);
  }

  /** The taint eviction controller deletes a pod: DisruptionTarget condition, TaintManagerEviction event, then a normal (graceful) delete. */
  async function taintEvict(c: ClusterRt, pod: KObject): Promise<void> {
    const m = pod.metadata!;
    const podsRes = res(c.reg, '', 'v1', 'pods');
    const nowTs = timestamp(clock.now());
    await c.reg.guaranteedUpdate(podsRes, m.namespace!, m.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.status ??= {};
      const conds: any[] = (next.status.conditions ?? []).filter((x: any) => x.type !== 'DisruptionTarget');
      conds.push({ type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: nowTs, reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
      next.status.conditions = conds;
      return next;
    }, { fieldManager: 'taint-eviction-controller', subresource: 'status' });
    await recordEvent(c, pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${m.namespace}/${m.name}`, 'taint-eviction-controller');
    await c.reg.delete(podsRes, m.namespace!, m.name!, { preconditions: { uid: m.uid } });
    log.info({ cluster: c.info.name, pod: `${m.namespace}/${m.name}`, node: pod.spec?.nodeName }, 'pod evicted by NoExecute taint');
  }

  /** The node lifecycle controller's MarkPodsNotReady: Ready=False on the pods of a node gone Unknown. */
  async function markNotReady(c: ClusterRt, pod: KObject, nowTs: string): Promise<void> {
    const m = pod.metadata!;
    await c.reg.guaranteedUpdate(res(c.reg, '', 'v1', 'pods'), m.namespace!, m.name!, (cur) => {
      if (!cur || cur.metadata?.uid !== m.uid) throw new Error('pod replaced');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.status.conditions = (next.status?.conditions ?? []).map((x: any) => (x.type === 'Ready' && x.status === 'True' ? { ...x, status: 'False', lastTransitionTime: nowTs } : x));
      return next;
    }, { fieldManager: 'node-controller', subresource: 'status' });
  }

  /** The sandbox is up: the first init container starts (when they take time), or the app containers. */
  async function startPod(c: ClusterRt, pod: KObject, net: { hostIP: string; podIP?: string }, nowTs: string): Promise<void> {
    if (initDurationMs(pod) > 0) {
      await writeStatus(c, pod, initStatus(pod, net, nowTs, 0, pod.status ?? {}, scheduledAt(pod)));
      await containerEvents(c, pod, [pod.spec.initContainers[0]]);
      return;
    }
    await writeStatus(c, pod, runningStatus(pod, net, nowTs, nowTs, readinessDelayMs(pod) === 0, scheduledAt(pod)));
    await containerEvents(c, pod);
  }

  /** The kubelet's Killing event per running container when the pod is deleted. */
  async function killingEvents(c: ClusterRt, pod: KObject): Promise<void> {
    await Promise.all((pod.spec?.containers ?? []).map((ctr: any) => recordEvent(c, pod, 'Normal', 'Killing', `Stopping container ${ctr.name}`, 'kubelet', `spec.containers{${ctr.name}}`)));
  }

  /** The kubelet's events for started containers (all by default): Pulled, Created, Started per container (Kubernetes 1.31 wording), sent in the background (emitEvent). */
  async function containerEvents(c: ClusterRt, pod: KObject, only?: any[]): Promise<void> {
    for (const ctr of only ?? [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      await emitEvent(c, pod, 'Normal', 'Pulled', `Container image "${ctr.image}" already present on machine`, 'kubelet', `spec.containers{${ctr.name}}`);
      await emitEvent(c, pod, 'Normal', 'Created', `Created container ${ctr.name}`, 'kubelet', `spec.containers{${ctr.name}}`);
      await emitEvent(c, pod, 'Normal', 'Started', `Started container ${ctr.name}`, 'kubelet', `spec.containers{${ctr.name}}`);
    }
  }

  function delayOf(pod: KObject, fargate = false): number {
    return parseDuration(pod.metadata?.annotations?.[ANNOTATION_START_DELAY]) ?? (fargate ? fargateStartDelay : startDelay);
  }

  tick();
  return {
    stop() {
      stopped = true;
      cancelTick?.();
      passTimer.cancel();
      nodeTimer.cancel();
      unsubscribeGroups();
      for (const c of clusters.values()) c.unsubscribe();
      clusters.clear();
    },
    async syncNow() {
      const passes: Promise<void>[] = [];
      for (const info of directory.all()) {
        if (info.status !== 'ACTIVE' && info.status !== 'UPDATING') continue;
        passes.push(pass(runtimeOf(info), true));
      }
      await Promise.all(passes);
    },
  };
}
