/**
 * Dynamic provisioning of EBS volumes as the Amazon EBS CSI driver and the
 * PersistentVolume controller do it on EKS, as one pass over a cluster's
 * watch cache:
 *
 * - a Pending PVC without volumeName whose StorageClass provisioner is
 *   `ebs.csi.aws.com` (or the in-tree `kubernetes.io/aws-ebs`, migrated to
 *   it) is provisioned only when the driver is installed, as on EKS: the
 *   `aws-ebs-csi-driver` EKS add-on exists, or the `ebs.csi.aws.com`
 *   CSIDriver object does (self-managed install). Otherwise the PVC stays
 *   Pending with the `ExternalProvisioning` event users see;
 * - volumeBindingMode WaitForFirstConsumer (what EKS's gp2 and the usual gp3
 *   classes use) waits for a scheduled pod using the claim
 *   (`WaitForFirstConsumer` event) and provisions in that node's zone;
 *   Immediate provisions at once in the first zone of the cluster's nodes;
 * - the volume is a real EC2 volume of the cluster's account and region
 *   (CreateVolume through ec2/shared.ts: the class's `type` (gp3 for the CSI
 *   driver, gp2 in-tree), `iops`, `iopsPerGB`, `throughput`, `encrypted`,
 *   `kmsKeyId`, the claim's size rounded up to GiB) tagged as the driver
 *   tags it (docs/tagging.md of aws-ebs-csi-driver, with the EKS add-on's
 *   --extra-create-metadata): CSIVolumeName, ebs.csi.aws.com/cluster=true,
 *   kubernetes.io/created-for/pvc/name, .../pvc/namespace, .../pv/name, and
 *   the class's `tagSpecification_N: "key=value"` parameters; a volume
 *   already tagged with the PV's CSIVolumeName is reused (the driver's
 *   idempotency). An EC2 error leaves the claim Pending with
 *   ProvisioningFailed and is retried;
 * - the PV `pvc-<claim uid>` has the claim's size and access modes, the
 *   class's reclaimPolicy (Delete by default), and for the CSI driver `csi`
 *   (driver ebs.csi.aws.com, the volume id as volumeHandle, fsType) with
 *   required node affinity on `topology.ebs.csi.aws.com/zone`; for the
 *   in-tree class the migrated in-tree form (`awsElasticBlockStore.volumeID:
 *   aws://<zone>/<vol>`, `pv.kubernetes.io/migrated-to`, affinity on
 *   `topology.kubernetes.io/zone`); PV and PVC become Bound with the bind
 *   annotations and protection finalizers (ProvisioningSucceeded);
 * - a missing StorageClass gives ProvisioningFailed
 *   `storageclass.storage.k8s.io "<name>" not found`;
 * - when a bound claim is deleted, a Delete PV's EC2 volume is deleted
 *   (retried with VolumeFailedDelete while it is still attached:
 *   VolumeInUse), then the PV; a Retain PV is Released and its volume kept.
 *
 * Attaching volumes to nodes is volume-attacher.ts, expanding them
 * volume-resizer.ts. Not done: snapshots, the DefaultStorageClass admission
 * plugin.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ClusterRegistry } from '../../kube/apiserver/index.ts';
import { createVolume, deleteVolume, listVolumes } from '../../aws/ec2/shared.ts';
import { listAddons, scopeOfCluster } from '../../aws/eks/shared.ts';
import { parseQuantity } from '../../kube/api/quantity.ts';
import { recordEvent } from './object-events.ts';
import { warnEvery } from './throttled-events.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const EBS_CSI_DRIVER = 'ebs.csi.aws.com';
const IN_TREE = 'kubernetes.io/aws-ebs';
const EBS_PROVISIONERS = new Set([EBS_CSI_DRIVER, IN_TREE]);
const ZONE_KEY = 'topology.ebs.csi.aws.com/zone';
const PV_CONTROLLER = 'persistentvolume-controller';
const MANAGER = { fieldManager: 'kube-controller-manager' };

/** Events already recorded per claim (so a waiting claim does not get one per pass); noteOnce records one unless it was the claim's last. */
const noted = new WeakMap<ClusterRegistry, Map<string, string>>();

