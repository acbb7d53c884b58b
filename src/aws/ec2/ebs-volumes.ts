/**
 * EBS volumes made through the API (CreateVolume, and the EBS CSI driver of
 * EKS clusters through shared.ts): CreateVolume, DeleteVolume, AttachVolume,
 * DetachVolume, ModifyVolume and DescribeVolumesModifications, with EC2's
 * validation and errors. Instances' root volumes
 * are not stored here (volumes.ts derives them from the instances).
 *
 * A volume is one document in the model's `Volume` shape (type `volume`)
 * plus private members: `_readyAt` (simulated ms it leaves `creating`) and
 * `_attachments` (instance, device, the ms the attachment completes and,
 * once DetachVolume was called, the ms it is gone). State and attachment
 * states are computed from the clock, as instance states are: `creating` ->
 * `available` -> `in-use`, attachments `attaching` -> `attached` ->
 * `detaching`. An attachment to an instance that terminated is gone (EC2
 * detaches data volumes when their instance terminates; volumes attached
 * with AttachVolume do not delete on termination).
 */
import type { AwsDeps, TimingProfile } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate } from './filters.ts';
import { newId } from './ids.ts';
import { currentState } from './instances.ts';
import { findZone } from './regions.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { type Tag, tagsFor } from './tags.ts';

/** The store type of API-made volumes. */
const VOLUME = T.volume;

/** How long a volume is `creating`, an attachment `attaching` and `detaching` (simulated ms). */
const DELAYS: Record<TimingProfile, { create: number; attach: number; detach: number; modify: number; optimize: number }> = {
  instant: { create: 0, attach: 0, detach: 0, modify: 0, optimize: 0 },
  fast: { create: 100, attach: 100, detach: 100, modify: 100, optimize: 200 },
  realistic: { create: 4_000, attach: 5_000, detach: 5_000, modify: 10_000, optimize: 60_000 },
};

/** EBS allows one modification per volume every 6 hours. */
const MODIFICATION_INTERVAL_MS = 6 * 3_600_000;

function delaysOf(deps: Pick<AwsDeps, 'config'>) {
  return DELAYS[deps.config?.timingProfile ?? 'fast'] ?? DELAYS.fast;
}

/** Size limits in GiB per volume type. */
const SIZE_LIMITS: Record<string, [number, number]> = {
  standard: [1, 1024],
  gp2: [1, 16384],
  gp3: [1, 16384],
  io1: [4, 16384],
  io2: [4, 65536],
  st1: [125, 16384],
  sc1: [125, 16384],
};

interface StoredAttachment {
  InstanceId: string;
  Device: string;
  AttachTime: string;
  DeleteOnTermination: boolean;
  /** Simulated ms the attachment completes. */
  _at: number;
  /** Simulated ms the detachment completes (DetachVolume was called). */
  _detachAt?: number;
}

export const volumeNotFound = (id: string) => ec2Error('InvalidVolume.NotFound', `The volume '${id}' does not exist.`);

/** The attachments of a volume still in place at `now` (detached and terminated-instance ones dropped). */
function liveAttachments(store: Ec2Store, v: Doc, now: number): StoredAttachment[] {
  return ((v._attachments as StoredAttachment[] | undefined) ?? []).filter((a) => {
    if (a._detachAt !== undefined && now >= a._detachAt) return false;
    const i = store.get(T.instance, a.InstanceId);
    return !!i && currentState(i, now) !== 'terminated';
  });
}

/** volumeState is a volume's State as of now. */
export function volumeState(store: Ec2Store, v: Doc, now: number): string {
  if (now < (v._readyAt ?? 0)) return 'creating';
  return liveAttachments(store, v, now).length > 0 ? 'in-use' : 'available';
}

function attachmentView(v: Doc, a: StoredAttachment, now: number): Doc {
  const state = a._detachAt !== undefined ? 'detaching' : now < a._at ? 'attaching' : 'attached';
  return { AttachTime: new Date(a.AttachTime), Device: a.Device, InstanceId: a.InstanceId, State: state, VolumeId: v.VolumeId, DeleteOnTermination: a.DeleteOnTermination };
}

/** volumeView is the Volume shape of a stored volume as of now. */
export function volumeView(store: Ec2Store, v: Doc, now: number): Doc {
  const r = out(v);
  r.CreateTime = new Date(v.CreateTime);
  r.State = volumeState(store, v, now);
  r.Attachments = liveAttachments(store, v, now).map((a) => attachmentView(v, a, now));
  r.Tags ??= [];
  return r;
}

