import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsServiceError } from '../core/types.ts';
import { compileFilterPattern, splitFields } from './filter-pattern.ts';

const json = (o: unknown) => JSON.stringify(o);
const trail = json({ eventType: 'UpdateTrail', sourceIPAddress: '123.123.1.2', user: { id: 1, name: 'ann' }, latency: 750, error: null, ok: true, arr: ['a', 'b'], list: [{ id: 1 }, { id: 2 }] });
const access = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534';

const cases: [pattern: string, message: string, matches: boolean][] = [
  ['', 'anything', true],
  ['ERROR', '[ERROR] disk full', true],
  ['ERROR', 'error: disk full', false],
  ['ERROR ARGUMENTS', 'ERROR bad ARGUMENTS given', true],
  ['ERROR ARGUMENTS', 'ERROR only', false],
  ['"Exception error"', 'got Exception error here', true],
  ['"Exception error"', 'got error Exception here', false],
  ['?ERROR ?WARN', 'WARN low disk', true],
  ['?ERROR ?WARN', 'INFO all good', false],
  ['ERROR -ARGUMENTS', 'ERROR disk', true],
  ['ERROR -ARGUMENTS', 'ERROR ARGUMENTS', false],
  ['"ERROR" -"Exiting"', 'ERROR Exiting now', false],
  ['%ERR[0-9]+%', 'code ERR42 seen', true],
  ['%ERR[0-9]+%', 'code ERR seen', false],
  ['{ $.eventType = "UpdateTrail" }', trail, true],
  ['{ $.eventType = UpdateTrail }', trail, true],
  ['{ $.eventType = "Update*" }', trail, true],
  ['{ $.eventType = "DeleteTrail" }', trail, false],
  ['{ $.eventType != "DeleteTrail" }', trail, true],
  ['{ $.sourceIPAddress != 123.123.* }', trail, false],
  ['{ $.sourceIPAddress = 123.123.* }', trail, true],
  ['{ $.latency > 500 }', trail, true],
  ['{ $.latency <= 500 }', trail, false],
  ['{ $.latency = 750 }', trail, true],
  ['{ $.user.id = 1 && $.user.name = "ann" }', trail, true],
  ['{ ($.user.id = 2) || ($.user.name = "ann") }', trail, true],
  ['{ ($.user.id = 2) && ($.user.name = "ann") }', trail, false],
  ['{ $.arr[1] = "b" }', trail, true],
  ['{ $.list[1].id = 2 }', trail, true],
  ['{ $.error IS NULL }', trail, true],
  ['{ $.ok IS TRUE }', trail, true],
  ['{ $.ok IS FALSE }', trail, false],
  ['{ $.missing NOT EXISTS }', trail, true],
  ['{ $.user NOT EXISTS }', trail, false],
  ['{ $.eventType = %Update.*% }', trail, true],
  ['{ $.eventType = "UpdateTrail" }', 'not json at all', false],
  ['[ip, user, username, timestamp, request, status_code, bytes]', access, true],
  ['[ip, user, username, timestamp, request, status_code = 404, bytes]', access, true],
  ['[ip, user, username, timestamp, request, status_code = 4*, bytes > 1000]', access, true],
  ['[ip, user, username, timestamp, request, status_code = 5*, bytes]', access, false],
  ['[ip, user, username, timestamp, request, status_code = 5* || status_code = 4*, bytes]', access, true],
  ['[ip, ..., status_code = 404, bytes]', access, true],
  ['[ip, ..., bytes < 1000]', access, false],
  ['[ip = 127.0.0.*, ...]', access, true],
  ['[a, b]', access, false],
  ['[..., request = *.gif*, status, bytes]', access, true],
];

for (const [pattern, message, matches] of cases) {
  test(`filter pattern ${JSON.stringify(pattern)} ${matches ? 'matches' : 'does not match'} ${JSON.stringify(message.slice(0, 30))}`, () => {
    assert.equal(compileFilterPattern(pattern)(message), matches);
  });
}

test('space-delimited fields keep quoted and bracketed fields together', () => {
  assert.deepEqual(splitFields(access), ['127.0.0.1', '-', 'frank', '10/Oct/2000:13:25:15 -0700', 'GET /apache_pb.gif HTTP/1.0', '404', '1534']);
});

for (const bad of ['{ $.a = }', '{ $.a = "x" ', '"unterminated', '[a, , b]', '{ a = 1 }', '{ $.a IS MAYBE }']) {
  test(`invalid filter pattern ${JSON.stringify(bad)}`, () => {
    assert.throws(() => compileFilterPattern(bad), (e: unknown) => e instanceof AwsServiceError && e.code === 'InvalidParameterException');
  });
}
