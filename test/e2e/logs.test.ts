/**
 * CloudWatch Logs end to end with the real aws CLI (v1) and boto3: log groups
 * with retention and tags, streams, PutLogEvents / GetLogEvents /
 * FilterLogEvents with filter patterns, Logs Insights queries, and CloudWatch's
 * errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { runBoto3 } from '../helpers/boto3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const aws = (...args: string[]) => awsJson(ep, args);
const G = '/aws/eks/demo/cluster';

describe('logs (aws CLI, boto3)', () => {
  before(async () => {
    srv = await startTestServer();
    ep = srv.awsEndpoint;
  });
  after(() => srv.stop());

  it('creates a log group with retention, KMS key and tags; rejects bad input', async () => {
    const keyArn = (await aws('kms', 'create-key')).KeyMetadata.Arn;
    await runAws(ep, ['logs', 'create-log-group', '--log-group-name', G, '--kms-key-id', keyArn, '--tags', 'team=platform']).then((r) => assert.equal(r.code, 0, r.stderr));
    await runAws(ep, ['logs', 'put-retention-policy', '--log-group-name', G, '--retention-in-days', '90']).then((r) => assert.equal(r.code, 0, r.stderr));
    const groups = (await aws('logs', 'describe-log-groups', '--log-group-name-prefix', '/aws/eks/')).logGroups;
    assert.equal(groups.length, 1);
    assert.equal(groups[0].retentionInDays, 90);
    assert.equal(groups[0].kmsKeyId, keyArn);
    assert.equal(groups[0].arn, `arn:aws:logs:us-east-1:000000000000:log-group:${G}:*`);
    assert.deepEqual((await aws('logs', 'list-tags-log-group', '--log-group-name', G)).tags, { team: 'platform' });
    const dup = await runAws(ep, ['logs', 'create-log-group', '--log-group-name', G]);
    assert.equal(dup.errorCode, 'ResourceAlreadyExistsException');
    const badRetention = await runAws(ep, ['logs', 'put-retention-policy', '--log-group-name', G, '--retention-in-days', '2']);
    assert.equal(badRetention.errorCode, 'InvalidParameterException');
    const missing = await runAws(ep, ['logs', 'describe-log-streams', '--log-group-name', '/nope']);
    assert.equal(missing.errorCode, 'ResourceNotFoundException');
    assert.equal(missing.errorMessage, 'The specified log group does not exist.');
  });

  it('puts, gets and filters events (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
import time, json
logs = client('logs')
G = '${G}'
logs.create_log_stream(logGroupName=G, logStreamName='kube-apiserver-1')
logs.create_log_stream(logGroupName=G, logStreamName='authenticator-1')
now = int(time.time() * 1000)
put = logs.put_log_events(logGroupName=G, logStreamName='kube-apiserver-1', logEvents=[
  {'timestamp': now - 3000, 'message': 'I0101 ERROR etcd timeout'},
  {'timestamp': now - 2000, 'message': 'I0101 INFO ready'},
  {'timestamp': now - 1000, 'message': json.dumps({'verb': 'delete', 'code': 403})},
])
logs.put_log_events(logGroupName=G, logStreamName='authenticator-1', logEvents=[
  {'timestamp': now - 1500, 'message': 'access granted arn=x'},
  {'timestamp': now + 5 * 3600 * 1000, 'message': 'from the future'},
])
try:
    logs.put_log_events(logGroupName=G, logStreamName='authenticator-1', logEvents=[{'timestamp': now, 'message': 'b'}, {'timestamp': now - 1, 'message': 'a'}])
    order = None
except ClientError as e:
    order = e.response['Error']['Message']
got = logs.get_log_events(logGroupName=G, logStreamName='kube-apiserver-1', startFromHead=True, limit=2)
rest = logs.get_log_events(logGroupName=G, logStreamName='kube-apiserver-1', nextToken=got['nextForwardToken'])
def f(p):
    return [e['message'] for e in logs.filter_log_events(logGroupName=G, filterPattern=p)['events']]
paged = []
for page in logs.get_paginator('filter_log_events').paginate(logGroupName=G, PaginationConfig={'PageSize': 1}):
    paged += [e['message'] for e in page['events']]
streams = logs.describe_log_streams(logGroupName=G, orderBy='LastEventTime', descending=True)['logStreams']
rejected = logs.put_log_events(logGroupName=G, logStreamName='authenticator-1', logEvents=[{'timestamp': now + 5 * 3600 * 1000, 'message': 'future'}]).get('rejectedLogEventsInfo')
result = {
  'token': 'nextSequenceToken' in put,
  'order': order,
  'head': [e['message'] for e in got['events']],
  'rest': [e['message'] for e in rest['events']],
  'error': f('ERROR'),
  'json': f('{ $.code = 403 && $.verb = "delete" }'),
  'any': f('?granted ?ready'),
  'excl': f('I0101 -INFO'),
  'paged': len(paged),
  'streams': [s['logStreamName'] for s in streams],
  'rejected': rejected,
}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    const j = r.json;
    assert.equal(j.token, true);
    assert.equal(j.order, 'Log events in a single PutLogEvents request must be in chronological order.');
    assert.deepEqual(j.head, ['I0101 ERROR etcd timeout', 'I0101 INFO ready']);
    assert.deepEqual(j.rest, ['{"verb": "delete", "code": 403}']);
    assert.deepEqual(j.error, ['I0101 ERROR etcd timeout']);
    assert.deepEqual(j.json, ['{"verb": "delete", "code": 403}']);
    assert.deepEqual(j.any, ['I0101 INFO ready', 'access granted arn=x']);
    assert.deepEqual(j.excl, ['I0101 ERROR etcd timeout']);
    assert.equal(j.paged, 4);
    assert.deepEqual(j.streams, ['kube-apiserver-1', 'authenticator-1']);
    assert.deepEqual(j.rejected, { tooNewLogEventStartIndex: 0 });
  });

  it('runs Logs Insights queries (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
import time
logs = client('logs')
now = int(time.time())
q = logs.start_query(logGroupName='${G}', startTime=now - 3600, endTime=now + 60,
  queryString='fields @timestamp, @message | filter @logStream like /kube-apiserver/ and @message like /ERROR|INFO/ | sort @timestamp desc | limit 5')
res = logs.get_query_results(queryId=q['queryId'])
stats = logs.get_query_results(queryId=logs.start_query(logGroupName='${G}', startTime=now - 3600, endTime=now + 60,
  queryString='filter ispresent(code) | stats count(*) as n by verb')['queryId'])
try:
    logs.start_query(logGroupName='${G}', startTime=now - 3600, endTime=now, queryString='fields @message | bogus')
    bad = None
except ClientError as e:
    bad = e.response['Error']['Code']
result = {
  'status': res['status'],
  'messages': [[f['value'] for f in row if f['field'] == '@message'][0] for row in res['results']],
  'stats': [{f['field']: f['value'] for f in row} for row in stats['results']],
  'bad': bad,
  'described': len(logs.describe_queries(logGroupName='${G}')['queries']),
}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    assert.equal(r.json.status, 'Complete');
    assert.deepEqual(r.json.messages, ['I0101 INFO ready', 'I0101 ERROR etcd timeout']);
    assert.deepEqual(r.json.stats, [{ verb: 'delete', n: '1' }]);
    assert.equal(r.json.bad, 'MalformedQueryException');
    assert.equal(r.json.described, 2);
  });

  it('filters with the aws CLI and deletes the group with its streams', async () => {
    const out = await aws('logs', 'filter-log-events', '--log-group-name', G, '--filter-pattern', '[level, ..., word = timeout]');
    assert.deepEqual(out.events.map((e: any) => e.message), ['I0101 ERROR etcd timeout']);
    assert.equal((await runAws(ep, ['logs', 'delete-log-group', '--log-group-name', G])).code, 0);
    assert.equal((await aws('logs', 'describe-log-groups')).logGroups.length, 0);
  });
});