/** listStoredVolumes lists the API-made volumes of a store as of now. */
export function listStoredVolumes(deps: Pick<AwsDeps, 'clock'>, store: Ec2Store): Doc[] {
  const now = deps.clock.nowMs();
  return store.list(VOLUME).map((v) => volumeView(store, v, now));
}

/** The CreateVolume members localeks reads (CreateVolumeRequest). */
export interface CreateVolumeSpec {
  AvailabilityZone?: string;
  AvailabilityZoneId?: string;
  Size?: number;
  SnapshotId?: string;
  VolumeType?: string;
  Iops?: number;
  Throughput?: number;
  Encrypted?: boolean;
  KmsKeyId?: string;
  MultiAttachEnabled?: boolean;
  TagSpecifications?: { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[];
}

/** createVolumeIn validates and stores a new volume (CreateVolume); `extraTags` may use reserved keys (callers inside localeks). */
export async function createVolumeIn(deps: AwsDeps, store: Ec2Store, input: CreateVolumeSpec, extraTags: Tag[] = []): Promise<Doc> {
  const region = store.scope.region;
  if (input.AvailabilityZone !== undefined && input.AvailabilityZoneId !== undefined) {
    throw E.combination('Only one of availabilityZone or availabilityZoneId may be specified.');
  }
  const want = input.AvailabilityZone ?? input.AvailabilityZoneId;
  if (want === undefined) throw E.missing('AvailabilityZone');
  const zone = findZone(region, want);
  if (!zone) throw E.param(`Invalid availability zone: [${want}]`);
  if (input.SnapshotId !== undefined) throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
  if (input.Size === undefined) throw E.missing('size/snapshotId');
  const type = input.VolumeType ?? 'gp2';
  const limits = SIZE_LIMITS[type];
  if (!limits) throw E.param(`Value (${type}) for parameter volumeType is invalid. Valid values are: ${Object.keys(SIZE_LIMITS).join(', ')}.`);
  const size = input.Size;
  if (size < limits[0]) throw E.param(`Volume of size ${size}GiB is too small; minimum is ${limits[0]}GiB.`);
  if (size > limits[1]) throw E.param(`Volume of ${size}GiB is too large; maximum is ${limits[1]}GiB.`);
  let iops: number | undefined;
  if (type === 'io1' || type === 'io2') {
    if (input.Iops === undefined) throw E.missing('iops');
    iops = input.Iops;
  } else if (type === 'gp3') {
    iops = input.Iops ?? 3000;
    if (iops < 3000 || iops > 16000) throw E.param(`Value (${iops}) for parameter iops is invalid. Expected a value between 3000 and 16000.`);
  } else {
    if (input.Iops !== undefined) throw E.combination(`The parameter iops is not supported for ${type} volumes.`);
    if (type === 'gp2') iops = Math.min(16000, Math.max(100, size * 3));
  }
  if (input.Throughput !== undefined && type !== 'gp3') throw E.combination(`The parameter throughput is not supported for ${type} volumes.`);
  const throughput = type === 'gp3' ? (input.Throughput ?? 125) : undefined;
  if (throughput !== undefined && (throughput < 125 || throughput > 1000)) throw E.param(`Value (${throughput}) for parameter throughput is invalid. Expected a value between 125 and 1000.`);
  if (input.MultiAttachEnabled && type !== 'io1' && type !== 'io2') throw E.combination('The parameter multiAttachEnabled is only supported for io1 and io2 volumes.');
  const tags = [...tagsFor(input.TagSpecifications, 'volume'), ...extraTags];
  const now = deps.clock.nowMs();
  const id = newId('vol');
  const doc: Doc = {
    VolumeId: id,
    Size: size,
    VolumeType: type,
    ...(iops !== undefined ? { Iops: iops } : {}),
    ...(throughput !== undefined ? { Throughput: throughput } : {}),
    Encrypted: !!input.Encrypted || input.KmsKeyId !== undefined,
    ...(input.KmsKeyId ? { KmsKeyId: input.KmsKeyId } : {}),
    AvailabilityZone: zone.ZoneName,
    AvailabilityZoneId: zone.ZoneId,
    CreateTime: new Date(deps.clock.now()).toISOString(),
    SnapshotId: '',
    MultiAttachEnabled: !!input.MultiAttachEnabled,
    Tags: tags,
    _readyAt: now + delaysOf(deps).create,
    _attachments: [],
  };
  await store.commit([store.put(VOLUME, id, doc)]);
  return volumeView(store, doc, now);
}

const DEVICE = /^\/dev\/(sd[a-z]\d*|xvd[a-z]{1,2}|hd[a-z])$/;

/** The devices in use on an instance: its root device and the devices of volumes attached to it. */
function devicesOf(store: Ec2Store, instanceId: string, now: number): Set<string> {
  const used = new Set<string>();
  const i = store.get(T.instance, instanceId);
  for (const b of (i?.BlockDeviceMappings as Doc[] | undefined) ?? []) used.add(b.DeviceName);
  for (const v of store.list(VOLUME)) for (const a of liveAttachments(store, v, now)) if (a.InstanceId === instanceId) used.add(a.Device);
  return used;
}

/** freeDevice picks the first free device name of the form the EBS CSI driver uses (/dev/xvdaa, /dev/xvdab, ...). */
function freeDevice(used: Set<string>): string {
  for (const a of 'abcdefghijklmnopqrstuvwxyz') {
    for (const b of 'abcdefghijklmnopqrstuvwxyz') {
      const d = `/dev/xvd${a}${b}`;
      if (!used.has(d)) return d;
    }
  }
  throw ec2Error('AttachmentLimitExceeded', 'The maximum number of volume attachments has been reached for this instance.');
}

/** attachVolumeIn attaches a volume to an instance (AttachVolume); no device: the first free /dev/xvdXX. */
export function attachVolumeIn(deps: AwsDeps, store: Ec2Store, volumeId: string, instanceId: string, device?: string): Promise<Doc> {
  return store.exclusive(async () => {
    const now = deps.clock.nowMs();
    const cur = store.get(VOLUME, volumeId);
    if (!cur) throw volumeNotFound(volumeId);
    const inst = store.get(T.instance, instanceId);
    const istate = inst && currentState(inst, now);
    if (!inst || istate === 'terminated') throw E.instance(instanceId);
    const state = volumeState(store, cur, now);
    if (state === 'creating') throw ec2Error('IncorrectState', `Volume '${volumeId}' is in the 'creating' state.`);
    const live = liveAttachments(store, cur, now);
    if (live.some((a) => a.InstanceId === instanceId) || (live.length > 0 && !cur.MultiAttachEnabled)) throw ec2Error('VolumeInUse', `${volumeId} is already attached to an instance`);
    if (inst.Placement?.AvailabilityZone !== cur.AvailabilityZone) {
      throw ec2Error('InvalidVolume.ZoneMismatch', `The volume '${volumeId}' is not in the same availability zone as instance '${instanceId}'`);
    }
    if (istate !== 'running' && istate !== 'stopped') throw ec2Error('IncorrectState', `Instance '${instanceId}' is not 'running'.`);
    const used = devicesOf(store, instanceId, now);
    const dev = device ?? freeDevice(used);
    if (used.has(dev)) throw E.param(`Attachment point ${dev} is already in use`);
    if (!DEVICE.test(dev)) throw E.param(`Value (${dev}) for parameter device is invalid. ${dev} is not a valid EBS device name.`);
    const v = clone(cur);
    const a: StoredAttachment = { InstanceId: instanceId, Device: dev, AttachTime: new Date(deps.clock.now()).toISOString(), DeleteOnTermination: false, _at: now + delaysOf(deps).attach };
    v._attachments = [...live, a];
    await store.commit([store.put(VOLUME, volumeId, v)]);
    return attachmentView(v, a, now);
  });
}

/** detachVolumeIn starts detaching a volume (DetachVolume); `instanceId`/`device`, when given, must match the attachment. */
export function detachVolumeIn(deps: AwsDeps, store: Ec2Store, volumeId: string, opts: { instanceId?: string; device?: string } = {}): Promise<Doc> {
  return store.exclusive(async () => {
    const now = deps.clock.nowMs();
    const cur = store.get(VOLUME, volumeId);
    if (!cur) throw volumeNotFound(volumeId);
    const live = liveAttachments(store, cur, now);
    const active = live.filter((a) => a._detachAt === undefined);
    if (active.length === 0) {
      if (opts.instanceId) throw ec2Error('InvalidAttachment.NotFound', `Volume ${volumeId} can not be detached from ${opts.instanceId} because it is not attached`);
      throw ec2Error('IncorrectState', `Volume '${volumeId}' is in the '${volumeState(store, cur, now)}' state.`);
    }
    const a = opts.instanceId ? active.find((x) => x.InstanceId === opts.instanceId) : active[0];
    if (!a) throw ec2Error('InvalidAttachment.NotFound', `Volume ${volumeId} can not be detached from ${opts.instanceId} because it is not attached`);
    if (opts.device !== undefined && opts.device !== a.Device) {
      throw ec2Error('InvalidAttachment.NotFound', `The volume ${volumeId} is not attached to instance ${a.InstanceId} as device ${opts.device}`);
    }
    const v = clone(cur);
    const d = delaysOf(deps).detach;
    const changed: StoredAttachment = { ...a, _detachAt: now + d };
    v._attachments = live.map((x) => (x === a ? changed : x)).filter((x) => d > 0 || x !== changed);
    await store.commit([store.put(VOLUME, volumeId, v)]);
    return attachmentView(v, changed, now);
  });
}

/** deleteVolumeIn deletes a volume that is not attached (DeleteVolume). */
export function deleteVolumeIn(deps: AwsDeps, store: Ec2Store, volumeId: string): Promise<void> {
  return store.exclusive(async () => {
    const now = deps.clock.nowMs();
    const cur = store.get(VOLUME, volumeId);
    if (!cur) throw volumeNotFound(volumeId);
    const live = liveAttachments(store, cur, now);
    if (live.length > 0) throw ec2Error('VolumeInUse', `Volume ${volumeId} is currently attached to ${live[0]!.InstanceId}`);
    await store.commit([store.del(VOLUME, volumeId)]);
  });
}

interface StoredModification {
  VolumeId: string;
  TargetSize: number;
  TargetVolumeType: string;
  TargetIops?: number;
  TargetThroughput?: number;
  TargetMultiAttachEnabled: boolean;
  OriginalSize: number;
  OriginalVolumeType: string;
  OriginalIops?: number;
  OriginalThroughput?: number;
  OriginalMultiAttachEnabled: boolean;
  StartTime: string;
  _start: number;
  _optimizingAt: number;
  _completedAt: number;
}

/** modificationView is the VolumeModification shape as of now (modifying -> optimizing -> completed). */
function modificationView(m: StoredModification, now: number): Doc {
  const state = now >= m._completedAt ? 'completed' : now >= m._optimizingAt ? 'optimizing' : 'modifying';
  const span = Math.max(1, m._completedAt - m._start);
  const r: Doc = { ...out(m as unknown as Doc), ModificationState: state, StartTime: new Date(m.StartTime), Progress: state === 'completed' ? 100 : Math.min(99, Math.floor(((now - m._start) * 100) / span)) };
  if (state === 'completed') r.EndTime = new Date(m._completedAt);
  return r;
}

/**
 * modifyVolumeIn changes a volume's size, type, IOPS or throughput
 * (ModifyVolume): the volume shows its new configuration at once and the
 * modification goes modifying -> optimizing -> completed on the clock. A
 * smaller size is refused, and so is a second modification within 6 hours
 * (VolumeModificationRateExceeded), as EBS does.
 */
export function modifyVolumeIn(deps: AwsDeps, store: Ec2Store, input: { VolumeId: string; Size?: number; VolumeType?: string; Iops?: number; Throughput?: number; MultiAttachEnabled?: boolean }): Promise<Doc> {
  return store.exclusive(async () => {
    const now = deps.clock.nowMs();
    const cur = store.get(VOLUME, input.VolumeId);
    if (!cur) throw volumeNotFound(input.VolumeId);
    const last = (cur._modifications as StoredModification[] | undefined)?.at(-1);
    if (last && now - last._start < MODIFICATION_INTERVAL_MS) {
      throw ec2Error('VolumeModificationRateExceeded', "You've reached the maximum modification rate per volume limit. Wait at least 6 hours between modifications per EBS volume.");
    }
    const type = input.VolumeType ?? cur.VolumeType;
    const size = input.Size ?? cur.Size;
    if (size < cur.Size) throw E.param('New size cannot be smaller than existing size');
    const limits = SIZE_LIMITS[type];
    if (!limits) throw E.param(`Value (${type}) for parameter volumeType is invalid. Valid values are: ${Object.keys(SIZE_LIMITS).join(', ')}.`);
    if (size > limits[1]) throw E.param(`Volume of ${size}GiB is too large; maximum is ${limits[1]}GiB.`);
    if (size < limits[0]) throw E.param(`Volume of size ${size}GiB is too small; minimum is ${limits[0]}GiB.`);
    let iops: number | undefined;
    if (type === 'io1' || type === 'io2') iops = input.Iops ?? cur.Iops;
    else if (type === 'gp3') iops = input.Iops ?? (cur.VolumeType === 'gp3' ? cur.Iops : 3000);
    else {
      if (input.Iops !== undefined) throw E.combination(`The parameter iops is not supported for ${type} volumes.`);
      if (type === 'gp2') iops = Math.min(16000, Math.max(100, size * 3));
    }
    if (iops === undefined && (type === 'io1' || type === 'io2')) throw E.missing('iops');
    if (input.Throughput !== undefined && type !== 'gp3') throw E.combination(`The parameter throughput is not supported for ${type} volumes.`);
    const throughput = type === 'gp3' ? (input.Throughput ?? (cur.VolumeType === 'gp3' ? cur.Throughput : 125)) : undefined;
    const d = delaysOf(deps);
    const m: StoredModification = {
      VolumeId: cur.VolumeId,
      TargetSize: size,
      TargetVolumeType: type,
      ...(iops !== undefined ? { TargetIops: iops } : {}),
      ...(throughput !== undefined ? { TargetThroughput: throughput } : {}),
      TargetMultiAttachEnabled: input.MultiAttachEnabled ?? !!cur.MultiAttachEnabled,
      OriginalSize: cur.Size,
      OriginalVolumeType: cur.VolumeType,
      ...(cur.Iops !== undefined ? { OriginalIops: cur.Iops } : {}),
      ...(cur.Throughput !== undefined ? { OriginalThroughput: cur.Throughput } : {}),
      OriginalMultiAttachEnabled: !!cur.MultiAttachEnabled,
      StartTime: new Date(deps.clock.now()).toISOString(),
      _start: now,
      _optimizingAt: now + d.modify,
      _completedAt: now + d.modify + d.optimize,
    };
    const v = clone(cur);
    v.Size = size;
    v.VolumeType = type;
    if (iops !== undefined) v.Iops = iops;
    else delete v.Iops;
    if (throughput !== undefined) v.Throughput = throughput;
    else delete v.Throughput;
    v.MultiAttachEnabled = m.TargetMultiAttachEnabled;
    v._modifications = [...((cur._modifications as StoredModification[] | undefined) ?? []), m].slice(-10);
    await store.commit([store.put(VOLUME, cur.VolumeId, v)]);
    return modificationView(m, now);
  });
}

/** listModifications returns every volume's modifications (VolumeModification shapes as of now). */
export function listModifications(deps: Pick<AwsDeps, 'clock'>, store: Ec2Store): Doc[] {
  const now = deps.clock.nowMs();
  return store.list(VOLUME).flatMap((v) => ((v._modifications as StoredModification[] | undefined) ?? []).map((m) => modificationView(m, now)));
}

/** The EC2 operations on API-made volumes. DescribeVolumes is in volumes.ts. */
export function ebsVolumeOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  return {
    CreateVolume(input: CreateVolumeSpec, ctx: RequestContext) {
      return createVolumeIn(deps, st(ctx), input);
    },
    async DeleteVolume(input: { VolumeId: string }, ctx: RequestContext) {
      await deleteVolumeIn(deps, st(ctx), input.VolumeId);
      return {};
    },
    AttachVolume(input: { VolumeId: string; InstanceId: string; Device: string }, ctx: RequestContext) {
      return attachVolumeIn(deps, st(ctx), input.VolumeId, input.InstanceId, input.Device);
    },
    DetachVolume(input: { VolumeId: string; InstanceId?: string; Device?: string }, ctx: RequestContext) {
      return detachVolumeIn(deps, st(ctx), input.VolumeId, { instanceId: input.InstanceId, device: input.Device });
    },
    async ModifyVolume(input: { VolumeId: string; Size?: number; VolumeType?: string; Iops?: number; Throughput?: number; MultiAttachEnabled?: boolean }, ctx: RequestContext) {
      return { VolumeModification: await modifyVolumeIn(deps, st(ctx), input) };
    },
    DescribeVolumesModifications(input: { VolumeIds?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      for (const id of input.VolumeIds ?? []) if (!store.get(VOLUME, id)) throw volumeNotFound(id);
      let rows = listModifications(deps, store);
      if (input.VolumeIds?.length) rows = rows.filter((r) => input.VolumeIds!.includes(r.VolumeId));
      const match = compileFilters(input.Filters, {
        'volume-id': (d) => d.VolumeId,
        'modification-state': (d) => d.ModificationState,
        'target-size': (d) => d.TargetSize,
        'target-volume-type': (d) => d.TargetVolumeType,
        'target-iops': (d) => d.TargetIops,
        'original-size': (d) => d.OriginalSize,
        'original-volume-type': (d) => d.OriginalVolumeType,
        'start-time': (d) => d.StartTime,
      });
      const { page, NextToken } = paginate(rows.filter(match), input.MaxResults, input.NextToken);
      return { VolumesModifications: page, NextToken };
    },
  };
}
