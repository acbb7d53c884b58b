import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { authenticateEksToken, type ClusterAuthSource, type ResolvedCaller } from './authenticator.ts';

function cliToken(cluster: string, key: string, secret: string, sessionToken?: string): string {
  const env: Record<string, string> = { ...process.env, AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: secret, AWS_DEFAULT_REGION: 'eu-west-2' } as Record<string, string>;
  if (sessionToken) env.AWS_SESSION_TOKEN = sessionToken;
  else delete env.AWS_SESSION_TOKEN;
  return JSON.parse(execFileSync('aws', ['eks', 'get-token', '--cluster-name', cluster], { env }).toString()).status.token;
}

const callers: Record<string, ResolvedCaller> = {
  test: { accountId: '000000000000', arn: 'arn:aws:iam::000000000000:root', userId: '000000000000', secret: 'test', known: true },
  ASIADEVSESSION: { accountId: '111122223333', arn: 'arn:aws:sts::111122223333:assumed-role/dev/jane', userId: 'AROADEV:jane', secret: 's3cret', sessionToken: 'tok', known: true },
  AKIANODE: { accountId: '111122223333', arn: 'arn:aws:sts::111122223333:assumed-role/NodeRole/i-0abc', userId: 'AROANODE:i-0abc', secret: 'n', known: true },
};
const resolveCaller = (k: string): ResolvedCaller => callers[k] ?? { accountId: '000000000000', arn: 'arn:aws:iam::000000000000:root', userId: '000000000000', known: false };

function source(mode: string, extra: Partial<ClusterAuthSource> = {}): ClusterAuthSource {
  return {
    clusterName: 'demo',
    accountId: '111122223333',
    authenticationMode: mode,
    awsAuthData: () => ({ mapRoles: '- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev:{{SessionName}}\n  groups: [devs]\n' }),
    accessEntries: () => [
      { principalArn: 'arn:aws:iam::111122223333:role/platform/NodeRole', type: 'EC2_LINUX', username: 'system:node:{{EC2PrivateDNSName}}', kubernetesGroups: [], policies: [] },
    ],
    ec2PrivateDnsName: (id) => (id === 'i-0abc' ? 'ip-10-0-1-5.eu-west-2.compute.internal' : undefined),
    ...extra,
  };
}

const deps = { resolveCaller, now: () => new Date(), enforceIam: false };

test('aws-auth mapping in CONFIG_MAP and API_AND_CONFIG_MAP; not in API mode', () => {
  const token = cliToken('demo', 'ASIADEVSESSION', 's3cret', 'tok');
  for (const mode of ['CONFIG_MAP', 'API_AND_CONFIG_MAP']) {
    const r = authenticateEksToken(token, source(mode), deps);
    assert.ok(r.ok, mode);
    assert.equal(r.user.name, 'dev:jane');
    assert.deepEqual(r.user.groups, ['devs', 'system:authenticated']);
  }
  const api = authenticateEksToken(token, source('API'), deps);
  assert.equal(api.ok, false);
});

test('access entries: node role with a path matches its sessions; groups added by type', () => {
  const r = authenticateEksToken(cliToken('demo', 'AKIANODE', 'n'), source('API'), deps);
  assert.ok(r.ok);
  assert.equal(r.user.name, 'system:node:ip-10-0-1-5.eu-west-2.compute.internal');
  assert.deepEqual(r.user.groups, ['system:nodes', 'system:authenticated']);
  assert.equal(r.user.via, 'access-entry');
});

test('a token for another cluster, a wrong secret or a wrong session token fails', () => {
  assert.equal(authenticateEksToken(cliToken('other', 'ASIADEVSESSION', 's3cret', 'tok'), source('CONFIG_MAP'), deps).ok, false);
  assert.equal(authenticateEksToken(cliToken('demo', 'ASIADEVSESSION', 'nope', 'tok'), source('CONFIG_MAP'), deps).ok, false);
  const wrongTok = authenticateEksToken(cliToken('demo', 'ASIADEVSESSION', 's3cret', 'forged'), source('CONFIG_MAP'), deps);
  assert.ok(!wrongTok.ok && /security token/.test(wrongTok.reason));
});

test('cluster creator is an implicit admin in CONFIG_MAP mode only', () => {
  const src = source('CONFIG_MAP', { creatorArn: 'arn:aws:iam::000000000000:root', creatorAdmin: true });
  const r = authenticateEksToken(cliToken('demo', 'test', 'test'), src, deps);
  assert.ok(r.ok);
  assert.equal(r.user.name, 'kubernetes-admin');
  assert.deepEqual(r.user.groups, ['system:masters', 'system:authenticated']);
  assert.equal(authenticateEksToken(cliToken('demo', 'test', 'test'), { ...src, creatorAdmin: false }, deps).ok, false);
});

