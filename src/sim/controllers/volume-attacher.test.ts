/**
 * The EBS attach/detach pass against a memory-store registry and the real
 * EC2 provider state: a pod on a node attaches its claim's volume to the
 * node's instance (VolumeAttachment, node status), a second node's pod gets
 * the Multi-Attach event (and is held ContainerCreating), and the volume is
 * detached once the pod is gone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { AwsState } from '../../aws/core/state.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { createEc2Provider } from '../../aws/ec2/provider.ts';
import { createVolume, describeVolume, runInstances } from '../../aws/ec2/shared.ts';
import { SimClock } from '../clock.ts';
import { Scheme } from '../../kube/api/scheme.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { bootstrapCluster } from '../../kube/apiserver/bootstrap.ts';
import { ClusterRegistry } from '../../kube/apiserver/registry/generic-store.ts';
import { attachmentName, syncAttachments, uniqueVolumeName, volumesAttached } from './volume-attacher.ts';
import type { ControllerContext } from './workload-controllers.ts';

const cluster: ClusterInfo = {
  uid: 'va', name: 'c', endpointId: 'c', accountId: '111122223333', region: 'us-east-1', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const scope = { accountId: '111122223333', region: 'us-east-1' };
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
const ec2 = createEc2Provider(deps);
const ctxFor = (): any => ({ accountId: scope.accountId, region: scope.region, requestId: 'r', service: 'ec2', operation: '', accessKeyId: 't', callerArn: '', callerUserId: '', now: () => clock.now() });

async function pass(): Promise<void> {
  await reg.fresh();
  const ctx: ControllerContext = { reg, info: cluster, deps, clock, nowMs: clock.nowMs(), wake() {}, log: { info() {}, warn() {} } };
  await syncAttachments(ctx);
  await reg.fresh();
}

let volumeId: string;
const instances: string[] = [];
const node = (name: string): any => reg.cache.get(reg.keyFor(R('', 'nodes'), '', name))?.obj;
const pod = (name: string, nodeName: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { nodeName, containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
});

before(async () => {
  await state.start();
  await bootstrapCluster(backend, cluster);
  const vpc = (await ec2.operations.CreateVpc!({ CidrBlock: '10.0.0.0/16' }, ctxFor())).Vpc;
  const subnet = (await ec2.operations.CreateSubnet!({ VpcId: vpc.VpcId, CidrBlock: '10.0.0.0/24', AvailabilityZone: 'us-east-1a' }, ctxFor())).Subnet;
  for (const n of ['n1', 'n2']) {
    const [i] = await runInstances(deps, scope, { MinCount: 1, MaxCount: 1, ImageId: 'ami-0123456789abcdef0', SubnetId: subnet.SubnetId });
    instances.push(i!.InstanceId);
    await reg.create(R('', 'nodes'), '', { apiVersion: 'v1', kind: 'Node', metadata: { name: n }, spec: { providerID: `aws:///us-east-1a/${i!.InstanceId}` } });
  }
  volumeId = (await createVolume(deps, scope, { AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'gp3' })).VolumeId;
  await reg.create(R('', 'persistentvolumes'), '', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '4Gi' }, accessModes: ['ReadWriteOnce'], csi: { driver: 'ebs.csi.aws.com', volumeHandle: volumeId } } });
  await reg.create(R('', 'persistentvolumeclaims'), 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], volumeName: 'pv1', storageClassName: '', resources: { requests: { storage: '4Gi' } } } });
});
after(async () => {
  state.stop();
  reg.cache.close();
  await backend.close();
});

describe('EBS volume attachment', () => {
  it('attaches the claim\'s volume to the pod\'s node instance', async () => {
    await reg.create(R('', 'pods'), 'default', pod('a', 'n1'));
    await pass();
    await pass();
    const va: any = reg.cache.get(reg.keyFor(R('storage.k8s.io', 'volumeattachments'), '', attachmentName(volumeId, 'n1')))?.obj;
    assert.ok(va, 'VolumeAttachment created');
    assert.deepEqual(va.spec, { attacher: 'ebs.csi.aws.com', nodeName: 'n1', source: { persistentVolumeName: 'pv1' } });
    assert.deepEqual(va.status, { attached: true, attachmentMetadata: { devicePath: '/dev/xvdaa' } });
    const v = describeVolume(deps, scope, volumeId)!;
    assert.deepEqual([v.State, v.Attachments[0].InstanceId, v.Attachments[0].State], ['in-use', instances[0], 'attached']);
    assert.deepEqual(node('n1').status.volumesInUse, [uniqueVolumeName(volumeId)]);
    assert.deepEqual(node('n1').status.volumesAttached, [{ name: uniqueVolumeName(volumeId), devicePath: '/dev/xvdaa' }]);
    assert.equal(volumesAttached(reg, pod('a', 'n1'), 'n1'), true, 'the kubelet may start the pod');
  });

  it('a pod on another node gets the Multi-Attach event', async () => {
    await reg.create(R('', 'pods'), 'default', pod('b', 'n2'));
    await pass();
    const ev = reg.cache.list('events', 'default').map((e) => e.obj).find((e) => e.involvedObject?.name === 'b');
    assert.equal(ev?.reason, 'FailedAttachVolume');
    assert.match(ev.message, /^Multi-Attach error for volume "pv1"/);
    const va: any = reg.cache.get(reg.keyFor(R('storage.k8s.io', 'volumeattachments'), '', attachmentName(volumeId, 'n2')))?.obj;
    assert.equal(va.status.attached, false);
    assert.match(va.status.attachError.message, /VolumeInUse|already attached/);
    assert.equal(volumesAttached(reg, pod('b', 'n2'), 'n2'), false, 'the pod stays ContainerCreating');
    await reg.delete(R('', 'pods'), 'default', 'b', { gracePeriodSeconds: 0 });
  });

  it('detaches once no pod on the node uses it', async () => {
    await reg.delete(R('', 'pods'), 'default', 'a', { gracePeriodSeconds: 0 });
    await pass();
    await pass();
    assert.equal(reg.cache.list('storage.k8s.io/volumeattachments', '').length, 0);
    assert.equal(describeVolume(deps, scope, volumeId)!.State, 'available');
    assert.equal(node('n1').status?.volumesAttached, undefined);
    assert.equal(node('n1').status?.volumesInUse, undefined);
  });
});
