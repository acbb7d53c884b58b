/**
 * The EKS API end to end with the real aws CLI (v1) and boto3 (including
 * its waiters cluster_active, nodegroup_active, cluster_deleted), against a
 * running localeks with the fast timing profile and reference checks off.
 * Error codes, HTTP statuses and messages are compared with EKS's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { runBoto3 } from '../helpers/boto3.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const tmp = mkdtempSync(join(tmpdir(), 'eks-cli-'));
const role = 'arn:aws:iam::000000000000:role/eks';

const aws = (...args: string[]) => awsJson(ep, args);

describe('eks with the aws CLI and boto3', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: false });
    ep = srv.awsEndpoint;
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('aws eks create-cluster, describe, wait cluster-active, update-kubeconfig', async () => {
    const r = await aws('eks', 'create-cluster', '--name', 'cli', '--kubernetes-version', '1.33', '--role-arn', role, '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2,endpointPrivateAccess=true', '--logging', JSON.stringify({ clusterLogging: [{ types: ['api', 'audit'], enabled: true }] }));
    assert.equal(r.cluster.status, 'CREATING');
    assert.equal(r.cluster.resourcesVpcConfig.endpointPrivateAccess, true);
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'cli')).cluster.status === 'ACTIVE', { what: 'cluster ACTIVE' });
    const w = await runAws(ep, ['eks', 'wait', 'cluster-active', '--name', 'cli']);
    assert.equal(w.code, 0, w.stderr);
    const groups = await aws('logs', 'describe-log-groups', '--log-group-name-prefix', '/aws/eks/cli/');
    assert.deepEqual(groups.logGroups.map((g: any) => g.logGroupName), ['/aws/eks/cli/cluster']);
    const streams = await aws('logs', 'describe-log-streams', '--log-group-name', '/aws/eks/cli/cluster');
    assert.deepEqual(streams.logStreams.map((s: any) => s.logStreamName.replace(/-[0-9a-f]{32}$/, '')).sort(), ['kube-apiserver', 'kube-apiserver-audit']);
    const kc = join(tmp, 'kubeconfig');
    const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'cli', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
    const cfg = parseYaml(readFileSync(kc, 'utf8'));
    assert.equal(cfg.clusters[0].cluster.server, `${srv.kubeEndpoint}/clusters/cli`);
    assert.ok(cfg.clusters[0].cluster['certificate-authority-data']);
    assert.equal(cfg.users[0].user.exec.args.includes('get-token'), true);
  });

  it('aws CLI errors carry EKS codes and messages', async () => {
    const dup = await runAws(ep, ['eks', 'create-cluster', '--name', 'cli', '--role-arn', role, '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
    assert.equal(dup.errorCode, 'ResourceInUseException');
    assert.equal(dup.errorMessage, 'Cluster already exists with name: cli');
    const nf = await runAws(ep, ['eks', 'describe-cluster', '--name', 'ghost']);
    assert.equal(nf.errorCode, 'ResourceNotFoundException');
    assert.equal(nf.errorMessage, 'No cluster found for name: ghost.');
    const skip = await runAws(ep, ['eks', 'update-cluster-version', '--name', 'cli', '--kubernetes-version', '1.35']);
    assert.equal(skip.errorCode, 'InvalidParameterException');
    assert.equal(skip.errorMessage, 'Unsupported Kubernetes minor version update from 1.33 to 1.35');
    const auth = await runAws(ep, ['eks', 'update-cluster-config', '--name', 'cli', '--access-config', 'authenticationMode=CONFIG_MAP']);
    assert.equal(auth.errorCode, 'InvalidParameterException');
    assert.equal(auth.errorMessage, 'Unsupported authentication mode update from CONFIG_MAP to CONFIG_MAP');
    const entries = await runAws(ep, ['eks', 'list-access-entries', '--cluster-name', 'cli']);
    assert.equal(entries.errorCode, 'InvalidRequestException');
  });

  it('node groups and add-ons with the CLI; the cluster with node groups cannot be deleted', async () => {
    const ng = await aws(
      'eks', 'create-nodegroup', '--cluster-name', 'cli', '--nodegroup-name', 'workers', '--node-role', 'arn:aws:iam::000000000000:role/node',
      '--subnets', 'subnet-1', 'subnet-2', '--scaling-config', 'minSize=0,maxSize=4,desiredSize=1', '--labels', 'team=a', '--capacity-type', 'SPOT', '--instance-types', 'm5.large', 'm5a.large',
    );
    assert.equal(ng.nodegroup.capacityType, 'SPOT');
    assert.deepEqual(ng.nodegroup.instanceTypes, ['m5.large', 'm5a.large']);
    await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', 'cli', '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: 'node group ACTIVE' });
    const w = await runAws(ep, ['eks', 'wait', 'nodegroup-active', '--cluster-name', 'cli', '--nodegroup-name', 'workers']);
    assert.equal(w.code, 0, w.stderr);
    const del = await runAws(ep, ['eks', 'delete-cluster', '--name', 'cli']);
    assert.equal(del.errorCode, 'ResourceInUseException');
    assert.equal(del.errorMessage, 'Cluster has nodegroups attached');
    const newer = await runAws(ep, ['eks', 'create-nodegroup', '--cluster-name', 'cli', '--nodegroup-name', 'newer', '--kubernetes-version', '1.34', '--node-role', role, '--subnets', 'subnet-1']);
    assert.equal(newer.errorCode, 'InvalidParameterException');
    const versions = await aws('eks', 'describe-addon-versions', '--addon-name', 'coredns', '--kubernetes-version', '1.33');
    const def = versions.addons[0].addonVersions.find((v: any) => v.compatibilities[0].defaultVersion);
    const ad = await aws('eks', 'create-addon', '--cluster-name', 'cli', '--addon-name', 'coredns', '--configuration-values', '{"replicaCount":3}');
    assert.equal(ad.addon.addonVersion, def.addonVersion);
    const bad = await runAws(ep, ['eks', 'create-addon', '--cluster-name', 'cli', '--addon-name', 'kube-proxy', '--addon-version', 'v1.29.15-eksbuild.16']);
    assert.equal(bad.errorCode, 'InvalidParameterException');
    const cv = await aws('eks', 'describe-cluster-versions');
    assert.ok(cv.clusterVersions.length >= 5);
  });

  it('boto3: waiters cluster_active / nodegroup_active / cluster_deleted poll the real lifecycle', async () => {
    const r = await runBoto3(
      ep,
      `
eks = client('eks')
fast = {'Delay': 1, 'MaxAttempts': 60}
c = eks.create_cluster(name='py', roleArn='${role}', resourcesVpcConfig={'subnetIds': ['subnet-1', 'subnet-2']})['cluster']
first = c['status']
eks.get_waiter('cluster_active').wait(name='py', WaiterConfig=fast)
eks.create_nodegroup(clusterName='py', nodegroupName='ng', nodeRole='${role}', subnets=['subnet-1'])
eks.get_waiter('nodegroup_active').wait(clusterName='py', nodegroupName='ng', WaiterConfig=fast)
ng = eks.describe_nodegroup(clusterName='py', nodegroupName='ng')['nodegroup']
try:
    eks.update_nodegroup_config(clusterName='py', nodegroupName='ng', scalingConfig={'minSize': 1, 'maxSize': 1, 'desiredSize': 2})
    err = None
except ClientError as e:
    err = [e.response['Error']['Code'], e.response['Error']['Message'], e.response['ResponseMetadata']['HTTPStatusCode']]
pages = [p['clusters'] for p in eks.get_paginator('list_clusters').paginate(PaginationConfig={'PageSize': 1})]
eks.delete_nodegroup(clusterName='py', nodegroupName='ng')
eks.get_waiter('nodegroup_deleted').wait(clusterName='py', nodegroupName='ng', WaiterConfig=fast)
eks.delete_cluster(name='py')
eks.get_waiter('cluster_deleted').wait(name='py', WaiterConfig=fast)
result = {'first': first, 'ng': ng, 'err': err, 'pages': pages, 'left': eks.list_clusters()['clusters']}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json;
    assert.equal(j.first, 'CREATING');
    assert.equal(j.ng.status, 'ACTIVE');
    assert.equal(j.ng.amiType, 'AL2023_x86_64_STANDARD');
    assert.deepEqual(j.err, ['InvalidParameterException', "desiredSize can't be greater than maxSize", 400]);
    assert.deepEqual(j.pages, [['cli'], ['py']]);
    assert.deepEqual(j.left, ['cli']);
  });
});
