import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStaticToken, MAX_LIFETIME_S, parseStaticToken, StaticTokenError, verifyStaticTokenSignature } from './static-token.ts';

const arn = 'arn:aws:eks:us-east-1:000000000000:cluster/a';
const now = new Date('2026-01-01T00:00:00Z');

describe('static tokens', () => {
  it('round-trips and verifies only with the signing secret', () => {
    const { token, expiresAt } = createStaticToken({ clusterArn: arn, accessKeyId: 'AKIA1', secretAccessKey: 's3cret', lifetimeSeconds: 3600, now });
    assert.equal(expiresAt.toISOString(), '2026-01-01T01:00:00.000Z');
    const p = parseStaticToken(token, arn, new Date(now.getTime() + 1000));
    assert.equal(p.claims.akid, 'AKIA1');
    assert.equal(verifyStaticTokenSignature(p, 's3cret'), true);
    assert.equal(verifyStaticTokenSignature(p, 'other'), false);
  });
  it('refuses expired, future, other-cluster, over-long and malformed tokens without echoing them', () => {
    const { token } = createStaticToken({ clusterArn: arn, accessKeyId: 'AKIA1', secretAccessKey: 's', lifetimeSeconds: 60, now });
    const bad = (t: string, at: Date, cluster = arn) => assert.throws(() => parseStaticToken(t, cluster, at), (e: unknown) => e instanceof StaticTokenError && !e.message.includes(t.slice(12, 40)));
    bad(token, new Date(now.getTime() + 60_000));
    bad(token, new Date(now.getTime() - 3_600_000));
    bad(token, now, 'arn:aws:eks:us-east-1:000000000000:cluster/b');
    bad('localeks-v1.abc', now);
    bad('localeks-v1.' + Buffer.from('{"v":1}').toString('base64url') + '.' + '0'.repeat(64), now);
    bad('localeks-v1.' + 'A'.repeat(5000), now);
    const long = Buffer.from(JSON.stringify({ v: 1, cluster: arn, akid: 'A', iat: 0, exp: MAX_LIFETIME_S + 1 })).toString('base64url');
    bad(`localeks-v1.${long}.${'0'.repeat(64)}`, new Date(1000));
    assert.throws(() => createStaticToken({ clusterArn: arn, accessKeyId: 'A', secretAccessKey: 's', lifetimeSeconds: MAX_LIFETIME_S + 1 }), RangeError);
  });
});
