/**
 * IAM end to end with the real aws CLI (v1) and boto3: roles with trust
 * policies (URL-encoded on the wire, decoded by botocore), AWS managed and
 * customer policies, instance profiles, users and access keys (usable by STS),
 * OIDC providers, and IAM's errors for bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { boto3Json, runBoto3 } from '../helpers/boto3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const aws = (...args: string[]) => awsJson(ep, args);

const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

describe('iam (aws CLI, boto3)', () => {
  before(async () => {
    srv = await startTestServer();
    ep = srv.awsEndpoint;
  });
  after(() => srv.stop());

  it('creates a cluster role, attaches AWS managed policies, and refuses to delete it while attached', async () => {
    const created = await aws('iam', 'create-role', '--role-name', 'eks-cluster', '--assume-role-policy-document', trust, '--tags', 'Key=team,Value=platform');
    assert.match(created.Role.RoleId, /^AROA[A-Z0-9]{17}$/);
    assert.equal(created.Role.Arn, 'arn:aws:iam::000000000000:role/eks-cluster');
    const got = await aws('iam', 'get-role', '--role-name', 'eks-cluster');
    assert.deepEqual(got.Role.AssumeRolePolicyDocument, JSON.parse(trust));
    for (const p of ['AmazonEKSClusterPolicy', 'AmazonEKSVPCResourceController']) {
      await aws('iam', 'attach-role-policy', '--role-name', 'eks-cluster', '--policy-arn', `arn:aws:iam::aws:policy/${p}`);
    }
    const attached = await aws('iam', 'list-attached-role-policies', '--role-name', 'eks-cluster');
    assert.deepEqual(attached.AttachedPolicies.map((p: any) => p.PolicyName).sort(), ['AmazonEKSClusterPolicy', 'AmazonEKSVPCResourceController']);
    const del = await runAws(ep, ['iam', 'delete-role', '--role-name', 'eks-cluster']);
    assert.notEqual(del.code, 0);
    assert.equal(del.errorCode, 'DeleteConflict');
    assert.equal(del.errorMessage, 'Cannot delete entity, must detach all policies first.');
    const missing = await runAws(ep, ['iam', 'get-role', '--role-name', 'nope']);
    assert.equal(missing.errorCode, 'NoSuchEntity');
    assert.equal(missing.errorMessage, 'The role with name nope cannot be found.');
    const malformed = await runAws(ep, ['iam', 'create-role', '--role-name', 'bad', '--assume-role-policy-document', '{"Version":']);
    assert.equal(malformed.errorCode, 'MalformedPolicyDocument');
    const dup = await runAws(ep, ['iam', 'create-role', '--role-name', 'eks-cluster', '--assume-role-policy-document', trust]);
    assert.equal(dup.errorCode, 'EntityAlreadyExists');
    const nopolicy = await runAws(ep, ['iam', 'attach-role-policy', '--role-name', 'eks-cluster', '--policy-arn', 'arn:aws:iam::aws:policy/NotAPolicy']);
    assert.equal(nopolicy.errorCode, 'NoSuchEntity');
    for (const p of ['AmazonEKSClusterPolicy', 'AmazonEKSVPCResourceController']) {
      await aws('iam', 'detach-role-policy', '--role-name', 'eks-cluster', '--policy-arn', `arn:aws:iam::aws:policy/${p}`);
    }
    await aws('iam', 'delete-role', '--role-name', 'eks-cluster');
    assert.equal((await runAws(ep, ['iam', 'get-role', '--role-name', 'eks-cluster'])).errorCode, 'NoSuchEntity');
  });

  it('manages customer policies with versions, inline policies and instance profiles (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
import json
iam = client('iam')
doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
arn = iam.create_policy(PolicyName='nodes-extra', PolicyDocument=doc, Description='extra')['Policy']['Arn']
iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc.replace('GetObject', 'PutObject'), SetAsDefault=True)
v = iam.get_policy_version(PolicyArn=arn, VersionId='v2')['PolicyVersion']
iam.create_role(RoleName='nodes', AssumeRolePolicyDocument=trust)
iam.attach_role_policy(RoleName='nodes', PolicyArn=arn)
iam.attach_role_policy(RoleName='nodes', PolicyArn='arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy')
iam.put_role_policy(RoleName='nodes', PolicyName='inline', PolicyDocument=doc)
inline = iam.get_role_policy(RoleName='nodes', PolicyName='inline')['PolicyDocument']
iam.create_instance_profile(InstanceProfileName='nodes')
iam.add_role_to_instance_profile(InstanceProfileName='nodes', RoleName='nodes')
profiles = iam.list_instance_profiles_for_role(RoleName='nodes')['InstanceProfiles']
try:
    iam.delete_role(RoleName='nodes')
    conflict = None
except ClientError as e:
    conflict = e.response['Error']
pages = [p['Roles'] for p in iam.get_paginator('list_roles').paginate(PaginationConfig={'PageSize': 1})]
result = {
  'policy': iam.get_policy(PolicyArn=arn)['Policy'],
  'version': v,
  'inline': inline,
  'profiles': [p['InstanceProfileName'] for p in profiles],
  'profileRole': profiles[0]['Roles'][0]['RoleName'],
  'conflict': conflict,
  'pages': len(pages),
  'awsPolicies': [p['PolicyName'] for p in iam.list_policies(Scope='AWS')['Policies']],
}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    const j = r.json;
    assert.equal(j.policy.DefaultVersionId, 'v2');
    assert.equal(j.policy.AttachmentCount, 1);
    assert.equal(j.version.Document.Statement[0].Action, 's3:PutObject');
    assert.equal(j.inline.Statement[0].Action, 's3:GetObject');
    assert.deepEqual(j.profiles, ['nodes']);
    assert.equal(j.profileRole, 'nodes');
    assert.equal(j.conflict.Code, 'DeleteConflict');
    assert.equal(j.conflict.Message, 'Cannot delete entity, must remove roles from instance profile first.');
    assert.equal(j.pages, 1);
    assert.ok(j.awsPolicies.includes('AmazonEKS_CNI_Policy'));
    assert.ok(j.awsPolicies.includes('AmazonEC2ContainerRegistryReadOnly'));
  });

  it('issues access keys that STS recognizes as the IAM user', async () => {
    await aws('iam', 'create-user', '--user-name', 'ci-bot');
    const key = (await aws('iam', 'create-access-key', '--user-name', 'ci-bot')).AccessKey;
    assert.match(key.AccessKeyId, /^AKIA[A-Z0-9]{16}$/);
    const listed = await aws('iam', 'list-access-keys', '--user-name', 'ci-bot');
    assert.equal(listed.AccessKeyMetadata[0].AccessKeyId, key.AccessKeyId);
    const who = await awsJson(ep, ['sts', 'get-caller-identity'], { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
    assert.equal(who.Arn, 'arn:aws:iam::000000000000:user/ci-bot');
    const me = await awsJson(ep, ['iam', 'get-user'], { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
    assert.equal(me.User.UserName, 'ci-bot');
    const conflict = await runAws(ep, ['iam', 'delete-user', '--user-name', 'ci-bot']);
    assert.equal(conflict.errorCode, 'DeleteConflict');
    await aws('iam', 'delete-access-key', '--user-name', 'ci-bot', '--access-key-id', key.AccessKeyId);
    await aws('iam', 'delete-user', '--user-name', 'ci-bot');
  });

  it('manages account settings, SAML providers and login profiles (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
iam = client('iam')
iam.update_account_password_policy(MinimumPasswordLength=14, RequireNumbers=True)
iam.create_account_alias(AccountAlias='platform-e2e')
meta = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com">' + ('x' * 1000) + '</md:EntityDescriptor>'
arn = iam.create_saml_provider(Name='idp', SAMLMetadataDocument=meta)['SAMLProviderArn']
iam.create_user(UserName='console-user')
iam.create_login_profile(UserName='console-user', Password='Aa1!aaaaaaaaaaaa', PasswordResetRequired=True)
try:
    iam.get_account_password_policy()
    missing = None
except ClientError as e:
    missing = e.response['Error']['Code']
result = {
  'policy': iam.get_account_password_policy()['PasswordPolicy']['MinimumPasswordLength'],
  'aliases': iam.list_account_aliases()['AccountAliases'],
  'saml': [p['Arn'] for p in iam.list_saml_providers()['SAMLProviderList']],
  'samlArn': arn,
  'login': iam.get_login_profile(UserName='console-user')['LoginProfile']['PasswordResetRequired'],
  'summaryUsers': iam.get_account_summary()['SummaryMap']['Users'],
  'reportState': iam.generate_credential_report()['State'],
  'report': iam.get_credential_report()['Content'].decode().split('\\n')[0].split(',')[:3],
}
iam.delete_login_profile(UserName='console-user')
iam.delete_user(UserName='console-user')
iam.delete_saml_provider(SAMLProviderArn=arn)
iam.delete_account_alias(AccountAlias='platform-e2e')
iam.delete_account_password_policy()
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    assert.equal(r.json.policy, 14);
    assert.deepEqual(r.json.aliases, ['platform-e2e']);
    assert.deepEqual(r.json.saml, ['arn:aws:iam::000000000000:saml-provider/idp']);
    assert.equal(r.json.login, true);
    assert.ok(r.json.summaryUsers >= 1);
    assert.equal(r.json.reportState, 'COMPLETE');
    assert.deepEqual(r.json.report, ['user', 'arn', 'user_creation_time']);
    assert.deepEqual((await aws('iam', 'list-account-aliases')).AccountAliases, []);
  });

  it('registers an OIDC provider for IRSA and creates the EKS service-linked role', async () => {
    const url = 'https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
    const c = await aws('iam', 'create-open-id-connect-provider', '--url', url, '--client-id-list', 'sts.amazonaws.com', '--thumbprint-list', '9e99a48a9960b14926bb7f3b02e22da2b0ab7280');
    const arn = c.OpenIDConnectProviderArn;
    assert.equal(arn, 'arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF');
    const got = await aws('iam', 'get-open-id-connect-provider', '--open-id-connect-provider-arn', arn);
    assert.equal(got.Url, 'oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF');
    assert.deepEqual(got.ClientIDList, ['sts.amazonaws.com']);
    const dup = await runAws(ep, ['iam', 'create-open-id-connect-provider', '--url', url, '--thumbprint-list', '9e99a48a9960b14926bb7f3b02e22da2b0ab7280']);
    assert.equal(dup.errorCode, 'EntityAlreadyExists');
    const providers = await boto3Json(ep, `result = [p['Arn'] for p in client('iam').list_open_id_connect_providers()['OpenIDConnectProviderList']]`);
    assert.deepEqual(providers, [arn]);
    await aws('iam', 'delete-open-id-connect-provider', '--open-id-connect-provider-arn', arn);
    const slr = await aws('iam', 'create-service-linked-role', '--aws-service-name', 'eks.amazonaws.com');
    assert.equal(slr.Role.Arn, 'arn:aws:iam::000000000000:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS');
  });
});
