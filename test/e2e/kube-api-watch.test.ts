/**
 * Watches from a resourceVersion older than the watch cache's window (after a
 * restart the cache starts at the current revision; a busy cluster's buffer
 * moves on) are served from the store, as kube-apiserver serves them from
 * etcd: every event since that revision, with label selectors applied, then
 * the live stream. Only a compacted revision is 410 Gone. Clients:
 * @kubernetes/client-node's Watch and informer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;
before(async () => {
  h = await startKubeHarness('watchhist');
});
after(async () => {
  await h.close();
});

const kc = () => {
  const c = new k8s.KubeConfig();
  c.loadFromFile(h.kubeconfig);
  return c;
};

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('watch from before the watch cache window', () => {
  test('after a restart, a watch from an old resourceVersion gets every event since, then live ones', async () => {
    const core = kc().makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'hist' } } });
    const a = await core.createNamespacedConfigMap({ namespace: 'hist', body: { metadata: { name: 'a', labels: { team: 'x' } }, data: { v: '1' } } });
    const from = a.metadata!.resourceVersion!;
    await core.replaceNamespacedConfigMap({ name: 'a', namespace: 'hist', body: { ...a, data: { v: '2' } } });
    const b = await core.createNamespacedConfigMap({ namespace: 'hist', body: { metadata: { name: 'b', labels: { team: 'y' } } } });
    await core.replaceNamespacedConfigMap({ name: 'b', namespace: 'hist', body: { ...b, metadata: { ...b.metadata, labels: { team: 'x' } } } });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace: 'hist' });
    // A restart: the cluster's caches go, the new watch cache starts at the current revision.
    h.api.forget(h.cluster.uid);

    const all: Array<[string, string, string]> = [];
    const w = new k8s.Watch(kc());
    const req = await w.watch('/api/v1/namespaces/hist/configmaps', { resourceVersion: from }, (t, o: any) => all.push([t, o.metadata.name, o.data?.v ?? '']), () => {});
    const sel: Array<[string, string]> = [];
    const req2 = await w.watch('/api/v1/namespaces/hist/configmaps', { resourceVersion: from, labelSelector: 'team=x' }, (t, o: any) => sel.push([t, o.metadata.name]), () => {});
    await until('history', () => all.length >= 4);
    assert.deepEqual(all.slice(0, 4), [
      ['MODIFIED', 'a', '2'],
      ['ADDED', 'b', ''],
      ['MODIFIED', 'b', ''],
      ['DELETED', 'a', '2'],
    ]);
    // With a selector: b enters it by its label change (ADDED), a leaves by deletion.
    await until('selected history', () => sel.length >= 3);
    assert.deepEqual(sel.slice(0, 3), [
      ['MODIFIED', 'a'],
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    await core.createNamespacedConfigMap({ namespace: 'hist', body: { metadata: { name: 'c', labels: { team: 'x' } } } });
    await until('live event', () => all.some(([t, n]) => t === 'ADDED' && n === 'c'));
    await until('live selected event', () => sel.some(([t, n]) => t === 'ADDED' && n === 'c'));
    assert.equal(all.length, 5, JSON.stringify(all));
    req.abort();
    req2.abort();
  });

  test('a compacted resourceVersion is 410 Expired', async () => {
    const core = kc().makeApiClient(k8s.CoreV1Api);
    const cm = await core.createNamespacedConfigMap({ namespace: 'hist', body: { metadata: { name: 'old' } } });
    const old = Number(cm.metadata!.resourceVersion);
    await core.createNamespacedConfigMap({ namespace: 'hist', body: { metadata: { name: 'newer' } } });
    await h.backend.compact(old + 1);
    h.api.forget(h.cluster.uid);
    const events: Array<[string, any]> = [];
    let done = false;
    await new k8s.Watch(kc()).watch('/api/v1/namespaces/hist/configmaps', { resourceVersion: String(old - 1) }, (t, o) => events.push([t, o]), () => (done = true));
    await until('watch end', () => done);
    assert.equal(events[0]?.[0], 'ERROR');
    assert.equal(events[0]?.[1].code, 410);
    assert.equal(events[0]?.[1].reason, 'Expired');
  });
});
