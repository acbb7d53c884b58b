// EKS through the unchanged AWS SDK v3 client against the embedded localeks.
const { CreateClusterCommand, DescribeClusterCommand, EKSClient, ListClustersCommand } = require('@aws-sdk/client-eks');

const endpoint = process.env.AWS_ENDPOINT_URL;
const eks = new EKSClient({ endpoint, region: process.env.AWS_REGION });
const roleArn = 'arn:aws:iam::000000000000:role/eks';
const resourcesVpcConfig = { subnetIds: ['subnet-1', 'subnet-2'] };

/** Calls a localeks admin route and returns its JSON. */
async function admin(method, path) {
  const r = await fetch(endpoint + path, { method });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

// Every test starts from an empty world.
beforeEach(() => admin('POST', '/_localeks/reset'));
afterAll(() => eks.destroy());

test('a created cluster is ACTIVE at once (instant profile)', async () => {
  const { cluster } = await eks.send(new CreateClusterCommand({ name: 'demo', roleArn, resourcesVpcConfig }));
  expect(cluster.status).toBe('ACTIVE');
  expect(cluster.endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/clusters\//);
  const { clusters } = await eks.send(new ListClustersCommand({}));
  expect(clusters).toEqual(['demo']);
});

test('the reset before this test removed the cluster of the previous one', async () => {
  const { clusters } = await eks.send(new ListClustersCommand({}));
  expect(clusters).toEqual([]);
  await expect(eks.send(new DescribeClusterCommand({ name: 'demo' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
});

test('a snapshot brings a fixture back after the test changed it', async () => {
  await eks.send(new CreateClusterCommand({ name: 'base', roleArn, resourcesVpcConfig }));
  await admin('POST', '/_localeks/snapshots/fixture');
  await eks.send(new CreateClusterCommand({ name: 'extra', roleArn, resourcesVpcConfig }));
  expect((await eks.send(new ListClustersCommand({}))).clusters.sort()).toEqual(['base', 'extra']);
  await admin('POST', '/_localeks/snapshots/fixture/restore');
  expect((await eks.send(new ListClustersCommand({}))).clusters).toEqual(['base']);
});
