import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { providerHarness, type ProviderHarness } from '../iam/testing.ts';
import { createLogsProvider } from './provider.ts';
import { ensureLogGroup, putLogEvents } from './shared.ts';

let h: ProviderHarness;
before(async () => {
  h = await providerHarness(createLogsProvider, 'logs');
});
after(() => h.close());

const G = '/aws/eks/demo/cluster';

test('log groups: create, duplicate, describe with prefix/pattern, retention, tags', async () => {
  await h.call('CreateLogGroup', { logGroupName: G, tags: { team: 'platform' } });
  await h.call('CreateLogGroup', { logGroupName: '/app/web' });
  const dup = await h.callError('CreateLogGroup', { logGroupName: G });
  assert.equal(dup.code, 'ResourceAlreadyExistsException');
  assert.equal(dup.message, 'The specified log group already exists');
  const byPrefix = await h.call('DescribeLogGroups', { logGroupNamePrefix: '/aws/eks' });
  assert.deepEqual(byPrefix.logGroups.map((g: any) => g.logGroupName), [G]);
  assert.equal(byPrefix.logGroups[0].arn, `arn:aws:logs:us-east-1:000000000000:log-group:${G}:*`);
  assert.equal(byPrefix.logGroups[0].logGroupArn, `arn:aws:logs:us-east-1:000000000000:log-group:${G}`);
  const byPattern = await h.call('DescribeLogGroups', { logGroupNamePattern: 'WEB' });
  assert.deepEqual(byPattern.logGroups.map((g: any) => g.logGroupName), ['/app/web']);
  const paged = await h.call('DescribeLogGroups', { limit: 1 });
  assert.equal(paged.logGroups.length, 1);
  assert.ok(paged.nextToken);
  assert.equal((await h.call('DescribeLogGroups', { limit: 1, nextToken: paged.nextToken })).logGroups[0].logGroupName, G);

  const bad = await h.callError('PutRetentionPolicy', { logGroupName: G, retentionInDays: 2 });
  assert.equal(bad.code, 'InvalidParameterException');
  assert.match(bad.message, /Member must satisfy enum value set: \[1, 3, 5, 7, 14/);
  await h.call('PutRetentionPolicy', { logGroupName: G, retentionInDays: 7 });
  assert.equal((await h.call('DescribeLogGroups', { logGroupNamePrefix: G })).logGroups[0].retentionInDays, 7);
  await h.call('DeleteRetentionPolicy', { logGroupName: G });
  assert.equal((await h.call('DescribeLogGroups', { logGroupNamePrefix: G })).logGroups[0].retentionInDays, undefined);

  const arn = `arn:aws:logs:us-east-1:000000000000:log-group:${G}`;
  await h.call('TagResource', { resourceArn: arn, tags: { env: 'dev' } });
  assert.deepEqual((await h.call('ListTagsForResource', { resourceArn: arn })).tags, { team: 'platform', env: 'dev' });
  await h.call('UntagLogGroup', { logGroupName: G, tags: ['team'] });
  assert.deepEqual((await h.call('ListTagsLogGroup', { logGroupName: G })).tags, { env: 'dev' });
  const noKey = await h.callError('CreateLogGroup', { logGroupName: '/enc', kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555' });
  assert.equal(noKey.code, 'InvalidParameterException');
  assert.equal((await h.call('DescribeLogGroups', { logGroupNamePrefix: '/enc' })).logGroups.length, 0);
  const missing = await h.callError('DeleteLogGroup', { logGroupName: '/nope' });
  assert.equal(missing.code, 'ResourceNotFoundException');
  assert.equal(missing.message, 'The specified log group does not exist.');
});

test('streams and events: ordering rules, rejected events, GetLogEvents tokens', async () => {
  await h.call('CreateLogStream', { logGroupName: G, logStreamName: 'kube-apiserver-1' });
  assert.equal((await h.callError('CreateLogStream', { logGroupName: G, logStreamName: 'kube-apiserver-1' })).message, 'The specified log stream already exists');
  const t0 = h.clock.nowMs();
  const unordered = await h.callError('PutLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', logEvents: [{ timestamp: t0, message: 'b' }, { timestamp: t0 - 1, message: 'a' }] });
  assert.equal(unordered.message, 'Log events in a single PutLogEvents request must be in chronological order.');
  const r = await h.call('PutLogEvents', {
    logGroupName: G,
    logStreamName: 'kube-apiserver-1',
    logEvents: [
      { timestamp: t0 - 15 * 86_400_000, message: 'ancient' },
      { timestamp: t0 - 20, message: 'e1 ERROR' },
      { timestamp: t0 - 10, message: 'e2 INFO' },
      { timestamp: t0 - 5, message: 'e3 ERROR' },
      { timestamp: t0 + 3 * 3_600_000, message: 'future' },
    ],
  }).catch((e) => e);
  // The batch spans more than 24 hours.
  assert.equal(r.code, 'InvalidParameterException');
  const ok = await h.call('PutLogEvents', {
    logGroupName: G,
    logStreamName: 'kube-apiserver-1',
    logEvents: [
      { timestamp: t0 - 20, message: 'e1 ERROR' },
      { timestamp: t0 - 10, message: 'e2 INFO' },
      { timestamp: t0 - 5, message: 'e3 ERROR' },
      { timestamp: t0 + 3 * 3_600_000, message: 'future' },
    ],
  });
  assert.deepEqual(ok.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 3 });
  assert.ok(ok.nextSequenceToken);
  await h.call('PutLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', logEvents: [{ timestamp: t0 - 15, message: 'e1.5 WARN' }] });
  const noStream = await h.callError('PutLogEvents', { logGroupName: G, logStreamName: 'nope', logEvents: [{ timestamp: t0, message: 'x' }] });
  assert.equal(noStream.message, 'The specified log stream does not exist.');

  const tail = await h.call('GetLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', limit: 2 });
  assert.deepEqual(tail.events.map((e: any) => e.message), ['e2 INFO', 'e3 ERROR']);
  const before = await h.call('GetLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', limit: 2, nextToken: tail.nextBackwardToken });
  assert.deepEqual(before.events.map((e: any) => e.message), ['e1 ERROR', 'e1.5 WARN']);
  const head = await h.call('GetLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', limit: 3, startFromHead: true });
  assert.deepEqual(head.events.map((e: any) => e.message), ['e1 ERROR', 'e1.5 WARN', 'e2 INFO']);
  const next = await h.call('GetLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', nextToken: head.nextForwardToken });
  assert.deepEqual(next.events.map((e: any) => e.message), ['e3 ERROR']);
  const end = await h.call('GetLogEvents', { logGroupName: G, logStreamName: 'kube-apiserver-1', nextToken: next.nextForwardToken });
  assert.equal(end.events.length, 0);
  assert.equal(end.nextForwardToken, next.nextForwardToken);
});

