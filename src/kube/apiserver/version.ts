/**
 * /version of a cluster: what an EKS control plane of that Kubernetes minor
 * version reports (gitVersion like v1.31.4-eks-<hash>, minor "31+").
 */
import { createHash } from 'node:crypto';
import type { ClusterInfo } from '../types.ts';

/** The patch release EKS serves per minor version. */
const PATCH: Record<string, number> = { '1.23': 17, '1.24': 17, '1.25': 16, '1.26': 15, '1.27': 16, '1.28': 15, '1.29': 12, '1.30': 8, '1.31': 4, '1.32': 1, '1.33': 1, '1.34': 0 };
const GO: Record<string, string> = { '1.28': 'go1.22.8', '1.29': 'go1.22.9', '1.30': 'go1.22.9', '1.31': 'go1.22.10', '1.32': 'go1.23.4', '1.33': 'go1.24.2', '1.34': 'go1.24.6' };

export function kubeVersionInfo(cluster: Pick<ClusterInfo, 'kubernetesVersion'>): Record<string, string> {
  const v = cluster.kubernetesVersion || '1.31';
  const [major, minor] = v.split('.');
  const patch = PATCH[v] ?? 0;
  const h = createHash('sha1').update(`eks-${v}.${patch}`).digest('hex');
  return {
    major: major ?? '1',
    minor: `${minor ?? '31'}+`,
    gitVersion: `v${v}.${patch}-eks-${h.slice(0, 7)}`,
    gitCommit: h,
    gitTreeState: 'clean',
    buildDate: '2025-01-10T20:31:17Z',
    goVersion: GO[v] ?? 'go1.22.10',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}
