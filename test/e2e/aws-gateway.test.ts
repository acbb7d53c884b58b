/**
 * The AWS gateway end to end, with real clients: the aws CLI, boto3 and
 * @aws-sdk/client-sts against an http.Server running createAwsGateway with
 * the real providers, plus stand-in providers for protocol families (json,
 * rest-json, ec2, rest-xml) so their wire shapes are checked here whatever
 * the state of the real services.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsRequestInfo } from '../../src/aws/core/gateway.ts';
import { type AwsProvider, awsError } from '../../src/aws/core/types.ts';
import { type GatewayHarness, run, signedFetch, startGateway } from './aws-gateway-harness.ts';

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] });

/** Stand-ins for services whose protocol this file checks. */
function standIns(): AwsProvider[] {
  const created = new Date('2026-01-02T03:04:05Z');
  return [
    {
      service: 'kms',
      operations: {
        DescribeKey(input: { KeyId: string }) {
          if (input.KeyId === 'missing') throw awsError('NotFoundException', `Key 'arn:aws:kms:us-east-1:000000000000:key/missing' does not exist`);
          return { KeyMetadata: { KeyId: input.KeyId, CreationDate: created, Enabled: true, KeyState: 'Enabled' } };
        },
        CreateKey: () => ({ KeyMetadata: { KeyId: 'k1' } }),
        ListKeys() {
          throw new Error('boom: this must not reach the client');
        },
        GetKeyPolicy() {
          throw awsError('NotFoundException', 'no such key', 418);
        },
        ListAliases: async () => undefined,
      },
    },
    {
      service: 'eks',
      operations: {
        DescribeCluster(input: { name: string }) {
          if (input.name === 'missing') throw awsError('ResourceNotFoundException', `No cluster found for name: ${input.name}.`, 404, { clusterName: input.name });
          return { cluster: { name: input.name, createdAt: created, status: 'ACTIVE', tags: { a: 'b' }, _private: 1 } };
        },
        CreateCluster: (input: { name: string }) => ({ cluster: { name: input.name } }),
      },
    },
    {
      service: 'ec2',
      operations: {
        DescribeVpcs: () => ({ Vpcs: [{ VpcId: 'vpc-1', CidrBlock: '10.0.0.0/16', IsDefault: true, State: 'available', Tags: [{ Key: 'Name', Value: 'main' }] }] }),
        DeleteVpc: () => ({}),
      },
    },
    {
      service: 'route53',
      operations: {
        CreateHostedZone: () => ({}),
        GetHostedZone: (input: { Id: string }) => ({
          HostedZone: { Id: `/hostedzone/${input.Id}`, Name: 'example.com.', CallerReference: 'r', ResourceRecordSetCount: 2, Config: { PrivateZone: false } },
          DelegationSet: { NameServers: ['ns-1.example.'] },
        }),
      },
    },
  ];
}

let h: GatewayHarness;
const seen: AwsRequestInfo[] = [];
const aws = (args: string[], env: Record<string, string> = {}) => run('aws', ['--endpoint-url', h.url, '--output', 'json', ...args], env);

before(async () => {
  h = await startGateway({ providers: standIns, onRequest: (info) => seen.push(info) });
});
after(async () => {
  await h.close();
});

test('aws CLI: get-caller-identity as the default account root and as a 12-digit access key account', async () => {
  const [def, acct] = await Promise.all([aws(['sts', 'get-caller-identity']), aws(['sts', 'get-caller-identity'], { AWS_ACCESS_KEY_ID: '111122223333' })]);
  assert.equal(def.code, 0, def.stderr);
  assert.deepEqual(JSON.parse(def.stdout), { UserId: '000000000000', Account: '000000000000', Arn: 'arn:aws:iam::000000000000:root' });
  assert.equal(acct.code, 0, acct.stderr);
  assert.deepEqual(JSON.parse(acct.stdout), { UserId: '111122223333', Account: '111122223333', Arn: 'arn:aws:iam::111122223333:root' });
});

