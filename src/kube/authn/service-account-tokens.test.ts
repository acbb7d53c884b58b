import assert from 'node:assert/strict';
import { test } from 'node:test';
import { discoveryDocument, generateSigningKey, issueServiceAccountToken, jwks, keyId, verifyServiceAccountToken } from './service-account-tokens.ts';

const issuer = 'https://127.0.0.1:6443/oidc/eks/eu-west-2/id/0123456789ABCDEF0123456789ABCDEF';

test('bound tokens verify against the issuer JWKS, and fail when tampered, expired or foreign', async () => {
  const key = generateSigningKey();
  const now = new Date('2026-01-01T00:00:00Z');
  const { token, expirationTimestamp } = await issueServiceAccountToken(key, {
    issuer,
    audiences: ['sts.amazonaws.com'],
    namespace: 'default',
    serviceAccount: { name: 'app', uid: 'sa-uid' },
    pod: { name: 'app-1', uid: 'pod-uid' },
    expirationSeconds: 3600,
    now,
  });
  assert.equal(expirationTimestamp.toISOString(), '2026-01-01T01:00:00.000Z');
  const set = await jwks([key]);
  assert.equal(set.keys[0]!.kid, keyId(key.publicKeyPem));
  assert.equal(set.keys[0]!.d, undefined, 'no private parts in the JWKS');
  const v = await verifyServiceAccountToken(token, issuer, set, new Date(now.getTime() + 60_000));
  assert.equal(v.subject, 'system:serviceaccount:default:app');
  assert.deepEqual(v.audiences, ['sts.amazonaws.com']);
  assert.equal(v.kubernetes.pod?.name, 'app-1');

  await assert.rejects(verifyServiceAccountToken(token, issuer, set, new Date(now.getTime() + 3601_000)), /exp/);
  await assert.rejects(verifyServiceAccountToken(token, issuer + 'x', set, now), /iss/);
  const [h, p, s] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p!, 'base64url').toString()), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url');
  await assert.rejects(verifyServiceAccountToken(`${h}.${forged}.${s}`, issuer, set, now), /signature/);
  const other = await jwks([generateSigningKey()]);
  await assert.rejects(verifyServiceAccountToken(token, issuer, other, now));
  await assert.rejects(verifyServiceAccountToken('not-a-jwt', issuer, set, now), /not a JWT/);
});

test('discovery document points at the keys under the issuer', () => {
  const d = discoveryDocument(issuer);
  assert.equal(d.issuer, issuer);
  assert.equal(d.jwks_uri, `${issuer}/keys`);
  assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256']);
});
