import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { AwsState, awsKey } from '../../aws/core/state.ts';
import { addonRemovalKey } from '../../aws/eks/addon-catalogue.ts';
import { createClusterApiServer, type ClusterRegistry } from '../../kube/apiserver/index.ts';
import { bootstrapCluster } from '../../kube/apiserver/bootstrap.ts';
import type { ClusterInfo } from '../../kube/types.ts';
import { SimClock } from '../clock.ts';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import type { ControllerContext } from '../controllers/workload-controllers.ts';
import { HEALTH_GRACE_MS, syncAddons } from './addon-controller.ts';

const info: ClusterInfo = {
  uid: 'uid-ac', name: 'ac', endpointId: 'ac', accountId: '000000000000', region: 'us-east-1', kubernetesVersion: '1.31', platformVersion: 'eks.1',
  status: 'ACTIVE', serviceIpv4Cidr: '10.100.0.0/16', oidcIssuer: '', createdAt: '',
};
const scope = { accountId: info.accountId, region: info.region };
const backend = new MemoryBackend();
const clock = new SimClock();
const api = createClusterApiServer({ backend, clock, log: pino({ level: 'silent' }) });
const state = new AwsState(backend);
let reg: ClusterRegistry;
const log = { info() {}, warn() {}, debug() {} };
const keyOf = (name: string) => awsKey(scope, 'eks', `addon@${info.name}`, name);

function ctx(): ControllerContext {
  return { reg, info, deps: { state, clock, config: {}, log } as unknown as AwsDeps, clock, nowMs: clock.nowMs(), wake() {}, log };
}

async function pass(): Promise<void> {
  await reg.fresh();
  await syncAddons(ctx());
  await reg.fresh();
}

const addon = (name: string, fields: Record<string, unknown>) => ({ addonName: name, clusterName: info.name, status: 'ACTIVE', addonVersion: '', health: { issues: [] }, _key: keyOf(name), ...fields });
const get = (g: string, r: string, ns: string, n: string) => reg.cache.get(reg.keyFor(reg.scheme.preferred(g, r)!, ns, n))?.obj;

