import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequestInfo } from './request-info.ts';

const q = (s = '') => new URLSearchParams(s);

test('request info: resource paths and verbs', () => {
  const cases: Array<[string, string, string, Partial<ReturnType<typeof parseRequestInfo>>]> = [
    ['GET', '/api/v1/namespaces/default/pods', '', { verb: 'list', namespace: 'default', resource: 'pods', apiGroup: '', apiVersion: 'v1' }],
    ['GET', '/api/v1/namespaces/default/pods/x', '', { verb: 'get', name: 'x' }],
    ['GET', '/api/v1/namespaces/default/pods', 'watch=true', { verb: 'watch' }],
    ['GET', '/api/v1/watch/namespaces/default/pods', '', { verb: 'watch', resource: 'pods', namespace: 'default' }],
    ['GET', '/apis/apps/v1/namespaces/ns1/deployments/d/scale', '', { verb: 'get', apiGroup: 'apps', resource: 'deployments', name: 'd', subresource: 'scale' }],
    ['DELETE', '/api/v1/namespaces/ns1/configmaps', '', { verb: 'deletecollection' }],
    ['DELETE', '/api/v1/namespaces/ns1', '', { verb: 'delete', resource: 'namespaces', name: 'ns1', namespace: 'ns1' }],
    ['PUT', '/api/v1/namespaces/ns1/finalize', '', { verb: 'update', resource: 'namespaces', name: 'ns1', subresource: 'finalize' }],
    ['GET', '/api/v1/namespaces', '', { verb: 'list', resource: 'namespaces', namespace: '' }],
    ['GET', '/api/v1/nodes/n1/status', '', { verb: 'get', resource: 'nodes', name: 'n1', subresource: 'status' }],
    ['PATCH', '/apis/rbac.authorization.k8s.io/v1/clusterroles/admin', '', { verb: 'patch', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'admin' }],
    ['POST', '/api/v1/namespaces/a/pods', '', { verb: 'create', resource: 'pods' }],
    ['GET', '/apis/apps/v1/deployments', '', { verb: 'list', namespace: '', resource: 'deployments' }],
  ];
  for (const [m, p, qs, want] of cases) {
    const got = parseRequestInfo(m, p, q(qs));
    assert.equal(got.isResourceRequest, true, p);
    for (const [k, v] of Object.entries(want)) assert.equal((got as any)[k], v, `${m} ${p} ${k}`);
  }
});

test('request info: non-resource paths', () => {
  for (const p of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/version', '/healthz', '/openapi/v2']) {
    assert.equal(parseRequestInfo('GET', p, q()).isResourceRequest, false, p);
  }
});