test('aws CLI: assume-role is AccessDenied without the role, issues working credentials once it exists', async () => {
  const env = { AWS_ACCESS_KEY_ID: '444455556666' };
  const denied = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::444455556666:role/deploy', '--role-session-name', 'ci'], env);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /An error occurred \(AccessDenied\) when calling the AssumeRole operation: User: arn:aws:iam::444455556666:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::444455556666:role\/deploy/);
  const role = await aws(['iam', 'create-role', '--role-name', 'deploy', '--assume-role-policy-document', TRUST], env);
  assert.equal(role.code, 0, role.stderr);
  const ok = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::444455556666:role/deploy', '--role-session-name', 'ci', '--duration-seconds', '900'], env);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.match(out.Credentials.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.equal(out.AssumedRoleUser.Arn, 'arn:aws:sts::444455556666:assumed-role/deploy/ci');
  assert.match(out.AssumedRoleUser.AssumedRoleId, /^AROA\w+:ci$/);
  const exp = Date.parse(out.Credentials.Expiration);
  assert.ok(Math.abs(exp - (h.clock.nowMs() + 900_000)) < 60_000, `expiration ${out.Credentials.Expiration} is about 15 minutes from now`);
  const who = await aws(['sts', 'get-caller-identity'], {
    AWS_ACCESS_KEY_ID: out.Credentials.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: out.Credentials.SecretAccessKey,
    AWS_SESSION_TOKEN: out.Credentials.SessionToken,
  });
  assert.equal(who.code, 0, who.stderr);
  assert.deepEqual(JSON.parse(who.stdout), { UserId: out.AssumedRoleUser.AssumedRoleId, Account: '444455556666', Arn: 'arn:aws:sts::444455556666:assumed-role/deploy/ci' });
  const tooLong = await aws(['sts', 'assume-role', '--role-arn', 'arn:aws:iam::444455556666:role/deploy', '--role-session-name', 'ci', '--duration-seconds', '7200'], env);
  assert.match(tooLong.stderr, /\(ValidationError\).*The requested DurationSeconds exceeds the MaxSessionDuration set for this role\./);
});

