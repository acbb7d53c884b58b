import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scheme } from '../api/scheme.ts';
import { loadModels } from './models.ts';
import { openapiV2, openapiV2Proto } from './openapi.ts';
import { encodeOpenApiV2, wantsOpenApiV2Proto } from './openapi-proto.ts';

/** Test-only protobuf reader: field number -> list of raw values (Buffer for length-delimited, bigint for varints, number for fixed64). */
function decode(b: Buffer): Map<number, Array<Buffer | bigint | number>> {
  const out = new Map<number, Array<Buffer | bigint | number>>();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const byte = b[i++]!;
      v |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return v;
      shift += 7n;
    }
  };
  while (i < b.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    let val: Buffer | bigint | number;
    switch (tag & 7) {
      case 0:
        val = varint();
        break;
      case 1:
        val = b.readDoubleLE(i);
        i += 8;
        break;
      case 2: {
        const n = Number(varint());
        val = b.subarray(i, i + n);
        i += n;
        break;
      }
      default:
        throw new Error(`unexpected wire type ${tag & 7}`);
    }
    if (!out.has(field)) out.set(field, []);
    out.get(field)!.push(val);
  }
  assert.equal(i, b.length);
  return out;
}
const str = (m: Map<number, unknown[]>, f: number) => (m.get(f)?.[0] as Buffer | undefined)?.toString('utf8');
const msg = (m: Map<number, unknown[]>, f: number) => decode(m.get(f)![0] as Buffer);
/** repeated Named* (name=1, value=2) as a map name -> decoded value. */
function named(list: unknown[] | undefined): Map<string, Map<number, Array<Buffer | bigint | number>>> {
  const r = new Map<string, Map<number, Array<Buffer | bigint | number>>>();
  for (const b of list ?? []) {
    const n = decode(b as Buffer);
    r.set(str(n, 1)!, decode(n.get(2)![0] as Buffer));
  }
  return r;
}

