/**
 * The fixture admin routes (/_localeks/reset, /_localeks/snapshots,
 * /_localeks/clock) end to end: state made with the real aws CLI and the
 * cluster's Kubernetes HTTPS API (EKS bearer tokens), then snapshot, delete,
 * restore and reset, read back through the same clients. A watch opened
 * before the restore receives the event that brings it to the restored state.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';
import { createEksToken as eksToken } from '../../src/kube/authn/eks-token.ts';
import { clusterInfoOf } from '../../src/aws/eks/shared.ts';
import { ensureSigningKey } from '../../src/kube/authn/signing-keys.ts';

let srv: TestServer;
const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);

async function admin(method: string, path: string, body?: Buffer): Promise<{ status: number; json: any; raw: Buffer }> {
  const r = await fetch(srv.awsEndpoint + path, { method, body });
  const raw = Buffer.from(await r.arrayBuffer());
  let json: any;
  try {
    json = JSON.parse(raw.toString());
  } catch {
    json = undefined;
  }
  return { status: r.status, json, raw };
}

function kube(method: string, cluster: string, path: string, body?: unknown, onData?: (chunk: string) => void, onEnd?: () => void): Promise<{ status: number; json: any; abort: () => void }> {
  const token = eksToken({ clusterName: cluster, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' });
  return new Promise((resolve, reject) => {
    const req = request(`${srv.kubeEndpoint}/clusters/${cluster}${path}`, { method, ca: srv.server.tls.caCertPem, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (res) => {
      if (onData) {
        res.setEncoding('utf8');
        res.on('data', onData);
        res.on('close', () => onEnd?.());
        resolve({ status: res.statusCode ?? 0, json: undefined, abort: () => req.destroy() });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null'), abort: () => {} }));
    });
    req.on('error', (e) => (onData ? undefined : reject(e)));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

async function createCluster(name: string) {
  const r = await aws('eks', 'create-cluster', '--name', name, '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2');
  assert.equal(r.cluster.status, 'ACTIVE');
}

describe('fixture admin routes', () => {
  before(async () => {
    srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  });
  after(() => srv?.stop());

  it('snapshot, delete, restore: the IAM role (aws CLI) and the configmap (kube API) come back; an open watch sees it', async () => {
    await createCluster('fx');
    await aws('iam', 'create-role', '--role-name', 'fixture-role', '--assume-role-policy-document', trust);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { mode: 'snap' } };
    assert.equal((await kube('POST', 'fx', '/api/v1/namespaces/default/configmaps', cm)).status, 201);

    const saved = await admin('POST', '/_localeks/snapshots/base');
    assert.equal(saved.status, 201, saved.raw.toString());
    assert.equal(saved.json.name, 'base');
    assert.ok(saved.json.keys > 0);

    await aws('iam', 'delete-role', '--role-name', 'fixture-role');
    assert.equal((await kube('DELETE', 'fx', '/api/v1/namespaces/default/configmaps/settings')).status, 200);
    assert.equal((await runAws(srv.awsEndpoint, ['iam', 'get-role', '--role-name', 'fixture-role'])).errorCode, 'NoSuchEntity');
    const gone = await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps/settings');
    assert.equal(gone.status, 404);

    const list = await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps');
    let seen = '';
    const watch = await kube('GET', 'fx', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${list.json.metadata.resourceVersion}`, undefined, (c) => (seen += c));
    try {
      const restored = await admin('POST', '/_localeks/snapshots/base/restore');
      assert.equal(restored.status, 200, restored.raw.toString());
      assert.ok(restored.json.changed >= 2);
      const role = await aws('iam', 'get-role', '--role-name', 'fixture-role');
      assert.equal(role.Role.RoleName, 'fixture-role');
      const back = await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps/settings');
      assert.equal(back.status, 200);
      assert.deepEqual(back.json.data, { mode: 'snap' });
      await waitFor(() => seen.includes('"ADDED"') && seen.includes('"settings"'), { what: 'watch ADDED event for the restored configmap', timeoutMs: 10_000, intervalMs: 20 });
    } finally {
      watch.abort();
    }
  });

  it('lists, exports, imports and deletes snapshots; errors share one JSON shape', async () => {
    const list = await admin('GET', '/_localeks/snapshots');
    assert.deepEqual(list.json.snapshots.map((s: any) => s.name), ['base']);
    const one = await admin('GET', '/_localeks/snapshots/base');
    assert.equal(one.json.name, 'base');
    const file = await admin('GET', '/_localeks/snapshots/base/export');
    assert.equal(file.status, 200);
    assert.equal(file.raw[0], 0x1f);
    const imp = await admin('POST', '/_localeks/snapshots/import?name=copy', file.raw);
    assert.equal(imp.status, 201, imp.raw.toString());
    assert.equal(imp.json.name, 'copy');
    assert.equal(imp.json.keys, one.json.keys);
    assert.deepEqual((await admin('GET', '/_localeks/snapshots')).json.snapshots.map((s: any) => s.name), ['base', 'copy']);
    assert.equal((await admin('DELETE', '/_localeks/snapshots/copy')).status, 200);

    const missing = await admin('POST', '/_localeks/snapshots/nope/restore');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json, { error: { code: 'SnapshotNotFound', message: 'no snapshot named "nope"' } });
    assert.equal((await admin('DELETE', '/_localeks/snapshots/nope')).json.error.code, 'SnapshotNotFound');
    const badName = await admin('POST', '/_localeks/snapshots/-bad');
    assert.equal(badName.status, 400);
    assert.equal(badName.json.error.code, 'InvalidSnapshotName');
    const badFile = await admin('POST', '/_localeks/snapshots/import', Buffer.from('{"hello":1}'));
    assert.equal(badFile.status, 400);
    assert.equal(badFile.json.error.code, 'InvalidSnapshotFile');
    const future = await admin('POST', '/_localeks/snapshots/import', Buffer.from(JSON.stringify({ format: 'localeks-snapshot', version: 99, entries: [], prefixes: [] })));
    assert.match(future.json.error.message, /version 99 is not supported/);
  });

  it('reset a cluster, a service, everything', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'scratch', namespace: 'default' } };
    assert.equal((await kube('POST', 'fx', '/api/v1/namespaces/default/configmaps', cm)).status, 201);
    const noCluster = await admin('POST', '/_localeks/reset?cluster=ghost');
    assert.equal(noCluster.status, 404);
    assert.equal(noCluster.json.error.code, 'ClusterNotFound');
    assert.equal((await admin('POST', '/_localeks/reset?cluster=fx&service=iam')).status, 400);
    assert.equal((await admin('POST', '/_localeks/reset?service=Not_A_Service')).status, 400);

    const uid = clusterInfoOf(srv.server.state, { accountId: '000000000000', region: 'us-east-1' }, 'fx')!.uid;
    const key = await ensureSigningKey(srv.server.backend, uid);
    const rc = await admin('POST', '/_localeks/reset?cluster=fx');
    assert.equal(rc.status, 200, rc.raw.toString());
    assert.deepEqual(await ensureSigningKey(srv.server.backend, uid), key, 'the service-account signing key (OIDC issuer) survives a cluster reset');
    assert.equal((await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps/scratch')).status, 404);
    const ns = await kube('GET', 'fx', '/api/v1/namespaces');
    assert.ok(ns.json.items.some((n: any) => n.metadata.name === 'default'), 'a reset cluster keeps its bootstrap namespaces');

    const rs = await admin('POST', '/_localeks/reset?service=iam');
    assert.equal(rs.status, 200);
    assert.equal((await runAws(srv.awsEndpoint, ['iam', 'get-role', '--role-name', 'fixture-role'])).errorCode, 'NoSuchEntity');
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, ['fx']);

    let ended = false;
    const watch = await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps?watch=true', undefined, () => {}, () => (ended = true));
    const all = await admin('POST', '/_localeks/reset');
    assert.equal(all.status, 200);
    // The cluster is gone: its watch caches and controllers are dropped and open watches end.
    await waitFor(() => ended, { what: 'the watch on the reset cluster to end', timeoutMs: 10_000, intervalMs: 20 });
    watch.abort();
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, []);
    // Snapshots are not state: they survive a reset.
    assert.deepEqual((await admin('GET', '/_localeks/snapshots')).json.snapshots.map((s: any) => s.name), ['base']);
    const back = await admin('POST', '/_localeks/snapshots/base/restore');
    assert.equal(back.status, 200);
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, ['fx']);
    assert.equal((await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps/settings')).status, 200);
  });

  it('clock: read and advance simulated time', async () => {
    const before = await admin('GET', '/_localeks/clock');
    assert.equal(before.status, 200);
    const adv = await admin('POST', '/_localeks/clock/advance?seconds=600');
    assert.equal(adv.status, 200);
    assert.equal(adv.json.advancedMs, 600_000);
    assert.ok(adv.json.nowMs - before.json.nowMs >= 600_000);
    assert.equal(new Date(adv.json.now).getTime(), adv.json.nowMs);
    const bad = await admin('POST', '/_localeks/clock/advance?seconds=-1');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'InvalidParameter');
    assert.equal((await admin('POST', '/_localeks/clock/advance')).status, 400);
    assert.equal((await admin('GET', '/_localeks/clock/advance')).status, 405);
    // Hours later in simulated time, clients signing with the real time still get in.
    assert.equal((await admin('POST', '/_localeks/clock/advance?seconds=7200')).status, 200);
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, ['fx']);
    assert.equal((await kube('GET', 'fx', '/api/v1/namespaces/default/configmaps/settings')).status, 200);
  });
});
