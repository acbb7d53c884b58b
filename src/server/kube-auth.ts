/**
 * Authentication of requests to the clusters a server runs (the gateway's
 * `authenticate` hook): the sources request-auth.ts reads, taken from the
 * EKS state (authentication mode, access entries with their policies, the
 * cluster creator), the cluster's kube-system/aws-auth ConfigMap read live
 * through its registry, EC2 private DNS names, the AWS credentials (IAM keys,
 * STS sessions) and the cluster's service account signing key.
 *
 * A request that fails authentication gets 401 Unauthorized (metav1.Status)
 * and never reaches the API server; the reason is logged at debug level only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { AwsDeps } from '../aws/core/deps.ts';
import { resolveCaller } from '../aws/core/identity.ts';
import { describeInstance } from '../aws/ec2/shared.ts';
import { authenticationMode, clusterCreatorArn, getCluster, listAccessEntries, scopeOfCluster } from '../aws/eks/shared.ts';
import type { ClusterAuthSource } from '../kube/authn/authenticator.ts';
import { authenticateRequest, setRequestUser, unauthorizedStatus, API_AUDIENCE, type RequestAuthSources } from '../kube/authn/request-auth.ts';
import { jwks, type VerifiedServiceAccountToken } from '../kube/authn/service-account-tokens.ts';
import { ensureSigningKey } from '../kube/authn/signing-keys.ts';
import { isStatusError } from '../kube/apiserver/errors.ts';
import type { ClusterRegistry } from '../kube/apiserver/registry/generic-store.ts';
import type { ClusterInfo } from '../kube/types.ts';
import type { Backend } from '../store/backend.ts';

export interface KubeAuthOptions {
  deps: AwsDeps;
  backend: Backend;
  /** The cluster's registry (aws-auth ConfigMap, service accounts). */
  registry(cluster: ClusterInfo): ClusterRegistry;
  log?: Logger;
}

/** The gateway hook: resolves true when the request may go on (its user recorded), false after answering 401. */
export type KubeAuthenticate = (cluster: ClusterInfo, req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

async function readObject(reg: ClusterRegistry, resource: string, ns: string, name: string): Promise<any | undefined> {
  const r = reg.scheme.get('', 'v1', resource);
  if (!r) return undefined;
  try {
    return (await reg.get(r, ns, name)).obj;
  } catch (e) {
    if (isStatusError(e, 'NotFound')) return undefined;
    throw e;
  }
}

/** createKubeAuthenticator builds the hook described above. */
export function createKubeAuthenticator(opts: KubeAuthOptions): KubeAuthenticate {
  const { deps, backend, log } = opts;
  const { state } = deps;

  function sources(cluster: ClusterInfo): RequestAuthSources {
    return {
      now: () => new Date(deps.clock.nowMs()),
      async eks() {
        const mode = authenticationMode(state, cluster);
        const doc = getCluster(state, scopeOfCluster(cluster), cluster.name);
        // aws-auth is read live (only when the mode consults it).
        const awsAuth = mode === 'API' ? undefined : await readObject(opts.registry(cluster), 'configmaps', 'kube-system', 'aws-auth');
        const src: ClusterAuthSource = {
          clusterName: cluster.name,
          accountId: cluster.accountId,
          authenticationMode: mode,
          creatorArn: clusterCreatorArn(state, cluster),
          creatorAdmin: doc?.accessConfig?.bootstrapClusterCreatorAdminPermissions !== false,
          awsAuthData: () => awsAuth?.data ?? (awsAuth ? {} : undefined),
          accessEntries: () => listAccessEntries(state, cluster),
          ec2PrivateDnsName: (id) => describeInstance(deps, scopeOfCluster(cluster), id)?.PrivateDnsName,
        };
        // EKS tokens are presigned by clients with their wall-clock time.
        return { src, deps: { resolveCaller: (akid) => resolveCaller(state, deps.config, akid), now: () => new Date(), enforceIam: deps.config.enforceIam } };
      },
      async serviceAccountKeys() {
        const issuer = cluster.oidcIssuer || API_AUDIENCE;
        return { issuer, keys: await jwks([await ensureSigningKey(backend, cluster.uid)]) };
      },
      async serviceAccountValid(t: VerifiedServiceAccountToken) {
        const k = t.kubernetes;
        const reg = opts.registry(cluster);
        const sa = await readObject(reg, 'serviceaccounts', k.namespace, k.serviceaccount.name);
        if (!sa || (k.serviceaccount.uid && sa.metadata?.uid !== k.serviceaccount.uid)) return false;
        if (k.pod) {
          const pod = await readObject(reg, 'pods', k.namespace, k.pod.name);
          if (!pod || pod.metadata?.uid !== k.pod.uid) return false;
        }
        if (k.secret) {
          const secret = await readObject(reg, 'secrets', k.namespace, k.secret.name);
          if (!secret || secret.metadata?.uid !== k.secret.uid) return false;
        }
        return true;
      },
    };
  }

  return async (cluster, req, res, path) => {
    const r = await authenticateRequest(req, path, sources(cluster));
    if (r.ok) {
      setRequestUser(req, r.user);
      return true;
    }
    log?.debug({ cluster: cluster.name, path, reason: r.reason }, 'kube request not authenticated');
    const body = JSON.stringify(unauthorizedStatus());
    res.writeHead(401, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache, private' });
    res.end(body);
    return false;
  };
}
