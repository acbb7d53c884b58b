/**
 * EKS's pod identity webhook (amazon-eks-pod-identity-webhook, which EKS
 * runs in its control plane) as a pod admission plugin. On pod create:
 *
 *  - EKS Pod Identity: when an association (EKS API) names the pod's
 *    namespace and service account, every container gets
 *    AWS_STS_REGIONAL_ENDPOINTS=regional, AWS_DEFAULT_REGION, AWS_REGION,
 *    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://169.254.170.23/v1/credentials
 *    and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, and the pod the projected
 *    `eks-pod-identity-token` volume (audience pods.eks.amazonaws.com,
 *    86400 s) mounted read-only at /var/run/secrets/pods.eks.amazonaws.com/
 *    serviceaccount. The token is exchanged for the role's credentials by
 *    the EKS Auth API (aws/eks-auth), as the eks-pod-identity-agent does.
 *    An association takes precedence over IRSA, as in the webhook.
 *  - IRSA: when the service account carries eks.amazonaws.com/role-arn,
 *    every container gets AWS_STS_REGIONAL_ENDPOINTS=regional (unless the
 *    account's eks.amazonaws.com/sts-regional-endpoints is "false"),
 *    AWS_DEFAULT_REGION, AWS_REGION, AWS_ROLE_ARN and
 *    AWS_WEB_IDENTITY_TOKEN_FILE, and the pod the projected `aws-iam-token`
 *    volume (audience eks.amazonaws.com/audience, default sts.amazonaws.com;
 *    expiry eks.amazonaws.com/token-expiration of the pod, else of the
 *    account, default 86400, at least 3600) mounted read-only at
 *    /var/run/secrets/eks.amazonaws.com/serviceaccount.
 *
 * Containers named in the pod annotation eks.amazonaws.com/skip-containers
 * (comma-separated) are left alone; variables a container already defines
 * are kept; a pod that already has the volume is not mutated again.
 */
import type { KObject } from '../api/types.ts';
import type { PodAdmissionPlugin } from '../apiserver/pod-admission-plugins.ts';
import type { ClusterRegistry } from '../apiserver/registry/generic-store.ts';
import { isStatusError } from '../apiserver/errors.ts';
import type { AwsDeps } from '../../aws/core/deps.ts';
import { findPodIdentityAssociation } from '../../aws/eks/shared.ts';

export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const AUDIENCE_ANNOTATION = 'eks.amazonaws.com/audience';
export const STS_REGIONAL_ANNOTATION = 'eks.amazonaws.com/sts-regional-endpoints';
export const TOKEN_EXPIRATION_ANNOTATION = 'eks.amazonaws.com/token-expiration';
export const SKIP_CONTAINERS_ANNOTATION = 'eks.amazonaws.com/skip-containers';

export const IRSA_VOLUME = 'aws-iam-token';
export const IRSA_MOUNT_PATH = '/var/run/secrets/eks.amazonaws.com/serviceaccount';
export const POD_IDENTITY_VOLUME = 'eks-pod-identity-token';
export const POD_IDENTITY_MOUNT_PATH = '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount';
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
export const POD_IDENTITY_CREDENTIALS_URI = 'http://169.254.170.23/v1/credentials';
const DEFAULT_EXPIRATION_S = 86400;
const MIN_EXPIRATION_S = 3600;

interface EnvVar {
  name: string;
  value: string;
}

interface Patch {
  volume: string;
  mountPath: string;
  audience: string;
  expirationSeconds: number;
  tokenPath: string;
  env: EnvVar[];
}

async function serviceAccount(reg: ClusterRegistry, ns: string, name: string): Promise<KObject | undefined> {
  const r = reg.scheme.get('', 'v1', 'serviceaccounts');
  if (!r) return undefined;
  try {
    return (await reg.get(r, ns, name)).obj;
  } catch (e) {
    if (isStatusError(e, 'NotFound')) return undefined;
    throw e;
  }
}

