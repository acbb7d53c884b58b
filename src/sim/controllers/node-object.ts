/**
 * The Node object an EC2 instance of a managed node group registers as, the
 * way the kubelet on an EKS optimized AMI and the AWS cloud provider leave it:
 *
 * - name: the instance's private DNS name (ip-10-0-1-23.us-west-2.compute.internal);
 * - spec.providerID: aws:///<az>/<instance-id>, spec.taints: the node group's taints;
 * - labels: the well-known ones (kubernetes.io/hostname, arch, os, instance
 *   type, topology region/zone and their beta forms), the EKS ones
 *   (eks.amazonaws.com/nodegroup, capacityType, nodegroup-image,
 *   sourceLaunchTemplateId/Version) and the node group's labels;
 * - status: capacity/allocatable from src/sim/kubelet/node-resources.ts with
 *   EKS max pods, addresses (InternalIP, InternalDNS, Hostname), kubelet
 *   conditions and nodeInfo with the node group release's kubelet version
 *   (v1.31.2-eks-<hash>).
 *
 * Pure: buildNode(facts) -> KObject; the node lifecycle controller writes it.
 */
import { createHash } from 'node:crypto';
import type { KObject } from '../../kube/api/types.ts';
import { nodeResources } from '../kubelet/node-resources.ts';

/** What buildNode needs to know about one instance and its node group. */
export interface NodeFacts {
  /** EC2 Instance shape (DescribeInstances). */
  instance: Record<string, any>;
  /** EKS Nodegroup shape (DescribeNodegroup), as stored. */
  nodegroup: Record<string, any>;
  region: string;
  /** Cluster Kubernetes minor version ("1.31"). */
  kubernetesVersion: string;
  vcpus: number;
  memoryMiB: number;
  maxPods: number;
  /** 'x86_64' | 'arm64' (EC2 architecture). */
  architecture?: string;
  gpus?: number;
  /** Simulated now (ISO 8601, seconds precision). */
  now: string;
  /**
   * A self-managed node (bootstrap user data): no eks.amazonaws.com labels;
   * the nodegroup's labels and taints (Kubernetes effects) come from the kubelet flags.
   */
  selfManaged?: boolean;
}

/** EKS taint effects (NO_SCHEDULE) as Kubernetes spells them (NoSchedule). */
export function taintEffect(eks: string): string {
  switch (eks) {
    case 'NO_EXECUTE':
      return 'NoExecute';
    case 'PREFER_NO_SCHEDULE':
      return 'PreferNoSchedule';
    default:
      return 'NoSchedule';
  }
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 7);
}

/**
 * kubeletVersion as an EKS AMI's kubelet reports it: the release's
 * Kubernetes patch version with an -eks-<commit> suffix (v1.31.2-eks-94953ac).
 */
export function kubeletVersion(releaseVersion: string | undefined, kubernetesVersion: string): string {
  const m = /^(\d+\.\d+\.\d+)/.exec(releaseVersion ?? '');
  const patch = m && m[1]!.startsWith(`${kubernetesVersion}.`) ? m[1]! : `${kubernetesVersion}.0`;
  return `v${patch}-eks-${shortHash(patch)}`;
}

function tagOf(instance: Record<string, any>, key: string): string | undefined {
  return (instance.Tags ?? []).find((t: any) => t.Key === key)?.Value;
}

/** osImage / kernel / runtime the node group's AMI type reports. */
function osFacts(amiType: string): { osImage: string; kernelVersion: string; containerRuntimeVersion: string } {
  if (amiType.startsWith('AL2023')) return { osImage: 'Amazon Linux 2023.6.20241121', kernelVersion: '6.1.115-126.197.amzn2023.x86_64', containerRuntimeVersion: 'containerd://1.7.23' };
  if (amiType.startsWith('BOTTLEROCKET')) return { osImage: 'Bottlerocket OS 1.26.2 (aws-k8s-1.31)', kernelVersion: '6.1.112', containerRuntimeVersion: 'containerd://1.7.22+bottlerocket' };
  return { osImage: 'Amazon Linux 2', kernelVersion: '5.10.228-219.884.amzn2.x86_64', containerRuntimeVersion: 'containerd://1.7.23' };
}

/** nodeName is the Node name of an instance: its private DNS name. */
export function nodeNameOf(instance: Record<string, any>): string {
  return instance.PrivateDnsName || `ip-${String(instance.PrivateIpAddress ?? '0.0.0.0').replaceAll('.', '-')}.ec2.internal`;
}

