import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import type { AwsConfig, AwsDeps } from '../core/deps.ts';
import { AwsState } from '../core/state.ts';
import { AwsServiceError, type RequestContext } from '../core/types.ts';
import { SimClock } from '../../sim/clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { EksClusterDirectory } from './cluster-directory.ts';
import { clusterInfoOf, failNodegroupUpdate, holdNodegroupTransition, recordDeprecatedApiUsage } from './shared.ts';
import { createEksProvider, type EksProvider } from './provider.ts';

const START = Date.parse('2026-06-01T00:00:00Z');

interface Env {
  deps: AwsDeps;
  clock: SimClock;
  eks: EksProvider;
  call(op: string, input: any, ctx?: Partial<RequestContext>): Promise<any>;
  settle(): Promise<void>;
  advance(ms: number): Promise<void>;
}

const envs: Env[] = [];
after(() => {
  for (const e of envs) {
    e.eks.stop();
    e.clock.stop();
    e.deps.state.stop();
  }
});

async function makeEnv(config: Partial<AwsConfig> = {}, shared?: { state: AwsState; clock: SimClock }): Promise<Env> {
  let now = START;
  const clock = shared?.clock ?? new SimClock({ realNow: () => now });
  const state = shared?.state ?? new AwsState(new MemoryBackend());
  await state.start();
  const deps: AwsDeps = {
    state,
    clock,
    log: pino({ level: 'silent' }),
    config: {
      defaultAccountId: '000000000000',
      enforceIam: false,
      referenceChecks: false,
      timingProfile: 'fast',
      awsEndpoint: 'http://127.0.0.1:4566',
      kubeEndpoint: 'https://127.0.0.1:6443',
      caCertPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
      ...config,
    },
  };
  const eks = createEksProvider(deps);
  const settle = async () => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };
  await settle();
  const env: Env = {
    deps,
    clock,
    eks,
    settle,
    async call(op, input, ctx = {}) {
      const h = eks.operations[op];
      assert.ok(h, `no handler for ${op}`);
      return await h(structuredClone(input), {
        accountId: '111122223333',
        region: 'eu-west-1',
        requestId: 'r',
        service: 'eks',
        operation: op,
        accessKeyId: 'test',
        callerArn: 'arn:aws:iam::111122223333:user/alice',
        callerUserId: 'AIDA',
        now: () => clock.now(),
        ...ctx,
      });
    },
    async advance(ms) {
      clock.advance(ms);
      await settle();
      await eks.lifecycle.idle();
      await settle();
    },
  };
  envs.push(env);
  return env;
}

