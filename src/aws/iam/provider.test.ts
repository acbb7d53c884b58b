import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createIamProvider } from './provider.ts';
import { findAccessKey, getOidcProviderByUrl, getRoleByArn, policyExists, roleTrustPolicy } from './shared.ts';
import { providerHarness, type ProviderHarness } from './testing.ts';

let h: ProviderHarness;
before(async () => {
  h = await providerHarness(createIamProvider, 'iam');
});
after(() => h.close());

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const s3Policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });

test('roles: create, get (URL-encoded trust policy), duplicates, shared lookups', async () => {
  const r = await h.call('CreateRole', { RoleName: 'cluster', AssumeRolePolicyDocument: trust, Path: '/eks/', Tags: [{ Key: 'a', Value: 'b' }] });
  assert.match(r.Role.RoleId, /^AROA[A-Z0-9]{17}$/);
  assert.equal(r.Role.Arn, 'arn:aws:iam::000000000000:role/eks/cluster');
  assert.ok(r.Role.CreateDate instanceof Date);
  assert.equal(r.Role.AssumeRolePolicyDocument, encodeURIComponent(trust));
  const g = await h.call('GetRole', { RoleName: 'cluster' });
  assert.equal(g.Role.MaxSessionDuration, 3600);
  assert.deepEqual(g.Role.Tags, [{ Key: 'a', Value: 'b' }]);
  const dup = await h.callError('CreateRole', { RoleName: 'CLUSTER', AssumeRolePolicyDocument: trust });
  assert.equal(dup.code, 'EntityAlreadyExists');
  assert.equal(dup.status, 409);
  assert.equal(dup.message, 'Role with name CLUSTER already exists.');
  const missing = await h.callError('GetRole', { RoleName: 'nope' });
  assert.equal(missing.code, 'NoSuchEntity');
  assert.equal(missing.status, 404);
  assert.equal(missing.message, 'The role with name nope cannot be found.');
  const bad = await h.callError('CreateRole', { RoleName: 'bad', AssumeRolePolicyDocument: '{nope' });
  assert.equal(bad.code, 'MalformedPolicyDocument');
  assert.equal(h.deps.state.get('/aws/iam/000000000000/global/role/bad'), undefined);
  const role = getRoleByArn(h.deps.state, 'arn:aws:iam::000000000000:role/eks/cluster');
  assert.equal(role?.RoleName, 'cluster');
  assert.equal(getRoleByArn(h.deps.state, 'arn:aws:iam::000000000000:role/cluster'), undefined);
  assert.deepEqual((roleTrustPolicy(role!) as any).Statement[0].Principal, { Service: 'eks.amazonaws.com' });
  const newTrust = trust.replace('eks.amazonaws.com', 'ec2.amazonaws.com');
  await h.call('UpdateAssumeRolePolicy', { RoleName: 'cluster', PolicyDocument: newTrust });
  assert.equal((await h.call('GetRole', { RoleName: 'cluster' })).Role.AssumeRolePolicyDocument, encodeURIComponent(newTrust));
});