test('boto3: every protocol family parses results and errors (query, json, rest-json, ec2, rest-xml)', async () => {
  const script = `
import boto3, json, sys
from botocore.exceptions import ClientError
url = sys.argv[1]
out = {}
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return {"code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"], "message": e.response["Error"].get("Message"), "requestId": e.response["ResponseMetadata"].get("RequestId"), "extra": {k: v for k, v in e.response.items() if k not in ("Error", "ResponseMetadata")}}
mk = lambda s: boto3.client(s, endpoint_url=url, region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test")
sts, kms, eks, ec2, r53 = mk("sts"), mk("kms"), mk("eks"), mk("ec2"), mk("route53")
out["who"] = sts.get_caller_identity()["Arn"]
out["assume"] = err(lambda: sts.assume_role(RoleArn="arn:aws:iam::000000000000:role/none", RoleSessionName="s1"))
out["key"] = kms.describe_key(KeyId="k1")["KeyMetadata"]["CreationDate"].isoformat()
out["keyMissing"] = err(lambda: kms.describe_key(KeyId="missing"))
out["internal"] = err(lambda: kms.list_keys())
c = eks.describe_cluster(name="demo")["cluster"]
out["cluster"] = {"name": c["name"], "createdAt": c["createdAt"].isoformat(), "tags": c["tags"], "keys": sorted(c.keys())}
out["clusterMissing"] = err(lambda: eks.describe_cluster(name="missing"))
out["vpcs"] = ec2.describe_vpcs(VpcIds=["vpc-1"], Filters=[{"Name": "state", "Values": ["available"]}])["Vpcs"]
out["zone"] = r53.get_hosted_zone(Id="Z1")["HostedZone"]
out["dryRun"] = err(lambda: ec2.describe_vpcs(DryRun=True))
print(json.dumps(out))
`;
  const r = await run('python3', ['-c', script, h.url]);
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.equal(o.who, 'arn:aws:iam::000000000000:root');
  assert.equal(o.assume.code, 'AccessDenied');
  assert.equal(o.assume.status, 403);
  assert.match(o.assume.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(o.key, '2026-01-02T03:04:05+00:00');
  assert.deepEqual([o.keyMissing.code, o.keyMissing.status], ['NotFoundException', 400]);
  assert.deepEqual([o.internal.code, o.internal.status], ['InternalFailure', 500]);
  assert.doesNotMatch(JSON.stringify(o.internal), /boom|at /);
  assert.deepEqual(o.cluster, { name: 'demo', createdAt: '2026-01-02T03:04:05+00:00', tags: { a: 'b' }, keys: ['createdAt', 'name', 'status', 'tags'] });
  assert.deepEqual([o.clusterMissing.code, o.clusterMissing.status, o.clusterMissing.message], ['ResourceNotFoundException', 404, 'No cluster found for name: missing.']);
  assert.deepEqual(o.vpcs, [{ VpcId: 'vpc-1', CidrBlock: '10.0.0.0/16', IsDefault: true, State: 'available', Tags: [{ Key: 'Name', Value: 'main' }] }]);
  assert.equal(o.zone.Id, '/hostedzone/Z1');
  assert.equal(o.zone.ResourceRecordSetCount, 2);
  assert.deepEqual([o.dryRun.code, o.dryRun.status, o.dryRun.message], ['DryRunOperation', 412, 'Request would have succeeded, but DryRun flag is set.']);
});

test('@aws-sdk/client-sts: identity, modeled error names, web identity against IAM OIDC providers', async () => {
  const sts = new STSClient({ endpoint: h.url, region: 'us-west-2', credentials: { accessKeyId: '777788889999', secretAccessKey: 'x' } });
  try {
    const who = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(who.Account, '777788889999');
    await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::777788889999:role/none', RoleSessionName: 'sdk' })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(e.name, 'AccessDenied');
      assert.equal(e.$metadata?.httpStatusCode, 403);
      return true;
    });
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const issuer = 'https://oidc.eks.us-west-2.amazonaws.com/id/ABC123';
    const jwt = `${b64({ alg: 'RS256', kid: 'k' })}.${b64({ iss: issuer, sub: 'system:serviceaccount:default:app', aud: 'sts.amazonaws.com', exp: Math.floor(h.clock.nowMs() / 1000) + 3600 })}.sig`;
    const web = new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::777788889999:role/irsa', RoleSessionName: 'pod', WebIdentityToken: jwt });
    await assert.rejects(sts.send(web), (e: Error) => {
      // The SDK names modeled errors by shape: wire code InvalidIdentityToken is InvalidIdentityTokenException.
      assert.equal(e.name, 'InvalidIdentityTokenException');
      assert.match(e.message, /No OpenIDConnect provider found in your account for https:\/\/oidc\.eks\.us-west-2\.amazonaws\.com\/id\/ABC123/);
      return true;
    });
    await assert.rejects(sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::777788889999:role/irsa', RoleSessionName: 'pod', WebIdentityToken: 'not-a-jwt' })), { name: 'InvalidIdentityTokenException' });
    const env = { AWS_ACCESS_KEY_ID: '777788889999' };
    const p = await aws(['iam', 'create-open-id-connect-provider', '--url', issuer, '--client-id-list', 'sts.amazonaws.com', '--thumbprint-list', '9e99a48a9960b14926bb7f3b02e22da2b0ab7280'], env);
    assert.equal(p.code, 0, p.stderr);
    const irsaTrust = (sub: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Federated: 'arn:aws:iam::777788889999:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC123' },
            Action: 'sts:AssumeRoleWithWebIdentity',
            Condition: { StringEquals: { 'oidc.eks.us-west-2.amazonaws.com/id/ABC123:sub': sub, 'oidc.eks.us-west-2.amazonaws.com/id/ABC123:aud': 'sts.amazonaws.com' } },
          },
        ],
      });
    const [r, other] = await Promise.all([
      aws(['iam', 'create-role', '--role-name', 'irsa', '--assume-role-policy-document', irsaTrust('system:serviceaccount:default:app')], env),
      aws(['iam', 'create-role', '--role-name', 'other', '--assume-role-policy-document', irsaTrust('system:serviceaccount:kube-system:other')], env),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(other.code, 0, other.stderr);
    await assert.rejects(sts.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::777788889999:role/other', RoleSessionName: 'pod', WebIdentityToken: jwt })), (e: Error) => {
      assert.equal(e.name, 'AccessDenied');
      assert.equal(e.message, 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
      return true;
    });
    const ok = await sts.send(web);
    assert.equal(ok.AssumedRoleUser?.Arn, 'arn:aws:sts::777788889999:assumed-role/irsa/pod');
    assert.equal(ok.SubjectFromWebIdentityToken, 'system:serviceaccount:default:app');
    assert.equal(ok.Audience, 'sts.amazonaws.com');
    assert.match(ok.Credentials?.AccessKeyId ?? '', /^ASIA/);
    assert.ok(ok.Credentials?.Expiration instanceof Date);
  } finally {
    sts.destroy();
  }
});

