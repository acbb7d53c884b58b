/**
 * DescribeVolumes: every instance's root volume (created and deleted with
 * the instance) and the volumes made with CreateVolume or by the EBS CSI
 * driver (ebs-volumes.ts, which also serves Create/Delete/Attach/
 * DetachVolume); and the CPU credit option of burstable instances
 * (DescribeInstanceCreditSpecifications). terraform's aws_instance reads
 * both on every refresh.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { ec2Error } from './errors.ts';
import { ebsVolumeOperations, listStoredVolumes } from './ebs-volumes.ts';
import { compileFilters, type FilterInput, paginate } from './filters.ts';
import { listInstancesIn } from './instances.ts';
import { type Doc, T } from './store.ts';

export function volumeOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);

  function volumes(ctx: RequestContext): Doc[] {
    const store = st(ctx);
    const rows: Doc[] = [];
    for (const v of listInstancesIn(deps, store)) {
      if (v.State.Name === 'terminated') continue;
      const doc = store.get(T.instance, v.InstanceId)!;
      const root = doc._rootVolume ?? { Size: 8, VolumeType: 'gp3', Iops: 3000, Throughput: 125, Encrypted: false };
      for (const b of v.BlockDeviceMappings as Doc[]) {
        rows.push({
          VolumeId: b.Ebs.VolumeId,
          Size: root.Size,
          VolumeType: root.VolumeType,
          Iops: root.Iops,
          ...(root.VolumeType === 'gp3' ? { Throughput: root.Throughput } : {}),
          Encrypted: root.Encrypted,
          ...(root.KmsKeyId ? { KmsKeyId: root.KmsKeyId } : {}),
          AvailabilityZone: v.Placement.AvailabilityZone,
          AvailabilityZoneId: v.Placement.AvailabilityZoneId,
          CreateTime: v.LaunchTime,
          State: 'in-use',
          SnapshotId: '',
          MultiAttachEnabled: false,
          Attachments: [{ AttachTime: b.Ebs.AttachTime, Device: b.DeviceName, InstanceId: v.InstanceId, State: 'attached', VolumeId: b.Ebs.VolumeId, DeleteOnTermination: b.Ebs.DeleteOnTermination }],
          Tags: [],
        });
      }
    }
    return rows;
  }

  /** The instance whose root volume this is, if it is one. */
  function rootOwner(ctx: RequestContext, id: string): Doc | undefined {
    return volumes(ctx).find((r) => r.VolumeId === id)?.Attachments[0];
  }

  const ebs = ebsVolumeOperations(deps);
  return {
    ...ebs,
    DeleteVolume(input: { VolumeId: string }, ctx: RequestContext) {
      const root = rootOwner(ctx, input.VolumeId);
      if (root) throw ec2Error('VolumeInUse', `Volume ${input.VolumeId} is currently attached to ${root.InstanceId}`);
      return ebs.DeleteVolume(input, ctx);
    },
    DetachVolume(input: { VolumeId: string; InstanceId?: string; Device?: string }, ctx: RequestContext) {
      const root = rootOwner(ctx, input.VolumeId);
      if (root) throw ec2Error('OperationNotPermitted', `Unable to detach root volume '${input.VolumeId}' from instance '${root.InstanceId}'`);
      return ebs.DetachVolume(input, ctx);
    },
    DescribeVolumes(input: { VolumeIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      let rows = [...volumes(ctx), ...listStoredVolumes(deps, st(ctx))];
      if (input.VolumeIds?.length) {
        for (const id of input.VolumeIds) {
          if (!rows.some((r) => r.VolumeId === id)) throw ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
        }
        rows = rows.filter((r) => input.VolumeIds!.includes(r.VolumeId));
      }
      const match = compileFilters(input.Filters, {
        'attachment.instance-id': (d) => d.Attachments.map((a: Doc) => a.InstanceId),
        'attachment.device': (d) => d.Attachments.map((a: Doc) => a.Device),
        'attachment.status': (d) => d.Attachments.map((a: Doc) => a.State),
        'attachment.delete-on-termination': (d) => d.Attachments.map((a: Doc) => a.DeleteOnTermination),
        'attachment.attach-time': (d) => d.Attachments.map((a: Doc) => a.AttachTime),
        'create-time': (d) => d.CreateTime,
        'multi-attach-enabled': (d) => d.MultiAttachEnabled,
        'snapshot-id': (d) => d.SnapshotId,
        'availability-zone': (d) => d.AvailabilityZone,
        encrypted: (d) => d.Encrypted,
        size: (d) => d.Size,
        status: (d) => d.State,
        'volume-id': (d) => d.VolumeId,
        'volume-type': (d) => d.VolumeType,
      });
      const { page, NextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
      return { Volumes: page, NextToken };
    },

    DescribeInstanceCreditSpecifications(input: { InstanceIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      let views = listInstancesIn(deps, store).filter((v) => v.State.Name !== 'terminated');
      if (input.InstanceIds?.length) {
        for (const id of input.InstanceIds) {
          if (!views.some((v) => v.InstanceId === id)) throw ec2Error('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
        }
        views = views.filter((v) => input.InstanceIds!.includes(v.InstanceId));
      }
      const rows = views
        .filter((v) => /^t\d/.test(v.InstanceType))
        .map((v) => ({ InstanceId: v.InstanceId, CpuCredits: /^t2\./.test(v.InstanceType) ? 'standard' : 'unlimited' }));
      const match = compileFilters(input.Filters, { 'instance-id': (d) => d.InstanceId });
      const { page, NextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
      return { InstanceCreditSpecifications: page, NextToken };
    },
  };
}
