import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadModel } from '../model.ts';
import type { Protocol, WireRequest } from '../protocol.ts';
import { AwsServiceError } from '../types.ts';
import { createJsonProtocol } from './json.ts';
import { createQueryProtocol } from './query.ts';
import { createRestJsonProtocol } from './rest-json.ts';
import { createRestXmlProtocol } from './rest-xml.ts';

function wire(method: string, url: string, headers: Record<string, string>, body = ''): WireRequest {
  const qi = url.indexOf('?');
  return { method, path: qi < 0 ? url : url.slice(0, qi), query: new URLSearchParams(qi < 0 ? '' : url.slice(qi + 1)), headers, body: Buffer.from(body) };
}

function opOf(p: Protocol, req: WireRequest, model: ReturnType<typeof loadModel>) {
  const found = p.operationOf(req);
  assert.ok(found.name, `no operation for ${found.requested}`);
  return model.operations[found.name]!;
}

test('query (IAM): member.N lists of structures, scalars, and the XML envelope with resultWrapper', () => {
  const model = loadModel('iam');
  const p = createQueryProtocol(model);
  const form = 'Action=CreateRole&Version=2010-05-08&RoleName=r1&MaxSessionDuration=7200&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2';
  const req = wire('POST', '/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, form);
  const op = opOf(p, req, model);
  assert.equal(op.name, 'CreateRole');
  assert.deepEqual(p.parseInput(op, req), { RoleName: 'r1', MaxSessionDuration: 7200, AssumeRolePolicyDocument: '{}', Tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] });
  const out = p.serializeOutput(
    op,
    { Role: { RoleName: 'r1', Path: '/', RoleId: 'AROA1', Arn: 'arn:aws:iam::000000000000:role/r1', CreateDate: new Date('2026-01-01T00:00:00Z'), Tags: [{ Key: 'a', Value: '<&>' }], _private: 'x' } },
    'rid-1',
  );
  assert.equal(out.status, 200);
  assert.equal(out.headers['content-type'], 'text/xml');
  assert.match(out.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<CreateRoleResponse xmlns="https:\/\/iam.amazonaws.com\/doc\/2010-05-08\/"><CreateRoleResult><Role>/);
  assert.match(out.body, /<CreateDate>2026-01-01T00:00:00.000Z<\/CreateDate>/);
  assert.match(out.body, /<Tags><member><Key>a<\/Key><Value>&lt;&amp;&gt;<\/Value><\/member><\/Tags>/);
  assert.match(out.body, /<\/CreateRoleResult><ResponseMetadata><RequestId>rid-1<\/RequestId><\/ResponseMetadata><\/CreateRoleResponse>$/);
  assert.doesNotMatch(out.body, /_private/);
});

test('query: empty list, query-string parameters (presigned GET), errors and unknown actions', () => {
  const model = loadModel('sts');
  const p = createQueryProtocol(model);
  const req = wire('GET', '/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Signature=abc', {});
  assert.equal(opOf(p, req, model).name, 'GetCallerIdentity');
  const ar = wire('POST', '/', {}, 'Action=AssumeRole&RoleArn=arn&RoleSessionName=s&PolicyArns=');
  assert.deepEqual(p.parseInput(opOf(p, ar, model), ar), { RoleArn: 'arn', RoleSessionName: 's', PolicyArns: [] });
  const err = p.serializeError(new AwsServiceError('AccessDenied', 'no <way>', 403), 'rid');
  assert.equal(err.status, 403);
  assert.equal(
    err.body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no &lt;way&gt;</Message></Error><RequestId>rid</RequestId></ErrorResponse>',
  );
  const unknown = p.operationOf(wire('POST', '/', {}, 'Action=Nope&Version=2011-06-15'));
  assert.equal(unknown.name, undefined);
  const e = p.unknownOperation(unknown.requested, false);
  assert.equal(e.code, 'InvalidAction');
  assert.equal(e.message, 'Could not find operation Nope for version 2011-06-15');
});

test('query (ELBv2): maps travel as entry.N.key/value', () => {
  const model = loadModel('elbv2');
  const p = createQueryProtocol(model);
  const form =
    'Action=CreateRule&Version=2015-12-01&ListenerArn=l&Priority=1&Conditions=&Actions.member.1.Type=authenticate-oidc&Actions.member.1.AuthenticateOidcConfig.Issuer=i&Actions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams.entry.1.key=k1&Actions.member.1.AuthenticateOidcConfig.AuthenticationRequestExtraParams.entry.1.value=v1';
  const req = wire('POST', '/', {}, form);
  const input = p.parseInput(opOf(p, req, model), req) as { Actions: { AuthenticateOidcConfig: { AuthenticationRequestExtraParams: Record<string, string> } }[]; Priority: number };
  assert.equal(input.Priority, 1);
  assert.deepEqual(input.Actions[0]!.AuthenticateOidcConfig.AuthenticationRequestExtraParams, { k1: 'v1' });
});

