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
  constructor(private readonly deps: AwsDeps) {}

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
        if (id) return id;
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not create the cluster security group');
      }
    }
    return `sg-${hex(17)}`;
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

  /** createNodegroupAsg makes the node group's Auto Scaling group; returns its name. */
  async createNodegroupAsg(scope: Scope, p: { name: string; min: number; max: number; desired: number; subnets: string[]; tags: Record<string, string>; launchTemplate?: { id: string; version: string } }): Promise<string> {
    const asg = await load('../autoscaling/shared.ts');
    if (asg?.createGroup) {
      try {
        await asg.createGroup(this.deps.state, scope, {
          AutoScalingGroupName: p.name,
          MinSize: p.min,
          MaxSize: p.max,
          DesiredCapacity: p.desired,
          VPCZoneIdentifier: p.subnets.join(','),
          LaunchTemplate: p.launchTemplate ? { LaunchTemplateId: p.launchTemplate.id, Version: p.launchTemplate.version } : undefined,
          Tags: Object.entries(p.tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
        });
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not create the node group ASG');
      }
    }
    return p.name;
  }

  async updateNodegroupAsg(scope: Scope, name: string, s: { min: number; max: number; desired: number }): Promise<void> {
    const asg = await load('../autoscaling/shared.ts');
    if (asg?.updateGroup) {
      try {
        await asg.updateGroup(this.deps.state, scope, { AutoScalingGroupName: name, MinSize: s.min, MaxSize: s.max, DesiredCapacity: s.desired });
      } catch (e) {
        this.deps.log.warn({ err: e }, 'eks: could not update the node group ASG');
      }
    }
  }

  async deleteNodegroupAsg(scope: Scope, name: string): Promise<void> {
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
