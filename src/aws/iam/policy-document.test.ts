import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsServiceError } from '../core/types.ts';
import { validatePolicyDocument } from './policy-document.ts';

const allow = (extra: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...extra }] });

const cases: { name: string; kind: 'identity' | 'trust'; doc: string; error?: string }[] = [
  { name: 'identity ok', kind: 'identity', doc: allow({ Action: 's3:GetObject', Resource: '*' }) },
  { name: 'identity list ok', kind: 'identity', doc: allow({ Action: ['ec2:Describe*', 'eks:*'], Resource: ['arn:aws:s3:::b/*'] }) },
  { name: 'statement object ok', kind: 'identity', doc: JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Deny', NotAction: 'iam:*', Resource: '*' } }) },
  { name: 'not json', kind: 'identity', doc: '{"Version":', error: 'Syntax errors in policy.' },
  { name: 'old version', kind: 'identity', doc: JSON.stringify({ Version: '2010-01-01', Statement: [] }), error: 'Policy document must be version 2012-10-17 or greater.' },
  { name: 'no statement', kind: 'identity', doc: JSON.stringify({ Version: '2012-10-17' }), error: 'Syntax errors in policy.' },
  { name: 'bad effect', kind: 'identity', doc: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: '*', Resource: '*' }] }), error: 'Syntax errors in policy.' },
  { name: 'no actions', kind: 'identity', doc: allow({ Resource: '*' }), error: 'Policy statement must contain actions.' },
  { name: 'no resources', kind: 'identity', doc: allow({ Action: 's3:*' }), error: 'Policy statement must contain resources.' },
  { name: 'no vendor', kind: 'identity', doc: allow({ Action: 'GetObject', Resource: '*' }), error: 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.' },
  { name: 'two colons', kind: 'identity', doc: allow({ Action: 's3:a:b', Resource: '*' }), error: 'Actions/Condition can contain only one colon.' },
  { name: 'duplicate sid', kind: 'identity', doc: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'a', Effect: 'Allow', Action: '*', Resource: '*' }, { Sid: 'a', Effect: 'Allow', Action: '*', Resource: '*' }] }), error: 'Statement IDs (SID) in a single policy must be unique.' },
  { name: 'identity with principal', kind: 'identity', doc: allow({ Principal: '*', Action: '*', Resource: '*' }), error: 'Policy document should not specify a principal.' },
  { name: 'trust ok', kind: 'trust', doc: allow({ Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }) },
  { name: 'trust web identity ok', kind: 'trust', doc: allow({ Principal: { Federated: 'arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC' }, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'], Condition: { StringEquals: { 'x:sub': 'system:serviceaccount:a:b' } } }) },
  { name: 'trust with resource', kind: 'trust', doc: allow({ Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Resource: '*' }), error: 'Has prohibited field Resource.' },
  { name: 'trust non-sts action', kind: 'trust', doc: allow({ Principal: { AWS: '*' }, Action: 's3:GetObject' }), error: 'Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity' },
  { name: 'trust bad principal type', kind: 'trust', doc: allow({ Principal: { Robot: 'x' }, Action: 'sts:AssumeRole' }), error: 'Invalid principal in policy: "Robot"' },
];

for (const c of cases) {
  test(`policy document: ${c.name}`, () => {
    if (!c.error) {
      assert.doesNotThrow(() => validatePolicyDocument(c.doc, c.kind));
      return;
    }
    assert.throws(
      () => validatePolicyDocument(c.doc, c.kind),
      (e: unknown) => e instanceof AwsServiceError && e.code === 'MalformedPolicyDocument' && e.status === 400 && e.message === c.error,
    );
  });
}