test('FilterLogEvents across streams with patterns; DescribeLogStreams ordering; shared helpers', async () => {
  await ensureLogGroup(h.deps.state, '000000000000', 'us-east-1', G, h.clock.nowMs());
  const t = h.clock.nowMs();
  await putLogEvents(h.deps.state, '000000000000', 'us-east-1', G, 'authenticator-1', [
    { timestamp: t - 1, message: '{"level":"error","code":500}' },
    { timestamp: t - 30, message: '{"level":"info","code":200}' },
  ], t);
  const errors = await h.call('FilterLogEvents', { logGroupName: G, filterPattern: 'ERROR' });
  assert.deepEqual(errors.events.map((e: any) => e.message), ['e1 ERROR', 'e3 ERROR']);
  assert.equal(errors.events[0].logStreamName, 'kube-apiserver-1');
  const json = await h.call('FilterLogEvents', { logGroupName: G, filterPattern: '{ $.code >= 500 }' });
  assert.deepEqual(json.events.map((e: any) => e.message), ['{"level":"error","code":500}']);
  const any = await h.call('FilterLogEvents', { logGroupName: G, filterPattern: '?WARN ?INFO', logStreamNamePrefix: 'kube' });
  assert.deepEqual(any.events.map((e: any) => e.message), ['e1.5 WARN', 'e2 INFO']);
  const paged = await h.call('FilterLogEvents', { logGroupName: G, limit: 2 });
  assert.equal(paged.events.length, 2);
  const rest = await h.call('FilterLogEvents', { logGroupName: G, nextToken: paged.nextToken });
  assert.equal(paged.events.length + rest.events.length, 6);
  assert.equal((await h.callError('FilterLogEvents', { logGroupName: G, filterPattern: '{ $.x = ' })).code, 'InvalidParameterException');

  const byName = await h.call('DescribeLogStreams', { logGroupName: G });
  assert.deepEqual(byName.logStreams.map((s: any) => s.logStreamName), ['authenticator-1', 'kube-apiserver-1']);
  const byTime = await h.call('DescribeLogStreams', { logGroupName: G, orderBy: 'LastEventTime' });
  assert.deepEqual(byTime.logStreams.map((s: any) => s.logStreamName), ['kube-apiserver-1', 'authenticator-1']);
  const desc = await h.call('DescribeLogStreams', { logGroupName: G, descending: true });
  assert.deepEqual(desc.logStreams.map((s: any) => s.logStreamName), ['kube-apiserver-1', 'authenticator-1']);
  assert.equal((await h.callError('DescribeLogStreams', { logGroupName: G, orderBy: 'LastEventTime', logStreamNamePrefix: 'k' })).message, 'Cannot order by LastEventTime with a logStreamNamePrefix.');
});