test('unknown operations answer each protocol family its own error', async () => {
  const query = await signedFetch(h.url, { service: 'sts', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=Nope&Version=2011-06-15' });
  assert.equal(query.status, 400);
  assert.match(query.body, /<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>Could not find operation Nope for version 2011-06-15<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>/);
  assert.match(query.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/);
  const json = await signedFetch(h.url, { service: 'kms', headers: { 'x-amz-target': 'TrentService.Nope', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
  assert.equal(json.status, 400);
  assert.equal(JSON.parse(json.body).__type, 'UnknownOperationException');
  const rest = await signedFetch(h.url, { service: 'eks', method: 'GET', path: '/no/such/thing' });
  assert.equal(rest.status, 404);
  assert.equal(rest.headers.get('x-amzn-errortype'), 'UnknownOperationException');
  const ec2 = await signedFetch(h.url, { service: 'ec2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=Nope&Version=2016-11-15' });
  assert.equal(ec2.status, 400);
  assert.match(ec2.body, /<Response><Errors><Error><Code>InvalidAction<\/Code><Message>The action Nope is not valid for this web service\.<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>/);
  const unimplemented = await signedFetch(h.url, { service: 'sts', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DecodeAuthorizationMessage&Version=2011-06-15&EncodedMessage=x' });
  assert.equal(unimplemented.status, 400);
  assert.match(unimplemented.body, /<Code>InvalidAction<\/Code><Message>Operation DecodeAuthorizationMessage for version 2011-06-15 is not implemented by localeks yet\.<\/Message>/);
  const svc = await signedFetch(h.url, { service: 'sqs', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=ListQueues' });
  assert.equal(svc.status, 400);
  assert.match(svc.body, /Credential should be scoped to correct service: 'sqs'/);
});

test('model validation errors in each protocol family, before the provider runs', async () => {
  const query = await signedFetch(h.url, { service: 'sts', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=x' });
  assert.equal(query.status, 400);
  assert.match(query.body, /<Code>ValidationError<\/Code><Message>1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2<\/Message>/);
  const json = await signedFetch(h.url, { service: 'kms', headers: { 'x-amz-target': 'TrentService.CreateKey', 'content-type': 'application/x-amz-json-1.1' }, body: '{"KeyUsage":"NOPE"}' });
  assert.equal(json.status, 400);
  const jb = JSON.parse(json.body);
  assert.equal(jb.__type, 'ValidationException');
  assert.match(jb.message, /^1 validation error detected: Value 'NOPE' at 'KeyUsage' failed to satisfy constraint: Member must satisfy enum value set: \[/);
  const badJson = await signedFetch(h.url, { service: 'kms', headers: { 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, body: '{"KeyId":' });
  assert.equal(JSON.parse(badJson.body).__type, 'SerializationException');
  const rest = await signedFetch(h.url, { service: 'eks', path: '/clusters', headers: { 'content-type': 'application/json' }, body: '{"roleArn":"arn:aws:iam::000000000000:role/eks"}' });
  assert.equal(rest.status, 400);
  assert.equal(rest.headers.get('x-amzn-errortype'), 'InvalidParameterException');
  assert.match(JSON.parse(rest.body).message, /^2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'resourcesVpcConfig'/);
  const ec2 = await signedFetch(h.url, { service: 'ec2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DeleteVpc&Version=2016-11-15' });
  assert.equal(ec2.status, 400);
  assert.match(ec2.body, /<Code>MissingParameter<\/Code><Message>The request must contain the parameter VpcId<\/Message>/);
  const ec2Type = await signedFetch(h.url, { service: 'ec2', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=DescribeVpcs&Version=2016-11-15&MaxResults=ten' });
  assert.match(ec2Type.body, /<Code>InvalidParameterValue<\/Code>/);
});

test('unsigned requests: MissingAuthenticationToken, except operations AWS allows unsigned', async () => {
  const q = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
  assert.equal(q.status, 403);
  assert.match(await q.text(), /<Code>MissingAuthenticationToken<\/Code><Message>Request is missing Authentication Token<\/Message>/);
  const j = await fetch(h.url, { method: 'POST', headers: { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
  assert.equal(j.status, 403);
  assert.equal(((await j.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  const web = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fr&RoleSessionName=s1&WebIdentityToken=abcd' });
  assert.equal(web.status, 400);
  assert.match(await web.text(), /<Code>InvalidIdentityToken<\/Code>/);
});

test('presigned GetCallerIdentity (the aws eks get-token URL) and old signatures are accepted without IAM enforcement', async () => {
  const pre = await signedFetch(h.url, { service: 'sts', method: 'GET', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { 'x-k8s-aws-id': 'demo' }, presign: true, accessKeyId: '123412341234' });
  assert.equal(pre.status, 200, pre.body);
  assert.match(pre.body, /<GetCallerIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><Account>123412341234<\/Account><Arn>arn:aws:iam::123412341234:root<\/Arn><UserId>123412341234<\/UserId><\/GetCallerIdentityResult><ResponseMetadata><RequestId>/);
  const old = await signedFetch(h.url, { service: 'sts', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15', signingDate: new Date(Date.now() - 24 * 3600_000), secretAccessKey: 'wrong' });
  assert.equal(old.status, 200, old.body);
});

test('onRequest reports service, operation, status, account, region, request id and error code of each request', async () => {
  seen.length = 0;
  const ok = await signedFetch(h.url, { service: 'sts', region: 'ap-south-1', accessKeyId: '135791357913', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
  const bad = await signedFetch(h.url, { service: 'eks', method: 'GET', path: '/clusters/missing' });
  assert.equal(ok.status, 200);
  assert.equal(bad.status, 404);
  assert.equal(seen.length, 2);
  const [a, b] = seen;
  assert.deepEqual({ ...a, durationMs: 0 }, { service: 'sts', operation: 'GetCallerIdentity', status: 200, durationMs: 0, accountId: '135791357913', region: 'ap-south-1', requestId: ok.headers.get('x-amzn-requestid') });
  assert.ok(a!.durationMs >= 0);
  assert.equal(b!.operation, 'DescribeCluster');
  assert.equal(b!.errorCode, 'ResourceNotFoundException');
  assert.equal(b!.status, 404);
});

test('the model decides a modeled error status; an empty result is an empty output', async () => {
  const kms = (op: string) => signedFetch(h.url, { service: 'kms', headers: { 'x-amz-target': `TrentService.${op}`, 'content-type': 'application/x-amz-json-1.1' }, body: op === 'GetKeyPolicy' ? '{"KeyId":"k"}' : '{}' });
  const policy = await kms('GetKeyPolicy');
  assert.equal(policy.status, 400, 'KMS models NotFoundException as 400');
  assert.deepEqual(JSON.parse(policy.body), { __type: 'NotFoundException', message: 'no such key' });
  const aliases = await kms('ListAliases');
  assert.equal(aliases.status, 200);
  assert.deepEqual(JSON.parse(aliases.body), {});
});

test('malformed input gets a 4xx in the protocol’s shape, never a 500', async () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const cases: { name: string; spec: Parameters<typeof signedFetch>[1]; code: RegExp }[] = [
    { name: 'bad percent-encoding in a form', spec: { service: 'iam', headers: form, body: 'Action=ListRoles&Version=2010-05-08&Marker=%ZZ&MaxItems=5' }, code: /<Code>/ },
    { name: 'non-numeric integer (query)', spec: { service: 'iam', headers: form, body: 'Action=ListRoles&Version=2010-05-08&MaxItems=abc' }, code: /<Code>ValidationError<\/Code>/ },
    { name: 'non-boolean (ec2)', spec: { service: 'ec2', headers: form, body: 'Action=DescribeVpcs&Version=2016-11-15&DryRun=maybe' }, code: /<Code>InvalidParameterValue<\/Code>/ },
    { name: 'JSON array body (json)', spec: { service: 'kms', headers: { 'x-amz-target': 'TrentService.DescribeKey', 'content-type': 'application/x-amz-json-1.1' }, body: '[1,2]' }, code: /"__type":"SerializationException"/ },
    { name: 'wrong JSON type (rest-json)', spec: { service: 'eks', path: '/clusters', headers: { 'content-type': 'application/json' }, body: '{"name":["x"],"roleArn":"r","resourcesVpcConfig":{}}' }, code: /SerializationException|"message"/ },
    { name: 'bad label encoding (rest-json)', spec: { service: 'eks', method: 'GET', path: '/clusters/%E0%A4%A' }, code: /"message"/ },
    { name: 'bad query integer (rest-json)', spec: { service: 'eks', method: 'GET', path: '/clusters', query: { maxResults: 'many' } }, code: /"message"/ },
    { name: 'malformed XML (rest-xml)', spec: { service: 'route53', path: '/2013-04-01/hostedzone', headers: { 'content-type': 'text/xml' }, body: '<CreateHostedZoneRequest><Name>x</CreateHostedZoneRequest>' }, code: /<Code>MalformedXML<\/Code>/ },
  ];
  for (const c of cases) {
    const r = await signedFetch(h.url, c.spec);
    assert.ok(r.status >= 400 && r.status < 500, `${c.name}: status ${r.status} ${r.body}`);
    assert.match(r.body, c.code, c.name);
    assert.match(r.headers.get('x-amzn-requestid') ?? '', /^[0-9a-f-]{36}$/, c.name);
  }
});

test('CORS: preflight is allowed and responses expose the request id to browsers', async () => {
  const pre = await fetch(`${h.url}/clusters`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-amz-date,content-type' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:3000');
  assert.equal(pre.headers.get('access-control-allow-headers'), 'authorization,x-amz-date,content-type');
  const r = await signedFetch(h.url, { service: 'sts', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=GetCallerIdentity&Version=2011-06-15' });
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.match(r.headers.get('access-control-expose-headers') ?? '', /x-amzn-requestid/);
});
