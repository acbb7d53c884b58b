import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsKey } from '../aws/core/state.ts';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { startTestServer, type TestServer, waitFor } from '../../test/helpers/server.ts';

describe('fixture routes (in process, no clusters)', () => {
  let srv: TestServer;
  const call = async (method: string, path: string) => {
    const r = await fetch(srv.awsEndpoint + path, { method });
    return { status: r.status, json: (await r.json()) as any, allow: r.headers.get('allow') };
  };
  before(async () => {
    srv = await startTestServer({ timingProfile: 'instant' });
  });
  after(() => srv?.stop());

  it('a restore is visible in AwsState as soon as it answers', async () => {
    const { state } = srv.server;
    const key = awsKey({ accountId: '000000000000', region: 'global' }, 'iam', 'role', 'r1');
    await state.commit([{ op: 'create', key, doc: { RoleName: 'r1' } }]);
    assert.equal((await call('POST', '/_localeks/snapshots/s1')).status, 201);
    await state.commit([{ op: 'delete', key }]);
    assert.equal(state.get(key), undefined);
    const r = await call('POST', '/_localeks/snapshots/s1/restore');
    assert.equal(r.status, 200);
    assert.equal(r.json.changed, 1);
    assert.deepEqual(state.get(key), { RoleName: 'r1' });
    assert.equal((await call('POST', '/_localeks/reset?service=iam')).json.changed, 1);
    assert.equal(state.get(key), undefined);
  });

  it('a reset of the eks service also drops every cluster\'s Kubernetes objects', async () => {
    const { backend } = srv.server;
    await backend.put('/k8s/some-uid/registry/configmaps/default/x', '{}');
    await backend.put('/aws/eks/000000000000/us-east-1/cluster/x', '{}');
    await backend.put('/aws/ec2/000000000000/us-east-1/vpc/vpc-1', '{}');
    const r = await call('POST', '/_localeks/reset?service=eks');
    assert.equal(r.status, 200);
    assert.equal((await backend.range({ prefix: '/k8s/', countOnly: true })).count, 0);
    assert.equal((await backend.range({ prefix: '/aws/eks/', countOnly: true })).count, 0);
    assert.ok((await backend.get('/aws/ec2/000000000000/us-east-1/vpc/vpc-1')).kv, 'other services are left');
    await backend.delete('/aws/ec2/000000000000/us-east-1/vpc/vpc-1');
  });

  it('routes: unknown sub-paths 404, wrong methods 405, bad names 400, all in one error shape', async () => {
    const deep = await call('GET', '/_localeks/snapshots/a/b/c');
    assert.equal(deep.status, 404);
    assert.equal(deep.json.error.code, 'NotFound');
    assert.equal((await call('GET', '/_localeks/snapshots/s1/restore')).status, 404);
    assert.equal((await call('DELETE', '/_localeks/snapshots/s1/export')).status, 404);
    const put = await call('PUT', '/_localeks/snapshots/s1');
    assert.equal(put.status, 405);
    assert.match(put.allow ?? '', /GET/);
    const slash = await call('POST', '/_localeks/snapshots/a%2Fb');
    assert.equal(slash.status, 400);
    assert.equal(slash.json.error.code, 'InvalidSnapshotName');
    assert.equal((await call('GET', '/_localeks/snapshots/ghost')).json.error.code, 'SnapshotNotFound');
    assert.equal((await call('GET', '/_localeks/snapshots/ghost/export')).status, 404);
    assert.equal((await call('POST', '/_localeks/clock/advance?seconds=abc')).status, 400);
    assert.equal((await call('GET', '/_localeks/health')).status, 200);
  });
});

describe('fixture routes and the EKS lifecycle (fast profile)', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ timingProfile: 'fast', referenceChecks: false });
  });
  after(() => srv?.stop());

  it('a cluster CREATING in a snapshot becomes ACTIVE again after the restore', async () => {
    const eks = new EKSClient({ endpoint: srv.awsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const describe = async () => (await eks.send(new DescribeClusterCommand({ name: 'mid' }))).cluster?.status;
    const r = await eks.send(new CreateClusterCommand({ name: 'mid', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1'] } }));
    assert.equal(r.cluster?.status, 'CREATING');
    assert.equal((await fetch(`${srv.awsEndpoint}/_localeks/snapshots/creating`, { method: 'POST' })).status, 201);
    await waitFor(async () => (await describe()) === 'ACTIVE', { what: 'cluster ACTIVE', timeoutMs: 20_000 });
    assert.equal((await fetch(`${srv.awsEndpoint}/_localeks/snapshots/creating/restore`, { method: 'POST' })).status, 200);
    await waitFor(async () => (await describe()) === 'ACTIVE', { what: 'restored cluster ACTIVE again', timeoutMs: 20_000 });
    eks.destroy();
  });
});
