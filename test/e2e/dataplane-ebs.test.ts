/**
 * EBS volumes of PersistentVolumes are EC2 volumes, end to end with the aws
 * CLI and kubectl against one localeks (fast profile, one managed node):
 *  - the aws-ebs-csi-driver EKS add-on installs the driver's objects
 *    (CSIDriver, ebs-csi-controller, ebs-csi-node on the node);
 *  - a gp3 claim (ebs.csi.aws.com, WaitForFirstConsumer) used by a pod gets
 *    an EC2 volume in the node's zone, with the EBS CSI driver's tags, that
 *    `aws ec2 describe-volumes` finds by tag, zone and status;
 *  - the volume is attached to the node's instance (attachment.instance-id,
 *    device /dev/xvdaa), a VolumeAttachment says attached, the node lists it
 *    in volumesAttached and volumesInUse; deleting it is VolumeInUse;
 *  - deleting the pod detaches it; deleting the claim deletes the volume
 *    (InvalidVolume.NotFound afterwards);
 *  - a Retain class keeps the volume when the claim goes;
 *  - EKS's gp2 class (in-tree kubernetes.io/aws-ebs) gives a migrated
 *    awsElasticBlockStore PV on a gp2 volume;
 *  - growing a claim of an expandable class modifies the EC2 volume and the
 *    claim's capacity follows; EBS's one modification per 6 hours refuses a
 *    second resize (VolumeResizeFailed).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
let kc: string;
let instanceId: string;
let nodeName: string;
let zone: string;
const tmp = mkdtempSync(join(tmpdir(), 'dataplane-ebs-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);

async function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}
async function kubectlJson(args: string[]): Promise<any> {
  const r = await kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}
async function apply(...objs: object[]) {
  const r = await kubectl(['apply', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));
  assert.equal(r.code, 0, r.stderr);
}
const claim = (name: string, sc: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' }, spec: { storageClassName: sc, accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '4Gi' } } } });
const podWith = (name: string, claimName: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] },
});
const tagsOf = (v: any) => Object.fromEntries((v.Tags ?? []).map((t: any) => [t.Key, t.Value]));

describe('data plane: EBS volumes of PersistentVolumes with the aws CLI and kubectl', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true });
    ep = srv.awsEndpoint;
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.61.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    const subnets: string[] = [];
    for (const [i, az] of azs.entries()) subnets.push((await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.61.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'ebs-cluster', '--assume-role-policy-document', trust)).Role.Arn;
    const nodeRole = (await aws('iam', 'create-role', '--role-name', 'ebs-node', '--assume-role-policy-document', trust)).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'ebs', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`);
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'ebs')).cluster.status === 'ACTIVE', { what: 'cluster ACTIVE' });
    await aws('eks', 'create-nodegroup', '--cluster-name', 'ebs', '--nodegroup-name', 'ng', '--node-role', nodeRole, '--subnets', subnets[0]!, '--scaling-config', 'minSize=1,maxSize=1,desiredSize=1', '--instance-types', 'm5.large');
    kc = join(tmp, 'kubeconfig');
    const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'ebs', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
    const node = await waitFor(async () => (await kubectlJson(['get', 'nodes'])).items.find((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')), { what: 'a Ready node' });
    nodeName = node.metadata.name;
    zone = node.metadata.labels['topology.kubernetes.io/zone'];
    instanceId = /\/(i-[0-9a-f]+)$/.exec(node.spec.providerID)![1]!;
    await aws('eks', 'create-addon', '--cluster-name', 'ebs', '--addon-name', 'aws-ebs-csi-driver');
    await apply(
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gp3' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3', tagSpecification_1: 'team=data' } },
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'grow' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true, parameters: { type: 'gp3' } },
      { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain', parameters: { type: 'gp3' } },
    );
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  let volumeId: string;
  let pvName: string;

  it('the aws-ebs-csi-driver add-on installs the driver: CSIDriver, controller Deployment, node DaemonSet', async () => {
    await waitFor(async () => (await aws('eks', 'describe-addon', '--cluster-name', 'ebs', '--addon-name', 'aws-ebs-csi-driver')).addon.status === 'ACTIVE', { what: 'add-on ACTIVE' });
    const driver = await waitFor(async () => {
      const r = await kubectl(['get', 'csidriver', 'ebs.csi.aws.com', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, { what: 'CSIDriver' });
    assert.deepEqual([driver.spec.attachRequired, driver.spec.podInfoOnMount], [true, false]);
    await waitFor(async () => (await kubectlJson(['get', 'deployment', 'ebs-csi-controller', '-n', 'kube-system'])).status?.readyReplicas === 2, { what: 'ebs-csi-controller ready' });
    const node = await waitFor(async () => {
      const l = (await kubectlJson(['get', 'pods', '-n', 'kube-system', '-l', 'app=ebs-csi-node'])).items;
      return l.length === 1 && l[0].status.phase === 'Running' ? l[0] : undefined;
    }, { what: 'ebs-csi-node pod running' });
    assert.equal(node.spec.nodeName, nodeName);
    const ctr = (await kubectlJson(['get', 'deployment', 'ebs-csi-controller', '-n', 'kube-system'])).spec.template.spec.containers;
    assert.match(ctr.find((c: any) => c.name === 'ebs-plugin').image, /^602401143452\.dkr\.ecr\.us-east-1\.amazonaws\.com\/eks\/aws-ebs-csi-driver:v\d+\.\d+\.\d+$/);
    assert.ok(ctr.find((c: any) => c.name === 'csi-provisioner').args.includes('--extra-create-metadata'));
    // The node plugin registers the driver's topology key on the node (CSI PVs' node affinity).
    await waitFor(async () => (await kubectlJson(['get', 'node', nodeName])).metadata.labels['topology.ebs.csi.aws.com/zone'] === zone, { what: 'node topology label' });
    const csiNode = await kubectlJson(['get', 'csinode', nodeName]);
    assert.deepEqual(csiNode.spec.drivers.map((d: any) => [d.name, d.nodeID]), [['ebs.csi.aws.com', instanceId]]);
  });

  it('a gp3 claim used by a pod is an EC2 volume in the node\'s zone with the driver\'s tags', async () => {
    await apply(claim('data', 'gp3'), podWith('db', 'data'));
    const pvc = await waitFor(async () => {
      const c = await kubectlJson(['get', 'pvc', 'data']);
      return c.status.phase === 'Bound' ? c : undefined;
    }, { what: 'claim Bound' });
    pvName = pvc.spec.volumeName;
    const pv = await kubectlJson(['get', 'pv', pvName]);
    volumeId = pv.spec.csi.volumeHandle;
    assert.match(volumeId, /^vol-[0-9a-f]{17}$/);
    const found = (await aws('ec2', 'describe-volumes', '--filters', 'Name=tag:kubernetes.io/created-for/pvc/name,Values=data', `Name=availability-zone,Values=${zone}`)).Volumes;
    assert.equal(found.length, 1);
    const v = found[0];
    assert.equal(v.VolumeId, volumeId);
    assert.deepEqual([v.Size, v.VolumeType, v.Iops, v.Throughput], [4, 'gp3', 3000, 125]);
    assert.deepEqual(tagsOf(v), {
      CSIVolumeName: pvName,
      'ebs.csi.aws.com/cluster': 'true',
      'kubernetes.io/created-for/pvc/name': 'data',
      'kubernetes.io/created-for/pvc/namespace': 'default',
      'kubernetes.io/created-for/pv/name': pvName,
      team: 'data',
    });
  });

  it('the volume is attached to the node\'s instance: VolumeAttachment, node status, VolumeInUse on delete', async () => {
    const v = await waitFor(async () => {
      const l = (await aws('ec2', 'describe-volumes', '--filters', `Name=attachment.instance-id,Values=${instanceId}`, 'Name=status,Values=in-use', 'Name=tag:CSIVolumeName,Values=*')).Volumes;
      return l.length === 1 && l[0].Attachments[0].State === 'attached' ? l[0] : undefined;
    }, { what: 'volume attached' });
    assert.equal(v.VolumeId, volumeId);
    assert.equal(v.Attachments[0].Device, '/dev/xvdaa');
    assert.equal(v.Attachments[0].DeleteOnTermination, false);
    const va = await waitFor(async () => (await kubectlJson(['get', 'volumeattachments'])).items.find((a: any) => a.spec.source.persistentVolumeName === pvName && a.status?.attached), { what: 'VolumeAttachment attached' });
    assert.equal(va.spec.attacher, 'ebs.csi.aws.com');
    assert.equal(va.spec.nodeName, nodeName);
    assert.match(va.metadata.name, /^csi-[0-9a-f]{64}$/);
    assert.equal(va.status.attachmentMetadata.devicePath, '/dev/xvdaa');
    const node = await waitFor(async () => {
      const n = await kubectlJson(['get', 'node', nodeName]);
      return n.status.volumesInUse?.length ? n : undefined;
    }, { what: 'node volumesInUse' });
    const unique = `kubernetes.io/csi/ebs.csi.aws.com^${volumeId}`;
    assert.deepEqual(node.status.volumesInUse, [unique]);
    assert.deepEqual(node.status.volumesAttached.map((a: any) => a.name), [unique]);
    const del = await runAws(ep, ['ec2', 'delete-volume', '--volume-id', volumeId]);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /VolumeInUse/);
    assert.match(del.stderr, new RegExp(`Volume ${volumeId} is currently attached to ${instanceId}`));
  });

  it('deleting the pod detaches the volume; deleting the claim deletes it', async () => {
    assert.equal((await kubectl(['delete', 'pod', 'db', '--wait=false'])).code, 0);
    await waitFor(async () => (await aws('ec2', 'describe-volumes', '--volume-ids', volumeId)).Volumes[0].State === 'available', { what: 'volume available' });
    await waitFor(async () => (await kubectlJson(['get', 'volumeattachments'])).items.length === 0, { what: 'VolumeAttachment deleted' });
    await waitFor(async () => !(await kubectlJson(['get', 'node', nodeName])).status.volumesAttached, { what: 'node volumesAttached emptied' });
    assert.equal((await kubectl(['delete', 'pvc', 'data', '--wait=false'])).code, 0);
    await waitFor(async () => {
      const r = await runAws(ep, ['ec2', 'describe-volumes', '--volume-ids', volumeId]);
      return r.code !== 0 && /InvalidVolume\.NotFound/.test(r.stderr);
    }, { what: 'volume deleted' });
    await waitFor(async () => (await kubectl(['get', 'pv', pvName])).code !== 0, { what: 'PV deleted' });
  });

  it('a Retain class keeps the volume when the claim goes', async () => {
    await apply(claim('kept', 'keep'), podWith('keeper', 'kept'));
    const pvc = await waitFor(async () => {
      const c = await kubectlJson(['get', 'pvc', 'kept']);
      return c.status.phase === 'Bound' ? c : undefined;
    }, { what: 'claim Bound' });
    const pv = await kubectlJson(['get', 'pv', pvc.spec.volumeName]);
    assert.equal((await kubectl(['delete', 'pod', 'keeper', '--wait=false'])).code, 0);
    assert.equal((await kubectl(['delete', 'pvc', 'kept', '--wait=false'])).code, 0);
    await waitFor(async () => (await kubectlJson(['get', 'pv', pv.metadata.name])).status.phase === 'Released', { what: 'PV Released' });
    await waitFor(async () => (await aws('ec2', 'describe-volumes', '--volume-ids', pv.spec.csi.volumeHandle)).Volumes[0].State === 'available', { what: 'retained volume available' });
  });

  it('EKS\'s gp2 class gives a migrated in-tree PV on a gp2 volume', async () => {
    await apply(claim('legacy', 'gp2'), podWith('old', 'legacy'));
    const pvc = await waitFor(async () => {
      const c = await kubectlJson(['get', 'pvc', 'legacy']);
      return c.status.phase === 'Bound' ? c : undefined;
    }, { what: 'gp2 claim Bound' });
    const pv = await kubectlJson(['get', 'pv', pvc.spec.volumeName]);
    const m = /^aws:\/\/([a-z0-9-]+)\/(vol-[0-9a-f]{17})$/.exec(pv.spec.awsElasticBlockStore.volumeID);
    assert.ok(m, pv.spec.awsElasticBlockStore.volumeID);
    assert.equal(m[1], zone);
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/provisioned-by'], 'kubernetes.io/aws-ebs');
    assert.equal(pv.metadata.annotations['pv.kubernetes.io/migrated-to'], 'ebs.csi.aws.com');
    const v = (await aws('ec2', 'describe-volumes', '--volume-ids', m[2]!)).Volumes[0];
    assert.deepEqual([v.VolumeType, v.Size, v.Iops], ['gp2', 4, 100]);
    await waitFor(async () => (await aws('ec2', 'describe-volumes', '--volume-ids', m[2]!)).Volumes[0].Attachments[0]?.State === 'attached', { what: 'gp2 volume attached' });
  });

  it('growing a claim of an expandable class modifies the EC2 volume; a second resize within 6 hours is refused', async () => {
    await apply(claim('big', 'grow'), podWith('grower', 'big'));
    const pvc = await waitFor(async () => {
      const c = await kubectlJson(['get', 'pvc', 'big']);
      return c.status.phase === 'Bound' ? c : undefined;
    }, { what: 'claim Bound' });
    const vol = (await kubectlJson(['get', 'pv', pvc.spec.volumeName])).spec.csi.volumeHandle;
    await waitFor(async () => (await kubectlJson(['get', 'pod', 'grower'])).status.phase === 'Running', { what: 'pod running' });
    const patch = await kubectl(['patch', 'pvc', 'big', '-p', JSON.stringify({ spec: { resources: { requests: { storage: '8Gi' } } } })]);
    assert.equal(patch.code, 0, patch.stderr);
    await waitFor(async () => (await kubectlJson(['get', 'pvc', 'big'])).status.capacity?.storage === '8Gi', { what: 'claim capacity 8Gi' });
    assert.equal((await kubectlJson(['get', 'pv', pvc.spec.volumeName])).spec.capacity.storage, '8Gi');
    assert.equal((await aws('ec2', 'describe-volumes', '--volume-ids', vol)).Volumes[0].Size, 8);
    const mods = (await aws('ec2', 'describe-volumes-modifications', '--volume-ids', vol)).VolumesModifications;
    assert.deepEqual(mods.map((m: any) => [m.OriginalSize, m.TargetSize]), [[4, 8]]);
    const events = (await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=big'])).items.map((e: any) => e.reason);
    assert.ok(events.includes('Resizing') && events.includes('FileSystemResizeSuccessful'), events.join(','));
    const again = await kubectl(['patch', 'pvc', 'big', '-p', JSON.stringify({ spec: { resources: { requests: { storage: '12Gi' } } } })]);
    assert.equal(again.code, 0, again.stderr);
    const failed = await waitFor(async () => (await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=big'])).items.find((e: any) => e.reason === 'VolumeResizeFailed'), { what: 'VolumeResizeFailed' });
    assert.match(failed.message, /VolumeModificationRateExceeded|Wait at least 6 hours/);
    assert.equal((await kubectlJson(['get', 'pvc', 'big'])).status.capacity.storage, '8Gi');
  });
});
