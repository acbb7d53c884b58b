/**
 * Security groups for pods end to end with the aws CLI and kubectl (one
 * m5.large, 9 branch interfaces):
 *  - every cluster serves the SecurityGroupPolicy CRD (vpcresources.k8s.aws/v1beta1);
 *  - ENABLE_POD_ENI=true on aws-node makes the node advertise
 *    vpc.amazonaws.com/pod-eni 9 with the has-trunk-attached label;
 *  - pods a policy selects ask for vpc.amazonaws.com/pod-eni, each runs with
 *    its own branch ENI carrying the policy's group (its IP is the pod's);
 *    the tenth stays Pending with "Insufficient vpc.amazonaws.com/pod-eni";
 *  - deleting the pods deletes their branch ENIs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;
let sg: string;

const branchEnis = async () => (await dp.aws('ec2', 'describe-network-interfaces', '--filters', 'Name=interface-type,Values=branch')).NetworkInterfaces;

describe('data plane: security groups for pods (branch ENIs)', () => {
  before(async () => {
    dp = await startDataPlaneCluster({ name: 'sgp', cidr: '10.67', nodes: 1 });
    const vpc = (await dp.aws('ec2', 'describe-subnets', '--subnet-ids', dp.subnets[0]!)).Subnets[0].VpcId;
    sg = (await dp.aws('ec2', 'create-security-group', '--group-name', 'db-clients', '--description', 'pods that reach the database', '--vpc-id', vpc)).GroupId;
    if ((await dp.kubectl(['get', 'ds', 'aws-node', '-n', 'kube-system'])).code !== 0) {
      const ds = {
        apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'aws-node', namespace: 'kube-system' },
        spec: { selector: { matchLabels: { 'k8s-app': 'aws-node' } }, template: { metadata: { labels: { 'k8s-app': 'aws-node' } }, spec: { hostNetwork: true, containers: [{ name: 'aws-node', image: 'amazon-k8s-cni:v1.19.0' }] } } },
      };
      assert.equal((await dp.kubectl(['create', '-f', '-'], JSON.stringify(ds))).code, 0);
    }
  });
  after(() => dp?.stop());

  it('the SecurityGroupPolicy CRD is served; ENABLE_POD_ENI=true advertises the node\'s branch interfaces', async () => {
    await waitFor(async () => (await dp.kubectl(['get', 'crd', 'securitygrouppolicies.vpcresources.k8s.aws'])).code === 0, { what: 'SGP CRD' });
    await waitFor(async () => (await dp.kubectl(['get', 'sgp', '-A'])).code === 0, { what: 'sgp served' });
    const r = await dp.kubectl(['set', 'env', 'ds/aws-node', '-n', 'kube-system', 'ENABLE_POD_ENI=true']);
    assert.equal(r.code, 0, r.stderr);
    const n = await waitFor(async () => {
      const x = (await dp.kubectlJson(['get', 'nodes'])).items[0];
      return x.status.allocatable['vpc.amazonaws.com/pod-eni'] ? x : undefined;
    }, { what: 'pod-eni resource' });
    assert.equal(n.status.allocatable['vpc.amazonaws.com/pod-eni'], '9');
    assert.equal(n.metadata.labels['vpc.amazonaws.com/has-trunk-attached'], 'true');
  });

  it('selected pods get branch ENIs with the policy\'s group, at most 9 on an m5.large', async () => {
    const sgp = { apiVersion: 'vpcresources.k8s.aws/v1beta1', kind: 'SecurityGroupPolicy', metadata: { name: 'db-access' }, spec: { podSelector: { matchLabels: { app: 'db-client' } }, securityGroups: { groupIds: [sg] } } };
    const a = await dp.kubectl(['create', '-f', '-'], JSON.stringify(sgp));
    assert.equal(a.code, 0, a.stderr);
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'client' }, spec: { replicas: 10, selector: { matchLabels: { app: 'db-client' } }, template: { metadata: { labels: { app: 'db-client' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'nginx' }] } } } };
    assert.equal((await dp.kubectl(['create', '-f', '-'], JSON.stringify(dep))).code, 0);
    const pods = await waitFor(async () => {
      const l = (await dp.kubectlJson(['get', 'pods', '-l', 'app=db-client'])).items;
      return l.filter((p: any) => p.status.phase === 'Running').length === 9 ? l : undefined;
    }, { what: '9 pods Running', timeoutMs: 60_000 });
    assert.equal(pods[0].spec.containers[0].resources.requests['vpc.amazonaws.com/pod-eni'], '1');
    const enis = await branchEnis();
    assert.equal(enis.length, 9);
    for (const p of pods.filter((x: any) => x.status.phase === 'Running')) {
      const ann = JSON.parse(p.metadata.annotations['vpc.amazonaws.com/pod-eni']);
      const eni = enis.find((e: any) => e.NetworkInterfaceId === ann[0].eniId);
      assert.ok(eni, `branch ENI of ${p.metadata.name}`);
      assert.equal(eni.PrivateIpAddress, p.status.podIP);
      assert.deepEqual(eni.Groups.map((g: any) => g.GroupId), [sg]);
    }
    const pending = pods.find((p: any) => p.status.phase !== 'Running');
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '--field-selector', `involvedObject.name=${pending.metadata.name},reason=FailedScheduling`])).items[0], { what: 'FailedScheduling' });
    assert.match(ev.message, /Insufficient vpc\.amazonaws\.com\/pod-eni/);
  });

  it('deleting the pods deletes their branch ENIs', async () => {
    assert.equal((await dp.kubectl(['delete', 'deployment', 'client'])).code, 0);
    await waitFor(async () => (await branchEnis()).length === 0, { what: 'branch ENIs deleted', timeoutMs: 60_000 });
  });
});
