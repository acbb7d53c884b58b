/**
 * Attaching EBS volumes to nodes as kube-controller-manager's
 * attach/detach controller, the EBS CSI driver's external-attacher and the
 * kubelet's volume manager do it on EKS, as one pass over a cluster's watch
 * cache:
 *
 * - a pod bound to an EC2 node (providerID `aws:///<zone>/i-...`) and not
 *   finished, using a claim bound to an EBS PV (csi `ebs.csi.aws.com`, or
 *   the in-tree `awsElasticBlockStore` migrated to it), needs the volume on
 *   that node: a VolumeAttachment `csi-<sha256(volume id + driver + node)>`
 *   (attacher ebs.csi.aws.com, source.persistentVolumeName) is created and
 *   the volume is attached to the node's instance with EC2 AttachVolume
 *   (ec2/shared.ts: the first free /dev/xvdXX, as the driver picks it); once
 *   EC2 reports it attached, the VolumeAttachment's status is
 *   `attached: true` with `attachmentMetadata.devicePath`, and the node's
 *   status lists it in `volumesAttached` and `volumesInUse`
 *   (`kubernetes.io/csi/ebs.csi.aws.com^<vol>`);
 * - EC2 refusing the attachment (the volume is attached to another node:
 *   VolumeInUse) is the VolumeAttachment's `status.attachError` and gives the
 *   pod a `FailedAttachVolume` event with upstream's Multi-Attach message,
 *   retried each pass;
 * - when no such pod is left on the node (deleted, finished, moved), the
 *   volume leaves `volumesInUse`, is detached with EC2 DetachVolume, and the
 *   VolumeAttachment is deleted and the volume leaves `volumesAttached`;
 *   attachments of nodes that are gone are deleted (EC2 detaches the volumes
 *   of a terminated instance itself).
 *
 * Once the driver is installed its node plugin registers on every EC2 node,
 * which then carries the driver's topology label
 * `topology.ebs.csi.aws.com/zone` (the scheduler's VolumeBinding filter,
 * sim/scheduler/volume-binding.ts, matches CSI PVs' node affinity on it).
 *
 * Fargate pods never get here (the fargate-scheduler refuses EBS claims).
 * The kubelet holds a pod in ContainerCreating until its EBS volumes are
 * attached to its node (volumesAttached: 100 ms in `fast`, 5 s in
 * `realistic`; for ever while another node holds a ReadWriteOnce volume).
 */
import { createHash } from 'node:crypto';
import { attachVolume, describeVolume, detachVolume } from '../../aws/ec2/shared.ts';
import { scopeOfCluster } from '../../aws/eks/shared.ts';
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import type { VolumeLookup } from '../scheduler/volume-binding.ts';
import { warnEvery } from './throttled-events.ts';
import { driverInstalled, EBS_CSI_DRIVER, ebsVolumeId } from './volume-provisioner.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

const VA = 'storage.k8s.io/volumeattachments';
/** The topology key the EBS CSI driver registers on nodes (CSI PVs' node affinity). */
const ZONE_KEY = 'topology.ebs.csi.aws.com/zone';
const POLL_MS = 250;
const MANAGER = { fieldManager: 'kube-controller-manager' };

/** attachmentName is the VolumeAttachment name upstream's CSI attacher uses: csi-<sha256(volume handle + driver + node)>. */
export function attachmentName(volumeId: string, nodeName: string): string {
  return `csi-${createHash('sha256').update(`${volumeId}${EBS_CSI_DRIVER}${nodeName}`).digest('hex')}`;
}

/** The unique name of an attached CSI volume in a node's status. */
export function uniqueVolumeName(volumeId: string): string {
  return `kubernetes.io/csi/${EBS_CSI_DRIVER}^${volumeId}`;
}

function instanceOf(node: KObject | undefined): string | undefined {
  return /\/(i-[0-9a-f]+)$/.exec(String(node?.spec?.providerID ?? ''))?.[1];
}

const lookups = new WeakMap<ClusterRegistry, VolumeLookup>();

