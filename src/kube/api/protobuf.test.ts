import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtobufDecodeError, decodeKubeProtobuf, decodeProtobufMessage, goDuration, messageTypeOf } from './protobuf.ts';

// Bodies captured from kubectl v1.32.4 (the bytes it POSTs):
//   kubectl create deployment web --image=nginx:1.27 --replicas=0 --port=8080
const DEPLOYMENT =
  'azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50Er4BCh8KA3dlYhIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViEowBCAASDAoKCgNhcHASA3dlYhpyChwKABIAGgAiACoAMgA4AEIAWgoKA2FwcBIDd2ViElISNAoFbmdpbngSCm5naW54OjEuMjcqADILCgAQABiQPyIAKgBCAGoAcgCAAQCIAQCQAQCiAQAaADIAQgBKAFIAWABgAGgAggEAigEAmgEAwgEAIgIKACgAOAAaDAgAEAAYACAAKAA4ABoAIgA=';
//   kubectl create token sa1 --duration=2h --bound-object-kind=Pod --bound-object-name=p1 --bound-object-uid=u-1 --audience=a1
const TOKEN_REQUEST = 'azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBI1ChAKABIAGgAiACoAMgA4AEIAEhsKAmExGhIKA1BvZBICdjEaAnAxIgN1LTEgoDgaBAoAEgAaACIA';
//   kubectl create priorityclass high --value=-5
const PRIORITY_CLASS = 'azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxI7ChQKBGhpZ2gSABoAIgAqADIAOABCABD7//////////8BGAAiACoUUHJlZW1wdExvd2VyUHJpb3JpdHkaACIA';

