/**
 * The AWS gateway with IAM enforcement on: signatures are verified against
 * the emulated credentials (root test/test or <12-digit account>/test, IAM
 * users' access keys, STS sessions with their token), and the signing time
 * must be within 15 minutes of the simulated clock.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type GatewayHarness, run, signedFetch, startGateway } from './aws-gateway-harness.ts';

let h: GatewayHarness;
const aws = (args: string[], env: Record<string, string> = {}) => run('aws', ['--endpoint-url', h.url, '--output', 'json', ...args], env);
const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] });
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const WHO = 'Action=GetCallerIdentity&Version=2011-06-15';

before(async () => {
  h = await startGateway({ config: { enforceIam: true } });
});
after(async () => {
  await h.close();
});

test('root credentials verify; a wrong secret or an unknown key is refused in each protocol family', async () => {
  const [ok, acct, bad, unknown] = await Promise.all([
    aws(['sts', 'get-caller-identity']),
    aws(['sts', 'get-caller-identity'], { AWS_ACCESS_KEY_ID: '210987654321' }),
    aws(['sts', 'get-caller-identity'], { AWS_SECRET_ACCESS_KEY: 'wrong' }),
    aws(['sts', 'get-caller-identity'], { AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNUNKNOWN12' }),
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).Arn, 'arn:aws:iam::000000000000:root');
  assert.equal(acct.code, 0, acct.stderr);
  assert.equal(JSON.parse(acct.stdout).Account, '210987654321');
  assert.match(bad.stderr, /\(SignatureDoesNotMatch\) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided/);
  assert.match(unknown.stderr, /\(InvalidClientTokenId\) when calling the GetCallerIdentity operation: The security token included in the request is invalid\./);
  const json = await signedFetch(h.url, { service: 'kms', secretAccessKey: 'wrong', headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
  assert.equal(json.status, 400);
  assert.equal((JSON.parse(json.body) as { __type: string }).__type, 'InvalidSignatureException');
  const rest = await signedFetch(h.url, { service: 'eks', method: 'GET', path: '/clusters', accessKeyId: 'AKIAUNKNOWNUNKNOWN12' });
  assert.equal(rest.status, 403);
  assert.equal(rest.headers.get('x-amzn-errortype'), 'UnrecognizedClientException');
  const ec2 = await signedFetch(h.url, { service: 'ec2', secretAccessKey: 'wrong', headers: FORM, body: 'Action=DescribeVpcs&Version=2016-11-15' });
  assert.equal(ec2.status, 401);
  assert.match(ec2.body, /<Code>AuthFailure<\/Code>/);
});

test('a signature more than 15 minutes from the clock is expired or not yet current', async () => {
  const skewed = await signedFetch(h.url, { service: 'sts', headers: FORM, body: WHO, signingDate: new Date(h.clock.nowMs() - 20 * 60_000) });
  assert.equal(skewed.status, 403);
  assert.match(skewed.body, /<Code>SignatureDoesNotMatch<\/Code><Message>Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)<\/Message>/);
  const near = await signedFetch(h.url, { service: 'sts', headers: FORM, body: WHO, signingDate: new Date(h.clock.nowMs() - 10 * 60_000) });
  assert.equal(near.status, 200, near.body);
  const future = await signedFetch(h.url, { service: 'sts', headers: FORM, body: WHO, signingDate: new Date(h.clock.nowMs() + 20 * 60_000) });
  assert.match(future.body, /Signature not yet current/);
});

test('IAM users sign with their access keys; STS sessions need their token and expire on the simulated clock', async () => {
  const u = await aws(['iam', 'create-user', '--user-name', 'alice']);
  assert.equal(u.code, 0, u.stderr);
  const k = await aws(['iam', 'create-access-key', '--user-name', 'alice']);
  assert.equal(k.code, 0, k.stderr);
  const key = JSON.parse(k.stdout).AccessKey;
  const asAlice = { AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
  const who = await aws(['sts', 'get-caller-identity'], asAlice);
  assert.equal(who.code, 0, who.stderr);
  const id = JSON.parse(who.stdout);
  assert.equal(id.Arn, 'arn:aws:iam::000000000000:user/alice');
  assert.match(id.UserId, /^AIDA/);
  const wrong = await aws(['sts', 'get-caller-identity'], { ...asAlice, AWS_SECRET_ACCESS_KEY: 'nope' });
  assert.match(wrong.stderr, /SignatureDoesNotMatch/);

  const role = await aws(['iam', 'create-role', '--role-name', 'ops', '--assume-role-policy-document', TRUST]);
  assert.equal(role.code, 0, role.stderr);
  const ar = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/ops', '--role-session-name', 'alice'], asAlice);
  assert.equal(ar.code, 0, ar.stderr);
  const c = JSON.parse(ar.stdout).Credentials;
  const bobOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:user/bob' }, Action: 'sts:AssumeRole' }] });
  const locked = await aws(['iam', 'create-role', '--role-name', 'locked', '--assume-role-policy-document', bobOnly]);
  assert.equal(locked.code, 0, locked.stderr);
  const refused = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::000000000000:role/locked', '--role-session-name', 'alice'], asAlice);
  assert.match(refused.stderr, /\(AccessDenied\).*User: arn:aws:iam::000000000000:user\/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/locked/);
  const session = { AWS_ACCESS_KEY_ID: c.AccessKeyId, AWS_SECRET_ACCESS_KEY: c.SecretAccessKey, AWS_SESSION_TOKEN: c.SessionToken };
  const [as, noToken] = await Promise.all([aws(['sts', 'get-caller-identity'], session), aws(['sts', 'get-caller-identity'], { ...session, AWS_SESSION_TOKEN: '' })]);
  assert.equal(as.code, 0, as.stderr);
  assert.equal(JSON.parse(as.stdout).Arn, 'arn:aws:sts::000000000000:assumed-role/ops/alice');
  assert.match(noToken.stderr, /InvalidClientTokenId/);
  const info = await aws(['sts', 'get-access-key-info', '--access-key-id', c.AccessKeyId]);
  assert.equal(JSON.parse(info.stdout).Account, '000000000000');

  h.clock.advance(3601_000);
  // The CLI signs with the real clock; sign with the simulated one to isolate token expiry from skew.
  const expired = await signedFetch(h.url, { service: 'sts', headers: FORM, body: WHO, accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, signingDate: h.clock.now() });
  assert.equal(expired.status, 403);
  assert.match(expired.body, /<Code>ExpiredToken<\/Code><Message>The security token included in the request is expired<\/Message>/);
  // Clients keep real time: a CLI request signed now still verifies after the simulated clock jumped.
  const cli = await aws(['sts', 'get-caller-identity'], asAlice);
  assert.equal(cli.code, 0, cli.stderr);
});

test('presigned URLs verify with IAM enforcement, and expire after X-Amz-Expires on the simulated clock', async () => {
  const spec = { service: 'sts', method: 'GET', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { 'x-k8s-aws-id': 'demo' }, presign: true, accessKeyId: '246824682468' } as const;
  const ok = await signedFetch(h.url, { ...spec, signingDate: h.clock.now() });
  assert.equal(ok.status, 200, ok.body);
  assert.match(ok.body, /<Arn>arn:aws:iam::246824682468:root<\/Arn>/);
  const old = await signedFetch(h.url, { ...spec, signingDate: new Date(h.clock.nowMs() - 16 * 60_000) });
  assert.equal(old.status, 403);
  assert.match(old.body, /<Code>SignatureDoesNotMatch<\/Code><Message>Signature expired: /);
  const forged = await signedFetch(h.url, { ...spec, secretAccessKey: 'guess', signingDate: h.clock.now() });
  assert.equal(forged.status, 403);
  assert.match(forged.body, /<Code>SignatureDoesNotMatch<\/Code>/);
});
