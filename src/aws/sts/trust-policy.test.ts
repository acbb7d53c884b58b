import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type TrustRequest, trustAllows } from './trust-policy.ts';

const allow = (stmt: Record<string, unknown>) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...stmt }] });

test('AWS principals: exact ARN, account root or id, role for its sessions, wildcard', () => {
  const req = (callerArn: string) => ({ action: 'sts:AssumeRole', callerArn, callerAccountId: callerArn.split(':')[4], context: {} });
  const alice = 'arn:aws:iam::111111111111:user/alice';
  assert.equal(trustAllows(allow({ Principal: { AWS: alice }, Action: 'sts:AssumeRole' }), req(alice)), true);
  assert.equal(trustAllows(allow({ Principal: { AWS: 'arn:aws:iam::111111111111:user/bob' }, Action: 'sts:AssumeRole' }), req(alice)), false);
  assert.equal(trustAllows(allow({ Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:*' }), req(alice)), true);
  assert.equal(trustAllows(allow({ Principal: { AWS: ['222222222222'] }, Action: ['sts:AssumeRole'] }), req(alice)), false);
  assert.equal(trustAllows(allow({ Principal: { AWS: 'arn:aws:iam::111111111111:role/ci' }, Action: 'sts:AssumeRole' }), req('arn:aws:sts::111111111111:assumed-role/ci/s1')), true);
  assert.equal(trustAllows(allow({ Principal: '*', Action: 'sts:AssumeRole' }), req(alice)), true);
  assert.equal(trustAllows(allow({ Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }), req(alice)), false);
  assert.equal(trustAllows(allow({ Principal: { AWS: '*' }, Action: 'sts:AssumeRoleWithWebIdentity' }), req(alice)), false, 'action must match');
  const withDeny = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }, { Effect: 'Deny', Principal: { AWS: alice }, Action: 'sts:AssumeRole' }] };
  assert.equal(trustAllows(withDeny, req(alice)), false, 'an explicit Deny wins');
  assert.equal(trustAllows(undefined, req(alice)), false);
});

test('web identity: Federated provider and String* conditions on sub/aud', () => {
  const fed = 'arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X';
  const k = 'oidc.eks.us-east-1.amazonaws.com/id/X';
  const req = (sub: string) => ({ action: 'sts:AssumeRoleWithWebIdentity', federated: fed, context: { [`${k}:sub`]: sub, [`${k}:aud`]: ['sts.amazonaws.com'] } });
  const pol = (cond: Record<string, unknown>) => allow({ Principal: { Federated: fed }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: cond });
  assert.equal(trustAllows(pol({ StringEquals: { [`${k}:sub`]: 'system:serviceaccount:a:b', [`${k}:aud`]: 'sts.amazonaws.com' } }), req('system:serviceaccount:a:b')), true);
  assert.equal(trustAllows(pol({ StringEquals: { [`${k}:sub`]: 'system:serviceaccount:a:b' } }), req('system:serviceaccount:a:c')), false);
  assert.equal(trustAllows(pol({ StringLike: { [`${k.toUpperCase()}:SUB`]: 'system:serviceaccount:a:*' } }), req('system:serviceaccount:a:c')), true, 'condition keys are case-insensitive');
  assert.equal(trustAllows(pol({ StringNotEquals: { [`${k}:sub`]: 'system:serviceaccount:a:c' } }), req('system:serviceaccount:a:c')), false);
  assert.equal(trustAllows(pol({ StringEquals: { 'other:key': 'x' } }), req('s')), false, 'a missing key fails StringEquals');
  assert.equal(trustAllows(pol({ StringEqualsIfExists: { 'other:key': 'x' } }), req('s')), true);
  assert.equal(trustAllows(allow({ Principal: { Federated: 'arn:aws:iam::111111111111:oidc-provider/elsewhere' }, Action: 'sts:AssumeRoleWithWebIdentity' }), req('s')), false);
});

test('AssumeRole conditions: sts:ExternalId must match when the policy asks for it', () => {
  const pol = allow({ Principal: { AWS: '222222222222' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': 'secret-1' } } });
  const req = (ext?: string): TrustRequest => ({
    action: 'sts:AssumeRole',
    callerArn: 'arn:aws:iam::222222222222:user/ci',
    callerAccountId: '222222222222',
    context: ext === undefined ? {} : { 'sts:ExternalId': ext },
  });
  assert.equal(trustAllows(pol, req('secret-1')), true);
  assert.equal(trustAllows(pol, req('other')), false);
  assert.equal(trustAllows(pol, req()), false);
});
