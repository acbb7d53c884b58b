/**
 * StatefulSets end to end with the aws CLI and kubectl (2 m5.large):
 *  - OrderedReady: `<set>-1` is created only once `<set>-0` is Running and
 *    Ready (readiness gated by a probe delay on the simulated clock);
 *    Parallel creates all pods at once;
 *  - stable names, pod-name / pod-index / controller-revision-hash labels,
 *    hostname and subdomain, one PVC per volumeClaimTemplate and ordinal;
 *  - `kubectl rollout status sts/x`; RollingUpdate with a partition updates
 *    only the ordinals at or above it, then all in reverse order;
 *    ControllerRevisions and `kubectl rollout history`;
 *  - scaling down removes the highest ordinals; whenScaled: Delete removes
 *    their PVCs;
 *  - EBS provisioning: a gp3 (ebs.csi.aws.com, WaitForFirstConsumer) claim
 *    waits for the CSI driver (ExternalProvisioning), then binds to a PV in
 *    its pod's zone; deleting the claim deletes the PV (reclaimPolicy Delete).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDataPlaneCluster, type DataPlaneCluster } from '../helpers/dataplane-cluster.ts';
import { waitFor } from '../helpers/server.ts';

let dp: DataPlaneCluster;

function sts(name: string, replicas: number, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      replicas,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'nginx:1.27', ...container }] },
      },
      ...spec,
    },
  });
}

async function create(body: string): Promise<void> {
  const r = await dp.kubectl(['create', '-f', '-'], body);
  assert.equal(r.code, 0, r.stderr);
}

const podsOf = async (app: string): Promise<any[]> => (await dp.kubectlJson(['get', 'pods', '-l', `app=${app}`])).items.filter((p: any) => !p.metadata.deletionTimestamp);
const names = (l: any[]) => l.map((p) => p.metadata.name).sort();
const isReady = (p: any) => p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

before(async () => {
  dp = await startDataPlaneCluster({ name: 'sts', cidr: '10.72', nodes: 2 });
});
after(async () => {
  await dp?.stop();
});

describe('workloads: StatefulSets with kubectl', () => {
  it('OrderedReady creates each ordinal only once the previous one is Running and Ready', async () => {
    await create(sts('ordered', 3, {}, { readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 30 } }));
    await waitFor(async () => (await podsOf('ordered')).some((p) => p.status?.phase === 'Running'), { what: 'ordered-0 Running' });
    let l = await podsOf('ordered');
    assert.deepEqual(names(l), ['ordered-0'], 'ordered-1 waits for ordered-0 to be Ready');
    for (let k = 1; k <= 3; k++) {
      await dp.advance(30);
      await waitFor(async () => {
        l = await podsOf('ordered');
        return l.filter(isReady).length >= k && (k === 3 || l.length === k + 1);
      }, { what: `${k} ready, ${Math.min(3, k + 1)} created` });
      assert.ok(l.length <= k + 1, `at most one pod beyond the ready ones (${names(l)})`);
    }
    assert.deepEqual(names(l), ['ordered-0', 'ordered-1', 'ordered-2']);
  });

  it('Parallel creates every pod at once', async () => {
    await create(sts('par', 3, { podManagementPolicy: 'Parallel' }, { readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 3600 } }));
    const l = (await waitFor(async () => {
      const x = await podsOf('par');
      return x.length === 3 ? x : undefined;
    }, { what: '3 par pods' }))!;
    assert.equal(l.filter(isReady).length, 0);
    assert.equal((await dp.kubectl(['delete', 'sts', 'par'])).code, 0);
  });

  it('stable identities, PVCs per claim template, rollout status, partitioned rolling update and history', async () => {
    await create(sts('web', 3, {
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp2', resources: { requests: { storage: '1Gi' } } } }],
      persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Retain' },
    }));
    const r = await dp.kubectl(['rollout', 'status', 'sts/web', '--timeout=60s']);
    assert.equal(r.code, 0, r.stderr);
    // The defaulted rollingUpdate.partition makes kubectl report a partitioned roll out, as on EKS.
    assert.match(r.stdout, /partitioned roll out complete: 3 new pods have been updated/);
    const s1 = await dp.kubectlJson(['get', 'sts', 'web']);
    assert.equal(s1.status.readyReplicas, 3);
    assert.equal(s1.status.currentRevision, s1.status.updateRevision);
    const rev1 = s1.status.updateRevision;
    const pods = await podsOf('web');
    assert.deepEqual(names(pods), ['web-0', 'web-1', 'web-2']);
    for (const p of pods) {
      const n = p.metadata.name;
      assert.equal(p.metadata.labels['statefulset.kubernetes.io/pod-name'], n);
      assert.equal(p.metadata.labels['apps.kubernetes.io/pod-index'], n.split('-')[1]);
      assert.equal(p.metadata.labels['controller-revision-hash'], rev1);
      assert.equal(p.spec.hostname, n);
      assert.equal(p.spec.subdomain, 'web');
      assert.equal(p.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName, `data-${n}`);
    }
    const pvcs = (await dp.kubectlJson(['get', 'pvc', '-l', 'app=web'])).items;
    assert.deepEqual(pvcs.map((c: any) => c.metadata.name).sort(), ['data-web-0', 'data-web-1', 'data-web-2']);
    assert.equal(pvcs[0].spec.resources.requests.storage, '1Gi');

    // Partition 2: only web-2 takes the new template.
    let p = await dp.kubectl(['patch', 'sts', 'web', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}']);
    assert.equal(p.code, 0, p.stderr);
    p = await dp.kubectl(['set', 'image', 'sts/web', 'app=nginx:1.28']);
    assert.equal(p.code, 0, p.stderr);
    const rs = await dp.kubectl(['rollout', 'status', 'sts/web', '--timeout=60s']);
    assert.equal(rs.code, 0, rs.stderr);
    assert.match(rs.stdout, /partitioned roll out complete: 1 new pods have been updated/);
    const s2 = await dp.kubectlJson(['get', 'sts', 'web']);
    const rev2 = s2.status.updateRevision;
    assert.notEqual(rev2, rev1);
    assert.equal(s2.status.currentRevision, rev1);
    const byName = Object.fromEntries((await podsOf('web')).map((x: any) => [x.metadata.name, x]));
    assert.equal(byName['web-2'].metadata.labels['controller-revision-hash'], rev2);
    assert.equal(byName['web-2'].spec.containers[0].image, 'nginx:1.28');
    assert.equal(byName['web-0'].metadata.labels['controller-revision-hash'], rev1);
    assert.equal(byName['web-1'].spec.containers[0].image, 'nginx:1.27');

    // Partition 0: the rest follow, highest ordinal first.
    p = await dp.kubectl(['patch', 'sts', 'web', '--type=merge', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}']);
    assert.equal(p.code, 0, p.stderr);
    const done = await dp.kubectl(['rollout', 'status', 'sts/web', '--timeout=60s']);
    assert.equal(done.code, 0, done.stderr);
    const s3 = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'sts', 'web']);
      return o.status.currentRevision === rev2 && o.status.updatedReplicas === 3 ? o : undefined;
    }, { what: 'currentRevision = updateRevision' });
    assert.equal(s3.status.currentReplicas, 3);
    const after = await podsOf('web');
    assert.ok(after.every((x: any) => x.spec.containers[0].image === 'nginx:1.28'));
    const web0 = after.find((x: any) => x.metadata.name === 'web-0');
    const web1 = after.find((x: any) => x.metadata.name === 'web-1');
    assert.ok(Date.parse(web1.metadata.creationTimestamp) <= Date.parse(web0.metadata.creationTimestamp), 'web-1 was replaced before web-0');

    const evs = (await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=web,involvedObject.kind=StatefulSet'])).items.map((e: any) => e.message);
    assert.ok(evs.includes('create Pod web-0 in StatefulSet web successful'), evs.join('\n'));
    assert.ok(evs.includes('create Claim data-web-0 Pod web-0 in StatefulSet web success'), evs.join('\n'));
    assert.ok(evs.includes('delete Pod web-2 in StatefulSet web successful'), evs.join('\n'));
    const crs = (await dp.kubectlJson(['get', 'controllerrevisions', '-l', 'app=web'])).items;
    assert.deepEqual(crs.map((c: any) => [c.metadata.name, c.revision]).sort(), [[rev1, 1], [rev2, 2]].sort());
    assert.equal(crs[0].metadata.ownerReferences[0].kind, 'StatefulSet');
    const h = await dp.kubectl(['rollout', 'history', 'sts/web']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^1\s/m);
    assert.match(h.stdout, /^2\s/m);

    // kubectl rollout undo brings revision 1's template back as revision 3.
    const u = await dp.kubectl(['rollout', 'undo', 'sts/web']);
    assert.equal(u.code, 0, u.stderr);
    await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'sts', 'web']);
      return o.status.updateRevision === rev1 && o.status.currentRevision === rev1 && o.status.updatedReplicas === 3 && o.status.readyReplicas === 3;
    }, { what: 'rolled back to the first template' });
    const cr1 = await dp.kubectlJson(['get', 'controllerrevision', rev1]);
    assert.equal(cr1.revision, 3);
    assert.ok((await podsOf('web')).every((x: any) => x.spec.containers[0].image === 'nginx:1.27'));
  });

  it('scaling down removes the highest ordinals and, with whenScaled: Delete, their PVCs', async () => {
    const s = await dp.kubectl(['scale', 'sts/web', '--replicas=1']);
    assert.equal(s.code, 0, s.stderr);
    await waitFor(async () => JSON.stringify(names(await podsOf('web'))) === '["web-0"]', { what: 'only web-0 left' });
    await waitFor(async () => {
      const l = (await dp.kubectlJson(['get', 'pvc', '-l', 'app=web'])).items.filter((c: any) => !c.metadata.deletionTimestamp);
      return JSON.stringify(l.map((c: any) => c.metadata.name)) === '["data-web-0"]';
    }, { what: 'PVCs of web-1 and web-2 deleted' });
    const st = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'sts', 'web']);
      return o.status.replicas === 1 ? o.status : undefined;
    }, { what: 'status.replicas 1' });
    assert.equal(st.readyReplicas, 1);
  });

  it('EBS provisioning waits for the CSI driver, then binds a PV in the pod\'s zone', async () => {
    await create(JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'gp3' }, provisioner: 'ebs.csi.aws.com', volumeBindingMode: 'WaitForFirstConsumer', parameters: { type: 'gp3' } }));
    await create(sts('db', 1, { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'gp3', resources: { requests: { storage: '2Gi' } } } }] }));
    const ev = await waitFor(async () => (await dp.kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=data-db-0,reason=ExternalProvisioning'])).items[0], { what: 'ExternalProvisioning event' });
    assert.match(ev.message, /external provisioner 'ebs.csi.aws.com'/);
    assert.equal((await dp.kubectlJson(['get', 'pvc', 'data-db-0'])).status.phase, 'Pending');
    // Installing the driver (here its CSIDriver object, as a self-managed install does) lets provisioning proceed.
    await create(JSON.stringify({ apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'ebs.csi.aws.com' }, spec: { attachRequired: true, podInfoOnMount: false } }));
    const pvc = await waitFor(async () => {
      const o = await dp.kubectlJson(['get', 'pvc', 'data-db-0']);
      return o.status.phase === 'Bound' ? o : undefined;
    }, { what: 'data-db-0 Bound' });
    assert.equal(pvc.spec.volumeName, `pvc-${pvc.metadata.uid}`);
    assert.equal(pvc.status.capacity.storage, '2Gi');
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'ebs.csi.aws.com');
    const pv = await dp.kubectlJson(['get', 'pv', pvc.spec.volumeName]);
    assert.equal(pv.status.phase, 'Bound');
    assert.equal(pv.spec.csi.driver, 'ebs.csi.aws.com');
    assert.match(pv.spec.csi.volumeHandle, /^vol-[0-9a-f]{17}$/);
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
    assert.equal(pv.spec.claimRef.name, 'data-db-0');
    const pod = await dp.kubectlJson(['get', 'pod', 'db-0']);
    const node = await dp.kubectlJson(['get', 'node', pod.spec.nodeName]);
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'topology.ebs.csi.aws.com/zone', operator: 'In', values: [node.metadata.labels['topology.kubernetes.io/zone']] });
    const table = await dp.kubectl(['get', 'pvc', 'data-db-0']);
    assert.match(table.stdout, /data-db-0\s+Bound\s+pvc-\S+\s+2Gi\s+RWO\s+gp3/, table.stdout);
    // Deleting the set and the claim deletes the volume.
    assert.equal((await dp.kubectl(['delete', 'sts', 'db'])).code, 0);
    await waitFor(async () => (await dp.kubectl(['get', 'pod', 'db-0'])).code !== 0, { what: 'db-0 gone' });
    assert.equal((await dp.kubectl(['delete', 'pvc', 'data-db-0', '--wait=false'])).code, 0);
    await waitFor(async () => (await dp.kubectl(['get', 'pv', pvc.spec.volumeName])).code !== 0, { what: 'PV deleted' });
    await waitFor(async () => (await dp.kubectl(['get', 'pvc', 'data-db-0'])).code !== 0, { what: 'PVC gone' });
  });
});
