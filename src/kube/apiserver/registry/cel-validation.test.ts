import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { celRuleCompileErrors, validateCelRules } from './cel-validation.ts';

const schema = {
  type: 'object',
  'x-kubernetes-validations': [{ rule: "self.metadata.name.startsWith('w')", message: 'names start with w' }],
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas', message: 'minReplicas must not exceed replicas' },
        { rule: 'self.ratio < 1.0', messageExpression: "'ratio ' + string(self.ratio) + ' is too high'" },
        { rule: 'has(self.tier) || self.replicas < 10', reason: 'FieldValueRequired', fieldPath: '.tier', message: 'tier is required above 10 replicas' },
      ],
      properties: {
        replicas: { type: 'integer' },
        minReplicas: { type: 'integer' },
        ratio: { type: 'number' },
        tier: { type: 'string' },
        color: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'color is immutable' }] },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.port >= oldSelf.port', message: 'ports only grow' }] },
        },
        tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(t, t.matches("^[a-z]+$"))' }] },
      },
    },
  },
};

const obj = (spec: Record<string, unknown>, name = 'w1') => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'default', uid: 'u' }, spec });

describe('x-kubernetes-validations (CEL)', () => {
  test('valid objects pass; integers are CEL ints, numbers doubles', () => {
    assert.deepEqual(validateCelRules(schema, obj({ replicas: 3, minReplicas: 1, ratio: 0.5, tags: ['a'] })), []);
  });

  test('failing rules give field errors with message, messageExpression, reason and fieldPath', () => {
    const errs = validateCelRules(schema, obj({ replicas: 12, minReplicas: 20, ratio: 1.5, tags: ['A'] }, 'x1'));
    assert.deepEqual(
      errs.map((e) => [e.type, e.field, e.detail]),
      [
        ['FieldValueInvalid', '<root>', 'names start with w'],
        ['FieldValueInvalid', 'spec', 'minReplicas must not exceed replicas'],
        ['FieldValueInvalid', 'spec', 'ratio 1.5 is too high'],
        ['FieldValueRequired', 'spec.tier', 'tier is required above 10 replicas'],
        ['FieldValueInvalid', 'spec.tags', 'failed rule: self.all(t, t.matches("^[a-z]+$"))'],
      ],
    );
    assert.equal(errs[1]!.value, 'object');
  });

  test('transition rules run on update only, with oldSelf by property and by list-map key', () => {
    const before = obj({ replicas: 1, minReplicas: 1, ratio: 0, color: 'red', ports: [{ name: 'a', port: 80 }, { name: 'b', port: 90 }] });
    assert.deepEqual(validateCelRules(schema, before), [], 'create: no oldSelf');
    const after = obj({ replicas: 1, minReplicas: 1, ratio: 0, color: 'blue', ports: [{ name: 'b', port: 91 }, { name: 'a', port: 70 }, { name: 'c', port: 1 }] });
    const errs = validateCelRules(schema, after, before);
    assert.deepEqual(errs.map((e) => [e.field, e.detail]), [
      ['spec.color', 'color is immutable'],
      ['spec.ports[1]', 'ports only grow'],
    ]);
  });

  test('a runtime error is a field error naming the rule (upstream: "<error> evaluating rule: <rule>")', () => {
    const s = { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-validations': [{ rule: 'self.missing == 1' }] } } };
    const errs = validateCelRules(s, obj({}));
    assert.equal(errs.length, 1);
    assert.equal(errs[0]!.detail, 'no such key: missing evaluating rule: self.missing == 1');
  });

  test('optionalOldSelf: oldSelf is optional.none() on create, optional.of(old) on update', () => {
    const s = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { size: { type: 'integer' } },
          'x-kubernetes-validations': [{ rule: '!oldSelf.hasValue() || self.size >= oldSelf.value().size', optionalOldSelf: true, message: 'size only grows' }],
        },
      },
    };
    assert.deepEqual(validateCelRules(s, obj({ size: 3 })), []);
    assert.deepEqual(validateCelRules(s, obj({ size: 4 }), obj({ size: 3 })), []);
    assert.deepEqual(validateCelRules(s, obj({ size: 2 }), obj({ size: 3 })).map((e) => e.detail), ['size only grows']);
  });

  test('Kubernetes libraries in rules; their runtime errors name the message', () => {
    const s = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { memory: { type: 'string' }, cidr: { type: 'string' }, endpoint: { type: 'string' } },
          'x-kubernetes-validations': [
            { rule: "quantity(self.memory).isLessThan(quantity('4Gi'))", message: 'memory must be below 4Gi' },
            { rule: "!has(self.cidr) || cidr('10.0.0.0/8').containsCIDR(self.cidr)", message: 'cidr must be inside 10.0.0.0/8' },
            { rule: "!has(self.endpoint) || url(self.endpoint).getScheme() == 'https'" },
          ],
        },
      },
    };
    assert.deepEqual(validateCelRules(s, obj({ memory: '1Gi', cidr: '10.1.0.0/16', endpoint: 'https://x.example.com' })), []);
    assert.deepEqual(
      validateCelRules(s, obj({ memory: '8Gi', cidr: '192.168.0.0/16', endpoint: 'http://x' })).map((e) => e.detail),
      ['memory must be below 4Gi', 'cidr must be inside 10.0.0.0/8', "failed rule: !has(self.endpoint) || url(self.endpoint).getScheme() == 'https'"],
    );
    assert.deepEqual(validateCelRules(s, obj({ memory: '8GB' })).map((e) => e.detail), [
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' evaluating rule: memory must be below 4Gi",
    ]);
  });

  test('formats: duration, date-time and byte strings are durations, timestamps and bytes', () => {
    const s = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: { ttl: { type: 'string', format: 'duration' }, at: { type: 'string', format: 'date-time' }, blob: { type: 'string', format: 'byte' } },
          'x-kubernetes-validations': [
            { rule: "self.ttl < duration('1h')", message: 'ttl below 1h' },
            { rule: "self.at > timestamp('2020-01-01T00:00:00Z')", message: 'after 2020' },
            { rule: 'size(self.blob) == 3', message: 'three bytes' },
          ],
        },
      },
    };
    assert.deepEqual(validateCelRules(s, obj({ ttl: '30m', at: '2024-05-01T10:00:00Z', blob: 'YWJj' })), []);
    assert.deepEqual(validateCelRules(s, obj({ ttl: '2h', at: '2019-05-01T10:00:00Z', blob: 'YWI=' })).map((e) => e.detail), ['ttl below 1h', 'after 2020', 'three bytes']);
  });

  test('rules are typed against their schema node: undeclared fields and mismatched operands do not compile', () => {
    const bad = {
      type: 'object',
      'x-kubernetes-validations': [{ rule: "self.metadata.namespace == 'x'" }, { rule: "self.metadata.name.startsWith('w')" }],
      properties: {
        spec: {
          type: 'object',
          properties: { replicas: { type: 'integer' }, ports: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' } } } }, extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          'x-kubernetes-validations': [
            { rule: 'self.replics > 0' },
            { rule: 'self.ports.all(p, p.prot > 0)' },
            { rule: "self.replicas + 'x' == 'y'" },
            { rule: 'self.extra.anything == 1 && self.replicas < 1.5 && self == oldSelf' },
          ],
        },
      },
    };
    const errs = celRuleCompileErrors(bad, 'spec.versions[0].schema.openAPIV3Schema');
    assert.deepEqual(
      errs.map((e) => [e.field, e.detail!.split('\n')[0]]),
      [
        ['spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule', "compilation failed: ERROR: <input>:1:14: undefined field 'namespace'"],
        ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule', "compilation failed: ERROR: <input>:1:5: undefined field 'replics'"],
        ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].rule', "compilation failed: ERROR: <input>:1:20: undefined field 'prot'"],
        ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[2].rule', "compilation failed: ERROR: <input>:1:1: found no matching overload for '_+_' applied to '(int, string)'"],
      ],
    );
    // cel-go's source excerpt with a caret under the error.
    assert.equal(errs[1]!.detail, "compilation failed: ERROR: <input>:1:5: undefined field 'replics'\n | self.replics > 0\n | ....^");
  });

  test('rule fields are checked as upstream: message, reason, fieldPath, oldSelf on uncorrelatable list items', () => {
    const bad = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            a: { type: 'object', properties: { b: { type: 'string' } } },
            m: { type: 'object', additionalProperties: { type: 'string' } },
            list: { type: 'array', items: { type: 'string' } },
            tags: { type: 'array', items: { type: 'object', properties: { n: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } } },
          },
          'x-kubernetes-validations': [
            { rule: 'true', fieldPath: '.a.b' },
            { rule: 'true', fieldPath: ".m['any-key']" },
            { rule: 'true', fieldPath: '.a.c' },
            { rule: 'true', fieldPath: '.list[0]' },
            { rule: 'true', reason: 'FieldValueWrong' },
            { rule: 'true', message: '  ' },
            { rule: 'true &&\ntrue' },
            { rule: '' },
          ],
        },
      },
    };
    const errs = celRuleCompileErrors(bad, 'schema');
    assert.deepEqual(
      errs.map((e) => [e.field, e.type, e.detail]),
      [
        ['schema.properties[spec].x-kubernetes-validations[2].fieldPath', 'FieldValueInvalid', 'fieldPath must be a valid path: does not refer to a valid field'],
        ['schema.properties[spec].x-kubernetes-validations[3].fieldPath', 'FieldValueInvalid', 'fieldPath must be a valid path: expected single quoted string but got 0'],
        ['schema.properties[spec].x-kubernetes-validations[4].reason', 'FieldValueNotSupported', 'supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"'],
        ['schema.properties[spec].x-kubernetes-validations[5].message', 'FieldValueInvalid', 'message must be non-empty if specified'],
        ['schema.properties[spec].x-kubernetes-validations[6].message', 'FieldValueRequired', 'message must be specified if rule contains line breaks'],
        ['schema.properties[spec].x-kubernetes-validations[7].rule', 'FieldValueRequired', 'rule is not specified'],
        ['schema.properties[spec].properties[tags].items.properties[n].x-kubernetes-validations[0].rule', 'FieldValueInvalid', 'oldSelf cannot be used on the uncorrelatable portion of the schema within schema.properties[spec].properties[tags].items'],
      ],
    );
  });

  test('property names are escaped as upstream (__namespace__, __dash__, __dot__); has() on any selection', () => {
    const s = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            refs: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, namespace: { type: 'string' }, 'tls-mode': { type: 'string' } } } },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
          },
          'x-kubernetes-validations': [
            { rule: "self.refs.all(r, !has(r.__namespace__) || r.__namespace__ != 'kube-system')", message: 'no kube-system refs' },
            { rule: "self.refs.size() == 0 || !has(self.refs[0].tls__dash__mode) || self.refs[0].tls__dash__mode == 'strict'", message: 'first ref strict' },
            { rule: "!('a.b' in self.labels) || self.labels['a.b'] == 'x'", message: 'map keys stay raw' },
          ],
        },
      },
    };
    assert.deepEqual(celRuleCompileErrors(s, 'schema'), []);
    assert.deepEqual(validateCelRules(s, obj({ refs: [{ name: 'a', namespace: 'default', 'tls-mode': 'strict' }], labels: { 'a.b': 'x' } })), []);
    assert.deepEqual(
      validateCelRules(s, obj({ refs: [{ name: 'a', 'tls-mode': 'loose' }, { name: 'b', namespace: 'kube-system' }], labels: { 'a.b': 'y' } })).map((e) => e.detail),
      ['no kube-system refs', 'first ref strict', 'map keys stay raw'],
    );
    // The unescaped reserved name is not a field of the CEL type.
    const bad = { ...s, properties: { spec: { ...s.properties.spec, 'x-kubernetes-validations': [{ rule: "self.refs.all(r, r.namespace != '')" }] } } };
    assert.match(celRuleCompileErrors(bad, 'schema')[0]!.detail!, /compilation failed: ERROR: <input>:1:\d+: undefined field 'namespace'/);
  });

  test('ratcheting: on update a rule is not re-checked where the value is unchanged', () => {
    const s = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            a: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('ok')", message: 'a must start with ok' }] },
            b: { type: 'string', 'x-kubernetes-validations': [{ rule: "self.startsWith('ok')", message: 'b must start with ok' }] },
          },
        },
      },
    };
    const stored = obj({ a: 'legacy', b: 'okay' });
    assert.deepEqual(validateCelRules(s, obj({ a: 'legacy', b: 'ok2' }), stored), [], 'unchanged invalid a is ratcheted');
    assert.deepEqual(validateCelRules(s, obj({ a: 'legacy2', b: 'ok2' }), stored).map((e) => e.detail), ['a must start with ok']);
    assert.deepEqual(validateCelRules(s, obj({ a: 'legacy', b: 'ok2' })).map((e) => e.detail), ['a must start with ok'], 'create checks everything');
  });

  test('rules that do not compile are reported on the CRD', () => {
    const bad = { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.replicas <= ' }, { rule: 'true', messageExpression: '"a" +' }] } } };
    const errs = celRuleCompileErrors(bad, 'spec.versions[0].schema.openAPIV3Schema');
    assert.deepEqual(errs.map((e) => e.field), [
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule',
      'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].messageExpression',
    ]);
    assert.match(errs[0]!.detail!, /^compilation failed: /);
  });
});