export async function noteOnce(ctx: ControllerContext, pvc: KObject, type: 'Normal' | 'Warning', reason: string, message: string, component = PV_CONTROLLER): Promise<void> {
  let m = noted.get(ctx.reg);
  if (!m) noted.set(ctx.reg, (m = new Map()));
  const key = pvc.metadata!.uid!;
  if (m.get(key) === reason) return;
  m.set(key, reason);
  await recordEvent(ctx.reg, ctx.nowMs, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...pvc }, type, reason, message, component);
}

/** driverInstalled: the EBS CSI driver runs in the cluster (EKS add-on or CSIDriver object). */
export function driverInstalled(ctx: ControllerContext): boolean {
  try {
    if (listAddons(ctx.deps.state, ctx.info).some((a) => a.addonName === 'aws-ebs-csi-driver' && a.status !== 'DELETING' && a.status !== 'CREATE_FAILED')) return true;
  } catch {
    /* no EKS state for this cluster */
  }
  const res = ctx.reg.scheme.get('storage.k8s.io', 'v1', 'csidrivers');
  return !!res && !!ctx.reg.cache.get(ctx.reg.keyFor(res, '', EBS_CSI_DRIVER));
}

function claimsOf(pod: KObject): string[] {
  return (pod.spec?.volumes ?? []).map((v: any) => v.persistentVolumeClaim?.claimName).filter(Boolean);
}

