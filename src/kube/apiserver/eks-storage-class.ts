import type { KObject } from '../api/types.ts';
import type { ClusterInfo } from '../types.ts';

/**
 * The `gp2` StorageClass EKS applies to every new cluster (in-tree
 * kubernetes.io/aws-ebs provisioner, migrated to the EBS CSI driver when it
 * is installed; WaitForFirstConsumer). Clusters created at Kubernetes 1.30 or
 * later no longer get the `storageclass.kubernetes.io/is-default-class`
 * annotation on it (EKS 1.30 release notes), so claims without a class stay
 * Pending there unless a default class is added. Created at the cluster's
 * first bootstrap only, like the default add-ons: once deleted it stays so.
 */
export function eksGp2StorageClass(cluster: Pick<ClusterInfo, 'kubernetesVersion'>): KObject {
  const minor = Number(String(cluster.kubernetesVersion).split('.')[1] ?? 0);
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'gp2', ...(minor < 30 ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    provisioner: 'kubernetes.io/aws-ebs',
    parameters: { fsType: 'ext4', type: 'gp2' },
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}
