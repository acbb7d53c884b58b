import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../../test/helpers/node-sha256.ts';
import { checkSigningTime, parseSigV4, type SignedRequest, toAmzDate, verifySigV4 } from './sigv4.ts';

// The SDK's own signer is the reference the gateway must agree with.

const signingDate = new Date('2026-01-02T03:04:05Z');

function signer(service: string, secret = 'sekrit', sessionToken?: string) {
  return new SignatureV4({ service, region: 'eu-west-1', credentials: { accessKeyId: 'AKIAEXAMPLE123456789', secretAccessKey: secret, sessionToken }, sha256: NodeSha256 });
}

/** What the gateway sees of a signed request: raw path/query/headers as sent on the wire. */
function onTheWire(signed: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string>; body?: unknown }): SignedRequest & { headers: Record<string, string>; query: URLSearchParams } {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x));
  const rawQuery = q.toString().replace(/\+/g, '%20');
  const headers: Record<string, string> = {};
  const rawHeaders: string[] = [];
  for (const [k, v] of Object.entries(signed.headers)) {
    headers[k.toLowerCase()] = v;
    rawHeaders.push(k, v);
  }
  return { method: signed.method, rawPath: signed.path, rawQuery, rawHeaders, body: Buffer.from((signed.body as string | undefined) ?? ''), headers, query: new URLSearchParams(rawQuery) };
}

test('parses the Authorization header and verifies what the SDK signed (query protocol body)', async () => {
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const signed = await signer('sts').sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: '/', query: {}, headers: { host: '127.0.0.1:4566', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body },
    { signingDate },
  );
  const wire = onTheWire(signed);
  const info = parseSigV4(wire.headers, wire.query)!;
  assert.equal(info.accessKeyId, 'AKIAEXAMPLE123456789');
  assert.equal(info.region, 'eu-west-1');
  assert.equal(info.service, 'sts');
  assert.equal(info.scopeDate, '20260102');
  assert.equal(info.amzDate, '20260102T030405Z');
  assert.equal(info.presigned, false);
  assert.ok(info.signedHeaders.includes('host'));
  assert.equal(verifySigV4(wire, info, 'sekrit'), true);
  assert.equal(verifySigV4(wire, info, 'wrong'), false);
  assert.equal(verifySigV4({ ...wire, body: Buffer.from(`${body}&x=1`) }, info, 'sekrit'), false, 'a changed body must not verify');
});

test('verifies a rest-json request whose path carries an encoded ARN and a query string', async () => {
  const signed = await signer('eks').sign(
    {
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: `/tags/${encodeURIComponent('arn:aws:eks:eu-west-1:000000000000:cluster/a b')}`,
      query: { maxResults: '5', include: ['all', 'b c'] },
      headers: { host: '127.0.0.1:4566' },
    },
    { signingDate },
  );
  const wire = onTheWire(signed);
  const info = parseSigV4(wire.headers, wire.query)!;
  assert.equal(verifySigV4(wire, info, 'sekrit'), true);
});

test('parses and verifies a presigned URL with a session token (aws eks get-token style)', async () => {
  const signed = await signer('sts', 'sekrit', 'TOKEN/with+chars=').presign(
    { method: 'GET', protocol: 'https:', hostname: 'sts.eu-west-1.amazonaws.com', path: '/', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'demo' } },
    { signingDate, expiresIn: 60 },
  );
  const wire = onTheWire(signed);
  const info = parseSigV4(wire.headers, wire.query)!;
  assert.equal(info.presigned, true);
  assert.equal(info.expiresSeconds, 60);
  assert.equal(info.securityToken, 'TOKEN/with+chars=');
  assert.deepEqual(info.signedHeaders.sort(), ['host', 'x-k8s-aws-id']);
  assert.equal(verifySigV4(wire, info, 'sekrit'), true);
  assert.equal(verifySigV4({ ...wire, rawHeaders: ['host', 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id', 'other'] }, info, 'sekrit'), false);
  const t = signingDate.getTime();
  assert.equal(checkSigningTime(info, t + 59_000), undefined);
  assert.equal(checkSigningTime(info, t + 61_000)?.kind, 'presign-expired');
});

test('unsigned requests parse as undefined; malformed ones are IncompleteSignature', () => {
  assert.equal(parseSigV4({}, new URLSearchParams('Action=X')), undefined);
  assert.throws(() => parseSigV4({ authorization: 'AWS4-HMAC-SHA256 Credential=AK/20260102/us-east-1/sts/aws4_request' }, new URLSearchParams()), { code: 'IncompleteSignature' });
  assert.throws(() => parseSigV4({ authorization: 'AWS4-HMAC-SHA256 Credential=AK/bad, SignedHeaders=host, Signature=00' }, new URLSearchParams()), { code: 'IncompleteSignature' });
  assert.throws(() => parseSigV4({}, new URLSearchParams('X-Amz-Credential=AK/20260102/us-east-1/sts/aws4_request')), { code: 'IncompleteSignature' });
});

test('signing time: 15 minutes of skew either way is the limit', () => {
  const t = Date.UTC(2026, 0, 2, 3, 4, 5);
  const info = { accessKeyId: 'a', scopeDate: '20260102', region: 'r', service: 's', amzDate: toAmzDate(t), signedHeaders: [], signature: '', presigned: false };
  assert.equal(checkSigningTime(info, t + 14 * 60_000), undefined);
  assert.equal(checkSigningTime(info, t - 14 * 60_000), undefined);
  const late = checkSigningTime(info, t + 16 * 60_000);
  assert.equal(late?.kind, 'expired');
  assert.match(late!.message, /^Signature expired: 20260102T030405Z is now earlier than 20260102T030505Z \(20260102T032005Z - 15 min\.\)$/);
  assert.equal(checkSigningTime(info, t - 16 * 60_000)?.kind, 'not-yet-current');
  assert.equal(checkSigningTime({ ...info, amzDate: '' }, t)?.kind, 'no-date');
});

test('paths are normalized as the SDK signer normalizes them (empty and dot segments)', async () => {
  const signed = await signer('eks').sign(
    { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: '/clusters//a/./b/../c/', query: {}, headers: { host: '127.0.0.1:4566' } },
    { signingDate },
  );
  const wire = onTheWire(signed);
  const info = parseSigV4(wire.headers, wire.query)!;
  assert.equal(verifySigV4(wire, info, 'sekrit'), true);
});
