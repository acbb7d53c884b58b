import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStatusError } from './errors.ts';
import { labelSelectorFromObject, matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';

test('label selectors: equality and set-based', () => {
  const l = { app: 'web', tier: 'front', n: '5' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app=web,tier=back', false],
    ['app in (web, api)', true],
    ['app notin (web)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['missing!=x', true],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['n>4', true],
    ['n<5', false],
    ['app in (api),tier', false],
    ['example.com/role', false],
  ];
  for (const [s, want] of cases) assert.equal(matchLabels(parseLabelSelector(s), l), want, s);
});

test('label selectors: syntax errors are 400 BadRequest', () => {
  for (const s of ['app in web', 'a b', '=x', 'app in (a', 'a=b c']) {
    assert.throws(() => parseLabelSelector(s), (e: unknown) => isStatusError(e, 'BadRequest'), s);
  }
});

test('label selector objects', () => {
  const sel = labelSelectorFromObject({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d'] }] })!;
  assert.equal(matchLabels(sel, { a: 'b', c: 'd' }), true);
  assert.equal(matchLabels(sel, { a: 'b', c: 'e' }), false);
  assert.equal(labelSelectorFromObject(undefined), undefined);
  assert.equal(matchLabels(labelSelectorFromObject({})!, { x: 'y' }), true);
});

test('field selectors', () => {
  const f = { 'metadata.name': 'a,b', 'status.phase': 'Running' };
  assert.equal(matchFields(parseFieldSelector('status.phase=Running'), f), true);
  assert.equal(matchFields(parseFieldSelector('status.phase!=Running'), f), false);
  assert.equal(matchFields(parseFieldSelector('metadata.name=a\\,b,status.phase==Running'), f), true);
  assert.throws(() => parseFieldSelector('foo'), (e: unknown) => isStatusError(e, 'BadRequest'));
});
