/**
 * The VPC CNI's warm pool end to end with the aws CLI and kubectl (one
 * m5.large: 3 ENIs of 10 addresses):
 *  - an idle node holds its primary ENI's 9 secondary addresses; the first
 *    pod makes ipamd attach a second ENI (WARM_ENI_TARGET=1), visible in
 *    describe-network-interfaces and in the subnet's AvailableIpAddressCount;
 *  - `kubectl set env ds/aws-node -n kube-system WARM_IP_TARGET=2` shrinks the
 *    pool to the pod's address plus 2 and detaches the spare ENI;
 *  - a full subnet leaves new pods ContainerCreating with the CNI's
 *    FailedCreatePodSandBox event; freeing addresses lets them run;
 *  - with ENABLE_PREFIX_DELEGATION=true a new node joins with 110 max pods.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;
let node: any;
let instanceId: string;
let subnet: string;

const pod = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { cni: 'e2e' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
const available = async () => (await dp.aws('ec2', 'describe-subnets', '--subnet-ids', subnet)).Subnets[0].AvailableIpAddressCount;
const enis = async () =>
  (await dp.aws('ec2', 'describe-network-interfaces', '--filters', `Name=attachment.instance-id,Values=${instanceId}`)).NetworkInterfaces.sort(
    (a: any, b: any) => a.Attachment.DeviceIndex - b.Attachment.DeviceIndex,
  );
const running = async (name: string) => {
  const p = await dp.kubectlJson(['get', 'pod', name]);
  return p.status.phase === 'Running' ? p : undefined;
};

describe('data plane: VPC CNI warm pool, full subnets, prefix delegation', () => {
  before(async () => {
    dp = await startDataPlaneCluster({ name: 'cni', cidr: '10.63', nodes: 1, oneSubnet: true });
    node = (await dp.kubectlJson(['get', 'nodes'])).items[0];
    instanceId = node.spec.providerID.split('/').pop();
    subnet = (await dp.aws('ec2', 'describe-instances', '--instance-ids', instanceId)).Reservations[0].Instances[0].SubnetId;
    // No pod addresses in use: CoreDNS (if the add-on runs) is scaled away.
    await dp.kubectl(['scale', 'deployment/coredns', '-n', 'kube-system', '--replicas=0']);
    await waitFor(async () => (await dp.kubectlJson(['get', 'pods', '-A'])).items.every((p: any) => p.spec.hostNetwork), { what: 'no pods with pod addresses' });
    // The aws-node DaemonSet EKS installs; made here when the add-on is not there.
    if ((await dp.kubectl(['get', 'ds', 'aws-node', '-n', 'kube-system'])).code !== 0) {
      const ds = {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'aws-node', namespace: 'kube-system' },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'aws-node' } },
          template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { hostNetwork: true, containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.0', env: [{ name: 'WARM_ENI_TARGET', value: '1' }] }] } },
        },
      };
      const r = await dp.kubectl(['create', '-f', '-'], JSON.stringify(ds));
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(() => dp?.stop());

  it('an idle node holds 9 addresses; the first pod attaches a second ENI (WARM_ENI_TARGET=1)', async () => {
    // /24: 251 usable; the instance's primary address; 9 secondaries on the primary ENI.
    await waitFor(async () => (await available()) === 251 - 1 - 9, { what: 'idle warm pool of 9' });
    const e0 = await enis();
    assert.equal(e0.length, 1);
    assert.equal(e0[0].PrivateIpAddresses.length, 10);
    assert.equal((await dp.kubectl(['create', '-f', '-'], pod('one'))).code, 0);
    const p = await waitFor(() => running('one'), { what: 'pod one Running' });
    assert.ok(e0[0].PrivateIpAddresses.some((a: any) => a.PrivateIpAddress === p.status.podIP), 'the pod takes a warm address of the primary ENI');
    await waitFor(async () => (await available()) === 251 - 1 - 19, { what: 'a second ENI of 9 plus its primary' });
    const e1 = await enis();
    assert.equal(e1.length, 2);
    assert.equal(e1[1].Description, `aws-K8S-${instanceId}`);
    assert.equal(e1[1].Attachment.DeleteOnTermination, true);
    assert.equal(e1[1].PrivateIpAddresses.length, 10);
  });

  it('kubectl set env ds/aws-node WARM_IP_TARGET=2 keeps only the pod address plus 2', async () => {
    const r = await dp.kubectl(['set', 'env', 'ds/aws-node', '-n', 'kube-system', 'WARM_IP_TARGET=2']);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => (await available()) === 251 - 1 - 3, { what: 'pool of 3' });
    const e = await enis();
    assert.equal(e.length, 1);
    assert.equal(e[0].PrivateIpAddresses.length, 4);
  });

  it('a full subnet leaves pods ContainerCreating with the CNI event; freeing addresses lets them run', async () => {
    const avail = await available();
    const filler = (await dp.aws('ec2', 'create-network-interface', '--subnet-id', subnet, '--secondary-private-ip-address-count', String(avail - 1))).NetworkInterface.NetworkInterfaceId;
    assert.equal(await available(), 0);
    for (const n of ['two', 'three', 'four']) assert.equal((await dp.kubectl(['create', '-f', '-'], pod(n))).code, 0);
    // Two take the warm addresses; the third waits.
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '--field-selector', 'reason=FailedCreatePodSandBox'])).items[0], { what: 'FailedCreatePodSandBox' });
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /plugin type="aws-cni" name="aws-cni" failed \(add\): add cmd: failed to assign an IP address to container$/);
    const stuck = await dp.kubectlJson(['get', 'pod', ev.involvedObject.name]);
    assert.equal(stuck.status.phase, 'Pending');
    assert.equal(stuck.status.containerStatuses[0].state.waiting.reason, 'ContainerCreating');
    const table = await dp.kubectl(['get', 'pod', ev.involvedObject.name]);
    assert.match(table.stdout, /ContainerCreating/);
    await dp.aws('ec2', 'delete-network-interface', '--network-interface-id', filler);
    for (const n of ['two', 'three', 'four']) await waitFor(() => running(n), { what: `pod ${n} Running` });
  });

  it('with ENABLE_PREFIX_DELEGATION=true a new m5.large joins with 110 max pods', async () => {
    const r = await dp.kubectl(['set', 'env', 'ds/aws-node', '-n', 'kube-system', 'ENABLE_PREFIX_DELEGATION=true']);
    assert.equal(r.code, 0, r.stderr);
    await dp.aws('eks', 'update-nodegroup-config', '--cluster-name', 'cni', '--nodegroup-name', 'workers', '--scaling-config', 'minSize=0,maxSize=10,desiredSize=2');
    const fresh = await waitFor(async () => (await dp.kubectlJson(['get', 'nodes'])).items.find((n: any) => n.metadata.name !== node.metadata.name), { what: 'a second node', timeoutMs: 60_000 });
    assert.equal(fresh.status.allocatable.pods, '110');
    const old = await dp.kubectlJson(['get', 'node', node.metadata.name]);
    assert.equal(old.status.allocatable.pods, '29', 'nodes keep the max pods they joined with');
  });
});
