import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { parseRequestInfo } from '../kube/apiserver/request-info.ts';
import { attributesOf, forbiddenStatus, impersonation } from './kube-auth.ts';

const req = (headersDistinct: Record<string, string[]>) => ({ headersDistinct, headers: Object.fromEntries(Object.entries(headersDistinct).map(([k, v]) => [k, v.join(', ')])) }) as unknown as IncomingMessage;

describe('kube-auth', () => {
  it('attributesOf: resource and non-resource requests', () => {
    assert.deepEqual(attributesOf(parseRequestInfo('GET', '/api/v1/namespaces/default/pods/web/log', new URLSearchParams())), {
      verb: 'get',
      resourceRequest: true,
      apiGroup: '',
      resource: 'pods',
      subresource: 'log',
      namespace: 'default',
      name: 'web',
    });
    assert.deepEqual(attributesOf(parseRequestInfo('GET', '/healthz', new URLSearchParams())), { verb: 'get', resourceRequest: false, path: '/healthz' });
  });

  it('forbiddenStatus: upstream message and details', () => {
    const s = forbiddenStatus({ name: 'dev', groups: [] }, { verb: 'delete', resourceRequest: true, apiGroup: 'apps', resource: 'deployments', namespace: 'ns', name: 'web' });
    assert.equal(s.code, 403);
    assert.equal(s.reason, 'Forbidden');
    assert.equal(s.message, 'deployments.apps "web" is forbidden: User "dev" cannot delete resource "deployments" in API group "apps" in the namespace "ns"');
    assert.deepEqual(s.details, { name: 'web', group: 'apps', kind: 'deployments' });
  });

  it('impersonation: users, service accounts, groups and the checks each needs', () => {
    assert.equal(impersonation(req({})), undefined);
    const u = impersonation(req({ 'impersonate-user': ['jane'], 'impersonate-group': ['a', 'b'] }))!;
    assert.equal(u.user.name, 'jane');
    assert.deepEqual(u.user.groups, ['a', 'b', 'system:authenticated']);
    assert.deepEqual(u.checks.map((c) => `${c.resource}/${c.name}`), ['users/jane', 'groups/a', 'groups/b']);
    const sa = impersonation(req({ 'impersonate-user': ['system:serviceaccount:ns1:builder'] }))!;
    assert.deepEqual(sa.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated']);
    assert.deepEqual(sa.checks[0], { verb: 'impersonate', resourceRequest: true, apiGroup: '', resource: 'serviceaccounts', namespace: 'ns1', name: 'builder' });
  });
});