test('managed policies: AWS catalogue resolves, attach/detach, delete conflicts', async () => {
  const arn = 'arn:aws:iam::aws:policy/AmazonEKSClusterPolicy';
  assert.ok(policyExists(h.deps.state, arn));
  assert.ok(policyExists(h.deps.state, 'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy'));
  const p = await h.call('GetPolicy', { PolicyArn: arn });
  assert.equal(p.Policy.PolicyName, 'AmazonEKSClusterPolicy');
  await h.call('AttachRolePolicy', { RoleName: 'cluster', PolicyArn: arn });
  await h.call('AttachRolePolicy', { RoleName: 'cluster', PolicyArn: arn });
  const listed = await h.call('ListAttachedRolePolicies', { RoleName: 'cluster' });
  assert.deepEqual(listed.AttachedPolicies, [{ PolicyName: 'AmazonEKSClusterPolicy', PolicyArn: arn }]);
  const nope = await h.callError('AttachRolePolicy', { RoleName: 'cluster', PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicy' });
  assert.equal(nope.code, 'NoSuchEntity');
  assert.equal(nope.message, 'Policy arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.');
  const conflict = await h.callError('DeleteRole', { RoleName: 'cluster' });
  assert.equal(conflict.code, 'DeleteConflict');
  assert.equal(conflict.status, 409);
  assert.equal(conflict.message, 'Cannot delete entity, must detach all policies first.');

  const created = await h.call('CreatePolicy', { PolicyName: 'mine', PolicyDocument: s3Policy });
  const mine = created.Policy.Arn;
  assert.match(created.Policy.PolicyId, /^ANPA[A-Z0-9]{17}$/);
  await h.call('AttachRolePolicy', { RoleName: 'cluster', PolicyArn: mine });
  assert.equal((await h.call('GetPolicy', { PolicyArn: mine })).Policy.AttachmentCount, 1);
  assert.equal((await h.callError('DeletePolicy', { PolicyArn: mine })).message, 'Cannot delete a policy attached to entities.');
  const v2 = await h.call('CreatePolicyVersion', { PolicyArn: mine, PolicyDocument: s3Policy.replace('s3:*', 's3:Get*'), SetAsDefault: true });
  assert.equal(v2.PolicyVersion.VersionId, 'v2');
  assert.equal((await h.call('GetPolicy', { PolicyArn: mine })).Policy.DefaultVersionId, 'v2');
  assert.equal((await h.callError('DeletePolicyVersion', { PolicyArn: mine, VersionId: 'v2' })).message, 'Cannot delete the default version of a policy.');
  await h.call('SetDefaultPolicyVersion', { PolicyArn: mine, VersionId: 'v1' });
  await h.call('DeletePolicyVersion', { PolicyArn: mine, VersionId: 'v2' });
  const versions = await h.call('ListPolicyVersions', { PolicyArn: mine });
  assert.deepEqual(versions.Versions.map((v: any) => v.VersionId), ['v1']);
  await h.call('DetachRolePolicy', { RoleName: 'cluster', PolicyArn: mine });
  await h.call('DetachRolePolicy', { RoleName: 'cluster', PolicyArn: arn });
  await h.call('DeletePolicy', { PolicyArn: mine });
  assert.equal((await h.callError('GetPolicy', { PolicyArn: mine })).code, 'NoSuchEntity');
});

test('inline policies and instance profiles', async () => {
  await h.call('PutRolePolicy', { RoleName: 'cluster', PolicyName: 'inline', PolicyDocument: s3Policy });
  const got = await h.call('GetRolePolicy', { RoleName: 'cluster', PolicyName: 'inline' });
  assert.equal(decodeURIComponent(got.PolicyDocument), s3Policy);
  assert.deepEqual((await h.call('ListRolePolicies', { RoleName: 'cluster' })).PolicyNames, ['inline']);
  assert.equal((await h.callError('DeleteRole', { RoleName: 'cluster' })).message, 'Cannot delete entity, must delete policies first.');
  await h.call('DeleteRolePolicy', { RoleName: 'cluster', PolicyName: 'inline' });

  const ip = await h.call('CreateInstanceProfile', { InstanceProfileName: 'nodes' });
  assert.match(ip.InstanceProfile.InstanceProfileId, /^AIPA/);
  await h.call('AddRoleToInstanceProfile', { InstanceProfileName: 'nodes', RoleName: 'cluster' });
  const got2 = await h.call('GetInstanceProfile', { InstanceProfileName: 'nodes' });
  assert.equal(got2.InstanceProfile.Roles[0].RoleName, 'cluster');
  assert.equal((await h.call('ListInstanceProfilesForRole', { RoleName: 'cluster' })).InstanceProfiles.length, 1);
  assert.equal((await h.callError('DeleteRole', { RoleName: 'cluster' })).message, 'Cannot delete entity, must remove roles from instance profile first.');
  assert.equal((await h.callError('DeleteInstanceProfile', { InstanceProfileName: 'nodes' })).code, 'DeleteConflict');
  await h.call('RemoveRoleFromInstanceProfile', { InstanceProfileName: 'nodes', RoleName: 'cluster' });
  await h.call('DeleteInstanceProfile', { InstanceProfileName: 'nodes' });
  await h.call('DeleteRole', { RoleName: 'cluster' });
  assert.equal((await h.call('ListRoles', {})).Roles.length, 0);
});

test('users, groups and access keys (stored where STS finds them)', async () => {
  const u = await h.call('CreateUser', { UserName: 'ci' });
  assert.match(u.User.UserId, /^AIDA/);
  await h.call('CreateGroup', { GroupName: 'admins' });
  await h.call('AddUserToGroup', { GroupName: 'admins', UserName: 'ci' });
  assert.equal((await h.call('GetGroup', { GroupName: 'admins' })).Users[0].UserName, 'ci');
  assert.equal((await h.call('ListGroupsForUser', { UserName: 'ci' })).Groups[0].GroupName, 'admins');
  const k = await h.call('CreateAccessKey', { UserName: 'ci' });
  assert.match(k.AccessKey.AccessKeyId, /^AKIA[A-Z0-9]{16}$/);
  assert.equal(k.AccessKey.SecretAccessKey.length, 40);
  const stored = findAccessKey(h.deps.state, k.AccessKey.AccessKeyId);
  assert.equal(stored?.UserName, 'ci');
  assert.equal(stored?.AccountId, '000000000000');
  assert.equal(stored?.SecretAccessKey, k.AccessKey.SecretAccessKey);
  const me = await h.call('GetUser', {}, { callerArn: 'arn:aws:iam::000000000000:user/ci' });
  assert.equal(me.User.UserName, 'ci');
  assert.equal((await h.callError('DeleteUser', { UserName: 'ci' })).message, 'Cannot delete entity, must delete access keys first.');
  await h.call('UpdateAccessKey', { UserName: 'ci', AccessKeyId: k.AccessKey.AccessKeyId, Status: 'Inactive' });
  assert.equal(findAccessKey(h.deps.state, k.AccessKey.AccessKeyId)?.Status, 'Inactive');
  await h.call('DeleteAccessKey', { UserName: 'ci', AccessKeyId: k.AccessKey.AccessKeyId });
  assert.equal(findAccessKey(h.deps.state, k.AccessKey.AccessKeyId), undefined);
  assert.equal((await h.callError('DeleteGroup', { GroupName: 'admins' })).code, 'DeleteConflict');
  await h.call('RemoveUserFromGroup', { GroupName: 'admins', UserName: 'ci' });
  await h.call('DeleteGroup', { GroupName: 'admins' });
  await h.call('DeleteUser', { UserName: 'ci' });
});

test('OIDC providers and service-linked roles', async () => {
  const url = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABCDEF';
  const c = await h.call('CreateOpenIDConnectProvider', { Url: url, ClientIDList: ['sts.amazonaws.com'], ThumbprintList: ['9e99a48a9960b14926bb7f3b02e22da2b0ab7280'] });
  assert.equal(c.OpenIDConnectProviderArn, 'arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABCDEF');
  const dup = await h.callError('CreateOpenIDConnectProvider', { Url: url, ClientIDList: [] });
  assert.equal(dup.code, 'EntityAlreadyExists');
  await h.call('AddClientIDToOpenIDConnectProvider', { OpenIDConnectProviderArn: c.OpenIDConnectProviderArn, ClientID: 'other' });
  const g = await h.call('GetOpenIDConnectProvider', { OpenIDConnectProviderArn: c.OpenIDConnectProviderArn });
  assert.equal(g.Url, 'oidc.eks.us-east-1.amazonaws.com/id/ABCDEF');
  assert.deepEqual(g.ClientIDList, ['sts.amazonaws.com', 'other']);
  assert.ok(getOidcProviderByUrl(h.deps.state, '000000000000', url));
  await h.call('DeleteOpenIDConnectProvider', { OpenIDConnectProviderArn: c.OpenIDConnectProviderArn });
  assert.equal((await h.callError('GetOpenIDConnectProvider', { OpenIDConnectProviderArn: c.OpenIDConnectProviderArn })).code, 'NoSuchEntity');

  const slr = await h.call('CreateServiceLinkedRole', { AWSServiceName: 'eks.amazonaws.com' });
  assert.equal(slr.Role.RoleName, 'AWSServiceRoleForAmazonEKS');
  assert.equal(slr.Role.Path, '/aws-service-role/eks.amazonaws.com/');
  const again = await h.callError('CreateServiceLinkedRole', { AWSServiceName: 'eks.amazonaws.com' });
  assert.equal(again.code, 'InvalidInput');
});

test('pagination with Marker and MaxItems', async () => {
  for (let i = 0; i < 5; i++) await h.call('CreateRole', { RoleName: `r${i}`, AssumeRolePolicyDocument: trust });
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page: any = await h.call('ListRoles', { MaxItems: 2, ...(marker ? { Marker: marker } : {}), PathPrefix: '/' });
    names.push(...page.Roles.map((r: any) => r.RoleName));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  assert.deepEqual(names.filter((n) => n.startsWith('r')), ['r0', 'r1', 'r2', 'r3', 'r4']);
});

test('account authorization details, entities for a policy, boundaries, GetUser for a role session', async () => {
  await h.call('CreateRole', { RoleName: 'auth-details', AssumeRolePolicyDocument: trust, PermissionsBoundary: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
  await h.call('AttachRolePolicy', { RoleName: 'auth-details', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy' });
  const badBoundary = await h.callError('CreateUser', { UserName: 'u-bad', PermissionsBoundary: 'arn:aws:iam::000000000000:policy/none' });
  assert.equal(badBoundary.code, 'InvalidInput');
  const details = await h.call('GetAccountAuthorizationDetails', { Filter: ['Role', 'AWSManagedPolicy'] });
  const role = details.RoleDetailList.find((r: any) => r.RoleName === 'auth-details');
  assert.deepEqual(role.AttachedManagedPolicies, [{ PolicyName: 'AmazonEKSWorkerNodePolicy', PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy' }]);
  assert.ok(details.Policies.some((p: any) => p.PolicyName === 'AmazonEKSWorkerNodePolicy'));
  assert.deepEqual(details.UserDetailList, []);
  const ents = await h.call('ListEntitiesForPolicy', { PolicyArn: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy' });
  assert.deepEqual(ents.PolicyRoles.map((r: any) => r.RoleName), ['auth-details']);
  const p = await h.call('GetPolicy', { PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
  assert.equal(p.Policy.PermissionsBoundaryUsageCount, 1);
  const noName = await h.callError('GetUser', {}, { callerArn: 'arn:aws:sts::000000000000:assumed-role/auth-details/s1' });
  assert.equal(noName.code, 'ValidationError');
  const root = await h.call('GetUser', {});
  assert.equal(root.User.Arn, 'arn:aws:iam::000000000000:root');
});

test('login profiles, credential lists for force_destroy, account summary, size quotas', async () => {
  await h.call('CreateUser', { UserName: 'console' });
  const lp = await h.call('CreateLoginProfile', { UserName: 'console', Password: 'Secret-123456', PasswordResetRequired: true });
  assert.equal(lp.LoginProfile.PasswordResetRequired, true);
  assert.equal((await h.callError('CreateLoginProfile', { UserName: 'console', Password: 'x' })).code, 'EntityAlreadyExists');
  assert.equal((await h.callError('DeleteUser', { UserName: 'console' })).message, 'Cannot delete entity, must delete login profile first.');
  assert.deepEqual((await h.call('ListSSHPublicKeys', { UserName: 'console' })).SSHPublicKeys, []);
  assert.deepEqual((await h.call('ListMFADevices', { UserName: 'console' })).MFADevices, []);
  await h.call('DeleteLoginProfile', { UserName: 'console' });
  assert.equal((await h.callError('GetLoginProfile', { UserName: 'console' })).message, 'Login Profile for User console cannot be found.');
  await h.call('DeleteUser', { UserName: 'console' });
  const summary = await h.call('GetAccountSummary', {});
  assert.equal(typeof summary.SummaryMap.Roles, 'number');
  const big = JSON.stringify({ Version: '2012-10-17', Statement: Array.from({ length: 60 }, (_, i) => ({ Sid: `s${i}`, Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' })) });
  const tooBig = await h.callError('CreateRole', { RoleName: 'big', AssumeRolePolicyDocument: big });
  assert.equal(tooBig.code, 'LimitExceeded');
  assert.equal(tooBig.message, 'Cannot exceed quota for ACLSizePerRole: 2048');
});

test('names are unique regardless of case for users, groups, policies and instance profiles', async () => {
  await h.call('CreateUser', { UserName: 'Case' });
  assert.equal((await h.callError('CreateUser', { UserName: 'case' })).message, 'User with name case already exists.');
  await h.call('CreateGroup', { GroupName: 'Ops' });
  assert.equal((await h.callError('CreateGroup', { GroupName: 'OPS' })).code, 'EntityAlreadyExists');
  await h.call('CreatePolicy', { PolicyName: 'Pol', PolicyDocument: s3Policy });
  assert.equal((await h.callError('CreatePolicy', { PolicyName: 'pol', PolicyDocument: s3Policy })).code, 'EntityAlreadyExists');
  await h.call('CreateInstanceProfile', { InstanceProfileName: 'Prof' });
  assert.equal((await h.callError('CreateInstanceProfile', { InstanceProfileName: 'prof' })).code, 'EntityAlreadyExists');
});

test('account password policy, account alias, SAML providers', async () => {
  assert.equal((await h.callError('GetAccountPasswordPolicy', {})).message, 'The Password Policy with domain name 000000000000 cannot be found.');
  await h.call('UpdateAccountPasswordPolicy', { MinimumPasswordLength: 14, RequireSymbols: true, MaxPasswordAge: 90 });
  const pp = (await h.call('GetAccountPasswordPolicy', {})).PasswordPolicy;
  assert.equal(pp.MinimumPasswordLength, 14);
  assert.equal(pp.ExpirePasswords, true);
  await h.call('DeleteAccountPasswordPolicy', {});
  await h.call('CreateAccountAlias', { AccountAlias: 'platform-dev' });
  assert.deepEqual((await h.call('ListAccountAliases', {})).AccountAliases, ['platform-dev']);
  await h.call('DeleteAccountAlias', { AccountAlias: 'platform-dev' });
  assert.deepEqual((await h.call('ListAccountAliases', {})).AccountAliases, []);
  const metadata = `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2030-01-01T00:00:00Z" entityID="https://idp.example.com">${'x'.repeat(1000)}</md:EntityDescriptor>`;
  const c = await h.call('CreateSAMLProvider', { Name: 'okta', SAMLMetadataDocument: metadata, Tags: [{ Key: 'a', Value: 'b' }] });
  assert.equal(c.SAMLProviderArn, 'arn:aws:iam::000000000000:saml-provider/okta');
  const g = await h.call('GetSAMLProvider', { SAMLProviderArn: c.SAMLProviderArn });
  assert.equal(g.ValidUntil.toISOString(), '2030-01-01T00:00:00.000Z');
  assert.equal((await h.call('ListSAMLProviders', {})).SAMLProviderList.length, 1);
  assert.equal((await h.callError('CreateSAMLProvider', { Name: 'okta', SAMLMetadataDocument: metadata })).code, 'EntityAlreadyExists');
  await h.call('DeleteSAMLProvider', { SAMLProviderArn: c.SAMLProviderArn });
  assert.equal((await h.callError('GetSAMLProvider', { SAMLProviderArn: c.SAMLProviderArn })).code, 'NoSuchEntity');
});

test('service-role policies attach only to service-linked roles', async () => {
  await h.call('CreateRole', { RoleName: 'customer', AssumeRolePolicyDocument: trust });
  const e = await h.callError('AttachRolePolicy', { RoleName: 'customer', PolicyArn: 'arn:aws:iam::aws:policy/aws-service-role/AmazonEKSServiceRolePolicy' });
  assert.equal(e.code, 'PolicyNotAttachable');
  assert.equal(e.status, 400);
  assert.equal(e.message, 'Cannot attach a Service Role Policy to a Customer Role.');
});

test('credential report lists the root account and users with their keys', async () => {
  assert.equal((await h.callError('GetCredentialReport', {})).code, 'ReportNotPresent');
  await h.call('CreateUser', { UserName: 'report-user' });
  await h.call('CreateAccessKey', { UserName: 'report-user' });
  assert.equal((await h.call('GenerateCredentialReport', {})).State, 'COMPLETE');
  const r = await h.call('GetCredentialReport', {});
  const lines = r.Content.toString('utf8').split('\n');
  assert.match(lines[0], /^user,arn,user_creation_time,/);
  assert.ok(lines.some((l: string) => l.startsWith('<root_account>,arn:aws:iam::000000000000:root,')));
  const row = lines.find((l: string) => l.startsWith('report-user,'))!.split(',');
  assert.equal(row[8], 'true');
});
