/**
 * Ec2Port is everything Auto Scaling needs from EC2: subnet and launch
 * template lookups, launching and terminating instances, reading an
 * instance's state. The default implementation calls src/aws/ec2/shared.ts;
 * unit tests inject a fake.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { Scope } from '../core/state.ts';

export interface SubnetInfo {
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  AvailabilityZoneId?: string;
}

export interface LaunchTemplateVersionInfo {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  VersionNumber: number;
  /** LaunchTemplateData.InstanceType, if the template sets one. */
  InstanceType?: string;
  ImageId?: string;
}

export interface LaunchSpec {
  LaunchTemplate: { LaunchTemplateId: string; Version: string };
  SubnetId: string;
  InstanceType?: string;
  /** Tags for the instance (propagated group tags plus aws:autoscaling:groupName). */
  Tags: { Key: string; Value: string }[];
  /** 'spot' requests a spot instance. */
  Market?: 'spot' | 'on-demand';
}

export interface LaunchedInstance {
  InstanceId: string;
  InstanceType: string;
  AvailabilityZone: string;
  SubnetId: string;
}

export interface Ec2Port {
  getSubnet(scope: Scope, id: string): Promise<SubnetInfo | undefined>;
  /** Resolves $Latest, $Default or a number; undefined when the template or version is missing. */
  getLaunchTemplateVersion(scope: Scope, spec: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }): Promise<LaunchTemplateVersionInfo | undefined>;
  /** Launches one instance; throws an AwsServiceError when EC2 refuses. */
  runInstance(scope: Scope, spec: LaunchSpec): Promise<LaunchedInstance>;
  terminateInstances(scope: Scope, ids: string[]): Promise<void>;
  /** The EC2 state name (pending, running, shutting-down, terminated, stopping, stopped), or undefined if unknown. */
  instanceState(scope: Scope, id: string): string | undefined;
}

type AnyMod = Record<string, any>;

/** createEc2Port binds the port to EC2's shared module (loaded lazily so the files can land in any order). */
export function createEc2Port(deps: AwsDeps): Ec2Port {
  const state = deps.state;
  let mod: AnyMod | undefined;
  const loading = import(new URL('../ec2/shared.ts', import.meta.url).href).then(
    (m: AnyMod) => {
      mod = m;
      return m;
    },
    () => undefined,
  );
  const ec2 = async (): Promise<AnyMod> => {
    const m = mod ?? (await loading);
    if (!m) throw new Error('EC2 is not available in this build (src/aws/ec2/shared.ts missing)');
    return m;
  };
  return {
    async getSubnet(scope, id) {
      const m = await ec2();
      const s = await m.getSubnet(state, scope, id);
      return s ?? undefined;
    },
    async getLaunchTemplateVersion(scope, spec) {
      const m = await ec2();
      let v: AnyMod | undefined;
      try {
        v = await m.getLaunchTemplateVersion(state, scope, spec);
      } catch {
        return undefined;
      }
      if (!v) return undefined;
      return {
        LaunchTemplateId: v.LaunchTemplateId,
        LaunchTemplateName: v.LaunchTemplateName,
        VersionNumber: Number(v.VersionNumber),
        InstanceType: v.LaunchTemplateData?.InstanceType,
        ImageId: v.LaunchTemplateData?.ImageId,
      };
    },
    async runInstance(scope, spec) {
      const m = await ec2();
      const input: AnyMod = {
        MinCount: 1,
        MaxCount: 1,
        LaunchTemplate: spec.LaunchTemplate,
        SubnetId: spec.SubnetId,
        TagSpecifications: spec.Tags.length ? [{ ResourceType: 'instance', Tags: spec.Tags }] : undefined,
      };
      if (spec.InstanceType) input.InstanceType = spec.InstanceType;
      if (spec.Market === 'spot') input.InstanceMarketOptions = { MarketType: 'spot' };
      const r = await m.runInstances(deps, scope, input);
      const inst = (Array.isArray(r) ? r[0] : (r?.Instances?.[0] ?? r)) as AnyMod;
      return {
        InstanceId: inst.InstanceId,
        InstanceType: inst.InstanceType,
        AvailabilityZone: inst.Placement?.AvailabilityZone ?? inst.AvailabilityZone,
        SubnetId: inst.SubnetId ?? spec.SubnetId,
      };
    },
    async terminateInstances(scope, ids) {
      if (ids.length === 0) return;
      const m = await ec2();
      await m.terminateInstances(deps, scope, ids);
    },
    instanceState(scope, id) {
      // EC2 computes an instance's state from the clock, so ask it (the module is loaded by the first launch).
      if (mod?.describeInstance) return mod.describeInstance(deps, scope, id)?.State?.Name;
      const doc = state.get<AnyMod>(`/aws/ec2/${scope.accountId}/${scope.region}/instance/${encodeURIComponent(id)}`);
      return doc?.State?.Name;
    },
  };
}