test('ec2: Name.N lists, capitalized locationNames, <requestId> envelope with item lists, Response/Errors', () => {
  const model = loadModel('ec2');
  const p = createQueryProtocol(model);
  assert.equal(p.name, 'ec2');
  const form = 'Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&VpcId.2=vpc-2&Filter.1.Name=tag%3AName&Filter.1.Value.1=a&Filter.1.Value.2=b&MaxResults=10&DryRun=false';
  const req = wire('POST', '/', {}, form);
  const op = opOf(p, req, model);
  assert.deepEqual(p.parseInput(op, req), { VpcIds: ['vpc-1', 'vpc-2'], Filters: [{ Name: 'tag:Name', Values: ['a', 'b'] }], MaxResults: 10, DryRun: false });
  const out = p.serializeOutput(op, { Vpcs: [{ VpcId: 'vpc-1', CidrBlock: '10.0.0.0/16', IsDefault: true, Tags: [{ Key: 'Name', Value: 'x' }] }] }, 'rid');
  assert.equal(
    out.body,
    '<?xml version="1.0" encoding="UTF-8"?>\n<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>rid</requestId><vpcSet><item><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>true</isDefault><tagSet><item><key>Name</key><value>x</value></item></tagSet><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>',
  );
  const err = p.serializeError(new AwsServiceError('InvalidVpcID.NotFound', "The vpc ID 'vpc-9' does not exist", 400), 'rid');
  assert.equal(err.body, `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID 'vpc-9' does not exist</Message></Error></Errors><RequestID>rid</RequestID></Response>`);
  assert.equal(p.unknownOperation('Nope', false).message, 'The action Nope is not valid for this web service.');
});

