/**
 * localeks under node:test: one embedded instance for the file
 * (startLocaleks in before, stop in after), a fixture built once and saved as
 * a snapshot, restored before each test. Run from the repository root:
 *
 *   node --import tsx --test examples/node-test/eks.test.ts
 *
 * In your project, `import { startLocaleks } from 'localeks'` once localeks
 * is a dev dependency; here it is imported from the checkout.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { CreateClusterCommand, DeleteClusterCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type Localeks, startLocaleks } from '../../src/index.ts';

let lx: Localeks;
let eks: EKSClient;
const roleArn = 'arn:aws:iam::000000000000:role/eks';
const resourcesVpcConfig = { subnetIds: ['subnet-1', 'subnet-2'] };

before(async () => {
  // instant: CreateCluster answers ACTIVE; no reference checks: the role and subnets need not exist.
  lx = await startLocaleks({ timingProfile: 'instant', referenceChecks: false });
  eks = new EKSClient(lx.awsConfig);
  await eks.send(new CreateClusterCommand({ name: 'base', roleArn, resourcesVpcConfig }));
  await lx.snapshot('fixture');
});
beforeEach(() => lx.restore('fixture'));
after(async () => {
  eks?.destroy();
  await lx?.stop();
});

test('the fixture cluster serves Kubernetes to @kubernetes/client-node', async () => {
  const kc = new KubeConfig();
  // The kubeconfig's user runs `aws eks get-token`, as update-kubeconfig writes it.
  kc.loadFromString(await lx.kubeconfig('base'));
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'made-by-a-test' }, data: { k: 'v' } } });
  const names = (await core.listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata?.name);
  assert.ok(names.includes('made-by-a-test'));
});

test('a test may delete the fixture cluster: the next one gets it back', async () => {
  await eks.send(new DeleteClusterCommand({ name: 'base' }));
  assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, []);
});

test('the restore before this test brought the cluster back, without the previous test\'s objects', async () => {
  assert.deepEqual((await eks.send(new ListClustersCommand({}))).clusters, ['base']);
  const kc = new KubeConfig();
  kc.loadFromString(await lx.kubeconfig('base'));
  const names = (await kc.makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: 'default' })).items.map((c) => c.metadata?.name);
  assert.ok(!names.includes('made-by-a-test'));
});
