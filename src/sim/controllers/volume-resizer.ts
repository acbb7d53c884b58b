/**
 * Expanding EBS volumes as the EBS CSI driver's external-resizer and the
 * kubelet do on EKS, as one pass over a cluster's watch cache: a Bound claim
 * on a provisioned EBS PV whose `spec.resources.requests.storage` grew above
 * its `status.capacity`, in a StorageClass with `allowVolumeExpansion: true`:
 *
 * - the EC2 volume is modified to the new size (ModifyVolume through
 *   ec2/shared.ts, rounded up to GiB; `Resizing` event). EC2 refusing it (one
 *   modification per volume every 6 hours: VolumeModificationRateExceeded)
 *   gives `VolumeResizeFailed` and is retried;
 * - the PV's capacity becomes the new size and the claim waits for the
 *   file system: condition `FileSystemResizePending`,
 *   `allocatedResources`, `allocatedResourceStatuses: NodeResizePending`
 *   (`FileSystemResizeRequired` event);
 * - once a running pod mounts the claim (at once when one runs: EBS expands
 *   online) the kubelet grows the file system: `status.capacity` is the new
 *   size, the condition goes (`FileSystemResizeSuccessful`).
 *
 * Not done: the API server's PersistentVolumeClaimResize admission (a claim
 * of a class without allowVolumeExpansion, or a smaller request, is
 * accepted and left as it is here, where upstream refuses the update).
 */
import { describeVolume, modifyVolume } from '../../aws/ec2/shared.ts';
import { scopeOfCluster } from '../../aws/eks/shared.ts';
import { parseQuantity } from '../../kube/api/quantity.ts';
import { EBS_CSI_DRIVER, ebsVolumeId, noteOnce } from './volume-provisioner.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

const RESIZER = `external-resizer ${EBS_CSI_DRIVER}`;
const MANAGER = { fieldManager: 'csi-resizer' };
const PENDING = 'FileSystemResizePending';

/** syncResizes runs one expansion pass (see the module comment). */
export async function syncResizes(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const pvcRes = reg.scheme.get('', 'v1', 'persistentvolumeclaims');
  const pvRes = reg.scheme.get('', 'v1', 'persistentvolumes');
  const scRes = reg.scheme.get('storage.k8s.io', 'v1', 'storageclasses');
  if (!pvcRes || !pvRes || !scRes) return;
  let pods: any[] | undefined;
  for (const e of reg.cache.list('persistentvolumeclaims', '')) {
    const pvc = e.obj;
    if (pvc.status?.phase !== 'Bound' || pvc.metadata?.deletionTimestamp || !pvc.spec?.volumeName) continue;
    const want: string | undefined = pvc.spec?.resources?.requests?.storage;
    const have: string | undefined = pvc.status?.capacity?.storage;
    if (!want || !have) continue;
    let wantBytes: number;
    try {
      wantBytes = parseQuantity(want);
      if (wantBytes <= parseQuantity(have)) continue;
    } catch {
      continue;
    }
    const sc = reg.cache.get(reg.keyFor(scRes, '', pvc.spec.storageClassName ?? ''))?.obj;
    if (sc?.allowVolumeExpansion !== true) continue;
    const pv = reg.cache.get(reg.keyFor(pvRes, '', pvc.spec.volumeName))?.obj;
    const volumeId = pv && ebsVolumeId(pv);
    if (!pv || !volumeId) continue;
    const ns = pvc.metadata!.namespace!;
    const name = pvc.metadata!.name!;
    const pvName = pv.metadata!.name!;

    if (parseQuantity(pv.spec?.capacity?.storage ?? '0') < wantBytes) {
      // Controller expansion: the EC2 volume, then the PV.
      const gib = Math.max(1, Math.ceil(wantBytes / 2 ** 30));
      await noteOnce(ctx, pvc, 'Normal', 'Resizing', `External resizer is resizing volume ${pvName}`, RESIZER);
      const scope = scopeOfCluster(ctx.info);
      const vol = describeVolume(ctx.deps, scope, volumeId);
      if (vol && vol.Size < gib) {
        try {
          await modifyVolume(ctx.deps, scope, volumeId, { Size: gib });
        } catch (err) {
          await noteOnce(ctx, pvc, 'Warning', 'VolumeResizeFailed', `resize volume "${pvName}" by resizer "${EBS_CSI_DRIVER}" failed: rpc error: code = Internal desc = Could not resize volume "${volumeId}": ${(err as Error).message}`, RESIZER);
          ctx.wake(ctx.nowMs + 30_000);
          continue;
        }
      }
      await reg.guaranteedUpdate(pvRes, '', pvName, (cur) => {
        if (!cur) throw new Error('gone');
        cur.metadata!.resourceVersion = '';
        cur.spec.capacity = { ...(cur.spec.capacity ?? {}), storage: want };
        return cur;
      }, MANAGER);
      await reg.guaranteedUpdate(pvcRes, ns, name, (cur) => {
        if (!cur) throw new Error('gone');
        cur.metadata!.resourceVersion = '';
        const conditions = (cur.status?.conditions ?? []).filter((c: any) => c.type !== PENDING && c.type !== 'Resizing');
        conditions.push({ type: PENDING, status: 'True', lastProbeTime: null, lastTransitionTime: new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.' });
        cur.status = { ...(cur.status ?? {}), conditions, allocatedResources: { storage: want }, allocatedResourceStatuses: { storage: 'NodeResizePending' } };
        return cur;
      }, { ...MANAGER, subresource: 'status' });
      await noteOnce(ctx, pvc, 'Normal', 'FileSystemResizeRequired', 'Require file system resize of volume on node', RESIZER);
    }

    // Node expansion: a running pod that mounts the claim.
    pods ??= reg.cache.list('pods', ns).map((x) => x.obj);
    const user = pods.find((p) => p.metadata?.namespace === ns && p.spec?.nodeName && p.status?.phase === 'Running' && (p.spec?.volumes ?? []).some((v: any) => v.persistentVolumeClaim?.claimName === name));
    if (!user) continue;
    await reg.guaranteedUpdate(pvcRes, ns, name, (cur) => {
      if (!cur) throw new Error('gone');
      cur.metadata!.resourceVersion = '';
      const conditions = (cur.status?.conditions ?? []).filter((c: any) => c.type !== PENDING && c.type !== 'Resizing');
      const next = { ...(cur.status ?? {}), capacity: { ...(cur.status?.capacity ?? {}), storage: want }, allocatedResources: { storage: want } };
      delete next.allocatedResourceStatuses;
      if (conditions.length) next.conditions = conditions;
      else delete next.conditions;
      cur.status = next;
      return cur;
    }, { ...MANAGER, subresource: 'status' });
    await noteOnce(ctx, pvc, 'Normal', 'FileSystemResizeSuccessful', `MountVolume.NodeExpandVolume succeeded for volume "${pvName}" ${user.spec.nodeName}`, 'kubelet');
  }
}

/** The EBS volume expansion controller (see the module comment). */
export const VOLUME_RESIZER: WorkloadController = {
  name: 'volume-resizer',
  resources: ['persistentvolumeclaims'],
  sync: syncResizes,
};
