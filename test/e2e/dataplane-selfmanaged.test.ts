/**
 * Self-managed nodes end to end with the aws CLI and kubectl (seed 002): a
 * cluster without managed node groups, instances launched from launch
 * templates whose user data bootstraps the cluster:
 *  - RunInstances with `/etc/eks/bootstrap.sh`: no Node while the instance
 *    role is not mapped; once aws-auth maps it with system:nodes the Node
 *    joins with the kubelet's --node-labels and no EKS node group labels;
 *  - an Auto Scaling group whose template carries a nodeadm NodeConfig joins
 *    through an EC2_LINUX access entry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

async function instanceProfile(name: string): Promise<{ roleArn: string; profileArn: string }> {
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
  const roleArn = (await dp.aws('iam', 'create-role', '--role-name', name, '--assume-role-policy-document', trust)).Role.Arn;
  const profileArn = (await dp.aws('iam', 'create-instance-profile', '--instance-profile-name', name)).InstanceProfile.Arn;
  await dp.aws('iam', 'add-role-to-instance-profile', '--instance-profile-name', name, '--role-name', name);
  return { roleArn, profileArn };
}

async function launchTemplate(name: string, profileArn: string, userData: string): Promise<string> {
  const ami = (await dp.aws('ec2', 'describe-images', '--owners', 'amazon')).Images[0].ImageId;
  const data = JSON.stringify({ ImageId: ami, InstanceType: 't3.medium', IamInstanceProfile: { Arn: profileArn }, UserData: Buffer.from(userData).toString('base64') });
  return (await dp.aws('ec2', 'create-launch-template', '--launch-template-name', name, '--launch-template-data', data)).LaunchTemplate.LaunchTemplateId;
}

describe('data plane: self-managed nodes join when their role is mapped', () => {
  before(async () => {
    dp = await startDataPlaneCluster({ name: 'selfm', cidr: '10.65', nodes: 0, noNodegroup: true, authenticationMode: 'API_AND_CONFIG_MAP' });
  });
  after(() => dp?.stop());

  it('bootstrap.sh instance: absent until aws-auth maps its role, then a Ready node with its kubelet labels', async () => {
    const { roleArn, profileArn } = await instanceProfile('selfm-workers');
    const lt = await launchTemplate('selfm-al2', profileArn, "#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh selfm --kubelet-extra-args '--node-labels=team=sm'\n");
    const inst = (await dp.aws('ec2', 'run-instances', '--launch-template', `LaunchTemplateId=${lt}`, '--subnet-id', dp.subnets[0]!, '--count', '1')).Instances[0];
    await waitFor(async () => (await dp.aws('ec2', 'describe-instances', '--instance-ids', inst.InstanceId)).Reservations[0].Instances[0].State.Name === 'running', { what: 'running' });
    // Several data plane passes later there is still no Node: the kubelet cannot authenticate.
    await dp.advance(30);
    await dp.advance(30);
    assert.equal((await dp.kubectlJson(['get', 'nodes'])).items.length, 0);
    const cm = {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' },
      data: { mapRoles: `- rolearn: ${roleArn}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n` },
    };
    const a = await dp.kubectl(['apply', '-f', '-'], JSON.stringify(cm));
    assert.equal(a.code, 0, a.stderr);
    const node = await waitFor(async () => (await dp.kubectlJson(['get', 'nodes'])).items[0], { what: 'self-managed node' });
    assert.equal(node.metadata.name, inst.PrivateDnsName);
    assert.equal(node.spec.providerID, `aws:///${inst.Placement.AvailabilityZone}/${inst.InstanceId}`);
    assert.equal(node.metadata.labels.team, 'sm');
    assert.equal(node.metadata.labels['node.kubernetes.io/instance-type'], 't3.medium');
    assert.equal(node.metadata.labels['eks.amazonaws.com/nodegroup'], undefined);
    assert.equal(node.status.allocatable.pods, '17');
    await waitFor(async () => (await dp.kubectlJson(['get', 'node', node.metadata.name])).status.conditions.find((c: any) => c.type === 'Ready').status === 'True', { what: 'Ready' });
  });

  it('an Auto Scaling group with a nodeadm NodeConfig joins through an EC2_LINUX access entry', async () => {
    const { roleArn, profileArn } = await instanceProfile('selfm-asg');
    const nodeConfig = ['apiVersion: node.eks.aws/v1alpha1', 'kind: NodeConfig', 'spec:', '  cluster:', '    name: selfm', '    apiServerEndpoint: https://example', '  kubelet:', '    flags:', '      - --node-labels=pool=asg', ''].join('\n');
    const lt = await launchTemplate('selfm-al2023', profileArn, nodeConfig);
    await dp.aws('autoscaling', 'create-auto-scaling-group', '--auto-scaling-group-name', 'selfm-asg', '--launch-template', `LaunchTemplateId=${lt},Version=$Latest`, '--min-size', '1', '--max-size', '2', '--desired-capacity', '1', '--vpc-zone-identifier', dp.subnets[1]!);
    await dp.advance(30);
    assert.equal((await dp.kubectlJson(['get', 'nodes', '-l', 'pool=asg'])).items.length, 0, 'no node before the access entry');
    await dp.aws('eks', 'create-access-entry', '--cluster-name', 'selfm', '--principal-arn', roleArn, '--type', 'EC2_LINUX');
    const node = await waitFor(async () => (await dp.kubectlJson(['get', 'nodes', '-l', 'pool=asg'])).items[0], { what: 'ASG node', timeoutMs: 60_000 });
    assert.equal(node.metadata.labels['node.kubernetes.io/instance-type'], 't3.medium');
  });
});
