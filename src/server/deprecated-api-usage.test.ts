import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AwsState } from '../aws/core/state.ts';
import { deprecatedApiUsage } from '../aws/eks/shared.ts';
import type { ClusterInfo } from '../kube/types.ts';
import { MemoryBackend } from '../store/memory/memory-backend.ts';
import { deprecatedApiUsageRecorder } from './deprecated-api-usage.ts';

const cluster: ClusterInfo = {
  uid: 'u1', name: 'c1', endpointId: 'c1', accountId: '000000000000', region: 'us-east-1', kubernetesVersion: '1.31',
  platformVersion: 'eks.1', status: 'ACTIVE', serviceIpv4Cidr: '172.20.0.0/16', oidcIssuer: '', createdAt: new Date().toISOString(),
};
const use = (userAgent: string, time: string) => ({
  usage: '/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas', replacedWith: 'flowcontrol.apiserver.k8s.io/v1/flowschemas',
  stopServingVersion: '1.32', startServingReplacementVersion: '1.29', userAgent, time: new Date(time),
});

test('deprecated API uses are counted per user agent, stored for insights, and carry on after a restart', async () => {
  const state = new AwsState(new MemoryBackend());
  await state.start();
  const log = { warn() {} };
  const r1 = deprecatedApiUsageRecorder(state, log);
  r1.use(cluster, use('kubectl/v1.32.4', '2026-01-01T00:00:00.000Z'));
  r1.use(cluster, use('kubectl/v1.32.4', '2026-01-01T00:00:05.000Z'));
  r1.use(cluster, use('helm/3.16', '2026-01-01T00:00:07.000Z'));
  // Without a scheduled removal (v1 Endpoints), nothing is recorded.
  r1.use(cluster, { ...use('kubectl', '2026-01-01T00:00:08.000Z'), usage: '/api/v1/endpoints', stopServingVersion: undefined });
  await r1.flush();
  let stored = deprecatedApiUsage(state, cluster);
  assert.equal(stored.length, 1);
  assert.deepEqual(stored[0]!.clientStats, [
    { userAgent: 'kubectl/v1.32.4', numberOfRequestsLast30Days: 2, lastRequestTime: '2026-01-01T00:00:05Z' },
    { userAgent: 'helm/3.16', numberOfRequestsLast30Days: 1, lastRequestTime: '2026-01-01T00:00:07Z' },
  ]);
  // A new process (restart) keeps counting from the stored record.
  const r2 = deprecatedApiUsageRecorder(state, log);
  r2.use(cluster, use('kubectl/v1.32.4', '2026-01-02T00:00:00.000Z'));
  await r2.flush();
  stored = deprecatedApiUsage(state, cluster);
  assert.equal(stored[0]!.clientStats.find((s) => s.userAgent === 'kubectl/v1.32.4')!.numberOfRequestsLast30Days, 3);
  assert.equal(stored[0]!.clientStats.find((s) => s.userAgent === 'helm/3.16')!.numberOfRequestsLast30Days, 1);
});