test('unknown keys are refused under IAM enforcement; malformed aws-auth warns', () => {
  const tok = cliToken('demo', 'AKIAUNKNOWN', 'x');
  assert.equal(authenticateEksToken(tok, source('CONFIG_MAP'), { ...deps, enforceIam: true }).ok, false);
  const bad = authenticateEksToken(cliToken('demo', 'ASIADEVSESSION', 's3cret', 'tok'), source('API_AND_CONFIG_MAP', { awsAuthData: () => ({ mapRoles: 'rolearn: [' }) }), deps);
  assert.equal(bad.ok, false);
});

test('the verification cache: a token verified for one cluster is not accepted for another; a changed secret is verified again', async () => {
  const { TokenCache } = await import('./token-cache.ts');
  const { createEksToken } = await import('./eks-token.ts');
  const cache = new TokenCache<import('./authenticator.ts').VerifiedToken>();
  const secrets: Record<string, string> = { AKIAROT: 'one' };
  const rc = (k: string): ResolvedCaller =>
    k === 'AKIAROT' ? { accountId: '111122223333', arn: 'arn:aws:sts::111122223333:assumed-role/dev/jane', userId: 'AROADEV:jane', secret: secrets.AKIAROT, known: true } : resolveCaller(k);
  const d = { resolveCaller: rc, now: () => new Date(), enforceIam: false, cache };
  const token = createEksToken({ clusterName: 'demo', region: 'eu-west-2', accessKeyId: 'AKIAROT', secretAccessKey: 'one' });
  assert.ok(authenticateEksToken(token, source('CONFIG_MAP'), d).ok);
  assert.equal(cache.size, 1);
  assert.ok(authenticateEksToken(token, source('CONFIG_MAP'), d).ok, 'served from the cache');
  const other = authenticateEksToken(token, source('CONFIG_MAP', { clusterName: 'other' }), d);
  assert.equal(other.ok, false, 'another cluster verifies it again and fails');
  secrets.AKIAROT = 'two';
  const rotated = authenticateEksToken(token, source('CONFIG_MAP'), d);
  assert.equal(rotated.ok, false, 'a new secret is checked again');
  const garbage = authenticateEksToken('k8s-aws-v1.!!!', source('CONFIG_MAP'), d);
  assert.equal(garbage.ok, false);
  assert.equal(cache.size, 1, 'failures are not cached');
});

test('a cached token replayed after its 15 minutes is refused; an expired STS session is refused on the simulated clock', async () => {
  const { TokenCache } = await import('./token-cache.ts');
  const { createEksToken } = await import('./eks-token.ts');
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  let simMs = nowMs;
  const cache = new TokenCache<import('./authenticator.ts').VerifiedToken>();
  const d = { resolveCaller, now: () => new Date(nowMs), sessionNow: () => new Date(simMs), enforceIam: false, cache };
  const token = createEksToken({ clusterName: 'demo', region: 'eu-west-2', accessKeyId: 'test', secretAccessKey: 'test', now: new Date(nowMs) });
  assert.ok(authenticateEksToken(token, source('CONFIG_MAP', { creatorArn: 'arn:aws:iam::000000000000:root', creatorAdmin: true }), d).ok);
  nowMs += 15 * 60_000 + 1000;
  const replay = authenticateEksToken(token, source('CONFIG_MAP', { creatorArn: 'arn:aws:iam::000000000000:root', creatorAdmin: true }), d);
  assert.ok(!replay.ok && /expired/.test(replay.reason), 'the cached verification ended with the token');
  // A session token whose STS session expired (simulated time) is refused even within the token's 15 minutes.
  const exp = Date.parse('2026-01-01T01:00:00Z');
  const sessionCaller = (k: string): ResolvedCaller => (k === 'ASIAEXP' ? { ...callers.ASIADEVSESSION!, expiresAtMs: exp } : resolveCaller(k));
  const d2 = { ...d, resolveCaller: sessionCaller };
  const t2 = createEksToken({ clusterName: 'demo', region: 'eu-west-2', accessKeyId: 'ASIAEXP', secretAccessKey: 's3cret', sessionToken: 'tok', now: new Date(nowMs) });
  assert.ok(authenticateEksToken(t2, source('CONFIG_MAP'), d2).ok);
  simMs = exp + 1;
  const expired = authenticateEksToken(t2, source('CONFIG_MAP'), d2);
  assert.ok(!expired.ok && /expired/.test(expired.reason));
});
