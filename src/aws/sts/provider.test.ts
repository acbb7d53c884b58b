import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { SimClock } from '../../sim/clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import { resolveCaller, sessionKey } from '../core/identity.ts';
import { AwsState, awsKey, GLOBAL_REGION } from '../core/state.ts';
import type { AwsProvider, RequestContext } from '../core/types.ts';
import { createStsProvider } from './provider.ts';

let deps: AwsDeps;
let clock: SimClock;
let backend: MemoryBackend;
let sts: AwsProvider;

function ctxFor(accessKeyId: string, operation: string): RequestContext {
  const c = resolveCaller(deps.state, deps.config, accessKeyId);
  return { accountId: c.accountId, region: 'us-east-1', requestId: 'r', service: 'sts', operation, accessKeyId, callerArn: c.arn, callerUserId: c.userId, now: () => clock.now() };
}
const call = (op: string, input: unknown, key = '123456789012') => Promise.resolve(sts.operations[op]!(input, ctxFor(key, op)));

before(async () => {
  backend = new MemoryBackend({ compaction: false });
  const state = new AwsState(backend);
  await state.start();
  clock = new SimClock();
  deps = {
    state,
    clock,
    log: pino({ level: 'silent' }),
    config: { defaultAccountId: '000000000000', enforceIam: false, referenceChecks: true, timingProfile: 'instant', awsEndpoint: '', kubeEndpoint: '', caCertPem: '' },
  };
  sts = createStsProvider(deps);
  const trust = encodeURIComponent(
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' },
        { Effect: 'Allow', Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/issuer.example/id/1' }, Action: 'sts:AssumeRoleWithWebIdentity' },
      ],
    }),
  );
  await state.commit([
    { op: 'create', key: awsKey({ accountId: '123456789012', region: GLOBAL_REGION }, 'iam', 'role', 'app'), doc: { Path: '/', RoleName: 'app', RoleId: 'AROAAPP', Arn: 'arn:aws:iam::123456789012:role/app', CreateDate: '2026-01-01T00:00:00Z', AssumeRolePolicyDocument: trust, MaxSessionDuration: 7200, _attached: [], _inline: {} } },
    { op: 'create', key: awsKey({ accountId: '123456789012', region: GLOBAL_REGION }, 'iam', 'oidc-provider', 'issuer.example/id/1'), doc: { Url: 'issuer.example/id/1', Arn: 'arn:aws:iam::123456789012:oidc-provider/issuer.example/id/1', ClientIDList: ['sts.amazonaws.com'], ThumbprintList: [], CreateDate: '2026-01-01T00:00:00Z' } },
  ]);
});
after(async () => {
  deps.state.stop();
  clock.stop();
  await backend.close();
});

test('GetSessionToken and GetFederationToken issue sessions acting as the caller / the federated user', async () => {
  const s = await call('GetSessionToken', { DurationSeconds: 900 });
  assert.match(s.Credentials.AccessKeyId, /^ASIA/);
  assert.equal(resolveCaller(deps.state, deps.config, s.Credentials.AccessKeyId).arn, 'arn:aws:iam::123456789012:root');
  await assert.rejects(call('GetSessionToken', { DurationSeconds: 7200 }), { code: 'ValidationError' });
  await assert.rejects(call('GetSessionToken', {}, s.Credentials.AccessKeyId), { code: 'AccessDenied', status: 403 });
  const f = await call('GetFederationToken', { Name: 'bob' });
  assert.deepEqual(f.FederatedUser, { Arn: 'arn:aws:sts::123456789012:federated-user/bob', FederatedUserId: '123456789012:bob' });
  assert.equal(resolveCaller(deps.state, deps.config, f.Credentials.AccessKeyId).arn, 'arn:aws:sts::123456789012:federated-user/bob');
  const info = await call('GetAccessKeyInfo', { AccessKeyId: f.Credentials.AccessKeyId }, '999999999999');
  assert.equal(info.Account, '123456789012');
  assert.equal((await call('GetAccessKeyInfo', { AccessKeyId: 'AKIANOTKNOWN00000000' })).Account, '000000000000');
});

test('AssumeRole honours the role MaxSessionDuration and expiry runs on the simulated clock', async () => {
  const ok = await call('AssumeRole', { RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 's', DurationSeconds: 7200 });
  assert.ok(Math.abs(ok.Credentials.Expiration.getTime() - clock.nowMs() - 7200_000) < 5_000);
  await assert.rejects(call('AssumeRole', { RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 's', DurationSeconds: 7201 }), { code: 'ValidationError' });
  await assert.rejects(call('AssumeRole', { RoleArn: 'arn:aws:iam::123456789012:role/nope', RoleSessionName: 's' }), { code: 'AccessDenied' });
  await assert.rejects(call('AssumeRole', { RoleArn: 'not-an-arn-at-all-xx', RoleSessionName: 's' }), { code: 'ValidationError' });
});

test('AssumeRoleWithWebIdentity: token shape, provider, audience, expiry', async () => {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`;
  const exp = Math.floor(clock.nowMs() / 1000) + 600;
  const req = (token: string) => call('AssumeRoleWithWebIdentity', { RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 'w', WebIdentityToken: token }, '');
  const ok = await req(jwt({ iss: 'https://issuer.example/id/1', sub: 'me', aud: 'sts.amazonaws.com', exp }));
  assert.equal(ok.SubjectFromWebIdentityToken, 'me');
  assert.equal(ok.Provider, 'issuer.example/id/1');
  await assert.rejects(req(jwt({ iss: 'https://issuer.example/id/1', sub: 'me', aud: 'other', exp })), { code: 'InvalidIdentityToken', message: 'Incorrect token audience' });
  await assert.rejects(req(jwt({ iss: 'https://issuer.example/id/1', sub: 'me', aud: 'sts.amazonaws.com', exp: exp - 3600 })), { code: 'ExpiredTokenException' });
  await assert.rejects(req(jwt({ iss: 'https://elsewhere.example', aud: 'sts.amazonaws.com', exp })), { code: 'InvalidIdentityToken' });
  await assert.rejects(req('a.b'), { code: 'InvalidIdentityToken' });
  const good = jwt({ iss: 'https://issuer.example/id/1', sub: 'me', aud: 'sts.amazonaws.com', exp });
  const seen: string[] = [];
  deps.webIdentityVerifier = async (token, issuer) => {
    seen.push(issuer);
    if (token === good) throw new Error('bad signature');
  };
  try {
    await assert.rejects(req(good), { code: 'InvalidIdentityToken', message: /could not be validated by AWS/ });
    assert.deepEqual(seen, ['https://issuer.example/id/1']);
    deps.webIdentityVerifier = async () => {};
    assert.equal((await req(good)).SubjectFromWebIdentityToken, 'me');
  } finally {
    delete deps.webIdentityVerifier;
  }
});

test('sessions expired for over an hour are swept as new ones are issued', async () => {
  const first = await call('GetSessionToken', { DurationSeconds: 900 });
  clock.advance(2 * 3600_000);
  for (let i = 0; i < 200; i++) await call('GetSessionToken', { DurationSeconds: 900 });
  assert.equal(deps.state.get(sessionKey(first.Credentials.AccessKeyId)), undefined);
});