/** syncVolumes runs one provisioning and reclaim pass. */
export async function syncVolumes(ctx: ControllerContext): Promise<void> {
  const { reg } = ctx;
  const pvcRes = reg.scheme.get('', 'v1', 'persistentvolumeclaims');
  const pvRes = reg.scheme.get('', 'v1', 'persistentvolumes');
  const scRes = reg.scheme.get('storage.k8s.io', 'v1', 'storageclasses');
  if (!pvcRes || !pvRes || !scRes) return;
  const claims = reg.cache.list('persistentvolumeclaims', '').map((e) => e.obj);
  const volumes = reg.cache.list('persistentvolumes', '').map((e) => e.obj);
  if (claims.length === 0 && volumes.length === 0) return;

  // Reclaim: volumes whose claim is gone.
  const claimUids = new Set(claims.map((c) => c.metadata!.uid));
  for (const pv of volumes) {
    const ref = pv.spec?.claimRef;
    if (!ref?.uid || claimUids.has(ref.uid) || pv.status?.phase === 'Released' || pv.metadata?.deletionTimestamp) continue;
    if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      if (!(await deleteBackingVolume(ctx, pv))) continue;
      await reg.guaranteedUpdate(pvRes, '', pv.metadata!.name!, (cur) => {
        if (!cur) throw new Error('gone');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        delete next.metadata!.finalizers;
        return next;
      }, MANAGER).catch(() => {});
      await reg.delete(pvRes, '', pv.metadata!.name!, { preconditions: { uid: pv.metadata!.uid } }).catch(() => {});
    } else {
      await reg.guaranteedUpdate(pvRes, '', pv.metadata!.name!, (cur) => {
        if (!cur) throw new Error('gone');
        const next = structuredClone(cur);
        next.metadata!.resourceVersion = '';
        next.status = { ...(next.status ?? {}), phase: 'Released' };
        return next;
      }, { ...MANAGER, subresource: 'status' }).catch(() => {});
    }
  }

  // pvc-protection / pv-protection: deleted objects lose the finalizers once nothing uses them.
  const podsUsing = new Set<string>();
  const deleting = claims.some((c) => c.metadata?.deletionTimestamp);
  for (const e of deleting ? reg.cache.list('pods', '') : []) {
    const p = e.obj;
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    for (const c of claimsOf(p)) podsUsing.add(`${p.metadata!.namespace}/${c}`);
  }
  const dropFinalizer = (res: typeof pvRes, ns: string, name: string, fin: string) =>
    reg.guaranteedUpdate(res, ns, name, (cur) => {
      if (!cur) throw new Error('gone');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      const f = (next.metadata!.finalizers ?? []).filter((x: string) => x !== fin && !(fin === 'kubernetes.io/pv-protection' && x === 'external-provisioner.volume.kubernetes.io/finalizer'));
      if (f.length) next.metadata!.finalizers = f;
      else delete next.metadata!.finalizers;
      return next;
    }, MANAGER).catch(() => {});
  for (const c of claims) {
    if (c.metadata?.deletionTimestamp && (c.metadata.finalizers ?? []).includes('kubernetes.io/pvc-protection') && !podsUsing.has(`${c.metadata.namespace}/${c.metadata.name}`)) {
      await dropFinalizer(pvcRes, c.metadata.namespace!, c.metadata.name!, 'kubernetes.io/pvc-protection');
    }
  }
  for (const pv of volumes) {
    if (pv.metadata?.deletionTimestamp && (pv.metadata.finalizers ?? []).includes('kubernetes.io/pv-protection') && !(pv.spec?.claimRef?.uid && claimUids.has(pv.spec.claimRef.uid))) {
      await dropFinalizer(pvRes, '', pv.metadata.name!, 'kubernetes.io/pv-protection');
    }
  }

  const pending = claims.filter((c) => !c.spec?.volumeName && (c.status?.phase ?? 'Pending') === 'Pending' && !c.metadata?.deletionTimestamp);
  if (pending.length === 0) return;
  const pods = reg.cache.list('pods', '').map((e) => e.obj);
  const nodes = new Map(reg.cache.list('nodes', '').map((e) => [e.obj.metadata!.name!, e.obj]));
  let installed: boolean | undefined;
  for (const pvc of pending) {
    const m = pvc.metadata!;
    const scName: string | undefined = pvc.spec?.storageClassName;
    if (!scName) continue; // static binding to pre-created PVs is not simulated
    const sc = reg.cache.get(reg.keyFor(scRes, '', scName))?.obj;
    if (!sc) {
      await noteOnce(ctx, pvc, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${scName}" not found`);
      continue;
    }
    if (!EBS_PROVISIONERS.has(sc.provisioner)) continue;
    let zone: string | undefined;
    let node: string | undefined;
    if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
      const consumer = pods.find((p) => p.metadata?.namespace === m.namespace && p.spec?.nodeName && claimsOf(p).includes(m.name!));
      if (!consumer) {
        await noteOnce(ctx, pvc, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
        continue;
      }
      node = consumer.spec.nodeName;
      zone = nodes.get(node!)?.metadata?.labels?.['topology.kubernetes.io/zone'];
    } else {
      zone = [...nodes.values()].map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone']).find(Boolean);
    }
    installed ??= driverInstalled(ctx);
    if (!installed) {
      await noteOnce(ctx, pvc, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${EBS_CSI_DRIVER}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
      continue;
    }
    await provision(ctx, pvc, sc, zone, node);
  }
}

/** ebsVolumeId is the EC2 volume id behind an EBS PV (csi volumeHandle, or the in-tree `aws://<zone>/<vol>`), or undefined. */
export function ebsVolumeId(pv: KObject): string | undefined {
  if (pv.spec?.csi?.driver === EBS_CSI_DRIVER) return pv.spec.csi.volumeHandle;
  const intree: string | undefined = pv.spec?.awsElasticBlockStore?.volumeID;
  return intree ? intree.slice(intree.lastIndexOf('/') + 1) : undefined;
}

/** Deletes the EC2 volume of a provisioned Delete PV; false while it cannot be deleted yet (attached). */
async function deleteBackingVolume(ctx: ControllerContext, pv: KObject): Promise<boolean> {
  const by = pv.metadata?.annotations?.['pv.kubernetes.io/provisioned-by'];
  const id = ebsVolumeId(pv);
  if (!id || !by || !EBS_PROVISIONERS.has(by)) return true;
  try {
    await deleteVolume(ctx.deps, scopeOfCluster(ctx.info), id);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'InvalidVolume.NotFound') return true;
    await warnEvery(ctx, { apiVersion: 'v1', kind: 'PersistentVolume', ...pv }, 'VolumeFailedDelete', `rpc error: code = Internal desc = Could not delete volume ID "${id}": ${(e as Error).message}`, `${EBS_CSI_DRIVER}_ebs-csi-controller`);
    ctx.wake(ctx.nowMs + 1000);
    return false;
  }
}

