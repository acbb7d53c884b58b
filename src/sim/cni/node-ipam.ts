/**
 * The VPC CNI's ipamd on one node, against EC2: it makes the instance's
 * ENIs hold the warm pool warm-pool.ts computes, with real EC2 calls, so
 * `aws ec2 describe-network-interfaces` shows the node's ENIs (description
 * `aws-K8S-<instance id>`, as ipamd names them) and the subnet's
 * AvailableIpAddressCount drops by what the node holds, not only by what
 * its pods use:
 *
 * - secondary-IP mode: secondary addresses on the primary ENI, then on
 *   extra ENIs ipamd creates and attaches (device index 1, 2, ...), up to
 *   the instance type's ENI limit and (IPv4 per ENI - 1) each;
 * - prefix delegation: the same, 16 addresses per /28 prefix (localeks
 *   assigns them as secondary addresses: the subnet count is the same, the
 *   addresses are not contiguous);
 * - shrinking gives back free addresses only (never one a pod uses), last
 *   ENI first, and deletes extra ENIs left empty.
 *
 * Everything a node holds is read back from EC2 on each reconcile, so the
 * pool survives a restart; a pod's address is known from its status.podIP.
 */
import type { AwsDeps } from '../../aws/core/deps.ts';
import type { Scope } from '../../aws/core/state.ts';
import {
  assignPrivateIpAddresses,
  attachNetworkInterface,
  createNetworkInterface,
  deleteNetworkInterface,
  describeInstance,
  detachNetworkInterface,
  getSubnet,
  unassignPrivateIpAddresses,
} from '../../aws/ec2/shared.ts';
import { type CniConfig, type EniLimits, targetHoldings } from './warm-pool.ts';

export interface NodeIpamRequest {
  deps: AwsDeps;
  scope: Scope;
  instanceId: string;
  /** The cluster name (tag cluster.k8s.amazonaws.com/name on the ENIs ipamd creates). */
  clusterName: string;
  cfg: CniConfig;
  limits: EniLimits;
  /** Addresses pods on the node use now. */
  assigned: ReadonlySet<string>;
  /** Pods waiting for an address on this node. */
  waiting: number;
}

interface Eni {
  id: string;
  attachmentId?: string;
  deviceIndex: number;
  subnetId: string;
  secondaries: string[];
}

function enisOf(instance: Record<string, any>): Eni[] {
  return ((instance.NetworkInterfaces ?? []) as any[])
    .map((n) => ({
      id: n.NetworkInterfaceId,
      attachmentId: n.Attachment?.AttachmentId,
      deviceIndex: n.Attachment?.DeviceIndex ?? 0,
      subnetId: n.SubnetId,
      secondaries: (n.PrivateIpAddresses ?? []).filter((p: any) => !p.Primary).map((p: any) => p.PrivateIpAddress),
    }))
    .sort((a, b) => a.deviceIndex - b.deviceIndex);
}

/**
 * reconcileNodeIps brings the node's ENIs to the warm pool for its assigned
 * plus waiting pods, and returns the addresses free for pods (held, not
 * assigned), at most what the subnet could give. Returns [] when the
 * instance is gone.
 */
export async function reconcileNodeIps(r: NodeIpamRequest): Promise<string[]> {
  const inst = describeInstance(r.deps, r.scope, r.instanceId);
  if (!inst || inst.State?.Name !== 'running') return [];
  const enis = enisOf(inst);
  if (enis.length === 0) return [];
  const perEni = Math.max(0, r.limits.ipv4PerEni - 1);
  const unit = r.cfg.prefixDelegation ? 16 : 1;
  const capPerEni = perEni * unit;
  const target = targetHoldings(r.cfg, r.limits, r.assigned.size + r.waiting);
  const held = enis.reduce((s, e) => s + e.secondaries.length, 0);
  const subnetId = enis[0]!.subnetId;
  if (held < target.podAddresses) {
    let need = target.podAddresses - held;
    for (const e of enis) {
      if (need <= 0) break;
      const room = capPerEni - e.secondaries.length;
      let n = Math.min(room, need);
      if (unit > 1) n -= n % unit;
      n = Math.min(n, getSubnet(r.deps.state, r.scope, e.subnetId)?.AvailableIpAddressCount ?? 0);
      if (n <= 0) continue;
      e.secondaries.push(...(await assignPrivateIpAddresses(r.deps.state, r.scope, e.id, n)));
      need -= n;
    }
    while (need > 0 && enis.length < Math.max(1, r.limits.maxEnis)) {
      const avail = getSubnet(r.deps.state, r.scope, subnetId)?.AvailableIpAddressCount ?? 0;
      let n = Math.min(capPerEni, need, avail - 1);
      if (unit > 1) n -= n % unit;
      if (n <= 0) break;
      const eni = await createNetworkInterface(r.deps.state, r.scope, {
        SubnetId: subnetId,
        Description: `aws-K8S-${r.instanceId}`,
        SecondaryPrivateIpAddressCount: n,
        Tags: [
          { Key: 'node.k8s.amazonaws.com/instance_id', Value: r.instanceId },
          { Key: 'cluster.k8s.amazonaws.com/name', Value: r.clusterName },
        ],
      });
      const deviceIndex = enis[enis.length - 1]!.deviceIndex + 1;
      const attachmentId = await attachNetworkInterface(r.deps.state, r.scope, eni.NetworkInterfaceId, r.instanceId, deviceIndex);
      enis.push({ id: eni.NetworkInterfaceId, attachmentId, deviceIndex, subnetId, secondaries: (eni.PrivateIpAddresses ?? []).filter((p: any) => !p.Primary).map((p: any) => p.PrivateIpAddress) });
      need -= n;
    }
  } else if (held > target.podAddresses) {
    let excess = held - target.podAddresses;
    if (unit > 1) excess -= excess % unit;
    for (const e of [...enis].reverse()) {
      if (excess <= 0) break;
      const free = e.secondaries.filter((ip) => !r.assigned.has(ip));
      let drop = free.slice(0, Math.min(excess, free.length));
      if (unit > 1) drop = drop.slice(0, drop.length - (drop.length % unit));
      if (drop.length === 0) continue;
      await unassignPrivateIpAddresses(r.deps.state, r.scope, e.id, drop);
      e.secondaries = e.secondaries.filter((ip) => !drop.includes(ip));
      excess -= drop.length;
    }
    for (const e of [...enis].reverse()) {
      if (enis.length <= target.enis || e.deviceIndex === 0 || e.secondaries.length > 0) continue;
      if (e.attachmentId) await detachNetworkInterface(r.deps.state, r.scope, e.attachmentId);
      await deleteNetworkInterface(r.deps.state, r.scope, e.id);
      enis.splice(enis.indexOf(e), 1);
    }
  }
  const out: string[] = [];
  for (const e of enis) for (const ip of e.secondaries) if (!r.assigned.has(ip)) out.push(ip);
  return out;
}
