/**
 * The EKS API end to end with @aws-sdk/client-eks (v3): every one of the 64
 * operations of eks 2017-11-01 is called at least once against a running
 * localeks (fast timing profile, reference checks off: API-only use), and
 * the SDK's waiters (waitUntilClusterActive, waitUntilNodegroupActive,
 * waitUntilAddonActive, waitUntilFargateProfileActive, ...Deleted) poll the
 * real lifecycle. Errors are compared by type, status and message with what
 * EKS returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as E from '@aws-sdk/client-eks';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let eks: E.EKSClient;
const called = new Set<string>();

async function send<T>(cmd: any): Promise<T> {
  called.add(cmd.constructor.name.replace(/Command$/, ''));
  return (await eks.send(cmd)) as T;
}

async function fails(cmd: any, name: string, status: number, message?: string | RegExp): Promise<any> {
  try {
    await send(cmd);
  } catch (err: any) {
    assert.equal(err.name, name, err.message);
    assert.equal(err.$metadata?.httpStatusCode, status);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${name}`);
}

const W = { maxWaitTime: 60, minDelay: 1, maxDelay: 1 };
const role = 'arn:aws:iam::000000000000:role/eks';
const nodeRole = 'arn:aws:iam::000000000000:role/node';
const vpc = { subnetIds: ['subnet-0aaa', 'subnet-0bbb'] };

describe('eks with @aws-sdk/client-eks', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: false });
    eks = new E.EKSClient({ endpoint: srv.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  });
  after(async () => {
    eks?.destroy();
    await srv?.stop();
  });

  it('clusters: create, wait active, describe, list, update config and version, errors', async () => {
    const r = await send<E.CreateClusterCommandOutput>(
      new E.CreateClusterCommand({ name: 'sdk', version: '1.33', roleArn: role, resourcesVpcConfig: vpc, accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' }, tags: { env: 'test' } }),
    );
    assert.equal(r.cluster?.status, 'CREATING');
    assert.ok(r.cluster?.createdAt instanceof Date);
    await fails(new E.CreateClusterCommand({ name: 'sdk', roleArn: role, resourcesVpcConfig: vpc }), 'ResourceInUseException', 409, 'Cluster already exists with name: sdk');
    const w = await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
    assert.equal(w.state, 'SUCCESS');
    const c = (await send<E.DescribeClusterCommandOutput>(new E.DescribeClusterCommand({ name: 'sdk' }))).cluster!;
    assert.equal(c.status, 'ACTIVE');
    assert.equal(c.endpoint, `${srv.kubeEndpoint}/clusters/sdk`);
    assert.ok(c.certificateAuthority?.data);
    assert.match(c.identity?.oidc?.issuer ?? '', /^https:\/\/.*\/oidc\/us-east-1\/id\/[0-9A-F]{32}$/); // https on the Kubernetes endpoint (IAM needs https)
    assert.equal(c.arn, 'arn:aws:eks:us-east-1:000000000000:cluster/sdk');
    const list = await send<E.ListClustersCommandOutput>(new E.ListClustersCommand({ maxResults: 10 }));
    assert.deepEqual(list.clusters, ['sdk']);
    await fails(new E.DescribeClusterCommand({ name: 'missing' }), 'ResourceNotFoundException', 404, 'No cluster found for name: missing.');

    const lu = await send<E.UpdateClusterConfigCommandOutput>(
      new E.UpdateClusterConfigCommand({ name: 'sdk', logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: true }] } }),
    );
    assert.equal(lu.update?.type, 'LoggingUpdate');
    assert.equal(lu.update?.status, 'InProgress');
    const busy = await fails(new E.UpdateClusterVersionCommand({ name: 'sdk', version: '1.34' }), 'ResourceInUseException', 409);
    assert.match(busy.message, new RegExp(`currently has update ${lu.update!.id} in progress`));
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
    const du = await send<E.DescribeUpdateCommandOutput>(new E.DescribeUpdateCommand({ name: 'sdk', updateId: lu.update!.id! }));
    assert.equal(du.update?.status, 'Successful');
    await fails(new E.UpdateClusterVersionCommand({ name: 'sdk', version: '1.35' }), 'InvalidParameterException', 400, 'Unsupported Kubernetes minor version update from 1.33 to 1.35');
    const vu = await send<E.UpdateClusterVersionCommandOutput>(new E.UpdateClusterVersionCommand({ name: 'sdk', version: '1.34' }));
    assert.equal(vu.update?.type, 'VersionUpdate');
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
    const ids = await send<E.ListUpdatesCommandOutput>(new E.ListUpdatesCommand({ name: 'sdk' }));
    assert.deepEqual(ids.updateIds, [lu.update!.id, vu.update!.id]);
    assert.equal((await send<E.DescribeClusterCommandOutput>(new E.DescribeClusterCommand({ name: 'sdk' }))).cluster?.version, '1.34');
    const enc = await send<E.AssociateEncryptionConfigCommandOutput>(
      new E.AssociateEncryptionConfigCommand({ clusterName: 'sdk', encryptionConfig: [{ resources: ['secrets'], provider: { keyArn: 'arn:aws:kms:us-east-1:000000000000:key/1234' } }] }),
    );
    assert.equal(enc.update?.type, 'AssociateEncryptionConfig');
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
  });

  it('versions, add-on catalogue and configuration schema', async () => {
    const v = await send<E.DescribeClusterVersionsCommandOutput>(new E.DescribeClusterVersionsCommand({}));
    assert.ok(v.clusterVersions!.some((x) => x.clusterVersion === '1.33' && x.versionStatus));
    assert.equal(v.clusterVersions!.filter((x) => x.defaultVersion).length, 1);
    const av = await send<E.DescribeAddonVersionsCommandOutput>(new E.DescribeAddonVersionsCommand({ addonName: 'vpc-cni', kubernetesVersion: '1.34' }));
    assert.equal(av.addons?.[0]?.addonName, 'vpc-cni');
    assert.ok(av.addons![0]!.addonVersions!.some((x) => x.compatibilities?.some((c) => c.defaultVersion)));
    const cfg = await send<E.DescribeAddonConfigurationCommandOutput>(new E.DescribeAddonConfigurationCommand({ addonName: 'coredns', addonVersion: 'v1.12.4-eksbuild.1' }));
    assert.ok(JSON.parse(cfg.configurationSchema!).definitions.Root.properties.replicaCount);
  });

  it('node groups, Fargate profiles, add-ons with waiters', async () => {
    const ng = await send<E.CreateNodegroupCommandOutput>(
      new E.CreateNodegroupCommand({ clusterName: 'sdk', nodegroupName: 'ng1', version: '1.33', nodeRole, subnets: ['subnet-0aaa'], scalingConfig: { minSize: 1, maxSize: 3, desiredSize: 2 }, taints: [{ key: 'k', value: 'v', effect: 'NO_SCHEDULE' }] }),
    );
    assert.equal(ng.nodegroup?.status, 'CREATING');
    await E.waitUntilNodegroupActive({ client: eks, ...W }, { clusterName: 'sdk', nodegroupName: 'ng1' });
    const d = (await send<E.DescribeNodegroupCommandOutput>(new E.DescribeNodegroupCommand({ clusterName: 'sdk', nodegroupName: 'ng1' }))).nodegroup!;
    assert.match(d.resources?.autoScalingGroups?.[0]?.name ?? '', /^eks-ng1-[0-9a-f-]{36}$/);
    assert.deepEqual((await send<E.ListNodegroupsCommandOutput>(new E.ListNodegroupsCommand({ clusterName: 'sdk' }))).nodegroups, ['ng1']);
    await fails(
      new E.CreateNodegroupCommand({ clusterName: 'sdk', nodegroupName: 'bad', nodeRole, subnets: ['s'], scalingConfig: { minSize: 3, maxSize: 4, desiredSize: 1 } }),
      'InvalidParameterException',
      400,
      "Minimum capacity 3 can't be greater than desired size 1",
    );
    await fails(new E.DeleteClusterCommand({ name: 'sdk' }), 'ResourceInUseException', 409, 'Cluster has nodegroups attached');
    const uc = await send<E.UpdateNodegroupConfigCommandOutput>(
      new E.UpdateNodegroupConfigCommand({ clusterName: 'sdk', nodegroupName: 'ng1', scalingConfig: { desiredSize: 3 }, updateConfig: { maxUnavailablePercentage: 50 } }),
    );
    assert.equal(uc.update?.type, 'ConfigUpdate');
    await E.waitUntilNodegroupActive({ client: eks, ...W }, { clusterName: 'sdk', nodegroupName: 'ng1' });
    const uv = await send<E.UpdateNodegroupVersionCommandOutput>(new E.UpdateNodegroupVersionCommand({ clusterName: 'sdk', nodegroupName: 'ng1' }));
    assert.deepEqual(uv.update?.params?.[0], { type: 'Version', value: '1.34' });
    await E.waitUntilNodegroupActive({ client: eks, ...W }, { clusterName: 'sdk', nodegroupName: 'ng1' });

    await send(new E.CreateFargateProfileCommand({ clusterName: 'sdk', fargateProfileName: 'fp', podExecutionRoleArn: role, subnets: ['subnet-p'], selectors: [{ namespace: 'default', labels: { fargate: 'yes' } }] }));
    await E.waitUntilFargateProfileActive({ client: eks, ...W }, { clusterName: 'sdk', fargateProfileName: 'fp' });
    assert.equal((await send<E.DescribeFargateProfileCommandOutput>(new E.DescribeFargateProfileCommand({ clusterName: 'sdk', fargateProfileName: 'fp' }))).fargateProfile?.status, 'ACTIVE');
    assert.deepEqual((await send<E.ListFargateProfilesCommandOutput>(new E.ListFargateProfilesCommand({ clusterName: 'sdk' }))).fargateProfileNames, ['fp']);

    const ad = await send<E.CreateAddonCommandOutput>(
      new E.CreateAddonCommand({ clusterName: 'sdk', addonName: 'vpc-cni', resolveConflicts: 'OVERWRITE', configurationValues: JSON.stringify({ env: { WARM_IP_TARGET: '5' } }) }),
    );
    assert.equal(ad.addon?.status, 'CREATING');
    await fails(
      new E.CreateAddonCommand({ clusterName: 'sdk', addonName: 'coredns', configurationValues: '{"bogus": 1}' }),
      'InvalidParameterException',
      400,
      /ConfigurationValue provided in request is not supported/,
    );
    await E.waitUntilAddonActive({ client: eks, ...W }, { clusterName: 'sdk', addonName: 'vpc-cni' });
    assert.deepEqual((await send<E.ListAddonsCommandOutput>(new E.ListAddonsCommand({ clusterName: 'sdk' }))).addons, ['vpc-cni']);
    const ua = await send<E.UpdateAddonCommandOutput>(new E.UpdateAddonCommand({ clusterName: 'sdk', addonName: 'vpc-cni', addonVersion: 'v1.20.1-eksbuild.3' }));
    assert.equal(ua.update?.type, 'AddonUpdate');
    await E.waitUntilAddonActive({ client: eks, ...W }, { clusterName: 'sdk', addonName: 'vpc-cni' });
    assert.equal((await send<E.DescribeAddonCommandOutput>(new E.DescribeAddonCommand({ clusterName: 'sdk', addonName: 'vpc-cni' }))).addon?.addonVersion, 'v1.20.1-eksbuild.3');
  });

  it('access entries, pod identity, identity providers, insights, capabilities, tags', async () => {
    const principal = 'arn:aws:iam::000000000000:role/dev';
    await send(new E.CreateAccessEntryCommand({ clusterName: 'sdk', principalArn: principal, kubernetesGroups: ['devs'] }));
    assert.equal((await send<E.DescribeAccessEntryCommandOutput>(new E.DescribeAccessEntryCommand({ clusterName: 'sdk', principalArn: principal }))).accessEntry?.type, 'STANDARD');
    await send(new E.UpdateAccessEntryCommand({ clusterName: 'sdk', principalArn: principal, kubernetesGroups: ['devs', 'ops'] }));
    const pols = await send<E.ListAccessPoliciesCommandOutput>(new E.ListAccessPoliciesCommand({}));
    assert.ok(pols.accessPolicies!.some((p) => p.name === 'AmazonEKSClusterAdminPolicy'));
    const view = 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy';
    await send(new E.AssociateAccessPolicyCommand({ clusterName: 'sdk', principalArn: principal, policyArn: view, accessScope: { type: 'namespace', namespaces: ['app'] } }));
    const assoc = await send<E.ListAssociatedAccessPoliciesCommandOutput>(new E.ListAssociatedAccessPoliciesCommand({ clusterName: 'sdk', principalArn: principal }));
    assert.equal(assoc.associatedAccessPolicies?.[0]?.policyArn, view);
    await send(new E.DisassociateAccessPolicyCommand({ clusterName: 'sdk', principalArn: principal, policyArn: view }));
    const entries = await send<E.ListAccessEntriesCommandOutput>(new E.ListAccessEntriesCommand({ clusterName: 'sdk' }));
    assert.deepEqual(entries.accessEntries, [
      'arn:aws:iam::000000000000:role/dev',
      'arn:aws:iam::000000000000:role/eks', // the Fargate pod execution role (FARGATE_LINUX)
      'arn:aws:iam::000000000000:role/node', // the node group role (EC2_LINUX)
      'arn:aws:iam::000000000000:root', // the cluster creator
    ]);
    const nodeEntry = await send<E.DescribeAccessEntryCommandOutput>(new E.DescribeAccessEntryCommand({ clusterName: 'sdk', principalArn: nodeRole }));
    assert.equal(nodeEntry.accessEntry?.type, 'EC2_LINUX');
    assert.equal(nodeEntry.accessEntry?.username, 'system:node:{{EC2PrivateDNSName}}');
    await send(new E.DeleteAccessEntryCommand({ clusterName: 'sdk', principalArn: principal }));

    const pia = await send<E.CreatePodIdentityAssociationCommandOutput>(new E.CreatePodIdentityAssociationCommand({ clusterName: 'sdk', namespace: 'app', serviceAccount: 'web', roleArn: role }));
    const id = pia.association!.associationId!;
    assert.match(id, /^a-[a-z0-9]{17}$/);
    await send(new E.UpdatePodIdentityAssociationCommand({ clusterName: 'sdk', associationId: id, roleArn: nodeRole }));
    assert.equal((await send<E.DescribePodIdentityAssociationCommandOutput>(new E.DescribePodIdentityAssociationCommand({ clusterName: 'sdk', associationId: id }))).association?.roleArn, nodeRole);
    assert.equal((await send<E.ListPodIdentityAssociationsCommandOutput>(new E.ListPodIdentityAssociationsCommand({ clusterName: 'sdk', namespace: 'app' }))).associations?.length, 1);
    await send(new E.DeletePodIdentityAssociationCommand({ clusterName: 'sdk', associationId: id }));

    const idp = await send<E.AssociateIdentityProviderConfigCommandOutput>(
      new E.AssociateIdentityProviderConfigCommand({ clusterName: 'sdk', oidc: { identityProviderConfigName: 'dex', issuerUrl: 'https://dex.example.com', clientId: 'kubernetes' } }),
    );
    assert.equal(idp.update?.type, 'AssociateIdentityProviderConfig');
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
    const ref = { type: 'oidc', name: 'dex' };
    assert.equal((await send<E.DescribeIdentityProviderConfigCommandOutput>(new E.DescribeIdentityProviderConfigCommand({ clusterName: 'sdk', identityProviderConfig: ref }))).identityProviderConfig?.oidc?.status, 'ACTIVE');
    assert.deepEqual((await send<E.ListIdentityProviderConfigsCommandOutput>(new E.ListIdentityProviderConfigsCommand({ clusterName: 'sdk' }))).identityProviderConfigs, [ref]);
    await send(new E.DisassociateIdentityProviderConfigCommand({ clusterName: 'sdk', identityProviderConfig: ref }));
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });

    const ins = await send<E.ListInsightsCommandOutput>(new E.ListInsightsCommand({ clusterName: 'sdk', filter: { categories: ['UPGRADE_READINESS'] } }));
    assert.ok(ins.insights!.length >= 3);
    const one = await send<E.DescribeInsightCommandOutput>(new E.DescribeInsightCommand({ clusterName: 'sdk', id: ins.insights![0]!.id! }));
    assert.equal(one.insight?.id, ins.insights![0]!.id);
    const rf = await send<E.StartInsightsRefreshCommandOutput>(new E.StartInsightsRefreshCommand({ clusterName: 'sdk' }));
    assert.ok(rf.status);
    assert.ok((await send<E.DescribeInsightsRefreshCommandOutput>(new E.DescribeInsightsRefreshCommand({ clusterName: 'sdk' }))).status);

    await send(new E.CreateCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack', type: 'ACK', roleArn: role, deletePropagationPolicy: 'RETAIN' }));
    assert.equal((await send<E.DescribeCapabilityCommandOutput>(new E.DescribeCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack' }))).capability?.type, 'ACK');
    assert.equal((await send<E.ListCapabilitiesCommandOutput>(new E.ListCapabilitiesCommand({ clusterName: 'sdk' }))).capabilities?.length, 1);
    await E.waitUntilClusterActive({ client: eks, ...W }, { name: 'sdk' });
    for (let i = 0; i < 100; i++) {
      const s = (await send<E.DescribeCapabilityCommandOutput>(new E.DescribeCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack' }))).capability?.status;
      if (s === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await send(new E.UpdateCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack', roleArn: nodeRole }));

    const carn = 'arn:aws:eks:us-east-1:000000000000:cluster/sdk';
    await send(new E.TagResourceCommand({ resourceArn: carn, tags: { a: '1', b: '2' } }));
    await send(new E.UntagResourceCommand({ resourceArn: carn, tagKeys: ['b'] }));
    assert.deepEqual((await send<E.ListTagsForResourceCommandOutput>(new E.ListTagsForResourceCommand({ resourceArn: carn }))).tags, { env: 'test', a: '1' });
    await fails(new E.ListTagsForResourceCommand({ resourceArn: 'arn:aws:eks:us-east-1:000000000000:cluster/nope' }), 'NotFoundException', 404);
  });

  it('EKS Anywhere subscriptions and registered clusters', async () => {
    const s = await send<E.CreateEksAnywhereSubscriptionCommandOutput>(new E.CreateEksAnywhereSubscriptionCommand({ name: 'sub', term: { duration: 12, unit: 'MONTHS' }, licenseQuantity: 2 }));
    const id = s.subscription!.id!;
    assert.equal(s.subscription?.licenses?.length, 2);
    assert.equal((await send<E.DescribeEksAnywhereSubscriptionCommandOutput>(new E.DescribeEksAnywhereSubscriptionCommand({ id }))).subscription?.id, id);
    assert.equal((await send<E.ListEksAnywhereSubscriptionsCommandOutput>(new E.ListEksAnywhereSubscriptionsCommand({}))).subscriptions?.length, 1);
    assert.equal((await send<E.UpdateEksAnywhereSubscriptionCommandOutput>(new E.UpdateEksAnywhereSubscriptionCommand({ id, autoRenew: true }))).subscription?.autoRenew, true);
    await send(new E.DeleteEksAnywhereSubscriptionCommand({ id }));

    const reg = await send<E.RegisterClusterCommandOutput>(new E.RegisterClusterCommand({ name: 'onprem', connectorConfig: { roleArn: role, provider: 'OTHER' } }));
    assert.equal(reg.cluster?.status, 'PENDING');
    assert.ok(reg.cluster?.connectorConfig?.activationId);
    assert.deepEqual((await send<E.ListClustersCommandOutput>(new E.ListClustersCommand({}))).clusters, ['sdk']);
    assert.deepEqual((await send<E.ListClustersCommandOutput>(new E.ListClustersCommand({ include: ['all'] }))).clusters, ['onprem', 'sdk']);
    await send(new E.DeregisterClusterCommand({ name: 'onprem' }));
  });

  it('deletes everything and the deleted waiters return', async () => {
    await send(new E.DeleteCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack' })).catch(async () => {
      await new Promise((r) => setTimeout(r, 1000));
      await send(new E.DeleteCapabilityCommand({ clusterName: 'sdk', capabilityName: 'ack' }));
    });
    await send(new E.DeleteAddonCommand({ clusterName: 'sdk', addonName: 'vpc-cni' }));
    await E.waitUntilAddonDeleted({ client: eks, ...W }, { clusterName: 'sdk', addonName: 'vpc-cni' });
    await send(new E.DeleteFargateProfileCommand({ clusterName: 'sdk', fargateProfileName: 'fp' }));
    await E.waitUntilFargateProfileDeleted({ client: eks, ...W }, { clusterName: 'sdk', fargateProfileName: 'fp' });
    await send(new E.DeleteNodegroupCommand({ clusterName: 'sdk', nodegroupName: 'ng1' }));
    await E.waitUntilNodegroupDeleted({ client: eks, ...W }, { clusterName: 'sdk', nodegroupName: 'ng1' });
    const del = await send<E.DeleteClusterCommandOutput>(new E.DeleteClusterCommand({ name: 'sdk' }));
    assert.equal(del.cluster?.status, 'DELETING');
    await E.waitUntilClusterDeleted({ client: eks, ...W }, { name: 'sdk' });
  });

  it('called every operation of the model', async () => {
    const model = (await import('../../src/aws/models/eks.json', { with: { type: 'json' } })).default as any;
    const missing = Object.keys(model.operations).filter((op) => !called.has(op));
    assert.deepEqual(missing, []);
  });
});