async function rejects(p: Promise<unknown>, code: string, message?: string | RegExp, status?: number): Promise<AwsServiceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AwsServiceError, `expected AwsServiceError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    if (status) assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const vpc = { subnetIds: ['subnet-a', 'subnet-b'] };
const role = 'arn:aws:iam::111122223333:role/eks-cluster';

async function activeCluster(env: Env, name: string, extra: any = {}) {
  await env.call('CreateCluster', { name, roleArn: role, resourcesVpcConfig: vpc, version: '1.32', ...extra });
  await env.advance(1000);
  const c = (await env.call('DescribeCluster', { name })).cluster;
  assert.equal(c.status, 'ACTIVE');
  return c;
}

describe('EKS clusters', () => {
  test('CreateCluster answers CREATING, then the cluster turns ACTIVE with a complete description', async () => {
    const env = await makeEnv();
    const r = await env.call('CreateCluster', { name: 'prod', roleArn: role, resourcesVpcConfig: vpc, version: '1.33', tags: { team: 'a' } });
    assert.equal(r.cluster.status, 'CREATING');
    assert.equal(r.cluster.arn, 'arn:aws:eks:eu-west-1:111122223333:cluster/prod');
    assert.ok(r.cluster.createdAt instanceof Date);
    assert.equal(r.cluster._uid, undefined, 'private members are stripped');
    await env.advance(100);
    assert.equal((await env.call('DescribeCluster', { name: 'prod' })).cluster.status, 'CREATING');
    await env.advance(1000);
    const c = (await env.call('DescribeCluster', { name: 'prod' })).cluster;
    assert.equal(c.status, 'ACTIVE');
    assert.equal(c.endpoint, 'https://127.0.0.1:6443/clusters/prod');
    assert.equal(Buffer.from(c.certificateAuthority.data, 'base64').toString(), env.deps.config.caCertPem);
    assert.match(c.identity.oidc.issuer, /^https:\/\/127\.0\.0\.1:6443\/oidc\/eu-west-1\/id\/[0-9A-F]{32}$/); // https on the Kubernetes endpoint (IAM needs https)
    assert.equal(c.kubernetesNetworkConfig.serviceIpv4Cidr, '10.100.0.0/16');
    assert.equal(c.platformVersion, 'eks.17');
    assert.match(c.resourcesVpcConfig.clusterSecurityGroupId, /^sg-/);
    assert.deepEqual(c.logging.clusterLogging, [{ types: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'], enabled: false }]);
    assert.deepEqual(c.accessConfig, { authenticationMode: 'CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: true });
    assert.deepEqual(c.upgradePolicy, { supportType: 'EXTENDED' });
    assert.deepEqual(c.tags, { team: 'a' });

    const dir = new EksClusterDirectory(env.deps.state);
    const info = dir.lookup('prod');
    assert.ok(info);
    assert.equal(info.status, 'ACTIVE');
    assert.equal(info.kubernetesVersion, '1.33');
    assert.equal(info.accountId, '111122223333');
    assert.match(info.uid, /^[0-9a-f-]{36}$/);
  });

  test('names are unique; unknown clusters and versions answer EKS errors', async () => {
    const env = await makeEnv();
    await env.call('CreateCluster', { name: 'dup', roleArn: role, resourcesVpcConfig: vpc });
    await rejects(env.call('CreateCluster', { name: 'dup', roleArn: role, resourcesVpcConfig: vpc }), 'ResourceInUseException', 'Cluster already exists with name: dup', 409);
    await rejects(env.call('DescribeCluster', { name: 'nope' }), 'ResourceNotFoundException', 'No cluster found for name: nope.', 404);
    await rejects(env.call('CreateCluster', { name: 'old', roleArn: role, resourcesVpcConfig: vpc, version: '1.20' }), 'InvalidParameterException', 'unsupported Kubernetes version');
    await rejects(
      env.call('CreateCluster', { name: 'cm', roleArn: role, resourcesVpcConfig: vpc, accessConfig: { authenticationMode: 'CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: false } }),
      'InvalidParameterException',
      'bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP',
    );
    assert.equal(env.deps.state.get('/aws/eks/111122223333/eu-west-1/cluster/cm'), undefined, 'a rejected call stores nothing');
  });

  test('clientRequestToken makes CreateCluster idempotent', async () => {
    const env = await makeEnv();
    const a = await env.call('CreateCluster', { name: 'idem', roleArn: role, resourcesVpcConfig: vpc, clientRequestToken: 'tok-1' });
    const b = await env.call('CreateCluster', { name: 'idem', roleArn: role, resourcesVpcConfig: vpc, clientRequestToken: 'tok-1' });
    assert.equal(a.cluster.arn, b.cluster.arn);
    assert.equal(b.cluster.status, 'CREATING');
  });

  test('ListClusters paginates with maxResults/nextToken', async () => {
    const env = await makeEnv({ timingProfile: 'instant' });
    for (const n of ['c1', 'c2', 'c3', 'c4', 'c5']) await env.call('CreateCluster', { name: n, roleArn: role, resourcesVpcConfig: vpc });
    const p1 = await env.call('ListClusters', { maxResults: 2 });
    assert.deepEqual(p1.clusters, ['c1', 'c2']);
    const p2 = await env.call('ListClusters', { maxResults: 2, nextToken: p1.nextToken });
    assert.deepEqual(p2.clusters, ['c3', 'c4']);
    const p3 = await env.call('ListClusters', { maxResults: 2, nextToken: p2.nextToken });
    assert.deepEqual(p3.clusters, ['c5']);
    assert.equal(p3.nextToken, undefined);
    await rejects(env.call('ListClusters', { nextToken: 'garbage' }), 'InvalidParameterException');
  });

  test('instant profile: ACTIVE in the CreateCluster response', async () => {
    const env = await makeEnv({ timingProfile: 'instant' });
    const r = await env.call('CreateCluster', { name: 'now', roleArn: role, resourcesVpcConfig: vpc });
    assert.equal(r.cluster.status, 'ACTIVE');
    assert.ok(r.cluster.endpoint);
    const d = await env.call('DeleteCluster', { name: 'now' });
    assert.equal(d.cluster.status, 'DELETING');
    await rejects(env.call('DescribeCluster', { name: 'now' }), 'ResourceNotFoundException');
  });

  test('realistic profile: about ten simulated minutes to create a cluster', async () => {
    const env = await makeEnv({ timingProfile: 'realistic' });
    await env.call('CreateCluster', { name: 'slow', roleArn: role, resourcesVpcConfig: vpc });
    await env.advance(5 * 60_000);
    assert.equal((await env.call('DescribeCluster', { name: 'slow' })).cluster.status, 'CREATING');
    await env.advance(5 * 60_000 + 1);
    assert.equal((await env.call('DescribeCluster', { name: 'slow' })).cluster.status, 'ACTIVE');
  });

  test('end of standard support: EKS upgrades a STANDARD cluster to the next minor, add-ons stay', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'eos', { version: '1.33', upgradePolicy: { supportType: 'STANDARD' } });
    await env.call('CreateAddon', { clusterName: 'eos', addonName: 'kube-proxy' });
    await activeCluster(env, 'ext', { version: '1.33' });
    // 1.33 leaves standard support on 2026-07-29; the test clock starts on 2026-06-01.
    for (let day = 0; day < 60; day++) await env.advance(24 * 3600_000);
    await env.advance(1000);
    const c = (await env.call('DescribeCluster', { name: 'eos' })).cluster;
    assert.equal(c.version, '1.34');
    const ups = (await env.call('ListUpdates', { name: 'eos' })).updateIds;
    assert.equal((await env.call('DescribeUpdate', { name: 'eos', updateId: ups[0] })).update.status, 'Successful');
    assert.equal((await env.call('DescribeAddon', { clusterName: 'eos', addonName: 'kube-proxy' })).addon.addonVersion, 'v1.33.3-eksbuild.10');
    assert.equal((await env.call('DescribeCluster', { name: 'ext' })).cluster.version, '1.33', 'EXTENDED keeps the version until extended support ends');
  });

  test('an interrupted transition resumes after a restart', async () => {
    const env = await makeEnv();
    await env.call('CreateCluster', { name: 'resume', roleArn: role, resourcesVpcConfig: vpc });
    env.eks.stop(); // the old process dies with its timers
    const env2 = await makeEnv({}, { state: env.deps.state, clock: env.clock });
    await env2.advance(1000);
    assert.equal((await env2.call('DescribeCluster', { name: 'resume' })).cluster.status, 'ACTIVE');
  });

  test('control plane upgrades one minor at a time, one update in progress, Update records', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'up');
    await rejects(env.call('UpdateClusterVersion', { name: 'up', version: '1.34' }), 'InvalidParameterException', 'Unsupported Kubernetes minor version update from 1.32 to 1.34');
    await rejects(env.call('UpdateClusterVersion', { name: 'up', version: '1.32' }), 'InvalidParameterException', 'Unsupported Kubernetes minor version update from 1.32 to 1.32');
    const { update } = await env.call('UpdateClusterVersion', { name: 'up', version: '1.33' });
    assert.equal(update.status, 'InProgress');
    assert.equal(update.type, 'VersionUpdate');
    assert.deepEqual(update.params[0], { type: 'Version', value: '1.33' });
    assert.equal((await env.call('DescribeCluster', { name: 'up' })).cluster.status, 'UPDATING');
    const err = await rejects(env.call('UpdateClusterConfig', { name: 'up', logging: { clusterLogging: [{ types: ['api'], enabled: true }] } }), 'ResourceInUseException', undefined, 409);
    assert.equal(err.message, `Cannot LoggingUpdate because cluster up currently has update ${update.id} in progress`);
    await env.advance(1000);
    const c = (await env.call('DescribeCluster', { name: 'up' })).cluster;
    assert.equal(c.status, 'ACTIVE');
    assert.equal(c.version, '1.33');
    const u = (await env.call('DescribeUpdate', { name: 'up', updateId: update.id })).update;
    assert.equal(u.status, 'Successful');
    assert.deepEqual((await env.call('ListUpdates', { name: 'up' })).updateIds, [update.id]);
    await rejects(env.call('ListUpdates', { name: 'up', nodegroupName: 'ghost' }), 'ResourceNotFoundException', 'No node group found for name: ghost.');
  });

  test('UpdateClusterConfig: logging, endpoint access, authentication mode only forward', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'cfg');
    await rejects(
      env.call('UpdateClusterConfig', { name: 'cfg', logging: { clusterLogging: [{ types: ['api'], enabled: true }] }, accessConfig: { authenticationMode: 'API' } }),
      'InvalidParameterException',
      'Only one type of update can be allowed.',
    );
    await env.call('UpdateClusterConfig', { name: 'cfg', logging: { clusterLogging: [{ types: ['api', 'audit'], enabled: true }] } });
    await env.advance(1000);
    let c = (await env.call('DescribeCluster', { name: 'cfg' })).cluster;
    assert.deepEqual(c.logging.clusterLogging[0], { types: ['api', 'audit'], enabled: true });
    await rejects(env.call('UpdateClusterConfig', { name: 'cfg', resourcesVpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: false } }), 'InvalidParameterException');
    const ep = await env.call('UpdateClusterConfig', { name: 'cfg', resourcesVpcConfig: { endpointPrivateAccess: true } });
    assert.equal(ep.update.type, 'EndpointAccessUpdate');
    await env.advance(1000);
    await env.call('CreateNodegroup', { clusterName: 'cfg', nodegroupName: 'ng', subnets: ['subnet-a'], nodeRole: 'arn:aws:iam::111122223333:role/node' });
    await env.advance(1000);
    await env.call('UpdateClusterConfig', { name: 'cfg', accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' } });
    await env.advance(1000);
    await rejects(env.call('UpdateClusterConfig', { name: 'cfg', accessConfig: { authenticationMode: 'CONFIG_MAP' } }), 'InvalidParameterException', 'Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP');
    c = (await env.call('DescribeCluster', { name: 'cfg' })).cluster;
    assert.equal(c.resourcesVpcConfig.endpointPrivateAccess, true);
    const nodeEntry = (await env.call('DescribeAccessEntry', { clusterName: 'cfg', principalArn: 'arn:aws:iam::111122223333:role/node' })).accessEntry;
    assert.equal(nodeEntry.type, 'EC2_LINUX', 'node groups made under CONFIG_MAP get their entry on the switch');
    assert.equal(c.accessConfig.authenticationMode, 'API_AND_CONFIG_MAP');
  });
});

describe('EKS node groups, Fargate, add-ons', () => {
  test('node group lifecycle, validation, and cluster deletion rules', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'ng');
    const base = { clusterName: 'ng', nodegroupName: 'workers', subnets: ['subnet-a'], nodeRole: 'arn:aws:iam::111122223333:role/node' };
    await rejects(env.call('CreateNodegroup', { ...base, version: '1.33' }), 'InvalidParameterException', /cannot be greater than cluster version 1\.32/);
    await rejects(env.call('CreateNodegroup', { ...base, scalingConfig: { minSize: 3, maxSize: 5, desiredSize: 2 } }), 'InvalidParameterException', "Minimum capacity 3 can't be greater than desired size 2");
    await rejects(env.call('CreateNodegroup', { ...base, scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 3 } }), 'InvalidParameterException', "desiredSize can't be greater than maxSize");
    await rejects(env.call('CreateNodegroup', { ...base, launchTemplate: { id: 'lt-1' }, diskSize: 30 }), 'InvalidParameterException', 'Disk size must be specified within the launch template.');
    const r = await env.call('CreateNodegroup', { ...base, scalingConfig: { minSize: 0, maxSize: 3, desiredSize: 0 }, labels: { role: 'app' } });
    const ng = r.nodegroup;
    assert.equal(ng.status, 'CREATING');
    assert.match(ng.nodegroupArn, /^arn:aws:eks:eu-west-1:111122223333:nodegroup\/ng\/workers\/[0-9a-f-]{36}$/);
    assert.deepEqual(ng.instanceTypes, ['t3.medium']);
    assert.equal(ng.diskSize, 20);
    assert.equal(ng.amiType, 'AL2023_x86_64_STANDARD');
    assert.match(ng.releaseVersion, /^1\.32\.\d+-\d{8}$/);
    assert.deepEqual(ng.updateConfig, { maxUnavailable: 1 });
    await rejects(env.call('CreateNodegroup', base), 'ResourceInUseException', 'NodeGroup already exists with name workers and cluster name ng');
    await env.advance(1000);
    const active = (await env.call('DescribeNodegroup', { clusterName: 'ng', nodegroupName: 'workers' })).nodegroup;
    assert.equal(active.status, 'ACTIVE');
    const id = active.nodegroupArn.split('/').pop();
    assert.deepEqual(active.resources.autoScalingGroups, [{ name: `eks-workers-${id}` }]);
    await rejects(env.call('DeleteCluster', { name: 'ng' }), 'ResourceInUseException', 'Cluster has nodegroups attached', 409);

    const up = await env.call('UpdateNodegroupConfig', { clusterName: 'ng', nodegroupName: 'workers', scalingConfig: { desiredSize: 2 }, labels: { addOrUpdateLabels: { tier: 'x' }, removeLabels: ['role'] } });
    assert.equal(up.update.type, 'ConfigUpdate');
    await rejects(env.call('UpdateNodegroupVersion', { clusterName: 'ng', nodegroupName: 'workers' }), 'ResourceInUseException', /currently has update/);
    await env.advance(1000);
    const after = (await env.call('DescribeNodegroup', { clusterName: 'ng', nodegroupName: 'workers' })).nodegroup;
    assert.deepEqual(after.labels, { tier: 'x' });
    assert.equal(after.scalingConfig.desiredSize, 2);
    assert.equal((await env.call('DescribeUpdate', { name: 'ng', nodegroupName: 'workers', updateId: up.update.id })).update.status, 'Successful');

    await env.call('DeleteNodegroup', { clusterName: 'ng', nodegroupName: 'workers' });
    await env.advance(1000);
    assert.deepEqual((await env.call('ListNodegroups', { clusterName: 'ng' })).nodegroups, []);
    await env.call('DeleteCluster', { name: 'ng' });
    await env.advance(1000);
    await rejects(env.call('DescribeCluster', { name: 'ng' }), 'ResourceNotFoundException');
  });

  test('the Kubernetes side can hold a node group rollout and fail it with PodEvictionFailure', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'roll');
    await env.call('CreateNodegroup', { clusterName: 'roll', nodegroupName: 'ng', version: '1.31', subnets: ['subnet-a'], nodeRole: 'arn:aws:iam::111122223333:role/node' });
    await env.advance(1000);
    const { update } = await env.call('UpdateNodegroupVersion', { clusterName: 'roll', nodegroupName: 'ng' });
    const cluster = clusterInfoOf(env.deps.state, { accountId: '111122223333', region: 'eu-west-1' }, 'roll')!;
    assert.ok(await holdNodegroupTransition(env.deps.state, cluster, 'ng', env.clock.nowMs() + 60_000));
    await env.advance(5_000);
    assert.equal((await env.call('DescribeNodegroup', { clusterName: 'roll', nodegroupName: 'ng' })).nodegroup.status, 'UPDATING', 'held past the profile duration');
    await failNodegroupUpdate(env.deps.state, cluster, 'ng', { errorCode: 'PodEvictionFailure', errorMessage: 'Reached max retries while trying to evict pods from nodes in node group ng' }, env.clock.nowMs());
    await env.advance(60_000);
    const ng = (await env.call('DescribeNodegroup', { clusterName: 'roll', nodegroupName: 'ng' })).nodegroup;
    assert.equal(ng.status, 'ACTIVE');
    assert.equal(ng.version, '1.31', 'a failed update changes nothing');
    const u = (await env.call('DescribeUpdate', { name: 'roll', nodegroupName: 'ng', updateId: update.id })).update;
    assert.equal(u.status, 'Failed');
    assert.equal(u.errors[0].errorCode, 'PodEvictionFailure');
  });

  test('add-ons are not upgraded with the control plane; insights report them and block the next upgrade', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'ad');
    const a = await env.call('CreateAddon', { clusterName: 'ad', addonName: 'kube-proxy' });
    assert.equal(a.addon.addonVersion, 'v1.32.6-eksbuild.12');
    await rejects(env.call('CreateAddon', { clusterName: 'ad', addonName: 'coredns', addonVersion: 'v1.10.1-eksbuild.18' }), 'InvalidParameterException');
    await rejects(env.call('CreateAddon', { clusterName: 'ad', addonName: 'coredns', configurationValues: '{"replicaCount": "two"}' }), 'InvalidParameterException', /Json schema validation failed/);
    await env.call('CreateAddon', { clusterName: 'ad', addonName: 'coredns', configurationValues: 'replicaCount: 3' });
    await env.advance(1000);
    await env.call('UpdateClusterVersion', { name: 'ad', version: '1.33' });
    await env.advance(1000);
    const kp = (await env.call('DescribeAddon', { clusterName: 'ad', addonName: 'kube-proxy' })).addon;
    assert.equal(kp.addonVersion, 'v1.32.6-eksbuild.12', 'not upgraded with the control plane');
    const insights = (await env.call('ListInsights', { clusterName: 'ad' })).insights;
    const compat = insights.find((i: any) => i.name === 'Amazon EKS add-on version compatibility');
    assert.equal(compat.insightStatus.status, 'ERROR');
    assert.equal(compat.kubernetesVersion, '1.34');
    const detail = (await env.call('DescribeInsight', { clusterName: 'ad', id: compat.id })).insight;
    assert.equal(detail.categorySpecificSummary.addonCompatibilityDetails[0].name, 'kube-proxy');
    await rejects(env.call('UpdateClusterVersion', { name: 'ad', version: '1.34' }), 'InvalidRequestException', /blocked by upgrade insights/);
    await env.call('UpdateAddon', { clusterName: 'ad', addonName: 'kube-proxy', addonVersion: 'v1.33.3-eksbuild.10' });
    await env.advance(2000); // modeled add-ons stay UPDATING for the add-on controller's apply window (ADDON_APPLY_WINDOW_MS)
    const up = await env.call('UpdateClusterVersion', { name: 'ad', version: '1.34' });
    assert.equal(up.update.status, 'InProgress');
  });

  test('deprecated API usage recorded by the Kubernetes side becomes an upgrade insight', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'dep');
    const info = clusterInfoOf(env.deps.state, { accountId: '111122223333', region: 'eu-west-1' }, 'dep')!;
    await recordDeprecatedApiUsage(env.deps.state, info, [
      {
        usage: '/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas',
        replacedWith: '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas',
        stopServingVersion: '1.33',
        startServingReplacementVersion: '1.29',
        clientStats: [{ userAgent: 'kubectl/v1.31.0', numberOfRequestsLast30Days: 3, lastRequestTime: '2026-05-30T10:00:00Z' }],
      },
    ]);
    const list = (await env.call('ListInsights', { clusterName: 'dep', filter: { statuses: ['ERROR'] } })).insights;
    const dep = list.find((i: any) => i.name === 'Deprecated APIs removed in Kubernetes v1.33');
    assert.ok(dep, JSON.stringify(list));
    const d = (await env.call('DescribeInsight', { clusterName: 'dep', id: dep.id })).insight;
    assert.equal(d.categorySpecificSummary.deprecationDetails[0].clientStats[0].userAgent, 'kubectl/v1.31.0');
    assert.ok(d.categorySpecificSummary.deprecationDetails[0].clientStats[0].lastRequestTime instanceof Date);
    await rejects(env.call('UpdateClusterVersion', { name: 'dep', version: '1.33' }), 'InvalidRequestException', /Deprecated APIs removed in Kubernetes v1\.33/);
    const forced = await env.call('UpdateClusterVersion', { name: 'dep', version: '1.33', force: true });
    assert.equal(forced.update.status, 'InProgress');
  });

  test('access entries: the creator gets AmazonEKSClusterAdminPolicy; CONFIG_MAP clusters refuse the API', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'acc', { accessConfig: { authenticationMode: 'API_AND_CONFIG_MAP' } });
    const list = await env.call('ListAccessEntries', { clusterName: 'acc' });
    assert.deepEqual(list.accessEntries, ['arn:aws:iam::111122223333:user/alice']);
    const pol = await env.call('ListAssociatedAccessPolicies', { clusterName: 'acc', principalArn: 'arn:aws:iam::111122223333:user/alice' });
    assert.equal(pol.associatedAccessPolicies[0].policyArn, 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy');
    const dev = 'arn:aws:iam::111122223333:role/dev';
    const ae = await env.call('CreateAccessEntry', { clusterName: 'acc', principalArn: dev, kubernetesGroups: ['devs'] });
    assert.equal(ae.accessEntry.username, 'arn:aws:sts::111122223333:assumed-role/dev/{{SessionName}}');
    await rejects(env.call('CreateAccessEntry', { clusterName: 'acc', principalArn: dev }), 'ResourceInUseException', 'The specified access entry resource is already in use on this cluster.');
    await env.call('AssociateAccessPolicy', { clusterName: 'acc', principalArn: dev, policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy', accessScope: { type: 'namespace', namespaces: ['app'] } });
    await env.call('TagResource', { resourceArn: ae.accessEntry.accessEntryArn, tags: { k: 'v' } });
    assert.deepEqual((await env.call('ListTagsForResource', { resourceArn: ae.accessEntry.accessEntryArn })).tags, { k: 'v' });
    await env.call('CreateNodegroup', { clusterName: 'acc', nodegroupName: 'ng', subnets: ['subnet-a'], nodeRole: 'arn:aws:iam::111122223333:role/node' });
    const node = (await env.call('DescribeAccessEntry', { clusterName: 'acc', principalArn: 'arn:aws:iam::111122223333:role/node' })).accessEntry;
    assert.equal(node.type, 'EC2_LINUX');
    assert.deepEqual(node.kubernetesGroups, ['system:nodes']);
    await activeCluster(env, 'cm');
    await rejects(env.call('ListAccessEntries', { clusterName: 'cm' }), 'InvalidRequestException', "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.");
  });

  test('Fargate profiles need selectors; one deletes at a time', async () => {
    const env = await makeEnv();
    await activeCluster(env, 'fg');
    const base = { clusterName: 'fg', podExecutionRoleArn: 'arn:aws:iam::111122223333:role/pod', subnets: ['subnet-p'] };
    await rejects(env.call('CreateFargateProfile', { ...base, fargateProfileName: 'x', selectors: [] }), 'InvalidParameterException', 'Fargate Profile requires at least one selector.');
    await env.call('CreateFargateProfile', { ...base, fargateProfileName: 'a', selectors: [{ namespace: 'default' }] });
    await env.call('CreateFargateProfile', { ...base, fargateProfileName: 'b', selectors: [{ namespace: 'kube-system' }] });
    await env.advance(1000);
    await rejects(env.call('DeleteCluster', { name: 'fg' }), 'ResourceInUseException', 'Cluster has fargate profiles attached');
    await env.call('DeleteFargateProfile', { clusterName: 'fg', fargateProfileName: 'a' });
    await rejects(env.call('DeleteFargateProfile', { clusterName: 'fg', fargateProfileName: 'b' }), 'ResourceInUseException');
  });

  test('reference checks: subnets in two AZs, an unknown IAM role is refused with EKS wording', async () => {
    const env = await makeEnv({ referenceChecks: true, timingProfile: 'instant' });
    await env.call('RegisterCluster', { name: 'reg', connectorConfig: { roleArn: 'arn:aws:iam::111122223333:role/x', provider: 'OTHER' } }).catch(() => undefined);
    await rejects(
      env.call('CreatePodIdentityAssociation', { clusterName: 'nope', namespace: 'a', serviceAccount: 'b', roleArn: 'arn:aws:iam::111122223333:role/missing' }),
      'ResourceNotFoundException',
    );
    await rejects(
      env.call('CreateCluster', { name: 'refs', roleArn: 'arn:aws:iam::111122223333:role/missing', resourcesVpcConfig: { subnetIds: [] } }),
      'InvalidParameterException',
      'Subnets specified must be in at least two different AZs',
    );
  });

  test('every operation of the model has a handler', async () => {
    const env = await makeEnv();
    const model = (await import('../models/eks.json', { with: { type: 'json' } })).default as any;
    const ops = Object.keys(model.operations);
    assert.equal(ops.length, 64);
    for (const op of ops) assert.ok(env.eks.operations[op], `missing ${op}`);
  });
});