test('json (KMS): X-Amz-Target routing, epoch timestamps, base64 blobs, __type errors', () => {
  const model = loadModel('kms');
  const p = createJsonProtocol(model);
  const req = wire('POST', '/', { 'x-amz-target': 'TrentService.Encrypt', 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify({ KeyId: 'k', Plaintext: Buffer.from('hi').toString('base64'), EncryptionContext: { a: 'b' } }));
  const op = opOf(p, req, model);
  const input = p.parseInput(op, req) as { Plaintext: Buffer };
  assert.ok(Buffer.isBuffer(input.Plaintext));
  assert.equal(input.Plaintext.toString(), 'hi');
  const out = p.serializeOutput(op, { CiphertextBlob: Buffer.from('zz'), KeyId: 'arn', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', extra: 1 }, 'rid');
  assert.equal(out.headers['content-type'], 'application/x-amz-json-1.1');
  assert.deepEqual(JSON.parse(out.body), { CiphertextBlob: Buffer.from('zz').toString('base64'), KeyId: 'arn', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  const dk = wire('POST', '/', { 'x-amz-target': 'TrentService.DescribeKey' }, '{"KeyId":"k"}');
  const dop = opOf(p, dk, model);
  const md = JSON.parse(p.serializeOutput(dop, { KeyMetadata: { KeyId: 'k', CreationDate: new Date(1700000000500) } }, 'r').body);
  assert.equal(md.KeyMetadata.CreationDate, 1700000000.5);
  const stored = JSON.parse(p.serializeOutput(dop, { KeyMetadata: { KeyId: 'k', CreationDate: '2023-11-14T22:13:20.000Z' } }, 'r').body);
  assert.equal(stored.KeyMetadata.CreationDate, 1700000000, 'ISO strings from stored documents serialize as epoch seconds');
  assert.throws(() => p.parseInput(dop, wire('POST', '/', {}, '{"KeyId": 5}')), { code: 'SerializationException' });
  assert.throws(() => p.parseInput(dop, wire('POST', '/', {}, '{nope')), { code: 'SerializationException' });
  const err = p.serializeError(new AwsServiceError('NotFoundException', 'Key not found', 400), 'r');
  assert.deepEqual(JSON.parse(err.body), { __type: 'NotFoundException', message: 'Key not found' });
  assert.equal(p.operationOf(wire('POST', '/', { 'x-amz-target': 'TrentService.Nope' })).name, undefined);
  assert.equal(p.operationOf(wire('POST', '/', { 'x-amz-target': 'Logs_20140328.DescribeLogGroups' })).name, undefined);
});

test('rest-json (EKS): routes by method and URI template, labels, query strings, JSON body, x-amzn-ErrorType errors', () => {
  const model = loadModel('eks');
  const p = createRestJsonProtocol(model);
  const d = wire('GET', '/clusters/demo', {});
  assert.equal(opOf(p, d, model).name, 'DescribeCluster');
  assert.deepEqual(p.parseInput(model.operations.DescribeCluster!, d), { name: 'demo' });
  const ng = wire('GET', '/clusters/demo/node-groups/ng-1', {});
  assert.equal(opOf(p, ng, model).name, 'DescribeNodegroup');
  const l = wire('GET', '/clusters?maxResults=5&include=all', {});
  const lop = opOf(p, l, model);
  assert.equal(lop.name, 'ListClusters');
  assert.deepEqual(p.parseInput(lop, l), { maxResults: 5, include: ['all'] });
  const arn = 'arn:aws:eks:us-east-1:000000000000:cluster/demo';
  const t = wire('GET', `/tags/${encodeURIComponent(arn)}`, {});
  assert.deepEqual(p.parseInput(opOf(p, t, model), t), { resourceArn: arn });
  const c = wire('POST', '/clusters', { 'content-type': 'application/json' }, JSON.stringify({ name: 'demo', roleArn: 'r', resourcesVpcConfig: { subnetIds: ['s1'] }, tags: { a: 'b' }, bogus: 1 }));
  const cop = opOf(p, c, model);
  assert.equal(cop.name, 'CreateCluster');
  assert.deepEqual(p.parseInput(cop, c), { name: 'demo', roleArn: 'r', resourcesVpcConfig: { subnetIds: ['s1'] }, tags: { a: 'b' } });
  const out = p.serializeOutput(cop, { cluster: { name: 'demo', createdAt: new Date(1700000000000), status: 'CREATING', _uid: 'x' } }, 'rid');
  assert.equal(out.status, 200);
  assert.deepEqual(JSON.parse(out.body), { cluster: { name: 'demo', createdAt: 1700000000, status: 'CREATING' } });
  assert.equal(out.headers['x-amzn-requestid'], 'rid');
  const err = p.serializeError(new AwsServiceError('ResourceNotFoundException', 'No cluster found for name: x.', 404, { clusterName: 'x' }), 'rid');
  assert.equal(err.status, 404);
  assert.equal(err.headers['x-amzn-errortype'], 'ResourceNotFoundException');
  assert.deepEqual(JSON.parse(err.body), { message: 'No cluster found for name: x.', clusterName: 'x' });
  assert.equal(p.operationOf(wire('GET', '/nope', {})).name, undefined);
  assert.equal(p.operationOf(wire('PATCH', '/clusters/demo', {})).name, undefined);
  assert.equal(p.unknownOperation('GET /nope', false).status, 404);
});

test('rest-xml (Route 53): XML body input, header-bound output, responseCode, ErrorResponse', () => {
  const model = loadModel('route53');
  const p = createRestXmlProtocol(model);
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>example.com</Name><CallerReference>ref&amp;1</CallerReference><HostedZoneConfig><Comment>c</Comment><PrivateZone>true</PrivateZone></HostedZoneConfig></CreateHostedZoneRequest>';
  const req = wire('POST', '/2013-04-01/hostedzone', {}, body);
  const op = opOf(p, req, model);
  assert.equal(op.name, 'CreateHostedZone');
  assert.deepEqual(p.parseInput(op, req), { Name: 'example.com', CallerReference: 'ref&1', HostedZoneConfig: { Comment: 'c', PrivateZone: true } });
  const out = p.serializeOutput(
    op,
    { HostedZone: { Id: '/hostedzone/Z1', Name: 'example.com.', CallerReference: 'ref', ResourceRecordSetCount: 2 }, ChangeInfo: { Id: 'C1', Status: 'INSYNC', SubmittedAt: new Date(0) }, DelegationSet: { NameServers: ['ns1'] }, Location: 'https://route53/2013-04-01/hostedzone/Z1' },
    'rid',
  );
  assert.equal(out.status, 201);
  assert.equal(out.headers.location, 'https://route53/2013-04-01/hostedzone/Z1');
  assert.match(out.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<CreateHostedZoneResponse xmlns="https:\/\/route53.amazonaws.com\/doc\/2013-04-01\/"><ChangeInfo><Id>C1<\/Id><Status>INSYNC<\/Status><SubmittedAt>1970-01-01T00:00:00.000Z<\/SubmittedAt><\/ChangeInfo><DelegationSet><NameServers><NameServer>ns1<\/NameServer><\/NameServers><\/DelegationSet><HostedZone>/);
  assert.doesNotMatch(out.body, /<Location>/);
  const g = wire('GET', '/2013-04-01/hostedzone/Z1', {});
  assert.deepEqual(p.parseInput(opOf(p, g, model), g), { Id: 'Z1' });
  assert.throws(() => p.parseInput(op, wire('POST', '/2013-04-01/hostedzone', {}, '<a><b></a>')), { code: 'MalformedXML' });
});
