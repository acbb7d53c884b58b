/**
 * What an EKS node reports as capacity and allocatable, from its instance
 * type. The EKS optimized AMIs' bootstrap computes the kubelet's
 * kube-reserved from the instance size (awslabs/amazon-eks-ami):
 *   cpu: 6% of the first core, 1% of the second, 0.5% of cores 3-4 and
 *        0.25% of every core beyond 4;
 *   memory: 255 MiB + 11 MiB per pod the node may run (max pods);
 *   ephemeral-storage: 1 GiB;
 * and sets eviction-hard memory.available<100Mi, nodefs.available<10%.
 * So an m5.large (2 vCPU, 29 pods) has 1930m allocatable CPU.
 *
 * Memory capacity is what the kernel reports (MemTotal), a little below the
 * instance's nominal memory: the factor below matches what EKS nodes show
 * (an m5.large reports about 7.6 GiB of its 8 GiB).
 */
import { formatMilliCpu } from '../../kube/api/quantity.ts';

/** The instance type facts the node needs (EC2 DescribeInstanceTypes). */
export interface InstanceShape {
  vcpus: number;
  memoryMiB: number;
  maxPods: number;
  /** Root volume size in GiB (node group diskSize, default 20). */
  diskGiB: number;
  architecture?: 'amd64' | 'arm64';
  gpus?: number;
}

const MEMTOTAL_FACTOR = 0.953;

/** kubeReservedMilliCpu: the EKS AMI formula. */
export function kubeReservedMilliCpu(vcpus: number): number {
  let r = 0;
  for (let core = 1; core <= vcpus; core++) {
    if (core === 1) r += 60;
    else if (core === 2) r += 10;
    else if (core <= 4) r += 5;
    else r += 2.5;
  }
  return Math.round(r);
}

export function kubeReservedMemoryMiB(maxPods: number): number {
  return 255 + 11 * maxPods;
}

export interface NodeResources {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
}

/** nodeResources computes status.capacity and status.allocatable as the kubelet on an EKS AMI reports them. */
export function nodeResources(shape: InstanceShape): NodeResources {
  const cpuMilli = shape.vcpus * 1000;
  const memKi = Math.floor(shape.memoryMiB * MEMTOTAL_FACTOR) * 1024;
  const diskKi = shape.diskGiB * 1024 * 1024;
  const allocCpu = cpuMilli - kubeReservedMilliCpu(shape.vcpus);
  const allocMemKi = memKi - (kubeReservedMemoryMiB(shape.maxPods) + 100) * 1024;
  // nodefs.available<10% plus 1Gi kube-reserved ephemeral storage.
  const allocDiskBytes = Math.floor(diskKi * 1024 * 0.9) - 2 ** 30;
  const capacity: Record<string, string> = {
    cpu: String(shape.vcpus),
    'ephemeral-storage': `${diskKi}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memKi}Ki`,
    pods: String(shape.maxPods),
  };
  const allocatable: Record<string, string> = {
    cpu: formatMilliCpu(allocCpu),
    'ephemeral-storage': String(allocDiskBytes),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${allocMemKi}Ki`,
    pods: String(shape.maxPods),
  };
  if (shape.gpus) {
    capacity['nvidia.com/gpu'] = String(shape.gpus);
    allocatable['nvidia.com/gpu'] = String(shape.gpus);
  }
  return { capacity, allocatable };
}
