import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arnLike, canonicalizeArn, mapIdentity, parseAwsAuth, type CallerIdentity } from './aws-auth.ts';

const nodeRole = `- rolearn: arn:aws:iam::111122223333:role/EKSNodeRole
  username: system:node:{{EC2PrivateDNSName}}
  groups:
    - system:bootstrappers
    - system:nodes
- rolearn: arn:aws:iam::111122223333:role/Admins
  username: admin:{{SessionName}}
  groups: [system:masters]
- rolearn: arn:aws:iam::111122223333:role/team/WithPath
  username: pathy
`;

function assumed(role: string, session: string): CallerIdentity {
  return { arn: `arn:aws:sts::111122223333:assumed-role/${role}/${session}`, accountId: '111122223333', userId: `AROAEXAMPLE:${session}`, accessKeyId: 'ASIAEXAMPLE' };
}

test('canonicalizeArn maps assumed-role sessions to their role', () => {
  assert.deepEqual(canonicalizeArn('arn:aws:sts::111122223333:assumed-role/Admins/jane@example.com'), {
    canonicalArn: 'arn:aws:iam::111122223333:role/Admins',
    sessionName: 'jane@example.com',
  });
  assert.equal(canonicalizeArn('arn:aws:iam::111122223333:user/ops/bob').canonicalArn, 'arn:aws:iam::111122223333:user/ops/bob');
  assert.throws(() => canonicalizeArn('arn:aws:s3:::bucket'));
});

test('mapRoles with templates, case-insensitive ARNs', () => {
  const cfg = parseAwsAuth({ mapRoles: nodeRole });
  assert.deepEqual(cfg.errors, []);
  const admin = mapIdentity(cfg, assumed('ADMINS', 'jane@example.com'));
  assert.equal(admin?.username, 'admin:jane-example.com');
  assert.deepEqual(admin?.groups, ['system:masters']);
  const node = mapIdentity(cfg, assumed('EKSNodeRole', 'i-0123456789abcdef0'), {
    ec2PrivateDnsName: (id) => (id === 'i-0123456789abcdef0' ? 'ip-10-0-1-23.eu-west-2.compute.internal' : undefined),
  });
  assert.equal(node?.username, 'system:node:ip-10-0-1-23.eu-west-2.compute.internal');
  assert.deepEqual(node?.groups, ['system:bootstrappers', 'system:nodes']);
  // An instance the template cannot resolve is not mapped.
  assert.equal(mapIdentity(cfg, assumed('EKSNodeRole', 'i-0fffffffffffffff0'), { ec2PrivateDnsName: () => undefined }), undefined);
});

test('a role ARN with a path in aws-auth never matches a session (EKS user guide)', () => {
  const cfg = parseAwsAuth({ mapRoles: nodeRole });
  assert.equal(mapIdentity(cfg, assumed('WithPath', 's')), undefined);
});

test('one malformed section drops only itself: mapRoles lockout keeps mapUsers', () => {
  const cfg = parseAwsAuth({
    mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admins\n  groups: system:masters\n',
    mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n  groups: [devs]\n',
  });
  assert.equal(cfg.mapRoles.length, 0);
  assert.equal(cfg.errors.length, 1);
  assert.match(cfg.errors[0]!, /mapRoles/);
  assert.equal(mapIdentity(cfg, assumed('Admins', 'x')), undefined);
  const alice = mapIdentity(cfg, { arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333', userId: 'AIDAEXAMPLE', accessKeyId: 'AKIA1' });
  assert.equal(alice?.username, 'alice');
});

test('invalid YAML, empty sections, mapAccounts and wildcards', () => {
  assert.equal(parseAwsAuth({ mapRoles: '- rolearn: [unclosed' }).errors.length, 1);
  assert.deepEqual(parseAwsAuth({ mapRoles: '""', mapUsers: '' }), { mapRoles: [], mapUsers: [], mapAccounts: [], errors: [] });
  const cfg = parseAwsAuth({ mapAccounts: '- "111122223333"\n', mapRoles: '- rolearn: arn:aws:iam::111122223333:role/ci-*\n  username: ci\n' });
  assert.equal(mapIdentity(cfg, assumed('ci-runner-7', 's'))?.username, 'ci');
  const acct = mapIdentity(cfg, { arn: 'arn:aws:iam::111122223333:user/bob', accountId: '111122223333', userId: 'AIDA', accessKeyId: 'AKIA' });
  assert.equal(acct?.username, 'arn:aws:iam::111122223333:user/bob');
  assert.deepEqual(acct?.groups, []);
  assert.equal(arnLike('arn:aws:iam::1:role/a', 'arn:aws:iam::1:role/?'), true);
  assert.equal(arnLike('arn:aws:iam::1:role/ab', 'arn:aws:iam::1:role/?'), false);
});
