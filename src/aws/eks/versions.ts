/**
 * The Kubernetes versions EKS offers (DescribeClusterVersions) with their
 * release, end of standard support and end of extended support dates (from
 * the EKS user guide's version calendar), the platform version each one
 * runs, and the helpers the other EKS handlers use (is a version offered,
 * next minor, release versions of managed node group AMIs).
 *
 * Support status is computed against the simulated clock: a version is in
 * standard support until its end of standard support date, in extended
 * support for 12 months after, and unsupported (cannot be created) after.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { invalidParameter, out, paginate } from './common.ts';

export interface KubeVersion {
  version: string;
  patch: string;
  platformVersion: string;
  releaseDate: string;
  endOfStandardSupportDate: string;
  endOfExtendedSupportDate: string;
  /** Date stamp of the newest EKS optimized AMI release for this version. */
  amiRelease: string;
}

export const KUBE_VERSIONS: KubeVersion[] = [
  { version: '1.29', patch: '1.29.15', platformVersion: 'eks.45', releaseDate: '2024-01-23', endOfStandardSupportDate: '2025-03-23', endOfExtendedSupportDate: '2026-03-23', amiRelease: '20260315' },
  { version: '1.30', patch: '1.30.14', platformVersion: 'eks.40', releaseDate: '2024-05-23', endOfStandardSupportDate: '2025-07-23', endOfExtendedSupportDate: '2026-07-23', amiRelease: '20260715' },
  { version: '1.31', patch: '1.31.13', platformVersion: 'eks.36', releaseDate: '2024-09-26', endOfStandardSupportDate: '2025-11-26', endOfExtendedSupportDate: '2026-11-26', amiRelease: '20261110' },
  { version: '1.32', patch: '1.32.9', platformVersion: 'eks.24', releaseDate: '2025-01-23', endOfStandardSupportDate: '2026-03-23', endOfExtendedSupportDate: '2027-03-23', amiRelease: '20261110' },
  { version: '1.33', patch: '1.33.5', platformVersion: 'eks.17', releaseDate: '2025-05-29', endOfStandardSupportDate: '2026-07-29', endOfExtendedSupportDate: '2027-07-29', amiRelease: '20261110' },
  { version: '1.34', patch: '1.34.1', platformVersion: 'eks.9', releaseDate: '2025-10-02', endOfStandardSupportDate: '2026-12-02', endOfExtendedSupportDate: '2027-12-02', amiRelease: '20261110' },
  { version: '1.35', patch: '1.35.0', platformVersion: 'eks.3', releaseDate: '2026-01-27', endOfStandardSupportDate: '2027-03-27', endOfExtendedSupportDate: '2028-03-27', amiRelease: '20261110' },
];

/** The version CreateCluster uses when none is given. */
export const DEFAULT_VERSION = '1.34';

export function kubeVersion(v: string | undefined): KubeVersion | undefined {
  return KUBE_VERSIONS.find((k) => k.version === v);
}

export type SupportStatus = 'STANDARD_SUPPORT' | 'EXTENDED_SUPPORT' | 'UNSUPPORTED';

export function supportStatus(v: KubeVersion, nowMs: number): SupportStatus {
  if (nowMs < Date.parse(v.endOfStandardSupportDate)) return 'STANDARD_SUPPORT';
  if (nowMs < Date.parse(v.endOfExtendedSupportDate)) return 'EXTENDED_SUPPORT';
  return 'UNSUPPORTED';
}

/** isOffered: the version exists and is not past extended support. */
export function isOffered(v: string, nowMs: number): boolean {
  const k = kubeVersion(v);
  return !!k && supportStatus(k, nowMs) !== 'UNSUPPORTED';
}

export function minorOf(v: string): number {
  const m = /^1\.(\d+)$/.exec(v);
  return m ? Number(m[1]) : NaN;
}

export function nextMinor(v: string): string | undefined {
  const n = minorOf(v);
  return Number.isNaN(n) ? undefined : kubeVersion(`1.${n + 1}`)?.version;
}

/** The EKS optimized AMI release version for a version and AMI type (e.g. 1.33.5-20261110). */
export function releaseVersionFor(version: string, amiType: string): string {
  const k = kubeVersion(version);
  const stamp = k?.amiRelease ?? '20261110';
  const patch = k?.patch ?? `${version}.0`;
  if (amiType.startsWith('BOTTLEROCKET')) return '1.50.0-a1b2c3d4';
  if (amiType.startsWith('WINDOWS')) return `${version}.${stamp}`;
  return `${patch}-${stamp}`;
}

/** Default AMI type: AL2023 from Kubernetes 1.30 on, AL2 before (EKS user guide). */
export function defaultAmiType(version: string): string {
  return minorOf(version) >= 30 ? 'AL2023_x86_64_STANDARD' : 'AL2_x86_64';
}

export function describeClusterVersions(deps: AwsDeps) {
  return (input: any, _ctx: RequestContext) => {
    const now = deps.clock.nowMs();
    if (input.clusterType !== undefined && input.clusterType !== 'eks' && input.clusterType !== 'eks-local-outposts') {
      throw invalidParameter(`Invalid cluster type: ${input.clusterType}`);
    }
    let list = KUBE_VERSIONS.slice().reverse();
    if (!input.includeAll) list = list.filter((k) => supportStatus(k, now) !== 'UNSUPPORTED');
    if (input.clusterVersions?.length) list = KUBE_VERSIONS.filter((k) => input.clusterVersions.includes(k.version)).reverse();
    if (input.defaultOnly) list = list.filter((k) => k.version === DEFAULT_VERSION);
    const wantStatus: string | undefined = input.versionStatus ?? (input.status ? String(input.status).toUpperCase().replace('-', '_') : undefined);
    if (wantStatus) list = list.filter((k) => supportStatus(k, now) === wantStatus);
    const { page, nextToken } = paginate(list, (k) => String(999 - minorOf(k.version)).padStart(4, '0'), input.maxResults, input.nextToken);
    return {
      clusterVersions: page.map((k) => {
        const st = supportStatus(k, now);
        return out({
          clusterVersion: k.version,
          clusterType: input.clusterType ?? 'eks',
          defaultPlatformVersion: k.platformVersion,
          defaultVersion: k.version === DEFAULT_VERSION,
          releaseDate: k.releaseDate + 'T00:00:00Z',
          endOfStandardSupportDate: k.endOfStandardSupportDate + 'T00:00:00Z',
          endOfExtendedSupportDate: k.endOfExtendedSupportDate + 'T00:00:00Z',
          status: st.toLowerCase().replace('_', '-'),
          versionStatus: st,
          kubernetesPatchVersion: k.patch,
        });
      }),
      nextToken,
    };
  };
}
