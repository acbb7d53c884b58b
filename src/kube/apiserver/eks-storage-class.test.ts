import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eksGp2StorageClass } from './eks-storage-class.ts';

test('gp2 is the default StorageClass below Kubernetes 1.30 only', () => {
  assert.equal(eksGp2StorageClass({ kubernetesVersion: '1.29' }).metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'], 'true');
  for (const v of ['1.30', '1.31', '1.35']) assert.equal(eksGp2StorageClass({ kubernetesVersion: v }).metadata?.annotations, undefined, v);
  const sc = eksGp2StorageClass({ kubernetesVersion: '1.31' });
  assert.equal(sc.provisioner, 'kubernetes.io/aws-ebs');
  assert.equal(sc.volumeBindingMode, 'WaitForFirstConsumer');
  assert.deepEqual(sc.parameters, { fsType: 'ext4', type: 'gp2' });
});
