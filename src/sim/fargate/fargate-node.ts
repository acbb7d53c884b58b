/**
 * The Node a Fargate micro-VM registers for its one pod, as EKS shows it:
 * named `fargate-ip-<a-b-c-d>.<region's private DNS domain>` after the
 * pod's address in one of the profile's subnets, with the
 * eks.amazonaws.com/compute-type=fargate label and NoSchedule taint (so
 * nothing else lands there), capacity of the provisioned size, one pod,
 * and the cluster's kubelet version. Pure.
 */
import { createHash } from 'node:crypto';
import type { KObject } from '../../kube/api/types.ts';
import { kubeletVersion } from '../controllers/node-object.ts';
import type { FargateSize } from './fargate.ts';

export const COMPUTE_TYPE_LABEL = 'eks.amazonaws.com/compute-type';

/** Node annotation: the subnet the node's address came from (to return it when the node goes). */
export const FARGATE_SUBNET_ANNOTATION = 'sim.localeks.io/fargate-subnet';

/** fargateNodeName is the node name of a Fargate pod with address ip. */
export function fargateNodeName(ip: string, region: string): string {
  const domain = region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
  return `fargate-ip-${ip.replaceAll('.', '-')}.${domain}`;
}

export interface FargateNodeFacts {
  ip: string;
  subnetId: string;
  az: string;
  region: string;
  kubernetesVersion: string;
  size: FargateSize;
  podUid: string;
  /** Simulated now (ISO 8601, seconds). */
  now: string;
}

export function buildFargateNode(f: FargateNodeFacts): KObject {
  const name = fargateNodeName(f.ip, f.region);
  const kv = kubeletVersion(undefined, f.kubernetesVersion);
  const memKi = `${Math.floor(f.size.memoryBytes / 1024)}Ki`;
  const cpu = `${f.size.milliCpu}m`;
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, lastHeartbeatTime: f.now, lastTransitionTime: f.now, reason, message });
  const id = createHash('sha256').update(`fargate/${f.podUid}`).digest('hex');
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        [COMPUTE_TYPE_LABEL]: 'fargate',
        'failure-domain.beta.kubernetes.io/region': f.region,
        'failure-domain.beta.kubernetes.io/zone': f.az,
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/region': f.region,
        'topology.kubernetes.io/zone': f.az,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', [FARGATE_SUBNET_ANNOTATION]: f.subnetId },
    },
    spec: {
      providerID: `aws:///${f.az}/${id.slice(0, 10)}-${id.slice(10, 42)}/${name}`,
      taints: [{ key: COMPUTE_TYPE_LABEL, value: 'fargate', effect: 'NoSchedule' }],
    },
    status: {
      capacity: { cpu, memory: memKi, 'ephemeral-storage': '30787492Ki', pods: '1' },
      allocatable: { cpu, memory: memKi, 'ephemeral-storage': '28373752434', pods: '1' },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: f.ip },
        { type: 'InternalDNS', address: name },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: id.slice(0, 32),
        systemUUID: `ec2${id.slice(32, 61)}`,
        bootID: id.slice(0, 32).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
        kernelVersion: '5.10.228-219.884.amzn2.x86_64',
        osImage: 'Amazon Linux 2',
        containerRuntimeVersion: 'containerd://1.7.23',
        kubeletVersion: kv,
        kubeProxyVersion: kv,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}