/** buildNode is the Node (metadata, spec, status) the instance's kubelet registers. */
export function buildNode(f: NodeFacts): KObject {
  const i = f.instance;
  const ng = f.nodegroup;
  const name = nodeNameOf(i);
  const az: string = i.Placement?.AvailabilityZone ?? `${f.region}a`;
  const arch = f.architecture === 'arm64' || String(ng.amiType ?? '').includes('ARM') ? 'arm64' : 'amd64';
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/instance-type': i.InstanceType,
    'beta.kubernetes.io/os': 'linux',
    'eks.amazonaws.com/capacityType': ng.capacityType ?? 'ON_DEMAND',
    'eks.amazonaws.com/nodegroup': ng.nodegroupName,
    'eks.amazonaws.com/nodegroup-image': i.ImageId ?? '',
    'failure-domain.beta.kubernetes.io/region': f.region,
    'failure-domain.beta.kubernetes.io/zone': az,
    'k8s.io/cloud-provider-aws': shortHash(`${ng.clusterName}`).padEnd(32, '0'),
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': i.InstanceType,
    'topology.kubernetes.io/region': f.region,
    'topology.kubernetes.io/zone': az,
  };
  const ltId = tagOf(i, 'aws:ec2launchtemplate:id');
  const ltVersion = tagOf(i, 'aws:ec2launchtemplate:version');
  if (ltId) labels['eks.amazonaws.com/sourceLaunchTemplateId'] = ltId;
  if (ltVersion) labels['eks.amazonaws.com/sourceLaunchTemplateVersion'] = ltVersion;
  if (f.selfManaged) {
    for (const k of Object.keys(labels)) if (k.startsWith('eks.amazonaws.com/')) delete labels[k];
  }
  Object.assign(labels, ng.labels ?? {});
  const taints = (ng.taints ?? []).map((t: any) => ({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: f.selfManaged ? t.effect : taintEffect(t.effect) }));
  const res = nodeResources({ vcpus: f.vcpus, memoryMiB: f.memoryMiB, maxPods: f.maxPods, diskGiB: ng.diskSize ?? 20, gpus: f.gpus });
  const ip: string = i.PrivateIpAddress;
  const launched = i.LaunchTime instanceof Date ? i.LaunchTime.toISOString().replace(/\.\d+Z$/, 'Z') : String(i.LaunchTime ?? f.now).replace(/\.\d+Z$/, 'Z');
  const os = osFacts(String(ng.amiType ?? ''));
  // The kubelet of the AMI this instance booted: a node keeps it through control plane upgrades and until a node group update replaces it.
  const ami = ng._tx?.patch?._amiVersions?.[i.ImageId] ?? ng._amiVersions?.[i.ImageId] ?? { version: ng.version, releaseVersion: ng.releaseVersion };
  const kv = kubeletVersion(ami.releaseVersion, ami.version ?? f.kubernetesVersion);
  // EKS 1.30 release notes: worker nodes carry their Availability Zone ID.
  const zoneId: string | undefined = i.Placement?.AvailabilityZoneId;
  if (zoneId && Number(/^v1\.(\d+)\./.exec(kv)?.[1] ?? 0) >= 30) labels['topology.k8s.aws/zone-id'] = zoneId;
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: f.now, lastTransitionTime: launched, reason, message });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels,
      annotations: {
        'alpha.kubernetes.io/provided-node-ip': ip,
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { providerID: `aws:///${az}/${i.InstanceId}`, ...(taints.length > 0 ? { taints } : {}) },
    status: {
      capacity: res.capacity,
      allocatable: res.allocatable,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'InternalDNS', address: name },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: createHash('md5').update(`machine/${i.InstanceId}`).digest('hex'),
        systemUUID: `ec2${createHash('md5').update(`uuid/${i.InstanceId}`).digest('hex').slice(3)}`,
        bootID: createHash('md5').update(`boot/${i.InstanceId}/${launched}`).digest('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
        kernelVersion: os.kernelVersion,
        osImage: os.osImage,
        containerRuntimeVersion: os.containerRuntimeVersion,
        kubeletVersion: kv,
        kubeProxyVersion: kv,
        operatingSystem: 'linux',
        architecture: arch,
      },
    },
  };
}
