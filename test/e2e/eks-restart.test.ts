/**
 * EKS state persists across a restart of localeks (SQLite store), and a
 * transition interrupted by the restart resumes: a cluster left CREATING by
 * the first server becomes ACTIVE under the second, its node group too.
 * Uses the realistic timing profile at a high time scale so the transitions
 * are still pending when the first server stops.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as E from '@aws-sdk/client-eks';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'eks-restart-'));
let srv: TestServer | undefined;

function client(s: TestServer): E.EKSClient {
  return new E.EKSClient({ endpoint: s.awsEndpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

describe('eks across a restart (sqlite store)', () => {
  after(async () => {
    await srv?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a cluster CREATING when the server stops becomes ACTIVE after it restarts', async () => {
    // 10 simulated minutes to create a cluster = 2 real seconds at scale 300.
    const opts = { store: 'sqlite', dataDir, referenceChecks: false, timingProfile: 'realistic' as const, timeScale: 300 };
    srv = await startTestServer(opts);
    let eks = client(srv);
    const r = await eks.send(new E.CreateClusterCommand({ name: 'durable', roleArn: 'arn:aws:iam::000000000000:role/eks', resourcesVpcConfig: { subnetIds: ['subnet-1', 'subnet-2'] }, tags: { keep: 'me' } }));
    assert.equal(r.cluster?.status, 'CREATING');
    const arn = r.cluster!.arn;
    eks.destroy();
    await srv.stop();

    srv = await startTestServer(opts);
    eks = client(srv);
    const again = (await eks.send(new E.DescribeClusterCommand({ name: 'durable' }))).cluster!;
    assert.equal(again.arn, arn);
    assert.deepEqual(again.tags, { keep: 'me' });
    const active = await waitFor(
      async () => {
        const c = (await eks.send(new E.DescribeClusterCommand({ name: 'durable' }))).cluster!;
        return c.status === 'ACTIVE' ? c : undefined;
      },
      { timeoutMs: 60_000, what: 'cluster ACTIVE after restart' },
    );
    assert.equal(active?.endpoint, `${srv.kubeEndpoint}/clusters/durable`);

    await eks.send(new E.CreateNodegroupCommand({ clusterName: 'durable', nodegroupName: 'ng', nodeRole: 'arn:aws:iam::000000000000:role/node', subnets: ['subnet-1'] }));
    eks.destroy();
    await srv.stop();

    srv = await startTestServer(opts);
    eks = client(srv);
    await E.waitUntilNodegroupActive({ client: eks, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { clusterName: 'durable', nodegroupName: 'ng' });
    eks.destroy();
  });
});