test('metric and subscription filters; deleting a group removes its streams', async () => {
  await h.call('PutMetricFilter', { logGroupName: G, filterName: 'errors', filterPattern: 'ERROR', metricTransformations: [{ metricName: 'Errors', metricNamespace: 'EKS', metricValue: '1' }] });
  assert.equal((await h.call('DescribeMetricFilters', { logGroupName: G })).metricFilters[0].filterName, 'errors');
  assert.equal((await h.call('DescribeLogGroups', { logGroupNamePrefix: G })).logGroups[0].metricFilterCount, 1);
  const tested = await h.call('TestMetricFilter', { filterPattern: '[a, b = 2*]', logEventMessages: ['x 200', 'x 404'] });
  assert.deepEqual(tested.matches.map((m: any) => m.eventNumber), [1]);
  await h.call('PutSubscriptionFilter', { logGroupName: G, filterName: 's1', filterPattern: '', destinationArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' });
  await h.call('PutSubscriptionFilter', { logGroupName: G, filterName: 's2', filterPattern: '', destinationArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' });
  assert.equal((await h.callError('PutSubscriptionFilter', { logGroupName: G, filterName: 's3', filterPattern: '', destinationArn: 'arn:aws:lambda:us-east-1:000000000000:function:f' })).code, 'LimitExceededException');
  await h.call('DeleteMetricFilter', { logGroupName: G, filterName: 'errors' });
  await h.call('DeleteLogGroup', { logGroupName: G });
  assert.equal(h.deps.state.collectionsUnder('/aws/logs/000000000000/us-east-1/events').length, 0);
  assert.equal((await h.call('DescribeLogGroups', { logGroupNamePrefix: G })).logGroups.length, 0);
});

test('retention: expired events disappear from reads and their batches are dropped on the next write', async () => {
  const g = '/retention';
  await h.call('CreateLogGroup', { logGroupName: g });
  await h.call('CreateLogStream', { logGroupName: g, logStreamName: 's' });
  const t = h.clock.nowMs();
  await h.call('PutLogEvents', { logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: t - 3 * 86_400_000, message: 'old' }] });
  await h.call('PutRetentionPolicy', { logGroupName: g, retentionInDays: 1 });
  assert.deepEqual((await h.call('GetLogEvents', { logGroupName: g, logStreamName: 's' })).events, []);
  const r = await h.call('PutLogEvents', { logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: t - 2 * 86_400_000, message: 'expired' }, { timestamp: t, message: 'new' }] }).catch((e) => e);
  assert.equal(r.code, 'InvalidParameterException'); // spans more than 24 hours
  const ok = await h.call('PutLogEvents', { logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: t - 30 * 3_600_000, message: 'expired' }, { timestamp: t - 10 * 3_600_000, message: 'new' }] });
  assert.deepEqual(ok.rejectedLogEventsInfo, { expiredLogEventEndIndex: 0 });
  assert.deepEqual((await h.call('GetLogEvents', { logGroupName: g, logStreamName: 's' })).events.map((e: any) => e.message), ['new']);
  assert.equal(h.deps.state.list(`/aws/logs/000000000000/us-east-1/events:${encodeURIComponent(g)}:s/`).length, 1);
});

