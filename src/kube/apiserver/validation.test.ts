import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fieldErrorBody, fieldErr, newInvalid } from './errors.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateObjectMeta } from './validation.ts';
import { validatePodSpec } from './registry/strategies.ts';

test('names', () => {
  assert.deepEqual(isDNS1123Subdomain('a.b-c'), []);
  assert.match(isDNS1123Subdomain('A')[0]!, /a lowercase RFC 1123 subdomain must consist of/);
  assert.match(isDNS1123Label('a.b')[0]!, /a lowercase RFC 1123 label must consist of/);
  assert.deepEqual(isDNS1123Label('x'.repeat(64)), ['must be no more than 63 characters', ...isDNS1123Label('x'.repeat(64)).slice(1)]);
  assert.deepEqual(isQualifiedName('example.com/name'), []);
  assert.match(isQualifiedName('bad key')[0]!, /name part must consist of alphanumeric characters/);
  assert.match(isQualifiedName('Bad_Prefix/x')[0]!, /^prefix part a lowercase RFC 1123 subdomain/);
});

test('object meta errors carry upstream field paths and messages', () => {
  const errs = validateObjectMeta({ labels: { 'a b': 'c', ok: 'bad value' } }, true, isDNS1123Subdomain);
  const s = errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  assert.ok(s.includes('metadata.name: Required value: name or generateName is required'), s.join('\n'));
  assert.ok(s.includes('metadata.namespace: Required value'), s.join('\n'));
  assert.ok(s.some((x) => x.startsWith('metadata.labels: Invalid value: "a b": name part must consist')));
  assert.ok(s.some((x) => x.startsWith('metadata.labels: Invalid value: "bad value": a valid label must be an empty string')));
});

test('422 Invalid status shape', () => {
  const e = newInvalid({ group: 'apps', kind: 'Deployment' }, 'd', [fieldErr.required('spec.selector'), fieldErr.invalid('spec.replicas', -1, 'must be greater than or equal to 0')]);
  assert.equal(e.status.code, 422);
  assert.equal(e.status.reason, 'Invalid');
  assert.equal(e.status.message, 'Deployment.apps "d" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]');
  assert.deepEqual(e.status.details!.causes![0], { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
  const one = newInvalid({ group: '', kind: 'Pod' }, 'p', [fieldErr.required('spec.containers')]);
  assert.equal(one.status.message, 'Pod "p" is invalid: spec.containers: Required value');
});

test('pod spec validation', () => {
  const errs = validatePodSpec({ containers: [{ name: 'a', image: 'x' }, { name: 'a' }], restartPolicy: 'Bad', volumes: [{ name: 'v' }, { name: 'v' }] }, 'spec');
  const s = errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  assert.ok(s.includes('spec.containers[1].name: Duplicate value: "a"'), s.join('\n'));
  assert.ok(s.includes('spec.containers[1].image: Required value'));
  assert.ok(s.includes('spec.restartPolicy: Unsupported value: "Bad": supported values: "Always", "OnFailure", "Never"'));
  assert.ok(s.includes('spec.volumes[1].name: Duplicate value: "v"'));
});