/** volumeLookup reads claims and volumes from a cluster's watch cache (the scheduler's VolumeBinding filter); one per registry. */
export function volumeLookup(reg: ClusterRegistry): VolumeLookup {
  let l = lookups.get(reg);
  if (l) return l;
  const pvcRes = reg.scheme.get('', 'v1', 'persistentvolumeclaims');
  const pvRes = reg.scheme.get('', 'v1', 'persistentvolumes');
  l = {
    claim: (ns, name) => (pvcRes ? reg.cache.get(reg.keyFor(pvcRes, ns, name))?.obj : undefined),
    volume: (name) => (pvRes ? reg.cache.get(reg.keyFor(pvRes, '', name))?.obj : undefined),
  };
  lookups.set(reg, l);
  return l;
}

/**
 * volumesAttached is the kubelet's volume manager check before a pod's
 * containers start: every claim of the pod bound to an EBS PV has its
 * VolumeAttachment to this node attached (false: the pod stays
 * ContainerCreating). Claims not bound, or bound to other volumes, do not
 * hold the pod.
 */
export function volumesAttached(reg: ClusterRegistry, pod: KObject, nodeName: string): boolean {
  const vols = pod.spec?.volumes;
  if (!vols) return true;
  let lookup: VolumeLookup | undefined;
  for (const v of vols) {
    const claim = v.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    lookup ??= volumeLookup(reg);
    const pvName = lookup.claim(pod.metadata?.namespace ?? 'default', claim)?.spec?.volumeName;
    const pv = pvName ? lookup.volume(pvName) : undefined;
    const volumeId = pv && ebsVolumeId(pv);
    if (!volumeId) continue;
    const vaRes = reg.scheme.get('storage.k8s.io', 'v1', 'volumeattachments');
    if (!vaRes || !reg.cache.get(reg.keyFor(vaRes, '', attachmentName(volumeId, nodeName)))?.obj.status?.attached) return false;
  }
  return true;
}

interface Want {
  pv: string;
  volumeId: string;
  node: string;
  instanceId: string;
  pod: KObject;
}