/** The EC2 volume for a claim: the one tagged CSIVolumeName=<pv> (an earlier attempt), or a new one. */
async function ec2VolumeFor(ctx: ControllerContext, pvc: KObject, sc: KObject, pvName: string, zone: string | undefined, sizeGiB: number): Promise<{ VolumeId: string; AvailabilityZone: string }> {
  const scope = scopeOfCluster(ctx.info);
  const existing = listVolumes(ctx.deps, scope, (v) => v.Tags.some((t: { Key: string; Value: string }) => t.Key === 'CSIVolumeName' && t.Value === pvName))[0];
  if (existing) return existing as { VolumeId: string; AvailabilityZone: string };
  const p: Record<string, string> = sc.parameters ?? {};
  const type = (p.type ?? (sc.provisioner === IN_TREE ? 'gp2' : 'gp3')).toLowerCase();
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const iops = num(p.iops ?? p.iopsPerGB) !== undefined ? (p.iops ? num(p.iops) : sizeGiB * num(p.iopsPerGB)!) : undefined;
  const tags = [
    { Key: 'CSIVolumeName', Value: pvName },
    { Key: 'ebs.csi.aws.com/cluster', Value: 'true' },
    { Key: 'kubernetes.io/created-for/pvc/name', Value: pvc.metadata!.name! },
    { Key: 'kubernetes.io/created-for/pvc/namespace', Value: pvc.metadata!.namespace! },
    { Key: 'kubernetes.io/created-for/pv/name', Value: pvName },
  ];
  for (const [k, v] of Object.entries(p)) {
    if (!/^tagSpecification_\d+$/i.test(k)) continue;
    const eq = v.indexOf('=');
    if (eq > 0) tags.push({ Key: v.slice(0, eq).trim(), Value: v.slice(eq + 1).trim() });
  }
  return createVolume(ctx.deps, scope, {
    AvailabilityZone: zone ?? `${ctx.info.region}a`,
    Size: sizeGiB,
    VolumeType: type,
    ...(iops !== undefined ? { Iops: iops } : {}),
    ...(num(p.throughput) !== undefined ? { Throughput: num(p.throughput) } : {}),
    ...(p.encrypted === 'true' ? { Encrypted: true } : {}),
    ...(p.kmsKeyId ? { KmsKeyId: p.kmsKeyId } : {}),
  }, tags) as Promise<{ VolumeId: string; AvailabilityZone: string }>;
}

