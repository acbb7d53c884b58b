/**
 * Service account tokens and the cluster's OIDC issuer.
 *
 * Each EKS cluster has its own RSA signing key. Bound service account tokens
 * (TokenRequest API, projected volumes, IRSA) are RS256 JWTs with the claims
 * kube-apiserver puts in them (iss, sub, aud, exp, iat, nbf, jti and the
 * private `kubernetes.io` claim naming namespace, service account and pod).
 * The issuer serves an OIDC discovery document and a JWKS so that STS's
 * AssumeRoleWithWebIdentity (and anyone else) can verify them.
 *
 * The key id is derived from the public key as kube-apiserver does
 * (base64url of the SHA-256 of the DER-encoded SubjectPublicKeyInfo).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, exportJWK, importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';

/** A cluster's signing key, as stored (PEM). */
export interface SigningKeyPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** generateSigningKey makes a new RSA-2048 key pair for a cluster. */
export function generateSigningKey(): SigningKeyPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** keyId derives the JWT `kid` from a public key (kube-apiserver's keyIDFromPublicKey). */
export function keyId(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

/** The `kubernetes.io` private claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Unix seconds after which kube-apiserver asks clients to refresh (extended-expiry tokens). */
  warnafter?: number;
}

export interface IssueTokenRequest {
  issuer: string;
  audiences: string[];
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Token lifetime in seconds (TokenRequest's expirationSeconds; minimum 600). */
  expirationSeconds: number;
  /** Issue time (simulated clock). */
  now: Date;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: Date;
}

/** issueServiceAccountToken signs a bound service account token. */
export async function issueServiceAccountToken(key: SigningKeyPem, req: IssueTokenRequest): Promise<IssuedToken> {
  const iat = Math.floor(req.now.getTime() / 1000);
  const exp = iat + req.expirationSeconds;
  const k8s: KubernetesClaim = { namespace: req.namespace, serviceaccount: req.serviceAccount };
  if (req.pod) k8s.pod = req.pod;
  if (req.node) k8s.node = req.node;
  const privateKey = await importPrivate(key.privateKeyPem);
  const token = await new SignJWT({ 'kubernetes.io': k8s as unknown as JWTPayload[string] })
    .setProtectedHeader({ alg: 'RS256', kid: keyId(key.publicKeyPem) })
    .setIssuer(req.issuer)
    .setSubject(`system:serviceaccount:${req.namespace}:${req.serviceAccount.name}`)
    .setAudience(req.audiences)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(privateKey);
  return { token, expirationTimestamp: new Date(exp * 1000) };
}

const privateCache = new Map<string, KeyObject>();
async function importPrivate(pem: string): Promise<KeyObject> {
  let k = privateCache.get(pem);
  if (!k) {
    k = createPrivateKey(pem);
    privateCache.set(pem, k);
  }
  return k;
}

/** jwks is the issuer's JSON Web Key Set (public keys only). */
export async function jwks(keys: SigningKeyPem[]): Promise<{ keys: JWK[] }> {
  const out: JWK[] = [];
  for (const k of keys) {
    const jwk = await exportJWK(createPublicKey(k.publicKeyPem));
    out.push({ ...jwk, use: 'sig', alg: 'RS256', kid: keyId(k.publicKeyPem) });
  }
  return { keys: out };
}

/** discoveryDocument is the issuer's /.well-known/openid-configuration, shaped like EKS's. */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/keys`,
    authorization_endpoint: 'urn:kubernetes:programmatic_authorization',
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['sub', 'iss'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

export interface VerifiedServiceAccountToken {
  issuer: string;
  subject: string;
  audiences: string[];
  expiresAt: Date;
  kubernetes: KubernetesClaim;
  claims: JWTPayload;
}

/**
 * verifyServiceAccountToken checks a token's signature against a JWKS and
 * its issuer, expiry and not-before at `now`. Audience checks are the
 * caller's (TokenReview and STS check different audiences). Throws on any
 * failure with a short reason that never includes the token.
 */
export async function verifyServiceAccountToken(token: string, issuer: string, keySet: { keys: JWK[] }, now: Date): Promise<VerifiedServiceAccountToken> {
  const header = decodeHeader(token);
  const jwk = keySet.keys.find((k) => k.kid === header.kid) ?? (keySet.keys.length === 1 ? keySet.keys[0] : undefined);
  if (!jwk) throw new Error('token signed by an unknown key');
  const key = await importJWK(jwk, 'RS256');
  const { payload } = await jwtVerify(token, key, { issuer, currentDate: now, algorithms: ['RS256'] });
  const aud = payload.aud === undefined ? [] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  return {
    issuer: payload.iss!,
    subject: payload.sub ?? '',
    audiences: aud,
    expiresAt: new Date((payload.exp ?? 0) * 1000),
    kubernetes: payload['kubernetes.io'] as unknown as KubernetesClaim,
    claims: payload,
  };
}

function decodeHeader(token: string): { kid?: string; alg?: string } {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('token is not a JWT');
  try {
    return JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8'));
  } catch {
    throw new Error('token header is not valid JSON');
  }
}

/** The issuer of legacy service account token Secrets (kube-apiserver's LegacyIssuer). */
export const LEGACY_ISSUER = 'kubernetes/serviceaccount';

/** The claims of a legacy (Secret-based, non-expiring) service account token. */
export interface LegacyTokenClaims {
  namespace: string;
  secretName: string;
  serviceAccountName: string;
  serviceAccountUid: string;
}

/**
 * issueLegacyServiceAccountToken signs the token the tokens controller puts
 * in a `kubernetes.io/service-account-token` Secret: issuer
 * kubernetes/serviceaccount, the kubernetes.io/serviceaccount/* claims, no
 * audience and no expiry (it lives as long as the Secret).
 */
export async function issueLegacyServiceAccountToken(key: SigningKeyPem, c: LegacyTokenClaims): Promise<string> {
  return new SignJWT({
    'kubernetes.io/serviceaccount/namespace': c.namespace,
    'kubernetes.io/serviceaccount/secret.name': c.secretName,
    'kubernetes.io/serviceaccount/service-account.name': c.serviceAccountName,
    'kubernetes.io/serviceaccount/service-account.uid': c.serviceAccountUid,
  })
    .setProtectedHeader({ alg: 'RS256', kid: keyId(key.publicKeyPem) })
    .setIssuer(LEGACY_ISSUER)
    .setSubject(`system:serviceaccount:${c.namespace}:${c.serviceAccountName}`)
    .sign(await importPrivate(key.privateKeyPem));
}

/** isLegacyToken tells (without verifying) whether a JWT names the legacy issuer. */
export function isLegacyToken(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  try {
    return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'))?.iss === LEGACY_ISSUER;
  } catch {
    return false;
  }
}

/** verifyLegacyServiceAccountToken checks a legacy token's signature against the cluster's keys and returns its claims; throws otherwise. */
export async function verifyLegacyServiceAccountToken(token: string, keySet: { keys: JWK[] }): Promise<LegacyTokenClaims> {
  const header = decodeHeader(token);
  const jwk = keySet.keys.find((k) => k.kid === header.kid) ?? (keySet.keys.length === 1 ? keySet.keys[0] : undefined);
  if (!jwk) throw new Error('token signed by an unknown key');
  const { payload } = await jwtVerify(token, await importJWK(jwk, 'RS256'), { issuer: LEGACY_ISSUER, algorithms: ['RS256'] });
  const s = (k: string) => (typeof payload[`kubernetes.io/serviceaccount/${k}`] === 'string' ? (payload[`kubernetes.io/serviceaccount/${k}`] as string) : '');
  const c = { namespace: s('namespace'), secretName: s('secret.name'), serviceAccountName: s('service-account.name'), serviceAccountUid: s('service-account.uid') };
  if (!c.namespace || !c.secretName || !c.serviceAccountName) throw new Error('missing kubernetes.io/serviceaccount claims');
  return c;
}
