import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ANONYMOUS_USER, authenticateRequest, bearerToken, isPublicPath, type RequestAuthSources } from './request-auth.ts';
import { generateSigningKey, issueServiceAccountToken, jwks } from './service-account-tokens.ts';

const issuer = 'https://127.0.0.1:6443/oidc/us-east-1/id/0123456789ABCDEF0123456789ABCDEF';
const key = generateSigningKey();
const now = new Date('2026-01-01T00:00:00Z');

function sources(valid = true): RequestAuthSources {
  return {
    now: () => now,
    eks: () => Promise.reject(new Error('not used')),
    serviceAccountKeys: async () => ({ issuer, keys: await jwks([key]) }),
    serviceAccountValid: async () => valid,
  };
}

const token = (audiences: string[]) =>
  issueServiceAccountToken(key, { issuer, audiences, namespace: 'ns1', serviceAccount: { name: 'sa', uid: 'u1' }, expirationSeconds: 3600, now }).then((t) => t.token);

describe('request-auth', () => {
  it('public paths are those of system:public-info-viewer', () => {
    for (const p of ['/healthz', '/livez/ping', '/readyz', '/version', '/version/']) assert.equal(isPublicPath(p), true, p);
    for (const p of ['/api', '/healthzz', '/apis/version', '/']) assert.equal(isPublicPath(p), false, p);
    // EKS 1.32+: anonymous requests reach the health paths only.
    assert.equal(isPublicPath('/version', '1.31'), true);
    assert.equal(isPublicPath('/version', '1.32'), false);
    assert.equal(isPublicPath('/version/', '1.35'), false);
    for (const p of ['/healthz', '/livez', '/readyz/ping']) assert.equal(isPublicPath(p, '1.33'), true, p);
  });

  it('bearerToken: absent, bearer, other schemes', () => {
    assert.equal(bearerToken(undefined), '');
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer  abc '), 'abc');
    assert.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined);
  });

  it('no credentials: anonymous on public paths, refused elsewhere', async () => {
    assert.deepEqual(await authenticateRequest({ headers: {} }, '/version', sources()), { ok: true, user: ANONYMOUS_USER, warnings: [] });
    assert.equal((await authenticateRequest({ headers: {} }, '/api/v1/pods', sources())).ok, false);
  });

  it('service account tokens: audience, validity of the bound objects, user info', async () => {
    const r = await authenticateRequest({ headers: { authorization: `Bearer ${await token(['https://kubernetes.default.svc'])}` } }, '/api', sources());
    assert.ok(r.ok);
    assert.equal(r.user.name, 'system:serviceaccount:ns1:sa');
    assert.equal(r.user.uid, 'u1');
    assert.deepEqual(r.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated']);
    const wrongAud = await authenticateRequest({ headers: { authorization: `Bearer ${await token(['sts.amazonaws.com'])}` } }, '/api', sources());
    assert.equal(wrongAud.ok, false);
    const gone = await authenticateRequest({ headers: { authorization: `Bearer ${await token([issuer])}` } }, '/api', sources(false));
    assert.equal(gone.ok, false);
    const other = generateSigningKey();
    const forged = (await issueServiceAccountToken(other, { issuer, audiences: [issuer], namespace: 'ns1', serviceAccount: { name: 'sa', uid: 'u1' }, expirationSeconds: 3600, now })).token;
    assert.equal((await authenticateRequest({ headers: { authorization: `Bearer ${forged}` } }, '/api', sources())).ok, false);
  });
});
