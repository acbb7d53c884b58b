/**
 * VolumeBinding: a pod whose claim is bound to a zonal EBS PV only fits nodes
 * of that zone (CSI and in-tree affinity keys), with upstream's reason in the
 * scheduler's FailedScheduling message; pods without bound volumes are not
 * filtered.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KObject } from '../../kube/api/types.ts';
import { nodeInfo, schedule } from './scheduler.ts';
import { VOLUME_NODE_AFFINITY_CONFLICT, volumeBindingFilter, type VolumeLookup } from './volume-binding.ts';

const node = (name: string, zone: string, csi = true): KObject => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': zone, ...(csi ? { 'topology.ebs.csi.aws.com/zone': zone } : {}) } },
  status: { allocatable: { cpu: '2', memory: '8Gi', pods: '29' }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const pv = (name: string, key: string, zone: string): KObject => ({ metadata: { name }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator: 'In', values: [zone] }] }] } } } });
const claims: Record<string, KObject> = {
  'default/data': { metadata: { name: 'data' }, spec: { volumeName: 'pv-a' } },
  'default/legacy': { metadata: { name: 'legacy' }, spec: { volumeName: 'pv-b' } },
  'default/unbound': { metadata: { name: 'unbound' }, spec: {} },
};
const volumes: Record<string, KObject> = { 'pv-a': pv('pv-a', 'topology.ebs.csi.aws.com/zone', 'us-east-1a'), 'pv-b': pv('pv-b', 'topology.kubernetes.io/zone', 'us-east-1b') };
const lookup: VolumeLookup = { claim: (ns, n) => claims[`${ns}/${n}`], volume: (n) => volumes[n] };
const pod = (claim: string): KObject => ({ metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }] } });

describe('VolumeBinding filter', () => {
  it('keeps a pod with a bound zonal volume in the volume\'s zone', () => {
    const nodes = [node('n-b', 'us-east-1b'), node('n-a', 'us-east-1a')].map((n) => nodeInfo(n, []));
    const r = schedule(pod('data'), nodes, 0, volumeBindingFilter(pod('data'), lookup));
    assert.ok('nodeName' in r && r.nodeName === 'n-a', JSON.stringify(r));
    const legacy = schedule(pod('legacy'), nodes, 0, volumeBindingFilter(pod('legacy'), lookup));
    assert.ok('nodeName' in legacy && legacy.nodeName === 'n-b', JSON.stringify(legacy));
  });

  it('explains a conflict as upstream does', () => {
    const nodes = [node('n-b', 'us-east-1b'), node('n-c', 'us-east-1c')].map((n) => nodeInfo(n, []));
    const r = schedule(pod('data'), nodes, 0, volumeBindingFilter(pod('data'), lookup));
    assert.ok('error' in r);
    assert.match(r.error, new RegExp(`^0/2 nodes are available: 2 ${VOLUME_NODE_AFFINITY_CONFLICT.replace(/[()]/g, '\\$&')}\\.`));
  });

  it('does not filter pods without bound volumes', () => {
    assert.equal(volumeBindingFilter(pod('unbound'), lookup), undefined);
    assert.equal(volumeBindingFilter({ metadata: { name: 'x' }, spec: { containers: [] } }, lookup), undefined);
  });
});
