import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { createEksToken, parseToken, TOKEN_PREFIX, TokenError, verifyTokenSignature } from './eks-token.ts';

/** A real token from the aws CLI (it presigns offline). */
function cliToken(cluster: string, secret = 'secret', region = 'eu-west-2'): string {
  const out = execFileSync('aws', ['eks', 'get-token', '--cluster-name', cluster], {
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: region },
  });
  return JSON.parse(out.toString()).status.token as string;
}

function tokenFor(url: string): string {
  return TOKEN_PREFIX + Buffer.from(url).toString('base64url');
}

test('a token from aws eks get-token parses and verifies for its own cluster only', () => {
  const token = cliToken('demo');
  const p = parseToken(token, new Date());
  assert.equal(p.accessKeyId, 'AKIAEXAMPLE');
  assert.equal(p.region, 'eu-west-2');
  assert.equal(verifyTokenSignature(p, 'demo', 'secret'), true);
  assert.equal(verifyTokenSignature(p, 'other-cluster', 'secret'), false);
  assert.equal(verifyTokenSignature(p, 'demo', 'wrong-secret'), false);
});

test('tokens expire 15 minutes after X-Amz-Date', () => {
  const token = cliToken('demo');
  const p = parseToken(token, new Date());
  assert.ok(parseToken(token, new Date(p.signedAt.getTime() + 14 * 60 * 1000)));
  const later = new Date(p.signedAt.getTime() + 15 * 60 * 1000 + 1000);
  assert.throws(() => parseToken(token, later), (e) => e instanceof TokenError && /expired \(15 minute expiration\)/.test(e.message));
});

test('malformed tokens are rejected with the authenticator wording', () => {
  const good = new URL(Buffer.from(cliToken('demo').slice(TOKEN_PREFIX.length), 'base64url').toString());
  const cases: Array<[string, RegExp]> = [
    ['Bearer abc', /missing expected "k8s-aws-v1\." prefix/],
    [TOKEN_PREFIX + '!!!', /illegal base64/],
    [TOKEN_PREFIX + 'abc', /valid pre-signed URL/],
    [tokenFor(good.href.replace('https:', 'http:')), /unexpected scheme "http"/],
    [tokenFor(good.href.replace('sts.eu-west-2.amazonaws.com', 'evil.example.com')), /unexpected hostname/],
    [tokenFor(good.href.replace('GetCallerIdentity', 'AssumeRole')), /unexpected action/],
    [tokenFor(good.href + '&Extra=1'), /non-whitelisted query parameter "Extra"/],
    [tokenFor(good.href.replace('host%3Bx-k8s-aws-id', 'host')), /did not sign the x-k8s-aws-id header/],
    [tokenFor(good.href.replace('X-Amz-Expires=60', 'X-Amz-Expires=3600')), /invalid X-Amz-Expires/],
  ];
  for (const [tok, re] of cases) {
    assert.throws(() => parseToken(tok, new Date()), (e) => e instanceof TokenError && re.test(e.message), `expected ${re} for ${tok.slice(0, 60)}`);
  }
});

test('createEksToken makes the same kind of token the aws CLI makes, verifiable only for its cluster', () => {
  const now = new Date();
  const t = createEksToken({ clusterName: 'demo', region: 'eu-west-2', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'tok', now });
  const p = parseToken(t, now);
  assert.equal(p.sessionToken, 'tok');
  assert.equal(verifyTokenSignature(p, 'demo', 'secret'), true);
  assert.equal(verifyTokenSignature(p, 'other', 'secret'), false);
  // Same URL shape as the CLI's: only the signature and date differ.
  const cli = new URL(Buffer.from(cliToken('demo').slice(TOKEN_PREFIX.length), 'base64url').toString());
  assert.deepEqual([...p.url.searchParams.keys()].filter((k) => k !== 'X-Amz-Security-Token').sort(), [...cli.searchParams.keys()].sort());
});
