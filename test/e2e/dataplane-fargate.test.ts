/**
 * Fargate end to end with the aws CLI and kubectl (a cluster with one
 * m5.large node group and a Fargate profile for namespace `serverless` and
 * pods labelled `compute=fargate` in `mixed`):
 *  - a matching pod gets schedulerName fargate-scheduler and the profile
 *    label at admission, runs on its own `fargate-ip-...` node (label
 *    eks.amazonaws.com/compute-type=fargate, NoSchedule taint) with the node's
 *    address as its own, annotated CapacityProvisioned with the next size;
 *  - the node goes away when the pod does; deleting the profile deletes its pods;
 *  - a pod matching no profile goes to the node group, and so does one
 *    annotated eks.amazonaws.com/compute-type: ec2 (CoreDNS as EKS ships it);
 *  - pods Fargate cannot run (hostNetwork, privileged, hostPort, a claim
 *    bound to an EBS volume) stay Pending with the fargate-scheduler's event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inCidr, startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

function pod(name: string, ns: string, labels: Record<string, string>, spec: Record<string, unknown> = {}, ctr: Record<string, unknown> = {}) {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'c', image: 'nginx', ...ctr }], ...spec } });
}

describe('data plane: Fargate profiles, fargate-scheduler and Fargate nodes', () => {
  before(async () => {
    dp = await startDataPlaneCluster({ name: 'fg', cidr: '10.64', nodes: 1 });
    const r = await dp.aws(
      'eks', 'create-fargate-profile', '--cluster-name', 'fg', '--fargate-profile-name', 'apps', '--pod-execution-role-arn', dp.nodeRoleArn,
      '--subnets', ...dp.subnets, '--selectors', 'namespace=serverless', 'namespace=mixed,labels={compute=fargate}',
    );
    assert.equal(r.fargateProfile.fargateProfileName, 'apps');
    await waitFor(async () => (await dp.aws('eks', 'describe-fargate-profile', '--cluster-name', 'fg', '--fargate-profile-name', 'apps')).fargateProfile.status === 'ACTIVE', { what: 'profile ACTIVE' });
    for (const ns of ['serverless', 'mixed']) assert.equal((await dp.kubectl(['create', 'namespace', ns])).code, 0);
  });
  after(() => dp?.stop());

  it('a pod of the profile runs on its own fargate node, sized and annotated', async () => {
    const c = await dp.kubectl(['create', '-f', '-'], pod('api', 'serverless', { app: 'api' }, {}, { resources: { requests: { cpu: '300m', memory: '700Mi' } } }));
    assert.equal(c.code, 0, c.stderr);
    const created = await dp.kubectlJson(['get', 'pod', 'api', '-n', 'serverless']);
    assert.equal(created.spec.schedulerName, 'fargate-scheduler');
    assert.equal(created.metadata.labels['eks.amazonaws.com/fargate-profile'], 'apps');
    const p = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'pod', 'api', '-n', 'serverless']);
      return o.status.phase === 'Running' ? o : undefined;
    }, { what: 'fargate pod Running' });
    assert.match(p.spec.nodeName, /^fargate-ip-10-64-\d+-\d+\.ec2\.internal$/);
    assert.equal(p.metadata.annotations.CapacityProvisioned, '0.5vCPU 1GB');
    assert.equal(p.status.podIP, p.status.hostIP);
    assert.ok([...dp.cidrs.values()].some((c) => inCidr(p.status.podIP, c)));
    assert.equal(p.spec.nodeName, `fargate-ip-${p.status.podIP.replaceAll('.', '-')}.ec2.internal`);
    const n = await dp.kubectlJson(['get', 'node', p.spec.nodeName]);
    assert.equal(n.metadata.labels['eks.amazonaws.com/compute-type'], 'fargate');
    assert.deepEqual(n.spec.taints, [{ key: 'eks.amazonaws.com/compute-type', value: 'fargate', effect: 'NoSchedule' }]);
    assert.equal(n.status.conditions.find((x: any) => x.type === 'Ready').status, 'True');
    const ev = (await dp.kubectlJson(['get', 'events', '-n', 'serverless', '--field-selector', 'involvedObject.name=api,reason=Scheduled'])).items[0];
    assert.equal(ev.source.component, 'fargate-scheduler');
    assert.equal(ev.message, `Successfully assigned serverless/api to ${p.spec.nodeName}`);
    // The node goes with the pod.
    assert.equal((await dp.kubectl(['delete', 'pod', 'api', '-n', 'serverless', '--grace-period=1'])).code, 0);
    await waitFor(async () => (await dp.kubectl(['get', 'node', p.spec.nodeName])).code !== 0, { what: 'fargate node gone' });
  });

  it('selector labels decide: only labelled pods of `mixed` go to Fargate, the rest to the node group', async () => {
    assert.equal((await dp.kubectl(['create', '-f', '-'], pod('on-fargate', 'mixed', { compute: 'fargate' }))).code, 0);
    assert.equal((await dp.kubectl(['create', '-f', '-'], pod('on-ec2', 'mixed', { compute: 'ec2' }))).code, 0);
    const [f, e] = await waitFor(async () => {
      const a = await dp.kubectlJson(['get', 'pod', 'on-fargate', '-n', 'mixed']);
      const b = await dp.kubectlJson(['get', 'pod', 'on-ec2', '-n', 'mixed']);
      return a.status.phase === 'Running' && b.status.phase === 'Running' ? [a, b] : undefined;
    }, { what: 'both Running' }) as [any, any];
    assert.match(f.spec.nodeName, /^fargate-ip-/);
    assert.equal(f.metadata.annotations.CapacityProvisioned, '0.25vCPU 0.5GB');
    assert.equal(e.spec.schedulerName, 'default-scheduler');
    assert.doesNotMatch(e.spec.nodeName, /^fargate-ip-/);
    // The Fargate node's kubelet posts heartbeats like any other.
    const hb = async () => (await dp.kubectlJson(['get', 'node', f.spec.nodeName])).status.conditions.find((x: any) => x.type === 'Ready').lastHeartbeatTime;
    const before = await hb();
    await dp.advance(301);
    await waitFor(async () => Date.parse(await hb()) > Date.parse(before), { what: 'fargate node heartbeat' });
  });

  it('pods Fargate cannot run stay Pending with the fargate-scheduler event', async () => {
    const bad = pod('bad', 'serverless', {}, { hostNetwork: true }, { securityContext: { privileged: true }, ports: [{ containerPort: 80, hostPort: 8080 }] });
    assert.equal((await dp.kubectl(['create', '-f', '-'], bad)).code, 0);
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '-n', 'serverless', '--field-selector', 'involvedObject.name=bad,reason=FailedScheduling'])).items[0], { what: 'FailedScheduling' });
    assert.equal(ev.source.component, 'fargate-scheduler');
    assert.equal(ev.message, 'Pod not supported on Fargate: fields not supported: HostNetwork, invalid SecurityContext fields: Privileged, port contains HostIP or HostPort');
    const p = await dp.kubectlJson(['get', 'pod', 'bad', '-n', 'serverless']);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.spec.nodeName, undefined);
  });

  it('a pod annotated eks.amazonaws.com/compute-type: ec2 (as EKS ships CoreDNS) stays off Fargate; NET_BIND_SERVICE is allowed', async () => {
    const ec2 = JSON.parse(pod('dns', 'serverless', { app: 'dns' }));
    ec2.metadata.annotations = { 'eks.amazonaws.com/compute-type': 'ec2' };
    assert.equal((await dp.kubectl(['create', '-f', '-'], JSON.stringify(ec2))).code, 0);
    const created = await dp.kubectlJson(['get', 'pod', 'dns', '-n', 'serverless']);
    assert.equal(created.spec.schedulerName, 'default-scheduler');
    assert.equal(created.metadata.labels['eks.amazonaws.com/fargate-profile'], undefined);
    const onEc2 = await waitFor(async () => (await dp.kubectlJson(['get', 'pod', 'dns', '-n', 'serverless'])).spec.nodeName, { what: 'dns scheduled' });
    assert.doesNotMatch(onEc2, /^fargate-/);
    // CoreDNS's own securityContext (NET_BIND_SERVICE added, ALL dropped) runs on Fargate once the annotation is gone.
    const dns = pod('dns2', 'serverless', { app: 'dns' }, {}, { securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true } });
    assert.equal((await dp.kubectl(['create', '-f', '-'], dns)).code, 0);
    const node = await waitFor(async () => (await dp.kubectlJson(['get', 'pod', 'dns2', '-n', 'serverless'])).spec.nodeName, { what: 'dns2 scheduled' });
    assert.match(node, /^fargate-/);
  });

  it('a pod whose claim is bound to an EBS volume stays Pending with the fargate-scheduler event', async () => {
    const pv = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'ebs-pv' }, spec: { capacity: { storage: '4Gi' }, accessModes: ['ReadWriteOnce'], csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0123456789abcdef0' }, claimRef: { namespace: 'serverless', name: 'data' } } };
    const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'serverless' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '4Gi' } }, volumeName: 'ebs-pv', storageClassName: '' } };
    for (const o of [pv, pvc]) {
      const r = await dp.kubectl(['create', '-f', '-'], JSON.stringify(o));
      assert.equal(r.code, 0, r.stderr);
    }
    const withVolume = pod('db', 'serverless', {}, { volumes: [{ name: 'storage', persistentVolumeClaim: { claimName: 'data' } }] }, { volumeMounts: [{ name: 'storage', mountPath: '/data' }] });
    assert.equal((await dp.kubectl(['create', '-f', '-'], withVolume)).code, 0);
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '-n', 'serverless', '--field-selector', 'involvedObject.name=db,reason=FailedScheduling'])).items[0], { what: 'FailedScheduling' });
    assert.equal(ev.message, 'Pod not supported on Fargate: volumes not supported: storage not supported because: PVC data bound to invalid PV ebs-pv with CSI Driver: ebs.csi.aws.com');
  });

  it('deleting the Fargate profile deletes the pods it runs, and their nodes', async () => {
    const f = await dp.kubectlJson(['get', 'pod', 'on-fargate', '-n', 'mixed']);
    await dp.aws('eks', 'delete-fargate-profile', '--cluster-name', 'fg', '--fargate-profile-name', 'apps');
    await waitFor(async () => (await dp.kubectl(['get', 'pod', 'on-fargate', '-n', 'mixed'])).code !== 0, { what: 'fargate pod deleted', timeoutMs: 60_000 });
    await waitFor(async () => (await dp.kubectl(['get', 'node', f.spec.nodeName])).code !== 0, { what: 'fargate node gone' });
    // The EC2 pod stays.
    assert.equal((await dp.kubectlJson(['get', 'pod', 'on-ec2', '-n', 'mixed'])).status.phase, 'Running');
  });
});
