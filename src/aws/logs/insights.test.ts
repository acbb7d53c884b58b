import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsServiceError } from '../core/types.ts';
import { parseQuery, runQuery, type InsightsEvent } from './insights.ts';

const base = Date.parse('2026-01-01T00:00:00Z');
const audit = (i: number, verb: string, user: string, resource: string): InsightsEvent => ({
  timestamp: base + i * 60_000,
  ingestionTime: base + i * 60_000 + 5,
  message: JSON.stringify({ kind: 'Event', verb, user: { username: user }, objectRef: { resource }, responseStatus: { code: verb === 'delete' ? 200 : 201 } }),
  logStreamName: 'kube-apiserver-audit-abc',
  log: '000000000000:/aws/eks/demo/cluster',
  ptr: `p${i}`,
});
const events: InsightsEvent[] = [
  audit(0, 'create', 'admin', 'pods'),
  audit(1, 'delete', 'admin', 'pods'),
  audit(2, 'delete', 'ci', 'events'),
  audit(3, 'get', 'ci', 'pods'),
  { timestamp: base + 4 * 60_000, ingestionTime: base, message: 'I0101 authenticator: access granted arn=x', logStreamName: 'authenticator-abc', log: '000000000000:/aws/eks/demo/cluster', ptr: 'p4' },
];

const run = (q: string, max = 10000) => runQuery(parseQuery(q), events, max);
const col = (rows: { field: string; value: string }[][], f: string) => rows.map((r) => r.find((c) => c.field === f)?.value);

test('insights: EKS user guide style audit query', () => {
  const r = run('fields @timestamp, @message | filter @logStream like /kube-apiserver-audit/ | filter verb = "delete" and objectRef.resource != "events" | sort @timestamp desc | limit 20');
  assert.equal(r.results.length, 1);
  assert.equal(col(r.results, '@timestamp')[0], '2026-01-01 00:01:00.000');
  assert.equal(r.recordsMatched, 1);
  assert.equal(r.recordsScanned, 5);
});

test('insights: default projection is newest first with @ptr', () => {
  const r = run('filter @message like "granted"');
  assert.deepEqual(r.results[0]!.map((c) => c.field), ['@timestamp', '@message', '@ptr']);
  const all = run('fields @logStream');
  assert.equal(col(all.results, '@logStream')[0], 'authenticator-abc');
});

test('insights: stats count by field, sort by aggregate, aliases', () => {
  const r = run('filter ispresent(verb) | stats count(*) as n by user.username | sort n desc');
  assert.deepEqual(r.results.map((row) => [col([row], 'user.username')[0], col([row], 'n')[0]]), [['admin', '2'], ['ci', '2']]);
  const bins = run('stats count(*) as c by bin(2m)');
  assert.deepEqual(col(bins.results, 'c').map(Number).sort(), [1, 2, 2]);
  const numeric = run('filter responseStatus.code >= 201 | stats count(*) as c, max(responseStatus.code) as m');
  assert.deepEqual([col(numeric.results, 'c')[0], col(numeric.results, 'm')[0]], ['2', '201']);
});

test('insights: in, not like, =~, or, limit', () => {
  assert.equal(run('filter verb in ["get", "create"]').results.length, 2);
  assert.equal(run('filter ispresent(verb) and @message not like /delete/').results.length, 2);
  assert.equal(run('filter verb =~ /^de/ or verb = "get"').results.length, 3);
  assert.equal(run('fields verb | limit 2').results.length, 2);
  assert.equal(run('fields verb', 3).results.length, 3);
});

for (const bad of ['fields', 'filter verb ==', 'parse @message "* *" as a, b', 'stats median(x)', 'limit x', 'filter @message like /unterminated']) {
  test(`insights: malformed ${JSON.stringify(bad)}`, () => {
    assert.throws(() => parseQuery(bad), (e: unknown) => e instanceof AwsServiceError && e.code === 'MalformedQueryException');
  });
}
