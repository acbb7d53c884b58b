import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createKubeGateway, requestInfo } from './gateway.ts';
import type { ClusterInfo } from './types.ts';

function cluster(name: string, status = 'ACTIVE'): ClusterInfo {
  return {
    uid: `uid-${name}`,
    name,
    endpointId: name,
    accountId: '000000000000',
    region: 'us-east-1',
    kubernetesVersion: '1.31',
    platformVersion: 'eks.1',
    status,
    serviceIpv4Cidr: '10.100.0.0/16',
    oidcIssuer: `https://oidc.example/${name}`,
    createdAt: new Date(0).toISOString(),
  };
}

describe('kube gateway', () => {
  const clusters = new Map([
    ['prod', cluster('prod')],
    ['new', cluster('new', 'CREATING')],
    ['boom', cluster('boom')],
    ['a b', { ...cluster('spaced'), endpointId: 'a b' }],
  ]);
  const seen: { cluster: string; path: string; url: string }[] = [];
  const reported: { verb: string; resource: string; code: number }[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    const gw = createKubeGateway({
      directory: { lookup: (id) => clusters.get(id), all: () => [...clusters.values()] },
      handler: {
        async handle(c, req, res, path) {
          if (c.name === 'boom') throw new Error('kaboom');
          seen.push({ cluster: c.name, path, url: req.url ?? '' });
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ cluster: c.name, path }));
        },
      },
      onRequest: (info, code) => reported.push({ verb: info.verb, resource: info.resource, code }),
    });
    server = createServer((req, res) => void gw.handle(req, res));
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('hands /clusters/<id>/... to the cluster API with the path after the prefix and the query kept', async () => {
    const r = await fetch(`${base}/clusters/prod/api/v1/namespaces/default/pods?limit=5`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { cluster: 'prod', path: '/api/v1/namespaces/default/pods' });
    assert.equal(seen.at(-1)!.url, '/clusters/prod/api/v1/namespaces/default/pods?limit=5');
    await fetch(`${base}/clusters/prod`);
    assert.equal(seen.at(-1)!.path, '/');
    await fetch(`${base}/clusters/a%20b/version`);
    assert.deepEqual(seen.at(-1)!.cluster, 'spaced');
  });

  it('answers an unknown cluster with a NotFound Status', async () => {
    const r = await fetch(`${base}/clusters/nope/api`);
    assert.equal(r.status, 404);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await r.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'clusters "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'clusters' },
      code: 404,
    });
  });

  it('answers paths outside /clusters/ with a NotFound Status', async () => {
    for (const p of ['/', '/api', '/clusters/', '/clusters']) {
      const r = await fetch(`${base}${p}`);
      assert.equal(r.status, 404, p);
      const body = (await r.json()) as { reason: string; message: string };
      assert.equal(body.reason, 'NotFound');
      assert.equal(body.message, 'the server could not find the requested resource');
    }
  });

  it('answers 503 ServiceUnavailable for a cluster that is not ACTIVE or UPDATING', async () => {
    const r = await fetch(`${base}/clusters/new/version`);
    assert.equal(r.status, 503);
    const body = (await r.json()) as { reason: string; message: string };
    assert.equal(body.reason, 'ServiceUnavailable');
    assert.match(body.message, /CREATING/);
  });

  it('turns a handler failure into a 500 InternalError Status', async () => {
    const r = await fetch(`${base}/clusters/boom/version`);
    assert.equal(r.status, 500);
    assert.equal(((await r.json()) as { reason: string }).reason, 'InternalError');
  });

  it('reports verb, resource and code for metrics', async () => {
    reported.length = 0;
    await fetch(`${base}/clusters/prod/apis/apps/v1/namespaces/x/deployments/web`, { method: 'PATCH' });
    await fetch(`${base}/clusters/nope/api/v1/pods?watch=true`);
    assert.deepEqual(reported, [
      { verb: 'patch', resource: 'deployments', code: 200 },
      { verb: 'watch', resource: 'pods', code: 404 },
    ]);
  });

  it('classifies requests as kube-apiserver does', () => {
    const q = (s = '') => new URLSearchParams(s);
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces', q()), { verb: 'list', resource: 'namespaces', longRunning: false });
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/default', q()), { verb: 'get', resource: 'namespaces', longRunning: false });
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/default/pods', q()), { verb: 'list', resource: 'pods', longRunning: false });
    assert.deepEqual(requestInfo('GET', '/api/v1/namespaces/d/pods/p/log', q('follow=true')), { verb: 'get', resource: 'pods/log', longRunning: true });
    assert.deepEqual(requestInfo('GET', '/api/v1/watch/pods', q()), { verb: 'watch', resource: 'pods', longRunning: true });
    assert.deepEqual(requestInfo('PUT', '/apis/apps/v1/namespaces/d/deployments/x/status', q()), { verb: 'update', resource: 'deployments/status', longRunning: false });
    assert.deepEqual(requestInfo('DELETE', '/api/v1/namespaces/d/pods', q()), { verb: 'deletecollection', resource: 'pods', longRunning: false });
    assert.deepEqual(requestInfo('POST', '/api/v1/namespaces/d/pods/p/exec', q()), { verb: 'create', resource: 'pods/exec', longRunning: true });
    assert.deepEqual(requestInfo('GET', '/version', q()), { verb: 'get', resource: '', longRunning: false });
    assert.deepEqual(requestInfo('GET', '/apis', q()), { verb: 'get', resource: '', longRunning: false });
    assert.deepEqual(requestInfo('GET', '/apis/apps/v1', q()), { verb: 'get', resource: '', longRunning: false });
  });
});
