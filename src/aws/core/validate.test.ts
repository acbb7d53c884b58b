import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validationError } from './errors.ts';
import { loadModel, MODEL_NAMES } from './model.ts';
import { compilePattern, validateInput } from './validate.ts';

test('every model pattern either compiles to an anchored RegExp or is skipped, never throws', () => {
  let compiled = 0;
  for (const name of MODEL_NAMES) {
    for (const s of Object.values(loadModel(name).shapes)) {
      if (!s.pattern) continue;
      const re = compilePattern(s.pattern);
      if (re) compiled++;
    }
  }
  assert.ok(compiled > 100, `only ${compiled} patterns compiled`);
  assert.equal(compilePattern('[\\w+=,.@-]*')!.test('ok-name'), true);
  assert.equal(compilePattern('[\\w+=,.@-]*')!.test('bad name'), false, 'patterns are anchored (Java matches() semantics)');
  assert.equal(compilePattern('a*+'), undefined, 'possessive quantifiers are skipped');
});

test('required, length, pattern, range and enum problems, with paths into lists', () => {
  const sts = loadModel('sts');
  const none = validateInput(sts, 'AssumeRoleRequest', { RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 'ok' });
  assert.deepEqual(none, []);
  const p = validateInput(sts, 'AssumeRoleRequest', { RoleSessionName: 'x y', DurationSeconds: 10, Tags: [{ Key: 'k' }] });
  const kinds = p.map((x) => `${x.path.join('.')}:${x.kind}`).sort();
  assert.deepEqual(kinds, ['DurationSeconds:range', 'RoleArn:required', 'RoleSessionName:pattern', 'Tags.1.Value:required']);
  const kms = loadModel('kms');
  const e = validateInput(kms, 'CreateKeyRequest', { KeyUsage: 'NOPE' });
  assert.equal(e.length, 1);
  assert.match(e[0]!.constraint, /^Member must satisfy enum value set: \[/);
});

test('validation errors render per protocol family', () => {
  const sts = loadModel('sts');
  const q = validationError('sts', 'query', validateInput(sts, 'AssumeRoleRequest', { RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 'x' }));
  assert.equal(q.code, 'ValidationError');
  assert.equal(q.status, 400);
  assert.equal(q.message, "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2");
  const two = validationError('sts', 'query', validateInput(sts, 'AssumeRoleRequest', {}));
  assert.match(two.message, /^2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; Value null at 'roleSessionName'/);
  const ec2 = loadModel('ec2');
  const m = validationError('ec2', 'ec2', validateInput(ec2, 'DeleteVpcRequest', {}));
  assert.equal(m.code, 'MissingParameter');
  assert.equal(m.message, 'The request must contain the parameter VpcId');
  const eks = loadModel('eks');
  const r = validationError('eks', 'rest-json', validateInput(eks, 'ListClustersRequest', { maxResults: 1000 }));
  assert.equal(r.code, 'InvalidParameterException');
  assert.equal(r.message, "1 validation error detected: Value '1000' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100");
  assert.equal(validationError('kms', 'json', validateInput(loadModel('kms'), 'CreateKeyRequest', { KeyUsage: 'NOPE' })).code, 'ValidationException');
});
