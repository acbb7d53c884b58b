import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BUILTIN_RESOURCES, Scheme, deprecationWarning, resourcesForVersion } from './scheme.ts';

const has = (v: string, gv: string, resource: string) => resourcesForVersion(v).some((r) => `${r.group}/${r.version}` === gv && r.resource === resource);

describe('built-in resources per Kubernetes minor', () => {
  test('flowcontrol v1beta3 is served through 1.31 only, deprecated, never preferred', () => {
    for (const v of ['1.29', '1.30', '1.31']) assert.ok(has(v, 'flowcontrol.apiserver.k8s.io/v1beta3', 'flowschemas'), v);
    for (const v of ['1.32', '1.33', '1.35']) assert.ok(!has(v, 'flowcontrol.apiserver.k8s.io/v1beta3', 'prioritylevelconfigurations'), v);
    const r = resourcesForVersion('1.31').find((x) => x.version === 'v1beta3' && x.resource === 'flowschemas')!;
    assert.equal(r.preferred, false);
    assert.equal(r.storageResource, 'flowcontrol.apiserver.k8s.io/flowschemas');
    assert.deepEqual(r.subresources.map((s) => `${s.name}:${s.version}`), ['status:v1beta3']);
    assert.equal(deprecationWarning(r), 'flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema is deprecated in v1.29+, unavailable in v1.32+; use flowcontrol.apiserver.k8s.io/v1 FlowSchema');
    const groups = new Scheme(resourcesForVersion('1.31')).groups().find((g) => g.name === 'flowcontrol.apiserver.k8s.io')!;
    assert.deepEqual(groups.versions, ['v1', 'v1beta3']);
  });

  test('core v1 Endpoints warns from 1.33 without a removal', () => {
    const ep = (v: string) => resourcesForVersion(v).find((r) => r.group === '' && r.resource === 'endpoints')!;
    assert.equal(deprecationWarning(ep('1.32')), undefined);
    assert.equal(deprecationWarning(ep('1.33')), 'v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice');
    assert.equal(resourcesForVersion('1.32').length, BUILTIN_RESOURCES.length);
  });

  test('Scheme.removeVersion drops one group-version of a resource', () => {
    const s = new Scheme(resourcesForVersion('1.31'));
    s.removeVersion('flowcontrol.apiserver.k8s.io', 'v1beta3', 'flowschemas');
    assert.equal(s.get('flowcontrol.apiserver.k8s.io', 'v1beta3', 'flowschemas'), undefined);
    assert.ok(s.get('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas'));
  });
});