// A minimal protobuf writer for hand-made messages (wire format only; field numbers below are upstream's).
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
};
const vf = (num: number, v: number | bigint): number[] => [...varint(num * 8), ...varint(v)];
const bf = (num: number, b: number[] | string): number[] => {
  const bytes = typeof b === 'string' ? [...Buffer.from(b, 'utf8')] : b;
  return [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
};
const envelope = (apiVersion: string, kind: string, raw: number[]): Buffer => Buffer.from([0x6b, 0x38, 0x73, 0, ...bf(1, [...bf(1, apiVersion), ...bf(2, kind)]), ...bf(2, raw)]);

describe('Kubernetes protobuf decoding', () => {
  test('kubectl create deployment: the JSON kubectl would have sent', () => {
    assert.deepEqual(decodeKubeProtobuf(Buffer.from(DEPLOYMENT, 'base64')), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', creationTimestamp: null, labels: { app: 'web' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });

  test('TokenRequest: proto field uID is JSON uid; int64 expirationSeconds', () => {
    const o = decodeKubeProtobuf(Buffer.from(TOKEN_REQUEST, 'base64')) as any;
    assert.equal(o.kind, 'TokenRequest');
    assert.deepEqual(o.spec, { audiences: ['a1'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: 'u-1' }, expirationSeconds: 7200 });
    assert.equal(o.status.expirationTimestamp, null);
  });

  test('negative int32 (ten-byte varint)', () => {
    const o = decodeKubeProtobuf(Buffer.from(PRIORITY_CLASS, 'base64')) as any;
    assert.equal(o.value, -5);
    assert.equal(o.preemptionPolicy, 'PreemptLowerPriority');
    assert.equal('globalDefault' in o, false, 'false omitempty bool left out');
  });

  test('Time, MicroTime, IntOrString, Quantity, bytes maps, inline structs, list wrappers', () => {
    // core/v1 Pod: metadata(1){creationTimestamp(8){seconds(1), nanos(2)}, deletionGracePeriodSeconds(10)},
    // spec(2){volumes(1)[{name(1), volumeSource(2){emptyDir(2){sizeLimit(2) Quantity{string(1)}}}}],
    //         containers(2)[{name(1), livenessProbe(10){handler(1){httpGet(2){port(2) IntOrString{type(1), strVal(3)}}}}]}
    const pod = envelope('v1', 'Pod', [
      ...bf(1, [...bf(8, [...vf(1, 1700000000), ...vf(2, 0)]), ...vf(10, 30)]),
      ...bf(2, [
        ...bf(1, [...bf(1, 'cache'), ...bf(2, bf(2, bf(2, bf(1, '1Gi'))))]),
        ...bf(2, [...bf(1, 'app'), ...bf(10, bf(1, bf(2, bf(2, [...vf(1, 1), ...bf(3, 'http')]))))]),
        ...bf(2, [...bf(1, 'side'), ...bf(10, bf(1, bf(2, bf(2, [...vf(1, 0), ...vf(2, 8080)]))))]),
      ]),
    ]);
    const o = decodeKubeProtobuf(pod) as any;
    assert.equal(o.metadata.creationTimestamp, '2023-11-14T22:13:20Z');
    assert.equal(o.metadata.deletionGracePeriodSeconds, 30);
    assert.deepEqual(o.spec.volumes, [{ name: 'cache', emptyDir: { sizeLimit: '1Gi' } }]);
    assert.deepEqual(o.spec.containers[0].livenessProbe, { httpGet: { port: 'http' } });
    assert.deepEqual(o.spec.containers[1].livenessProbe, { httpGet: { port: 8080 } });

    // coordination/v1 Lease: spec(2){holderIdentity(1), renewTime(4) MicroTime}
    const lease = decodeKubeProtobuf(envelope('coordination.k8s.io/v1', 'Lease', [...bf(1, bf(1, 'l')), ...bf(2, [...bf(1, 'me'), ...bf(4, [...vf(1, 1700000000), ...vf(2, 123456789)])])])) as any;
    assert.deepEqual(lease.spec, { holderIdentity: 'me', renewTime: '2023-11-14T22:13:20.123456Z' });

    // core/v1 Secret data(2) map<string, bytes>: entries {key(1), value(2)}
    const secret = decodeKubeProtobuf(envelope('v1', 'Secret', [...bf(2, [...bf(1, 'k'), ...bf(2, [0, 1, 255])])])) as any;
    assert.deepEqual(secret.data, { k: Buffer.from([0, 1, 255]).toString('base64') });

    // authorization/v1 SubjectAccessReview spec(2){user(3), extra(5) map<string, ExtraValue{items(1)}>}
    const sar = decodeKubeProtobuf(envelope('authorization.k8s.io/v1', 'SubjectAccessReview', [...bf(2, [...bf(3, 'u'), ...bf(5, [...bf(1, 'scopes'), ...bf(2, [...bf(1, 'a'), ...bf(1, 'b')])])])])) as any;
    assert.deepEqual(sar.spec, { user: 'u', extra: { scopes: ['a', 'b'] } });
  });

  test('RawExtension holds embedded JSON; unknown field numbers are skipped', () => {
    // apps/v1 ControllerRevision: data(2) RawExtension{raw(1)}, revision(3), field 99 unknown
    const o = decodeKubeProtobuf(envelope('apps/v1', 'ControllerRevision', [...bf(1, bf(1, 'cr')), ...bf(2, bf(1, '{"spec":{"x":1}}')), ...vf(3, 4), ...bf(99, 'ignored')])) as any;
    assert.deepEqual(o, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'cr' }, data: { spec: { x: 1 } }, revision: 4 });
  });

  test('DeleteOptions under any group version resolves to meta/v1', () => {
    assert.equal(messageTypeOf('apps/v1', 'DeleteOptions'), 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
    // gracePeriodSeconds(1), propagationPolicy(4), dryRun(5)
    const o = decodeKubeProtobuf(envelope('v1', 'DeleteOptions', [...vf(1, 0), ...bf(4, 'Foreground'), ...bf(5, 'All')])) as any;
    assert.deepEqual(o, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'] });
  });

  test('CustomResourceDefinition: JSON-schema unions, embedded JSON defaults and enums, $ref-style names', () => {
    // apiextensions/v1 CRD: spec(2){group(1), names(3){plural(1), kind(4)}, scope(4), versions(7)[{name(1), served(2), storage(3), schema(4){openAPIV3Schema(1)}}]}
    // JSONSchemaProps: type(5), enum(20) JSON{raw(1)}, default(8), items(24) OrArray{schema(1)}, properties(29) map, additionalProperties(30) OrBool{allows(1), schema(2)}, x-kubernetes-preserve-unknown-fields(38)
    const props = (...entries: number[][]) => entries.flatMap((e) => bf(29, e));
    const color = [...bf(1, 'color'), ...bf(2, [...bf(5, 'string'), ...bf(20, bf(1, '"red"')), ...bf(20, bf(1, '"blue"')), ...bf(8, bf(1, '"red"'))])];
    const tags = [...bf(1, 'tags'), ...bf(2, [...bf(5, 'array'), ...bf(24, bf(1, bf(5, 'string')))])];
    const labels = [...bf(1, 'labels'), ...bf(2, [...bf(5, 'object'), ...bf(30, bf(2, bf(5, 'string')))])];
    const closed = [...bf(1, 'closed'), ...bf(2, [...bf(5, 'object'), ...bf(30, vf(1, 0))])];
    const extra = [...bf(1, 'extra'), ...bf(2, [...bf(5, 'object'), ...vf(38, 1)])];
    const schema = [...bf(5, 'object'), ...props([...bf(1, 'spec'), ...bf(2, [...bf(5, 'object'), ...props(color, tags, labels, closed, extra)])])];
    const crd = envelope('apiextensions.k8s.io/v1', 'CustomResourceDefinition', [
      ...bf(1, bf(1, 'widgets.example.com')),
      ...bf(2, [...bf(1, 'example.com'), ...bf(3, [...bf(1, 'widgets'), ...bf(4, 'Widget')]), ...bf(4, 'Namespaced'), ...bf(7, [...bf(1, 'v1'), ...vf(2, 1), ...vf(3, 1), ...bf(4, bf(1, schema))])]),
    ]);
    const o = decodeKubeProtobuf(crd) as any;
    assert.equal(o.spec.group, 'example.com');
    assert.deepEqual(o.spec.names, { plural: 'widgets', kind: 'Widget' });
    const v = o.spec.versions[0];
    assert.equal(v.served, true);
    assert.deepEqual(v.schema.openAPIV3Schema.properties.spec.properties, {
      color: { type: 'string', enum: ['red', 'blue'], default: 'red' },
      tags: { type: 'array', items: { type: 'string' } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      closed: { type: 'object', additionalProperties: false },
      extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    });
  });

  test('Duration as Go prints it', () => {
    assert.equal(goDuration(3600e9), '1h0m0s');
    assert.equal(goDuration(90e9), '1m30s');
    assert.equal(goDuration(1.5e9), '1.5s');
    assert.equal(goDuration(300e6), '300ms');
    assert.equal(goDuration(0), '0s');
    assert.equal(decodeProtobufMessage('k8s.io.apimachinery.pkg.apis.meta.v1.Duration', Buffer.from(vf(1, 5e9))), '5s');
  });

  test('bad input: prefix, truncation, unknown kinds', () => {
    assert.throws(() => decodeKubeProtobuf(Buffer.from('{"kind":"Pod"}')), /expected prefix/);
    const full = Buffer.from(DEPLOYMENT, 'base64');
    assert.throws(() => decodeKubeProtobuf(full.subarray(0, full.length - 10)), ProtobufDecodeError);
    assert.throws(
      () => decodeKubeProtobuf(envelope('example.com/v1', 'Widget', [])),
      (e: unknown) => e instanceof ProtobufDecodeError && e.unsupportedKind && /no kind "Widget" is registered for version "example.com\/v1"/.test(e.message),
    );
    assert.throws(() => decodeKubeProtobuf(Buffer.from([0x6b, 0x38, 0x73, 0, ...bf(2, [])])), /Kind' is missing/);
  });
});
