import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/helpers/server.ts';
import { AwsClientError, createAwsClient } from './aws-client.ts';

// One server with IAM enforcement on, so every protocol family's signature is verified.
let srv: TestServer;
before(async () => {
  srv = await startTestServer({ enforceIam: true });
});
after(() => srv.stop());

const client = (secretAccessKey = 'test', region = 'us-west-2') => createAwsClient({ endpoint: srv.awsEndpoint, region, credentials: { accessKeyId: 'test', secretAccessKey } });

async function rejects(p: Promise<unknown>, code: string, status: number): Promise<AwsClientError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AwsClientError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('query protocol (IAM, STS): lists and maps as member.N, XML results, error codes', async () => {
  const c = client();
  const role = (await c.call('iam', 'CreateRole', {
    RoleName: 'client-test',
    AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] }),
    Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }],
  })).Role;
  assert.equal(role.Arn, 'arn:aws:iam::000000000000:role/client-test');
  assert.ok(role.CreateDate instanceof Date);
  const tags = (await c.call('iam', 'ListRoleTags', { RoleName: 'client-test' })).Tags;
  assert.deepEqual(tags, [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }]);
  assert.equal((await c.call('sts', 'GetCallerIdentity')).Arn, 'arn:aws:iam::000000000000:root');
  const e = await rejects(c.call('iam', 'GetRole', { RoleName: 'nope' }), 'NoSuchEntity', 404);
  assert.equal(e.message, 'The role with name nope cannot be found.');
});

test('ec2 protocol: queryName/locationName parameters, Name.N lists, item lists in results', async () => {
  const c = client();
  const vpc = (await c.call('ec2', 'CreateVpc', { CidrBlock: '10.9.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'team', Value: 'x' }] }] })).Vpc;
  assert.match(vpc.VpcId, /^vpc-/);
  const found = (await c.call('ec2', 'DescribeVpcs', { Filters: [{ Name: 'tag:team', Values: ['x'] }] })).Vpcs;
  assert.deepEqual(found.map((v: any) => v.VpcId), [vpc.VpcId]);
  await c.call('ec2', 'ModifyVpcAttribute', { VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } });
  await rejects(c.call('ec2', 'DescribeVpcs', { VpcIds: ['vpc-0000000000000000f'] }), 'InvalidVpcID.NotFound', 400);
});

test('rest-json (EKS) and json (KMS): URI labels, query strings, JSON bodies, x-amzn-errortype / __type', async () => {
  const c = client();
  assert.deepEqual((await c.call('eks', 'ListClusters', { maxResults: 5 })).clusters, []);
  const e = await rejects(c.call('eks', 'DescribeCluster', { name: 'nope' }), 'ResourceNotFoundException', 404);
  assert.match(e.message, /nope/);
  const key = (await c.call('kms', 'CreateKey', { Description: 'client' })).KeyMetadata;
  assert.equal((await c.call('kms', 'DescribeKey', { KeyId: key.KeyId })).KeyMetadata.Description, 'client');
  await rejects(c.call('kms', 'DescribeKey', { KeyId: 'alias/nope' }), 'NotFoundException', 400);
});

test('a wrong secret fails the signature check in every protocol family; an unreachable endpoint is a NetworkingError', async () => {
  const bad = client('wrong');
  await rejects(bad.call('sts', 'GetCallerIdentity'), 'SignatureDoesNotMatch', 403);
  await rejects(bad.call('ec2', 'DescribeVpcs'), 'AuthFailure', 401);
  await rejects(bad.call('kms', 'ListKeys'), 'InvalidSignatureException', 400);
  const eks = await bad.call('eks', 'ListClusters').catch((e: unknown) => e);
  assert.ok(eks instanceof AwsClientError && eks.status === 403, String(eks));
  const down = createAwsClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await rejects(down.call('eks', 'ListClusters'), 'NetworkingError', 0);
});
