/**
 * References from EKS to other emulated services (EC2 subnets, VPCs,
 * security groups, launch templates; IAM roles; KMS keys; Auto Scaling
 * groups). Every cross-service read or write of the EKS provider goes
 * through this one module, so `referenceChecks: false` (API-only use) and
 * the wiring to each service's shared.ts live in one place.
 *
 * The other services' shared modules are loaded lazily by path so that EKS
 * works (with reference checks answering "not found") in builds where a
 * service is absent.
 */
import type { AwsDeps } from '../core/deps.ts';
import { awsKey, GLOBAL_REGION, type Scope } from '../core/state.ts';
import { MANAGED_NODEGROUP_TERMINATE_HOOK } from './shared.ts';

export interface SubnetRef {
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  CidrBlock?: string;
}
export interface VpcRef {
  VpcId: string;
  CidrBlock?: string;
}

type AnyMod = Record<string, any> | undefined;

const modCache = new Map<string, Promise<AnyMod>>();
function load(rel: string): Promise<AnyMod> {
  let p = modCache.get(rel);
  if (!p) {
    const spec = new URL(rel, import.meta.url).href;
    p = import(spec).then(
      (m) => m as AnyMod,
      () => undefined,
    );
    modCache.set(rel, p);
  }
  return p;
}

/** Refs gives EKS handlers typed access to the other services. */
export class Refs {
  constructor(private readonly deps: AwsDeps) {
    // Warm the other services' modules now, so that the first transition
    // that needs one does not wait for it to load.
    // In API-only mode (no reference checks) only CloudWatch Logs is used.
    const mods = deps.config.referenceChecks ? ['../ec2/shared.ts', '../ec2/provider.ts', '../iam/shared.ts', '../kms/shared.ts', '../autoscaling/shared.ts', '../logs/shared.ts'] : ['../logs/shared.ts'];
    for (const m of mods) void load(m);
  }

  get checks(): boolean {
    return this.deps.config.referenceChecks;
  }