test('resource policies: put, describe, replace, delete', async () => {
  const doc = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'route53.amazonaws.com' }, Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] });
  const put = await h.call('PutResourcePolicy', { policyName: 'route53', policyDocument: doc });
  assert.equal(put.resourcePolicy.policyName, 'route53');
  await h.call('PutResourcePolicy', { policyName: 'route53', policyDocument: doc });
  const listed = await h.call('DescribeResourcePolicies', {});
  assert.equal(listed.resourcePolicies.length, 1);
  assert.equal(listed.resourcePolicies[0].revisionId, '2');
  assert.equal((await h.callError('PutResourcePolicy', { policyName: 'bad', policyDocument: '{' })).code, 'InvalidParameterException');
  await h.call('DeleteResourcePolicy', { policyName: 'route53' });
  const missing = await h.callError('DeleteResourcePolicy', { policyName: 'route53' });
  assert.equal(missing.code, 'ResourceNotFoundException');
});

test('PutLogEvents refuses batches over 1 MiB', async () => {
  await h.call('CreateLogGroup', { logGroupName: '/big' });
  await h.call('CreateLogStream', { logGroupName: '/big', logStreamName: 's' });
  const t = h.clock.nowMs();
  const big = 'x'.repeat(200_000);
  const e = await h.callError('PutLogEvents', { logGroupName: '/big', logStreamName: 's', logEvents: Array.from({ length: 6 }, (_, i) => ({ timestamp: t + i, message: big })) });
  assert.equal(e.code, 'InvalidParameterException');
  assert.match(e.message, /^Upload too large: \d+ bytes exceeds limit of 1048576$/);
});

test('GetLogEvents and FilterLogEvents return at most 1 MB per call', async () => {
  await h.call('CreateLogStream', { logGroupName: '/big', logStreamName: 'wide' });
  const t = h.clock.nowMs();
  const big = 'y'.repeat(300_000);
  for (let b = 0; b < 2; b++) {
    await h.call('PutLogEvents', { logGroupName: '/big', logStreamName: 'wide', logEvents: Array.from({ length: 3 }, (_, i) => ({ timestamp: t + b * 10 + i, message: big })) });
  }
  const first = await h.call('GetLogEvents', { logGroupName: '/big', logStreamName: 'wide', startFromHead: true });
  assert.equal(first.events.length, 3);
  const second = await h.call('GetLogEvents', { logGroupName: '/big', logStreamName: 'wide', nextToken: first.nextForwardToken });
  assert.equal(second.events.length, 3);
  const tail = await h.call('GetLogEvents', { logGroupName: '/big', logStreamName: 'wide' });
  assert.equal(tail.events.length, 3);
  assert.equal(tail.events[2].timestamp, t + 12);
  const filtered = await h.call('FilterLogEvents', { logGroupName: '/big', logStreamNames: ['wide'] });
  assert.equal(filtered.events.length, 3);
  assert.ok(filtered.nextToken);
});