async function provision(ctx: ControllerContext, pvc: KObject, sc: KObject, zone: string | undefined, node: string | undefined): Promise<void> {
  const { reg } = ctx;
  const pvcRes = reg.scheme.get('', 'v1', 'persistentvolumeclaims')!;
  const pvRes = reg.scheme.get('', 'v1', 'persistentvolumes')!;
  const m = pvc.metadata!;
  const pvName = `pvc-${m.uid}`;
  const size: string = pvc.spec?.resources?.requests?.storage ?? '1Gi';
  const accessModes: string[] = pvc.spec?.accessModes ?? ['ReadWriteOnce'];
  const fsType = sc.parameters?.['csi.storage.k8s.io/fstype'] ?? sc.parameters?.fsType ?? 'ext4';
  if (!reg.cache.get(reg.keyFor(pvRes, '', pvName))) {
    const sizeGiB = Math.max(1, Math.ceil(parseQuantity(size) / 2 ** 30));
    let vol: { VolumeId: string; AvailabilityZone: string };
    try {
      vol = await ec2VolumeFor(ctx, pvc, sc, pvName, zone, sizeGiB);
    } catch (e) {
      await noteOnce(ctx, pvc, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata!.name}": rpc error: code = Internal desc = Could not create volume "${pvName}": could not create volume in EC2: ${(e as Error).message}`, `${EBS_CSI_DRIVER}_ebs-csi-controller`);
      ctx.wake(ctx.nowMs + 1000);
      return;
    }
    const inTree = sc.provisioner === IN_TREE;
    const zoneKey = inTree ? 'topology.kubernetes.io/zone' : ZONE_KEY;
    const pv: KObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          'pv.kubernetes.io/provisioned-by': inTree ? IN_TREE : EBS_CSI_DRIVER,
          ...(inTree ? { 'pv.kubernetes.io/migrated-to': EBS_CSI_DRIVER } : {}),
          'volume.kubernetes.io/provisioner-deletion-secret-name': '',
          'volume.kubernetes.io/provisioner-deletion-secret-namespace': '',
        },
        finalizers: ['external-provisioner.volume.kubernetes.io/finalizer', 'kubernetes.io/pv-protection'],
      },
      spec: {
        capacity: { storage: size },
        accessModes,
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata!.name,
        volumeMode: pvc.spec?.volumeMode ?? 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: 'v1', resourceVersion: m.resourceVersion },
        ...(inTree
          ? { awsElasticBlockStore: { volumeID: `aws://${vol.AvailabilityZone}/${vol.VolumeId}`, fsType } }
          : { csi: { driver: EBS_CSI_DRIVER, volumeHandle: vol.VolumeId, fsType, volumeAttributes: { 'storage.kubernetes.io/csiProvisionerIdentity': `${ctx.info.createdAt ? Date.parse(ctx.info.createdAt) : 0}-8081-${EBS_CSI_DRIVER}` } } }),
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: zoneKey, operator: 'In', values: [vol.AvailabilityZone] }] }] } },
        ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      },
    };
    try {
      await reg.create(pvRes, '', pv, { fieldManager: 'csi-provisioner' });
    } catch (err) {
      ctx.log.warn({ err, pvc: m.name }, 'volume provisioning failed');
      return;
    }
    await reg.guaranteedUpdate(pvRes, '', pvName, (cur) => {
      if (!cur) throw new Error('gone');
      const next = structuredClone(cur);
      next.metadata!.resourceVersion = '';
      next.status = { phase: 'Bound' };
      return next;
    }, { ...MANAGER, subresource: 'status' }).catch(() => {});
  }
  await reg.guaranteedUpdate(pvcRes, m.namespace!, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('claim replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    next.spec.volumeName = pvName;
    next.metadata!.annotations = {
      ...(next.metadata!.annotations ?? {}),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      'volume.beta.kubernetes.io/storage-provisioner': EBS_CSI_DRIVER,
      'volume.kubernetes.io/storage-provisioner': EBS_CSI_DRIVER,
      ...(node ? { 'volume.kubernetes.io/selected-node': node } : {}),
    };
    const f: string[] = next.metadata!.finalizers ?? [];
    if (!f.includes('kubernetes.io/pvc-protection')) next.metadata!.finalizers = [...f, 'kubernetes.io/pvc-protection'];
    return next;
  }, MANAGER);
  await reg.guaranteedUpdate(pvcRes, m.namespace!, m.name!, (cur) => {
    if (!cur || cur.metadata?.uid !== m.uid) throw new Error('claim replaced');
    const next = structuredClone(cur);
    next.metadata!.resourceVersion = '';
    next.status = { phase: 'Bound', accessModes, capacity: { storage: size } };
    return next;
  }, { ...MANAGER, subresource: 'status' });
  await noteOnce(ctx, pvc, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`, `${EBS_CSI_DRIVER}_ebs-csi-controller`);
}

/** The EBS volume provisioner and PV reclaim (see the module comment). */
export const VOLUME_PROVISIONER: WorkloadController = {
  name: 'volume-provisioner',
  resources: ['persistentvolumeclaims', 'persistentvolumes', 'storage.k8s.io/storageclasses', 'storage.k8s.io/csidrivers'],
  sync: syncVolumes,
};