describe('openapi v2 protobuf (gnostic Document)', () => {
  it('negotiates on both spellings of the media type only', () => {
    assert.equal(wantsOpenApiV2Proto('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), true);
    assert.equal(wantsOpenApiV2Proto('application/json, application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=0.9'), true);
    assert.equal(wantsOpenApiV2Proto('application/json'), false);
    assert.equal(wantsOpenApiV2Proto(undefined), false);
  });

  it('encodes scalars, $ref, type, properties, items, additionalProperties, enum and vendor extensions', () => {
    const doc = {
      swagger: '2.0',
      info: { title: 'T', version: 'v1.32.0' },
      paths: { '/api/v1/pods': { get: { operationId: 'listPod', parameters: [{ name: 'limit', in: 'query', type: 'integer', uniqueItems: true }], responses: { '200': { description: 'OK' } }, 'x-kubernetes-action': 'list' } } },
      definitions: {
        A: {
          type: 'object',
          required: ['x'],
          properties: {
            x: { type: 'array', items: { $ref: '#/definitions/B' }, 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-list-map-keys': ['name'] },
            m: { type: 'object', additionalProperties: { type: 'string' } },
            e: { type: 'string', enum: ['One', 'Two'], maxLength: 300, minimum: 1.5 },
            n: { type: 'object', additionalProperties: false, minProperties: -1 },
          },
          'x-kubernetes-group-version-kind': [{ group: 'g', kind: 'A', version: 'v1' }],
        },
        B: { type: 'object', properties: {} },
      },
    };
    const d = decode(encodeOpenApiV2(doc));
    assert.equal(str(d, 1), '2.0');
    const info = msg(d, 2);
    assert.equal(str(info, 1), 'T');
    assert.equal(str(info, 2), 'v1.32.0');
    // Paths.path (2) -> PathItem.get (2) -> Operation
    const path = named(msg(d, 8).get(2)).get('/api/v1/pods')!;
    const op = decode(path.get(2)![0] as Buffer);
    assert.equal(str(op, 5), 'listPod');
    assert.equal(named(op.get(13)).has('x-kubernetes-action'), true);
    // ParametersItem.parameter (1) -> Parameter.non_body_parameter (2) -> query (3)
    const q = msg(msg(msg(decode(op.get(8)![0] as Buffer), 1), 2), 3);
    assert.equal(str(q, 4), 'limit');
    assert.equal(str(q, 2), 'query');
    assert.equal(str(q, 6), 'integer');
    assert.equal(q.get(20)![0], 1n);
    const codes = named(msg(op, 9).get(1));
    assert.equal(str(msg(codes.get('200')!, 1), 1), 'OK');
    // Definitions
    const defs = named(msg(d, 9).get(1));
    assert.deepEqual([...defs.keys()], ['A', 'B']);
    const a = defs.get('A')!;
    assert.equal(str(msg(a, 22), 1), 'object');
    assert.deepEqual(a.get(19)!.map((b) => (b as Buffer).toString()), ['x']);
    const gvk = named(a.get(31)).get('x-kubernetes-group-version-kind')!;
    assert.deepEqual(JSON.parse(str(gvk, 2)!), [{ group: 'g', kind: 'A', version: 'v1' }]);
    const props = named(msg(a, 25).get(1));
    const x = props.get('x')!;
    assert.equal(str(msg(x, 22), 1), 'array');
    assert.equal(str(msg(msg(x, 23), 1), 1), '#/definitions/B');
    const xe = named(x.get(31));
    assert.equal(JSON.parse(str(xe.get('x-kubernetes-patch-merge-key')!, 2)!), 'name');
    assert.deepEqual(JSON.parse(str(xe.get('x-kubernetes-list-map-keys')!, 2)!), ['name']);
    const m = props.get('m')!;
    assert.equal(str(msg(msg(msg(m, 21), 1), 22), 1), 'string');
    // oneof boolean false is still present; negative int64 is ten bytes of two's complement.
    const n = props.get('n')!;
    assert.equal(msg(n, 21).get(2)![0], 0n);
    assert.equal(n.get(18)![0], (1n << 64n) - 1n);
    const e = props.get('e')!;
    assert.deepEqual(e.get(20)!.map((b) => JSON.parse(str(decode(b as Buffer), 2)!)), ['One', 'Two']);
    assert.equal(e.get(11)![0], 300n);
    assert.equal(e.get(9)![0], 1.5);
    // An empty properties message is still present (kubectl treats the schema as a kind).
    assert.equal(defs.get('B')!.get(25)!.length, 1);
  });

  it('serves the scheme: definitions with gvk and patch metadata, cached bytes', async () => {
    await loadModels();
    const scheme = new Scheme();
    const json = openapiV2(scheme, 'v1.32.0') as { definitions: Record<string, any> };
    const pdb = json.definitions['io.k8s.api.policy.v1.PodDisruptionBudget'];
    assert.deepEqual(pdb['x-kubernetes-group-version-kind'], [{ group: 'policy', kind: 'PodDisruptionBudget', version: 'v1' }]);
    assert.equal(pdb.properties.spec.$ref, '#/definitions/io.k8s.api.policy.v1.PodDisruptionBudgetSpec');
    const bytes = openapiV2Proto(scheme, 'v1.32.0');
    assert.equal(openapiV2Proto(scheme, 'v1.32.0'), bytes);
    const defs = named(msg(decode(bytes), 9).get(1));
    const spec = defs.get('io.k8s.api.core.v1.PodSpec')!;
    const containers = named(msg(spec, 25).get(1)).get('containers')!;
    const ext = named(containers.get(31));
    assert.equal(JSON.parse(str(ext.get('x-kubernetes-patch-strategy')!, 2)!), 'merge');
    assert.equal(JSON.parse(str(ext.get('x-kubernetes-patch-merge-key')!, 2)!), 'name');
    assert.equal(json.definitions['io.k8s.api.policy.v1.PodDisruptionBudgetSpec'].properties.minAvailable.$ref, '#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    assert.equal(str(defs.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString')!, 2), 'int-or-string');
  });
});