/** syncAttachments runs one attach/detach pass (see the module comment). */
export async function syncAttachments(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const vaRes = reg.scheme.get('storage.k8s.io', 'v1', 'volumeattachments');
  const pvcRes = reg.scheme.get('', 'v1', 'persistentvolumeclaims');
  const pvRes = reg.scheme.get('', 'v1', 'persistentvolumes');
  const nodesRes = reg.scheme.get('', 'v1', 'nodes')!;
  if (!vaRes || !pvcRes || !pvRes) return;
  if (driverInstalled(ctx)) await registerNodePlugin(ctx);
  const attachments = reg.cache.list(VA, '').map((e) => e.obj).filter((a) => a.spec?.attacher === EBS_CSI_DRIVER);
  if (reg.cache.list('persistentvolumes', '').length === 0 && attachments.length === 0) return;
  const scope = scopeOfCluster(ctx.info);

  // What the pods need.
  const want = new Map<string, Want>();
  for (const e of reg.cache.list('pods', '')) {
    const p = e.obj;
    const nodeName: string | undefined = p.spec?.nodeName;
    if (!nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    for (const v of p.spec?.volumes ?? []) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const pvName = reg.cache.get(reg.keyFor(pvcRes, p.metadata!.namespace!, claim))?.obj.spec?.volumeName;
      const pv = pvName && reg.cache.get(reg.keyFor(pvRes, '', pvName))?.obj;
      const volumeId = pv && ebsVolumeId(pv);
      if (!volumeId) continue;
      const instanceId = instanceOf(reg.cache.get(reg.keyFor(nodesRes, '', nodeName))?.obj);
      if (!instanceId) continue;
      const name = attachmentName(volumeId, nodeName);
      if (!want.has(name)) want.set(name, { pv: pvName, volumeId, node: nodeName, instanceId, pod: p });
    }
  }

  const nodeChanges = new Map<string, { attached: Map<string, string>; inUse: Set<string>; detaching: Set<string> }>();
  const changeOf = (node: string) => {
    let c = nodeChanges.get(node);
    if (!c) nodeChanges.set(node, (c = { attached: new Map(), inUse: new Set(), detaching: new Set() }));
    return c;
  };

  // Attach.
  for (const [name, w] of want) {
    let va = reg.cache.get(reg.keyFor(vaRes, '', name))?.obj;
    if (va?.status?.attached && !va.metadata?.deletionTimestamp) {
      changeOf(w.node).attached.set(uniqueVolumeName(w.volumeId), va.status.attachmentMetadata?.devicePath ?? '');
      changeOf(w.node).inUse.add(uniqueVolumeName(w.volumeId));
      continue;
    }
    if (!va) {
      va = await reg.create(vaRes, '', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'VolumeAttachment',
        metadata: { name, annotations: { 'csi.alpha.kubernetes.io/node-id': w.instanceId } },
        spec: { attacher: EBS_CSI_DRIVER, nodeName: w.node, source: { persistentVolumeName: w.pv } },
      }, MANAGER).catch((err) => {
        ctx.log.warn({ err, attachment: name }, 'volume attachment create failed');
        return undefined;
      });
      if (!va) continue;
    }
    const vol = describeVolume(ctx.deps, scope, w.volumeId);
    if (!vol) {
      // A PV naming a volume EC2 does not have: the pod waits (ContainerCreating), as on EKS.
      await warnEvery(ctx, { apiVersion: 'v1', kind: 'Pod', ...w.pod }, 'FailedAttachVolume', `AttachVolume.Attach failed for volume "${w.pv}" : rpc error: code = NotFound desc = Volume "${w.volumeId}" not found`, 'attachdetach-controller');
      ctx.wake(ctx.nowMs + 2000);
      continue;
    }
    let att = vol.Attachments.find((a: { InstanceId: string }) => a.InstanceId === w.instanceId);
    if (!att) {
      try {
        att = await attachVolume(ctx.deps, scope, w.volumeId, w.instanceId);
      } catch (e) {
        const code = (e as { code?: string }).code;
        const message = `rpc error: code = Internal desc = Could not attach volume "${w.volumeId}" to node "${w.instanceId}": ${(e as Error).message}`;
        if (va.status?.attachError?.message !== message) {
          await reg.guaranteedUpdate(vaRes, '', name, (cur) => {
            if (!cur) throw new Error('gone');
            cur.metadata!.resourceVersion = '';
            cur.status = { attached: false, attachError: { time: new Date(ctx.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'), message } };
            return cur;
          }, { ...MANAGER, subresource: 'status' }).catch(() => {});
        }
        if (code === 'VolumeInUse') {
          await warnEvery(ctx, { apiVersion: 'v1', kind: 'Pod', ...w.pod }, 'FailedAttachVolume', `Multi-Attach error for volume "${w.pv}" Volume is already exclusively attached to one node and can't be attached to another`, 'attachdetach-controller');
        } else if (code !== 'IncorrectState') {
          ctx.log.warn({ err: e, volume: w.volumeId, instance: w.instanceId }, 'EBS attach failed');
        }
        ctx.wake(ctx.nowMs + (code === 'VolumeInUse' ? 2000 : POLL_MS));
        continue;
      }
    }
    if (att.State !== 'attached') {
      ctx.wake(ctx.nowMs + POLL_MS);
      continue;
    }
    await reg.guaranteedUpdate(vaRes, '', name, (cur) => {
      if (!cur) throw new Error('gone');
      cur.metadata!.resourceVersion = '';
      cur.status = { attached: true, attachmentMetadata: { devicePath: att.Device } };
      return cur;
    }, { ...MANAGER, subresource: 'status' }).catch(() => {});
    changeOf(w.node).attached.set(uniqueVolumeName(w.volumeId), att.Device);
    changeOf(w.node).inUse.add(uniqueVolumeName(w.volumeId));
  }

  // Detach what no pod needs any more.
  for (const va of attachments) {
    const name = va.metadata!.name!;
    if (want.has(name)) continue;
    const pv = reg.cache.get(reg.keyFor(pvRes, '', va.spec?.source?.persistentVolumeName ?? ''))?.obj;
    const node = reg.cache.get(reg.keyFor(nodesRes, '', va.spec?.nodeName ?? ''))?.obj;
    const volumeId = pv ? ebsVolumeId(pv) : undefined;
    const instanceId = instanceOf(node);
    if (volumeId && instanceId) {
      const vol = describeVolume(ctx.deps, scope, volumeId);
      const att = vol?.Attachments.find((a: { InstanceId: string }) => a.InstanceId === instanceId);
      if (att) {
        if (att.State !== 'detaching') await detachVolume(ctx.deps, scope, volumeId, instanceId).catch((err) => ctx.log.warn({ err, volume: volumeId }, 'EBS detach failed'));
        ctx.wake(ctx.nowMs + POLL_MS);
        changeOf(node!.metadata!.name!).detaching.add(uniqueVolumeName(volumeId));
        continue;
      }
    }
    await reg.delete(vaRes, '', name, { preconditions: { uid: va.metadata!.uid } }, MANAGER).catch(() => {});
  }

  // Node status: volumesAttached (attach/detach controller) and volumesInUse (kubelet).
  for (const n of reg.cache.list('nodes', '')) {
    const name = n.obj.metadata!.name!;
    const c = nodeChanges.get(name);
    const curAttached: { name: string; devicePath: string }[] = n.obj.status?.volumesAttached ?? [];
    const curInUse: string[] = n.obj.status?.volumesInUse ?? [];
    const ours = (v: string) => v.startsWith(`kubernetes.io/csi/${EBS_CSI_DRIVER}^`);
    if (!c && !curInUse.some(ours) && !curAttached.some((a) => ours(a.name))) continue;
    // In use only while a pod needs it; attached until the detach completed.
    const inUse = [...curInUse.filter((v) => !ours(v)), ...[...(c?.inUse ?? [])]].sort();
    const attachedMap = new Map(curAttached.filter((a) => !ours(a.name) || (c?.detaching.has(a.name) ?? false)).map((a) => [a.name, a.devicePath]));
    for (const [k, d] of c?.attached ?? []) attachedMap.set(k, d);
    const attached = [...attachedMap].map(([k, d]) => ({ name: k, devicePath: d })).sort((a, b) => a.name.localeCompare(b.name));
    if (JSON.stringify(inUse) === JSON.stringify([...curInUse].sort()) && JSON.stringify(attached) === JSON.stringify([...curAttached].sort((a, b) => a.name.localeCompare(b.name)))) continue;
    await reg.guaranteedUpdate(nodesRes, '', name, (cur) => {
      if (!cur) throw new Error('node gone');
      cur.metadata!.resourceVersion = '';
      cur.status ??= {};
      if (attached.length) cur.status.volumesAttached = attached;
      else delete cur.status.volumesAttached;
      if (inUse.length) cur.status.volumesInUse = inUse;
      else delete cur.status.volumesInUse;
      return cur;
    }, { ...MANAGER, subresource: 'status' }).catch(() => {});
  }
}

/**
 * The driver's node plugin registering with each EC2 node's kubelet: the
 * node gets the driver's topology label `topology.ebs.csi.aws.com/zone`
 * (what CSI PVs' node affinity names) and a CSINode listing the driver
 * (nodeID: the instance id), once.
 */
async function registerNodePlugin(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const nodesRes = reg.scheme.get('', 'v1', 'nodes')!;
  const csiNodeRes = reg.scheme.get('storage.k8s.io', 'v1', 'csinodes');
  for (const e of reg.cache.list('nodes', '')) {
    const n = e.obj;
    const zone = n.metadata?.labels?.['topology.kubernetes.io/zone'];
    const instanceId = instanceOf(n);
    if (!zone || n.metadata?.labels?.[ZONE_KEY] === zone || !instanceId || n.metadata?.deletionTimestamp) continue;
    // The kubelet's CSINode with the driver's entry (owned by the node: it goes with it).
    if (csiNodeRes && !reg.cache.get(reg.keyFor(csiNodeRes, '', n.metadata!.name!))) {
      await reg.create(csiNodeRes, '', {
        apiVersion: 'storage.k8s.io/v1',
        kind: 'CSINode',
        metadata: { name: n.metadata!.name!, ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.metadata!.name!, uid: n.metadata!.uid! }] },
        spec: { drivers: [{ name: EBS_CSI_DRIVER, nodeID: instanceId, topologyKeys: ['kubernetes.io/os', ZONE_KEY, 'topology.kubernetes.io/zone'] }] },
      }, { fieldManager: 'kubelet' }).catch(() => {});
    }
    await reg.guaranteedUpdate(nodesRes, '', n.metadata!.name!, (cur) => {
      if (!cur) throw new Error('node gone');
      cur.metadata!.resourceVersion = '';
      cur.metadata!.labels = { ...(cur.metadata!.labels ?? {}), [ZONE_KEY]: zone };
      return cur;
    }, { fieldManager: 'kubelet' }).catch(() => {});
  }
}

/** The attach/detach controller for EBS volumes (see the module comment). */
export const VOLUME_ATTACHER: WorkloadController = {
  name: 'volume-attacher',
  resources: ['persistentvolumes', 'storage.k8s.io/volumeattachments'],
  sync: syncAttachments,
};
