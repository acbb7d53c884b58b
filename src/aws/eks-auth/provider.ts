/**
 * The EKS Auth API (service eks-auth): AssumeRoleForPodIdentity, which the
 * eks-pod-identity-agent on each node calls with the pod's projected
 * service account token (audience pods.eks.amazonaws.com) to get the
 * credentials of the role the EKS Pod Identity association names.
 *
 * The token is checked as EKS checks it: a JWT of this cluster's issuer
 * (identity.oidc.issuer), with the pods.eks.amazonaws.com audience, not
 * expired (simulated clock), signed with the cluster's service account key
 * (deps.webIdentityVerifier), naming a namespace and service account that
 * have an association; and, as EKS reviews it with the cluster's API server
 * (shared.ts), its service account and the pod it is bound to must still
 * exist (a deleted pod's token is refused). The role is assumed as the service principal
 * pods.eks.amazonaws.com (its trust policy must allow it) for 6 hours,
 * session `eks-<cluster>-<pod>-<uuid>` (64 characters at most). With a
 * targetRoleArn (cross-account), that session then assumes the target role
 * with the association's externalId, and the target role's credentials are
 * returned. Unless the association disables them (disableSessionTags), the
 * sessions carry the six session tags EKS documents (eks-cluster-arn,
 * eks-cluster-name, kubernetes-namespace, kubernetes-service-account,
 * kubernetes-pod-name, kubernetes-pod-uid), so the roles' trust policies
 * must allow sts:TagSession too and may put conditions on
 * aws:RequestTag/<tag>.
 */
import { randomUUID } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import { type AwsProvider, awsError, type RequestContext } from '../core/types.ts';
import { findPodIdentityAssociation, getCluster } from '../eks/shared.ts';
import { assumeRoleAsService, assumeRoleAsSession, type SessionTags } from '../sts/shared.ts';
import { clusterTokenReviewer } from './shared.ts';

/** The audience of EKS Pod Identity tokens. */
export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';
const SESSION_SECONDS = 6 * 3600;

function claimsOf(token: string): Record<string, any> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const c = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    return c && typeof c === 'object' && !Array.isArray(c) ? c : undefined;
  } catch {
    return undefined;
  }
}

export function createEksAuthProvider(deps: AwsDeps): AwsProvider {
  const invalid = (message: string) => awsError('InvalidTokenException', message, 400);
  return {
    service: 'eks-auth',
    operations: {
      async AssumeRoleForPodIdentity(input: { clusterName: string; token: string }, ctx: RequestContext) {
        const scope = { accountId: ctx.accountId, region: ctx.region };
        const cluster = getCluster(deps.state, scope, input.clusterName);
        if (!cluster) throw awsError('ResourceNotFoundException', `No cluster found for name: ${input.clusterName}.`, 404);
        const claims = claimsOf(input.token);
        if (!claims) throw invalid('Failed to parse the token: the token is not a valid JWT');
        const issuer: string = cluster.identity?.oidc?.issuer ?? '';
        if (claims.iss !== issuer) throw invalid('The token was not issued by this cluster');
        const aud: string[] = Array.isArray(claims.aud) ? claims.aud.map(String) : claims.aud === undefined ? [] : [String(claims.aud)];
        if (!aud.includes(POD_IDENTITY_AUDIENCE)) throw invalid(`The token audience is invalid: expected ${POD_IDENTITY_AUDIENCE}`);
        if (typeof claims.exp !== 'number' || claims.exp * 1000 <= ctx.now().getTime()) throw awsError('ExpiredTokenException', 'The token is expired', 400);
        if (!deps.webIdentityVerifier) throw invalid('The token signature could not be verified');
        try {
          await deps.webIdentityVerifier(input.token, issuer);
        } catch {
          throw invalid('The token signature is invalid');
        }
        const review = clusterTokenReviewer(deps);
        if (review) {
          const r = await review({ accountId: ctx.accountId, region: ctx.region, name: input.clusterName }, input.token, POD_IDENTITY_AUDIENCE);
          if (!r.ok) throw invalid('The specified Kubernetes service account token is invalid');
        }
        const k = claims['kubernetes.io'];
        const namespace = typeof k?.namespace === 'string' ? k.namespace : undefined;
        const serviceAccount = typeof k?.serviceaccount?.name === 'string' ? k.serviceaccount.name : undefined;
        if (!namespace || !serviceAccount) throw invalid('The token is not a Kubernetes service account token');
        const assoc = findPodIdentityAssociation(deps.state, { accountId: ctx.accountId, region: ctx.region, name: input.clusterName }, namespace, serviceAccount);
        if (!assoc) throw awsError('AccessDeniedException', `No Pod Identity Association found for service account ${serviceAccount} in namespace ${namespace} of cluster ${input.clusterName}`, 400);
        const podName = typeof k?.pod?.name === 'string' ? k.pod.name : serviceAccount;
        const sessionName = `eks-${input.clusterName}-${podName}-${randomUUID()}`.slice(0, 64).replace(/-+$/, '');
        let tags: SessionTags | undefined;
        if (!assoc.disableSessionTags) {
          tags = { 'eks-cluster-arn': cluster.arn, 'eks-cluster-name': input.clusterName, 'kubernetes-namespace': namespace, 'kubernetes-service-account': serviceAccount };
          if (typeof k?.pod?.name === 'string') tags['kubernetes-pod-name'] = k.pod.name;
          if (typeof k?.pod?.uid === 'string') tags['kubernetes-pod-uid'] = k.pod.uid;
        }
        /** The action a trust policy refused (sts:AssumeRole or sts:TagSession), from STS's AccessDenied message. */
        const refused = (e: unknown) => (/sts:TagSession/.test((e as Error).message) ? 'sts:TagSession' : 'sts:AssumeRole');
        let session;
        try {
          session = await assumeRoleAsService(deps, assoc.roleArn, POD_IDENTITY_AUDIENCE, sessionName, SESSION_SECONDS, tags);
        } catch (e) {
          if ((e as { code?: string }).code === 'AccessDenied') throw awsError('AccessDeniedException', `Unable to assume role ${assoc.roleArn}: its trust policy does not allow ${POD_IDENTITY_AUDIENCE} to perform ${refused(e)}`, 400);
          throw e;
        }
        // Cross-account access: the association's role assumes its target role (with the association's external id).
        if (assoc.targetRoleArn) {
          try {
            session = await assumeRoleAsSession(deps, { arn: session.assumedRoleUser.Arn, accountId: assoc.roleArn.split(':')[4] }, assoc.targetRoleArn, sessionName, SESSION_SECONDS, assoc.externalId, tags);
          } catch (e) {
            if ((e as { code?: string }).code === 'AccessDenied') throw awsError('AccessDeniedException', `Unable to assume target role ${assoc.targetRoleArn}: its trust policy does not allow ${assoc.roleArn} to perform ${refused(e)} with the association's external id`, 400);
            throw e;
          }
        }
        return {
          subject: { namespace, serviceAccount },
          audience: POD_IDENTITY_AUDIENCE,
          podIdentityAssociation: { associationArn: assoc.associationArn, associationId: assoc.associationId },
          assumedRoleUser: { arn: session.assumedRoleUser.Arn, assumeRoleId: session.assumedRoleUser.AssumedRoleId },
          credentials: {
            sessionToken: session.credentials.SessionToken,
            secretAccessKey: session.credentials.SecretAccessKey,
            accessKeyId: session.credentials.AccessKeyId,
            expiration: new Date(session.credentials.Expiration),
          },
        };
      },
    },
  };
}
