/**
 * Each EKS cluster's service account issuer, as EKS publishes it: the
 * cluster's identity.oidc.issuer is `<kube endpoint>/oidc/<region>/id/<HEX>`
 * (https, as IAM requires of OIDC providers), and the Kubernetes HTTPS
 * endpoint serves, without authentication:
 *
 *   <issuer path>/.well-known/openid-configuration   the discovery document
 *   <issuer path>/keys                               the JWKS (public keys)
 *
 * The same keys verify web identity tokens for STS AssumeRoleWithWebIdentity
 * (IRSA): `webIdentityVerifier` is the AwsDeps seam STS calls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebIdentityVerifier } from '../aws/core/deps.ts';
import { ensureSigningKey } from '../kube/authn/signing-keys.ts';
import { discoveryDocument, jwks, verifyServiceAccountToken } from '../kube/authn/service-account-tokens.ts';
import { newGenericNotFound, newMethodNotSupported } from '../kube/apiserver/errors.ts';
import { writeStatus } from '../kube/gateway.ts';
import type { ClusterDirectory, ClusterInfo } from '../kube/types.ts';
import type { Backend } from '../store/backend.ts';

export interface OidcIssuerOptions {
  directory: ClusterDirectory;
  backend: Backend;
  /** Simulated time (token expiry is judged on it, as tokens are issued on it). */
  now(): Date;
}

export interface OidcIssuers {
  /** Serves the discovery document and JWKS; resolves false for paths that are not an issuer's. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean>;
  /** Verifies a service account token's signature with its issuing cluster's keys (rejects otherwise). */
  verifier: WebIdentityVerifier;
}

const ISSUER_PATH = /^(\/oidc\/[a-z0-9-]+\/id\/[0-9A-Fa-f]+)(\/\.well-known\/openid-configuration|\/keys)\/?$/;

function issuerPath(issuer: string): string | undefined {
  try {
    return new URL(issuer).pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** createOidcIssuers builds the routes and the STS verifier over the clusters of a directory. */
export function createOidcIssuers(opts: OidcIssuerOptions): OidcIssuers {
  const byPath = (path: string): ClusterInfo | undefined => opts.directory.all().find((c) => c.oidcIssuer && issuerPath(c.oidcIssuer) === path);
  const byIssuer = (issuer: string): ClusterInfo | undefined => opts.directory.all().find((c) => c.oidcIssuer === issuer);

  async function keySet(cluster: ClusterInfo) {
    return jwks([await ensureSigningKey(opts.backend, cluster.uid)]);
  }

  return {
    async handle(req, res, pathname) {
      const m = ISSUER_PATH.exec(pathname);
      if (!m) return false;
      const cluster = byPath(m[1]!);
      if (!cluster) {
        writeStatus(res, newGenericNotFound());
        return true;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        writeStatus(res, newMethodNotSupported({ group: '', resource: 'oidc' }, (req.method ?? '').toLowerCase()));
        return true;
      }
      const body = JSON.stringify(m[2] === '/keys' ? await keySet(cluster) : discoveryDocument(cluster.oidcIssuer));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'max-age=3600, public' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
    async verifier(token, issuer) {
      const cluster = byIssuer(issuer);
      if (!cluster) throw new Error('unknown issuer');
      await verifyServiceAccountToken(token, issuer, await keySet(cluster), opts.now());
    },
  };
}