test('Insights via the provider: StartQuery, GetQueryResults, GetLogRecord from @ptr, GetLogGroupFields; query definitions; ListLogGroups', async () => {
  const g = '/insights';
  await h.call('CreateLogGroup', { logGroupName: g });
  await h.call('CreateLogStream', { logGroupName: g, logStreamName: 'kube-apiserver-audit-1' });
  const t = h.clock.nowMs();
  await h.call('PutLogEvents', {
    logGroupName: g,
    logStreamName: 'kube-apiserver-audit-1',
    logEvents: [
      { timestamp: t - 2000, message: JSON.stringify({ verb: 'get', user: { username: 'a' } }) },
      { timestamp: t - 1000, message: JSON.stringify({ verb: 'delete', user: { username: 'b' } }) },
    ],
  });
  const q = await h.call('StartQuery', { logGroupName: g, startTime: Math.floor((t - 60_000) / 1000), endTime: Math.ceil(t / 1000), queryString: 'fields @timestamp, verb | filter verb = "delete"' });
  const r = await h.call('GetQueryResults', { queryId: q.queryId });
  assert.equal(r.status, 'Complete');
  assert.equal(r.results.length, 1);
  const ptr = r.results[0].find((f: any) => f.field === '@ptr').value;
  const rec = await h.call('GetLogRecord', { logRecordPointer: ptr });
  assert.equal(rec.logRecord['user.username'], 'b');
  assert.equal(rec.logRecord['@logStream'], 'kube-apiserver-audit-1');
  const fields = (await h.call('GetLogGroupFields', { logGroupName: g })).logGroupFields;
  assert.ok(fields.some((f: any) => f.name === 'verb' && f.percent === 100));
  assert.equal((await h.callError('StartQuery', { logGroupName: g, startTime: 0, endTime: 1, queryString: 'bogus x' })).code, 'MalformedQueryException');
  assert.equal((await h.callError('GetQueryResults', { queryId: 'nope' })).code, 'ResourceNotFoundException');

  const def = await h.call('PutQueryDefinition', { name: 'deletes', queryString: 'filter verb = "delete"', logGroupNames: [g] });
  await h.call('PutQueryDefinition', { queryDefinitionId: def.queryDefinitionId, name: 'deletes', queryString: 'filter verb = "delete" | limit 5' });
  const defs = (await h.call('DescribeQueryDefinitions', { queryDefinitionNamePrefix: 'del' })).queryDefinitions;
  assert.deepEqual(defs.map((d: any) => d.queryString), ['filter verb = "delete" | limit 5']);
  assert.equal((await h.call('DeleteQueryDefinition', { queryDefinitionId: def.queryDefinitionId })).success, true);
  const listed = await h.call('ListLogGroups', { logGroupNamePattern: '^/insi' });
  assert.deepEqual(listed.logGroups.map((x: any) => x.logGroupName), [g]);
});

test('shared putLogEvents splits batches by CloudWatch limits', async () => {
  const g = '/aws/eks/split/cluster';
  await ensureLogGroup(h.deps.state, '000000000000', 'us-east-1', g, h.clock.nowMs());
  const t = h.clock.nowMs();
  const events = Array.from({ length: 12 }, (_, i) => ({ timestamp: t - (11 - i) * 3 * 3_600_000, message: `event ${i}` }));
  await putLogEvents(h.deps.state, '000000000000', 'us-east-1', g, 'kube-apiserver-x', events.reverse(), t);
  const got = await h.call('GetLogEvents', { logGroupName: g, logStreamName: 'kube-apiserver-x', startFromHead: true });
  assert.equal(got.events.length, 12);
  assert.equal(got.events[0].message, 'event 0');
});
