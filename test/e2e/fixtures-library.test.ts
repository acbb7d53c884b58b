/**
 * The library API as a test suite uses it (this file is the node:test
 * example): `import { startLocaleks } from 'localeks'`, an EKS cluster made
 * with @aws-sdk/client-eks from lx.awsConfig, the Kubernetes API reached
 * with @kubernetes/client-node from lx.kubeconfig() (its exec user runs the
 * real `aws eks get-token`), then snapshot / restore / reset / advanceClock.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { type Localeks, startLocaleks } from 'localeks';

describe('startLocaleks (library API)', () => {
  let lx: Localeks;
  let eks: EKSClient;
  before(async () => {
    lx = await startLocaleks({ timingProfile: 'instant', referenceChecks: false });
    eks = new EKSClient(lx.awsConfig);
  });
  after(() => lx?.stop());

  it('gives endpoints, an SDK config and a kubeconfig that @kubernetes/client-node uses', async () => {
    assert.match(lx.awsEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lx.kubeEndpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(lx.awsConfig, { endpoint: lx.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const created = await eks.send(new CreateClusterCommand({ name: 'lib', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }));
    assert.equal(created.cluster?.status, 'ACTIVE');

    const yaml = await lx.kubeconfig('lib');
    const doc = parseYaml(yaml);
    assert.equal(doc.clusters[0].cluster.server, `${lx.kubeEndpoint}/clusters/lib`);
    assert.equal(doc.users[0].user.exec.command, 'aws');
    assert.deepEqual(doc.users[0].user.exec.args.slice(2, 6), ['eks', 'get-token', '--cluster-name', 'lib']);

    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await core.listNamespace();
    assert.ok(ns.items.some((n) => n.metadata?.name === 'kube-system'));

    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'fixture' }, data: { v: '1' } } });
    await lx.snapshot('lib-base');
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'fixture' });
    await lx.restore('lib-base');
    const back = await core.readNamespacedConfigMap({ namespace: 'default', name: 'fixture' });
    assert.deepEqual(back.data, { v: '1' });

    // A velero-style backup of the cluster's default namespace, restored into a second cluster.
    const summary = await lx.backup('lib-bk', 'lib', { includeNamespaces: ['default'], includeResources: ['configmaps'] });
    assert.equal(summary.resources.configmaps, summary.itemCount - 1, 'the ConfigMaps and the Namespace');
    await eks.send(new CreateClusterCommand({ name: 'lib2', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] } }));
    const restored = await lx.restoreBackup('lib-bk', 'lib2', { namespaceMappings: { default: 'copied' } });
    assert.equal(restored.phase, 'Completed', JSON.stringify(restored.errors));
    const kc2 = new KubeConfig();
    kc2.loadFromString(await lx.kubeconfig('lib2'));
    const copied = await kc2.makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: 'copied', name: 'fixture' });
    assert.deepEqual(copied.data, { v: '1' });
    await assert.rejects(lx.restoreBackup('lib-bk', 'ghost'), /no EKS cluster named "ghost"/);

    await assert.rejects(lx.kubeconfig('ghost'), /no EKS cluster named "ghost"/);
    await assert.rejects(lx.restore('ghost'), /no snapshot named "ghost"/);
  });

  it('advanceClock moves simulated time; reset wipes state', async () => {
    const before = lx.server.clock.nowMs();
    await lx.advanceClock(3_600_000);
    assert.ok(lx.server.clock.nowMs() - before >= 3_600_000);
    await lx.reset();
    assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, []);
    await assert.rejects(eks.send(new DescribeClusterCommand({ name: 'lib' })), { name: 'ResourceNotFoundException' });
  });

  it('a SQLite instance in a temporary folder, removed by stop()', async () => {
    const db = await startLocaleks({ store: 'sqlite' });
    const dir = db.server.config.dataDir;
    assert.ok(existsSync(dir));
    await db.stop();
    await db.stop();
    assert.equal(existsSync(dir), false);
  });
});