describe('the EKS add-on controller', () => {
  before(async () => {
    await state.start();
    await bootstrapCluster(backend, info, clock);
    reg = api.registry(info);
    await reg.cache.ready();
  });
  after(async () => {
    state.stop();
    await api.close();
    await backend.close();
  });

  it('adopts the default self-managed objects with NONE when nothing conflicts', async () => {
    const ds = get('apps', 'daemonsets', 'kube-system', 'aws-node')!;
    const version = ds.spec.template.spec.containers[0].image.split(':').pop();
    await state.commit([{ op: 'put', key: keyOf('vpc-cni'), doc: addon('vpc-cni', { addonVersion: version, _resolveConflicts: 'NONE' }) }]);
    await pass();
    const a = state.get<any>(keyOf('vpc-cni'))!;
    assert.equal(a._applied, `${version}|`);
    assert.equal(a.status, 'ACTIVE');
  });

  it('a changed field fails a creation with NONE (CREATE_FAILED, ConfigurationConflict)', async () => {
    const dsRes = reg.scheme.preferred('apps', 'daemonsets')!;
    await reg.guaranteedUpdate(dsRes, 'kube-system', 'kube-proxy', (cur) => {
      const n = structuredClone(cur!);
      n.metadata!.resourceVersion = '';
      n.spec.template.spec.containers[0].image = 'example/kube-proxy:mine';
      return n;
    });
    await state.commit([{ op: 'put', key: keyOf('kube-proxy'), doc: addon('kube-proxy', { addonVersion: 'v1.31.10-eksbuild.12', _resolveConflicts: 'NONE' }) }]);
    await pass();
    const a = state.get<any>(keyOf('kube-proxy'))!;
    assert.equal(a.status, 'CREATE_FAILED');
    assert.equal(a.health.issues[0].code, 'ConfigurationConflict');
    assert.match(a.health.issues[0].message, /DaemonSet\.apps kube-proxy - \.spec\.template\.spec\.containers\[name="kube-proxy"\]\.image/);
    assert.equal(get('apps', 'daemonsets', 'kube-system', 'kube-proxy')!.spec.template.spec.containers[0].image, 'example/kube-proxy:mine');
    // While CREATING, the conflict is left for the lifecycle to fail the creation.
    await state.commit([{ op: 'put', key: keyOf('kube-proxy'), doc: addon('kube-proxy', { status: 'CREATING', addonVersion: 'v1.31.10-eksbuild.12', _resolveConflicts: 'NONE' }) }]);
    await pass();
    assert.equal(state.get<any>(keyOf('kube-proxy'))!._conflict[0].code, 'ConfigurationConflict');
  });

  it('a pending UpdateAddon that conflicts is marked for failure with NONE; PRESERVE keeps the cluster\'s value', async () => {
    const dRes = reg.scheme.preferred('apps', 'deployments')!;
    const dns = get('apps', 'deployments', 'kube-system', 'coredns')!;
    const version = dns.spec.template.spec.containers[0].image.split(':').pop();
    await state.commit([{ op: 'put', key: keyOf('coredns'), doc: addon('coredns', { addonVersion: version, _resolveConflicts: 'OVERWRITE' }) }]);
    await pass();
    assert.equal(state.get<any>(keyOf('coredns'))!._applied, `${version}|`);
    // Someone scales coredns; an update asking for 3 replicas conflicts on .spec.replicas.
    await reg.guaranteedUpdate(dRes, 'kube-system', 'coredns', (cur) => {
      const n = structuredClone(cur!);
      n.metadata!.resourceVersion = '';
      n.spec.replicas = 4;
      return n;
    });
    const tx = { id: 'tx1', op: 'update', until: clock.nowMs() + 1000, patch: { configurationValues: '{"replicaCount":3}', _resolveConflicts: 'NONE' } };
    await state.mutate<any>(keyOf('coredns'), (d) => ({ ...d, status: 'UPDATING', _tx: tx }));
    await pass();
    const a = state.get<any>(keyOf('coredns'))!;
    assert.equal(a._txConflict.txId, 'tx1');
    assert.match(a._txConflict.message, /Deployment\.apps coredns - \.spec\.replicas/);
    assert.equal(get('apps', 'deployments', 'kube-system', 'coredns')!.spec.replicas, 4);
    // PRESERVE: the update goes through, the scaled replicas stay, the rest is applied.
    await state.mutate<any>(keyOf('coredns'), (d) => {
      const { _txConflict, _tx, ...rest } = d;
      return { ...rest, status: 'ACTIVE', configurationValues: '{"replicaCount":3,"podLabels":{"team":"dns"}}', _resolveConflicts: 'PRESERVE' };
    });
    await pass();
    const d = get('apps', 'deployments', 'kube-system', 'coredns')!;
    assert.equal(d.spec.replicas, 4);
    assert.equal(d.spec.template.metadata.labels.team, 'dns');
  });

  it('health: DEGRADED with InsufficientNumberOfReplicas after the grace period, while pods cannot run', async () => {
    // No nodes: coredns has no available pods.
    await pass();
    assert.equal(state.get<any>(keyOf('coredns'))!.status, 'ACTIVE');
    clock.advance(HEALTH_GRACE_MS + 1000);
    await pass();
    const a = state.get<any>(keyOf('coredns'))!;
    assert.equal(a.status, 'DEGRADED');
    assert.deepEqual(a.health.issues.map((i: any) => i.code), ['InsufficientNumberOfReplicas']);
    // aws-node has no nodes to run on: nothing is missing, it stays ACTIVE.
    assert.equal(state.get<any>(keyOf('vpc-cni'))!.status, 'ACTIVE');
  });

  it('a removal record deletes the add-on\'s objects; one for another cluster uid is dropped', async () => {
    const rkey = addonRemovalKey(scope, info.name, 'vpc-cni');
    const version = state.get<any>(keyOf('vpc-cni'))!.addonVersion;
    await state.commit([{ op: 'put', key: rkey, doc: { addonName: 'vpc-cni', clusterName: info.name, clusterUid: 'someone-else', addonVersion: version, _key: rkey } }]);
    await pass();
    assert.equal(state.get(rkey), undefined);
    assert.ok(get('apps', 'daemonsets', 'kube-system', 'aws-node'));
    await state.commit([{ op: 'put', key: rkey, doc: { addonName: 'vpc-cni', clusterName: info.name, clusterUid: info.uid, addonVersion: version, _key: rkey } }]);
    await pass();
    assert.equal(state.get(rkey), undefined);
    assert.equal(get('apps', 'daemonsets', 'kube-system', 'aws-node'), undefined);
    assert.equal(get('', 'serviceaccounts', 'kube-system', 'aws-node'), undefined);
  });
});