function expiration(pod: KObject, sa: KObject | undefined): number {
  const raw = pod.metadata?.annotations?.[TOKEN_EXPIRATION_ANNOTATION] ?? sa?.metadata?.annotations?.[TOKEN_EXPIRATION_ANNOTATION];
  const n = raw === undefined ? NaN : Number(raw);
  if (!Number.isInteger(n) || n <= 0) return DEFAULT_EXPIRATION_S;
  return Math.max(n, MIN_EXPIRATION_S);
}

function apply(pod: KObject, p: Patch): void {
  const spec = (pod as any).spec ?? {};
  const volumes: any[] = (spec.volumes ??= []);
  if (volumes.some((v) => v?.name === p.volume)) return;
  const skip = new Set(
    String(pod.metadata?.annotations?.[SKIP_CONTAINERS_ANNOTATION] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const list of [spec.initContainers, spec.containers]) {
    for (const c of (list ?? []) as any[]) {
      if (!c || skip.has(c.name)) continue;
      const env: any[] = (c.env ??= []);
      for (const e of p.env) if (!env.some((x) => x?.name === e.name)) env.push({ ...e });
      const mounts: any[] = (c.volumeMounts ??= []);
      if (!mounts.some((m) => m?.name === p.volume)) mounts.push({ name: p.volume, readOnly: true, mountPath: p.mountPath });
    }
  }
  volumes.push({ name: p.volume, projected: { sources: [{ serviceAccountToken: { audience: p.audience, expirationSeconds: p.expirationSeconds, path: p.tokenPath } }], defaultMode: 420 } });
}

/** podIdentityAdmission returns the webhook as one plugin (see the module comment). */
export function podIdentityAdmission(deps: AwsDeps): PodAdmissionPlugin[] {
  return [
    {
      name: 'eks-pod-identity-webhook',
      async admit({ reg, pod }) {
        const ns = pod.metadata?.namespace ?? '';
        const saName = String((pod as any).spec?.serviceAccountName ?? 'default');
        const cluster = reg.cluster;
        const region = cluster.region;
        const regionEnv: EnvVar[] = [
          { name: 'AWS_DEFAULT_REGION', value: region },
          { name: 'AWS_REGION', value: region },
        ];
        const sa = await serviceAccount(reg, ns, saName);
        if (findPodIdentityAssociation(deps.state, cluster, ns, saName)) {
          apply(pod, {
            volume: POD_IDENTITY_VOLUME,
            mountPath: POD_IDENTITY_MOUNT_PATH,
            audience: POD_IDENTITY_AUDIENCE,
            expirationSeconds: DEFAULT_EXPIRATION_S,
            tokenPath: POD_IDENTITY_VOLUME,
            env: [
              { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
              ...regionEnv,
              { name: 'AWS_CONTAINER_CREDENTIALS_FULL_URI', value: POD_IDENTITY_CREDENTIALS_URI },
              { name: 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', value: `${POD_IDENTITY_MOUNT_PATH}/${POD_IDENTITY_VOLUME}` },
            ],
          });
          return;
        }
        const annotations = sa?.metadata?.annotations ?? {};
        const roleArn = annotations[ROLE_ARN_ANNOTATION];
        if (!roleArn) return;
        const regional = String(annotations[STS_REGIONAL_ANNOTATION] ?? 'true').toLowerCase() !== 'false';
        apply(pod, {
          volume: IRSA_VOLUME,
          mountPath: IRSA_MOUNT_PATH,
          audience: annotations[AUDIENCE_ANNOTATION] || 'sts.amazonaws.com',
          expirationSeconds: expiration(pod, sa),
          tokenPath: 'token',
          env: [
            ...(regional ? [{ name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' }] : []),
            ...regionEnv,
            { name: 'AWS_ROLE_ARN', value: roleArn },
            { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${IRSA_MOUNT_PATH}/token` },
          ],
        });
      },
    },
  ];
}