  async subnet(scope: Scope, id: string): Promise<SubnetRef | undefined> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.getSubnet) return (await ec2.getSubnet(this.deps.state, scope, id)) ?? undefined;
    return this.deps.state.get<SubnetRef>(awsKey(scope, 'ec2', 'subnet', id));
  }

  async vpc(scope: Scope, id: string): Promise<VpcRef | undefined> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.getVpc) return (await ec2.getVpc(this.deps.state, scope, id)) ?? undefined;
    return this.deps.state.get<VpcRef>(awsKey(scope, 'ec2', 'vpc', id));
  }

  async securityGroup(scope: Scope, id: string): Promise<{ GroupId: string; VpcId?: string } | undefined> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.getSecurityGroup) return (await ec2.getSecurityGroup(this.deps.state, scope, id)) ?? undefined;
    return this.deps.state.get(awsKey(scope, 'ec2', 'security-group', id));
  }

  /** True when the subnet's route table sends 0.0.0.0/0 to an internet gateway. */
  async isPublicSubnet(scope: Scope, id: string): Promise<boolean> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.isPublicSubnet) return !!(await ec2.isPublicSubnet(this.deps.state, scope, id));
    return false;
  }

  async launchTemplate(scope: Scope, spec: { id?: string; name?: string; version?: string }): Promise<{ id: string; name: string; version: string } | undefined> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.getLaunchTemplateVersion) {
      const v = await ec2.getLaunchTemplateVersion(this.deps.state, scope, { LaunchTemplateId: spec.id, LaunchTemplateName: spec.name, Version: spec.version });
      if (!v) return undefined;
      return { id: v.LaunchTemplateId, name: v.LaunchTemplateName, version: String(v.VersionNumber ?? spec.version ?? '1') };
    }
    return undefined;
  }

  /** The IAM role an ARN names (roles are global: region `global`). */
  async role(arn: string): Promise<{ RoleName: string; Arn: string } | undefined> {
    const m = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const iam = await load('../iam/shared.ts');
    if (iam?.getRoleByArn) return (await iam.getRoleByArn(this.deps.state, arn)) ?? undefined;
    return this.deps.state.get(awsKey({ accountId: m[1]!, region: GLOBAL_REGION }, 'iam', 'role', m[2]!));
  }

  async kmsKey(scope: Scope, arnOrId: string): Promise<{ Arn?: string; KeyId: string; KeyState?: string } | undefined> {
    const kms = await load('../kms/shared.ts');
    if (kms?.getKey) return (await kms.getKey(this.deps.state, scope.accountId, scope.region, arnOrId)) ?? undefined;
    const id = arnOrId.includes(':key/') ? arnOrId.slice(arnOrId.indexOf(':key/') + 5) : arnOrId;
    return this.deps.state.get(awsKey(scope, 'kms', 'key', id));
  }

  /**
   * createClusterSecurityGroup makes the "eks-cluster-sg-<name>-<id>" group
   * in the cluster's VPC; returns its id (a generated id when EC2 is absent
   * or reference checks are off).
   */
  async createClusterSecurityGroup(scope: Scope, vpcId: string, clusterName: string, suffix: string): Promise<string> {
    if (!this.checks) return `sg-${hex(17)}`;
    const ec2 = await load('../ec2/shared.ts');
    if (this.checks && ec2?.createSecurityGroup) {
      try {
        const sg = await ec2.createSecurityGroup(this.deps.state, scope, {
          GroupName: `eks-cluster-sg-${clusterName}-${suffix}`,
          Description: 'EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.',
          VpcId: vpcId,
          Tags: [
            { Key: 'Name', Value: `eks-cluster-sg-${clusterName}-${suffix}` },
            { Key: `kubernetes.io/cluster/${clusterName}`, Value: 'owned' },
            { Key: 'aws:eks:cluster-name', Value: clusterName },
          ],
        });
        const id = typeof sg === 'string' ? sg : sg?.GroupId;
        if (id && ec2.authorizeSecurityGroupIngress) {
          // The cluster security group lets the control plane and every node in it talk to each other.
          await ec2.authorizeSecurityGroupIngress(this.deps.state, scope, id, [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: id }] }]);
        }
        if (id) return id;
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not create the cluster security group');
      }
    }
    return `sg-${hex(17)}`;
  }

  /**
   * createRemoteAccessSecurityGroup makes the group EKS opens SSH with for a
   * node group with remoteAccess and no source security groups
   * (eks-remoteAccess-<uuid>, port 22 from anywhere). Returns its id.
   */
  async createRemoteAccessSecurityGroup(scope: Scope, subnetId: string, suffix: string): Promise<string | undefined> {
    if (!this.checks) return undefined;
    const ec2 = await load('../ec2/shared.ts');
    const subnet = await this.subnet(scope, subnetId);
    if (!ec2?.createSecurityGroup || !subnet) return undefined;
    try {
      const sg = await ec2.createSecurityGroup(this.deps.state, scope, {
        GroupName: `eks-remoteAccess-${suffix}`,
        Description: 'Security group for all nodes in the nodeGroup to allow SSH access',
        VpcId: subnet.VpcId,
      });
      const id: string | undefined = sg?.GroupId;
      if (id && ec2.authorizeSecurityGroupIngress) {
        await ec2.authorizeSecurityGroupIngress(this.deps.state, scope, id, [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }]);
      }
      return id;
    } catch (e) {
      this.deps.log.warn({ err: e }, 'eks: could not create the remote access security group');
      return undefined;
    }
  }

  async deleteSecurityGroup(scope: Scope, id: string): Promise<void> {
    const ec2 = await load('../ec2/shared.ts');
    if (ec2?.deleteSecurityGroup) {
      try {
        await ec2.deleteSecurityGroup(this.deps.state, scope, id);
      } catch {
        // best effort: the group may be gone or still in use
      }
    }
  }

  /**
   * ensureControlPlaneLogs creates the CloudWatch Logs group
   * /aws/eks/<cluster>/cluster and one stream per enabled log type, as EKS
   * does when control plane logging is on.
   */
  async ensureControlPlaneLogs(scope: Scope, clusterName: string, types: string[], streamSuffix: string): Promise<void> {
    if (types.length === 0) return;
    const logs = await load('../logs/shared.ts');
    if (!logs?.ensureLogGroup) return;
    const group = `/aws/eks/${clusterName}/cluster`;
    const now = this.deps.clock.nowMs();
    const prefix: Record<string, string> = {
      api: 'kube-apiserver',
      audit: 'kube-apiserver-audit',
      authenticator: 'authenticator',
      controllerManager: 'kube-controller-manager',
      scheduler: 'kube-scheduler',
    };
    try {
      await logs.ensureLogGroup(this.deps.state, scope.accountId, scope.region, group, now);
      if (logs.ensureLogStream) {
        for (const t of types) await logs.ensureLogStream(this.deps.state, scope.accountId, scope.region, group, `${prefix[t] ?? t}-${streamSuffix}`, now);
      }
    } catch (e) {
      this.deps.log.warn({ err: e }, 'eks: could not create the control plane log group');
    }
  }

  /**
   * ec2Call runs one EC2 operation that ec2/shared.ts does not offer
   * (CreateLaunchTemplate, DeleteLaunchTemplate) through the EC2 provider's
   * own handler, as the service would be called; undefined when EC2 is absent.
   */
  private async ec2Call(scope: Scope, op: string, input: unknown): Promise<any> {
    const mod = await load('../ec2/provider.ts');
    if (!mod?.createEc2Provider) return undefined;
    this.ec2Provider ??= mod.createEc2Provider(this.deps) as { operations: Record<string, (i: unknown, c: unknown) => unknown> };
    const h = this.ec2Provider.operations[op];
    if (!h) return undefined;
    const now = () => this.deps.clock.now();
    return h(input, { ...scope, requestId: hex(32), service: 'ec2', operation: op, accessKeyId: '', callerArn: `arn:aws:iam::${scope.accountId}:role/aws-service-role/eks-nodegroup.amazonaws.com/AWSServiceRoleForAmazonEKSNodegroup`, callerUserId: scope.accountId, now });
  }
  private ec2Provider: { operations: Record<string, (i: unknown, c: unknown) => unknown> } | undefined;

  /**
   * createNodegroupAsg makes the node group's Auto Scaling group (and, when
   * the node group has no launch template of its own, the launch template
   * EKS creates for it: eks-<uuid>). Several instance types or SPOT
   * capacity use a MixedInstancesPolicy, as EKS does. Returns the ASG name
   * and the launch template EKS made (if any).
   */
  async createNodegroupAsg(
    scope: Scope,
    p: {
      name: string;
      min: number;
      max: number;
      desired: number;
      subnets: string[];
      tags: Record<string, string>;
      launchTemplate?: { id: string; version: string };
      instanceTypes?: string[];
      capacityType: string;
      amiId: string;
      diskSize?: number;
      ltName: string;
    },
  ): Promise<{ name: string; createdLaunchTemplateId?: string; error?: { code: string; message: string } }> {
    let error: { code: string; message: string } | undefined;
    // API-only mode (no reference checks): the subnets and roles are not real, so no EC2/ASG resources are made.
    if (!this.checks) return { name: p.name };
    const asg = await load('../autoscaling/shared.ts');
    let lt = p.launchTemplate;
    let createdLaunchTemplateId: string | undefined;
    if (!lt) {
      try {
        const r = await this.ec2Call(scope, 'CreateLaunchTemplate', {
          LaunchTemplateName: p.ltName,
          LaunchTemplateData: {
            ImageId: p.amiId,
            InstanceType: p.instanceTypes?.[0] ?? 't3.medium',
            BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: p.diskSize ?? 20, VolumeType: 'gp3', DeleteOnTermination: true } }],
            MetadataOptions: { HttpPutResponseHopLimit: 2, HttpTokens: 'required' },
          },
          TagSpecifications: [{ ResourceType: 'launch-template', Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value })) }],
        });
        const id: string | undefined = r?.LaunchTemplate?.LaunchTemplateId;
        if (id) {
          lt = { id, version: String(r.LaunchTemplate.LatestVersionNumber ?? 1) };
          createdLaunchTemplateId = id;
        }
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not create the node group launch template');
        error = { code: 'Ec2LaunchTemplateInvalidConfiguration', message: (e as Error).message };
      }
    }
    if (asg?.createGroup && lt) {
      const spec = { LaunchTemplateId: lt.id, Version: lt.version };
      const types = p.instanceTypes ?? [];
      const mixed = types.length > 1 || p.capacityType === 'SPOT';
      try {
        await asg.createGroup(this.deps.state, scope, {
          AutoScalingGroupName: p.name,
          MinSize: p.min,
          MaxSize: p.max,
          DesiredCapacity: p.desired,
          VPCZoneIdentifier: p.subnets.join(','),
          ...(mixed
            ? {
                MixedInstancesPolicy: {
                  LaunchTemplate: { LaunchTemplateSpecification: spec, Overrides: types.map((InstanceType) => ({ InstanceType })) },
                  InstancesDistribution:
                    p.capacityType === 'SPOT'
                      ? { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'capacity-optimized' }
                      : { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 100, OnDemandAllocationStrategy: 'prioritized' },
                },
              }
            : { LaunchTemplate: spec }),
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
          // EKS drains a node before Auto Scaling terminates it through this
          // hook (sim/controllers/nodegroup-scale-in.ts, with a data plane).
          ...(this.deps.nodegroupRollouts ? { LifecycleHookSpecificationList: [MANAGED_NODEGROUP_TERMINATE_HOOK] } : {}),
        });
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not create the node group ASG');
        error = { code: 'AutoScalingGroupInvalidConfiguration', message: (e as Error).message };
      }
    }
    return { name: p.name, createdLaunchTemplateId, error };
  }

  async deleteLaunchTemplate(scope: Scope, id: string): Promise<void> {
    try {
      await this.ec2Call(scope, 'DeleteLaunchTemplate', { LaunchTemplateId: id });
    } catch {
      // best effort
    }
  }

  async updateNodegroupAsg(scope: Scope, name: string, s: { min: number; max: number; desired: number }): Promise<void> {
    if (!this.checks) return;
    const asg = await load('../autoscaling/shared.ts');
    if (asg?.updateGroup) {
      try {
        await asg.updateGroup(this.deps.state, scope, { AutoScalingGroupName: name, MinSize: s.min, MaxSize: s.max, DesiredCapacity: s.desired });
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not update the node group ASG');
      }
    }
  }

  /**
   * prepareNodegroupRollout is the setup phase of a node group update with
   * a data plane: a new version of the launch template EKS made (the target
   * AMI) or the user's new template version, the group switched to it.
   * Returns what the rollout needs (sim/controllers/nodegroup-rollout.ts's
   * RolloutRecord), or undefined when the group's instances cannot be told
   * apart (no group, or a version update of a group on the user's own
   * template, whose AMI EKS does not choose).
   */
  async prepareNodegroupRollout(
    scope: Scope,
    p: { asg: string | undefined; ownTemplateId?: string; userTemplate?: { id: string; version: string }; amiId?: string; maxUnavailable: number; strategy: 'DEFAULT' | 'MINIMAL' },
  ): Promise<Record<string, unknown> | undefined> {
    if (!this.checks || !p.asg) return undefined;
    const asg = await load('../autoscaling/shared.ts');
    const ec2 = await load('../ec2/shared.ts');
    const g: any = asg?.describeGroup?.(this.deps.state, scope, p.asg);
    if (!g || !asg?.updateGroup || !ec2?.getLaunchTemplateVersion) return undefined;
    const cur = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    const resolve = (id: string, version: string) => ec2.getLaunchTemplateVersion(this.deps.state, scope, { LaunchTemplateId: id, Version: version });
    const prev = cur ? resolve(cur.LaunchTemplateId, cur.Version ?? '$Default') : undefined;
    if (!prev) return undefined;
    let target: { id: string; version: string } | undefined;
    if (p.userTemplate) {
      const v = resolve(p.userTemplate.id, p.userTemplate.version);
      if (v) target = { id: v.LaunchTemplateId, version: String(v.VersionNumber) };
    } else if (p.ownTemplateId && p.amiId) {
      const r = await this.ec2Call(scope, 'CreateLaunchTemplateVersion', { LaunchTemplateId: p.ownTemplateId, SourceVersion: String(prev.VersionNumber), LaunchTemplateData: { ImageId: p.amiId } });
      const n = r?.LaunchTemplateVersion?.VersionNumber;
      if (n !== undefined) target = { id: p.ownTemplateId, version: String(n) };
    }
    if (!target) return undefined;
    await asg.updateGroup(this.deps.state, scope, { AutoScalingGroupName: p.asg, ...asg.launchTemplateUpdate(g, { LaunchTemplateId: target.id, Version: target.version }) });
    return {
      asg: p.asg,
      launchTemplate: target,
      previous: { id: prev.LaunchTemplateId, version: String(prev.VersionNumber) },
      min: g.MinSize,
      max: g.MaxSize,
      desired: g.DesiredCapacity,
      maxUnavailable: p.maxUnavailable,
      strategy: p.strategy,
    };
  }

  async deleteNodegroupAsg(scope: Scope, name: string): Promise<void> {
    if (!this.checks) return;
    const asg = await load('../autoscaling/shared.ts');
    if (asg?.deleteGroup) {
      try {
        await asg.deleteGroup(this.deps.state, scope, name, { forceDelete: true });
      } catch {
        // best effort
      }
    }
  }
}

export function hex(n: number): string {
  let s = '';
  while (s.length < n) s += Math.floor(Math.random() * 16).toString(16);
  return s;
}
