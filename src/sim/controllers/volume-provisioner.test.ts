/**
 * EBS provisioning against a memory-store registry: a missing class, a
 * driver that is not installed, Immediate binding in a node's zone, and the
 * reclaim of a Delete volume when its claim goes; the EC2 volume behind the
 * PV (created with the driver's tags, deleted with the PV).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { AwsState } from '../../aws/core/state.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { createEc2Provider } from '../../aws/ec2/provider.ts';
import { describeVolume } from '../../aws/ec2/shared.ts';
import { SimClock } from '../clock.ts';
import { Scheme } from '../../kube/api/scheme.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { bootstrapCluster } from '../../kube/apiserver/bootstrap.ts';
import { ClusterRegistry } from '../../kube/apiserver/registry/generic-store.ts';
import { syncVolumes } from './volume-provisioner.ts';
import type { ControllerContext } from './workload-controllers.ts';

const cluster: ClusterInfo = {
  uid: 'vp', name: 'c', endpointId: 'c', accountId: '111122223333', region: 'us-east-1', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const backend = new MemoryBackend();
const clock = new SimClock();
const scheme = new Scheme();
const reg = new ClusterRegistry({ backend, clock, cluster, scheme });
const R = (g: string, r: string) => scheme.preferred(g, r)!;
const state = new AwsState(new MemoryBackend());
const deps = {
  state, clock, log: pino({ level: 'silent' }),
  config: { defaultAccountId: '000000000000', enforceIam: false, referenceChecks: true, timingProfile: 'instant', awsEndpoint: '', kubeEndpoint: '', caCertPem: '' },
} as AwsDeps;
createEc2Provider(deps);
const scope = { accountId: '111122223333', region: 'us-east-1' };

async function pass(): Promise<void> {
  await reg.fresh();
  const ctx: ControllerContext = { reg, info: cluster, deps, clock, nowMs: clock.nowMs(), wake() {}, log: { info() {}, warn() {} } };
  await syncVolumes(ctx);
  await reg.fresh();
}

const pvc = (name: string, sc: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { storageClassName: sc, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } } } });
const get = (r: string, ns: string, name: string): any => reg.cache.get(reg.keyFor(R(r.includes('/') ? r.split('/')[0]! : '', r.includes('/') ? r.split('/')[1]! : r), ns, name))?.obj;
const eventReasons = (name: string) => reg.cache.list('events', 'default').map((e) => e.obj).filter((e) => e.involvedObject?.name === name).map((e) => e.reason);

before(async () => {
  await state.start();
  await bootstrapCluster(backend, cluster);
  await reg.create(R('', 'nodes'), '', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'us-east-1a' } } });
  await reg.create(R('storage.k8s.io', 'storageclasses'), '', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'Immediate', parameters: { type: 'gp3', 'csi.storage.k8s.io/fstype': 'xfs' } });
});
after(async () => {
  state.stop();
  reg.cache.close();
  await backend.close();
});

describe('EBS volume provisioning', () => {
  it('a claim of a class that does not exist gets ProvisioningFailed and stays Pending', async () => {
    await reg.create(R('', 'persistentvolumeclaims'), 'default', pvc('nope', 'missing'));
    await pass();
    assert.equal(get('persistentvolumeclaims', 'default', 'nope').status.phase, 'Pending');
    assert.deepEqual(eventReasons('nope'), ['ProvisioningFailed']);
  });

  it('waits for the driver, then provisions in a node\'s zone and binds', async () => {
    await reg.create(R('', 'persistentvolumeclaims'), 'default', pvc('data', 'fast'));
    await pass();
    await pass();
    assert.equal(get('persistentvolumeclaims', 'default', 'data').status.phase, 'Pending');
    assert.deepEqual(eventReasons('data'), ['ExternalProvisioning'], 'recorded once');
    await reg.create(R('storage.k8s.io', 'csidrivers'), '', { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'ebs.csi.aws.com' }, spec: {} });
    await pass();
    const c = get('persistentvolumeclaims', 'default', 'data');
    assert.equal(c.status.phase, 'Bound');
    assert.deepEqual(c.status.capacity, { storage: '5Gi' });
    const pv = get('persistentvolumes', '', c.spec.volumeName);
    assert.equal(pv.status.phase, 'Bound');
    assert.equal(pv.spec.csi.fsType, 'xfs');
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['us-east-1a']);
    const vol = describeVolume(deps, scope, pv.spec.csi.volumeHandle)!;
    assert.deepEqual([vol.AvailabilityZone, vol.Size, vol.VolumeType, vol.State], ['us-east-1a', 5, 'gp3', 'available']);
    const tags = Object.fromEntries(vol.Tags.map((t: any) => [t.Key, t.Value]));
    assert.deepEqual(tags, { CSIVolumeName: pv.metadata.name, 'ebs.csi.aws.com/cluster': 'true', 'kubernetes.io/created-for/pvc/name': 'data', 'kubernetes.io/created-for/pvc/namespace': 'default', 'kubernetes.io/created-for/pv/name': pv.metadata.name });
    assert.ok(eventReasons('data').includes('ProvisioningSucceeded'));
  });

  it('deleting the claim deletes its Delete volume', async () => {
    const name = get('persistentvolumeclaims', 'default', 'data').spec.volumeName;
    const volumeId = get('persistentvolumes', '', name).spec.csi.volumeHandle;
    await reg.delete(R('', 'persistentvolumeclaims'), 'default', 'data');
    await pass();
    await pass();
    assert.equal(get('persistentvolumeclaims', 'default', 'data'), undefined, 'pvc-protection released: no pod uses it');
    await pass();
    assert.equal(get('persistentvolumes', '', name), undefined);
    assert.equal(describeVolume(deps, scope, volumeId), undefined, 'the EC2 volume went with the PV');
  });
});
