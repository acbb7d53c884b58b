import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimName, newPod, ordinalOf, revisionData, revisionName } from './statefulset-controller.ts';

const set = (image: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
  spec: {
    serviceName: 'svc',
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }], volumes: [{ name: 'data', emptyDir: {} }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' } }],
    ...extra,
  },
});

describe('statefulset controller helpers', () => {
  it('reads ordinals only from <set>-<n> names', () => {
    assert.equal(ordinalOf('web', 'web-0'), 0);
    assert.equal(ordinalOf('web', 'web-12'), 12);
    assert.equal(ordinalOf('web', 'web-01'), undefined);
    assert.equal(ordinalOf('web', 'web-x'), undefined);
    assert.equal(ordinalOf('web', 'webby-1'), undefined);
    assert.equal(ordinalOf('web', 'web-db-1'), undefined);
  });

  it('names revisions by template and keeps them stable', () => {
    const a = revisionName(set('nginx:1'));
    assert.match(a, /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(revisionName(set('nginx:1')), a);
    assert.notEqual(revisionName(set('nginx:2')), a);
    assert.equal(revisionName(set('nginx:1', { replicas: 5 })), a, 'replicas are not part of the revision');
    assert.deepEqual((revisionData({ spec: {} }) as any).spec.template.$patch, 'replace');
  });

  it('builds pods with identity labels, hostname/subdomain and claim volumes', () => {
    const p = newPod(set('nginx:1'), set('nginx:1').spec.template, 2, 'web-abc');
    assert.equal(p.metadata!.name, 'web-2');
    assert.deepEqual(p.metadata!.labels, { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-2', 'apps.kubernetes.io/pod-index': '2', 'controller-revision-hash': 'web-abc' });
    assert.equal(p.spec.hostname, 'web-2');
    assert.equal(p.spec.subdomain, 'svc');
    assert.deepEqual(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }]);
    assert.equal(p.metadata!.ownerReferences![0]!.kind, 'StatefulSet');
    assert.equal(claimName('data', 'web', 7), 'data-web-7');
  });
});
