/**
 * What other services may ask of STS: temporary credentials for a role
 * assumed by an AWS service principal (EKS Pod Identity's eks-auth assumes
 * the associated role as pods.eks.amazonaws.com). Sessions are stored where
 * STS keeps them (core/identity.ts), so requests signed with the returned
 * credentials act as `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.
 * Session tags, when given, need the trust policy to allow sts:TagSession
 * too (both actions are checked with `aws:RequestTag/<key>` and
 * `aws:TagKeys` in the condition context, as STS checks them) and are kept
 * on the session (`sessionTagsOf`).
 */
import { randomBytes } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import { type SessionDoc, sessionKey } from '../core/identity.ts';
import { awsError } from '../core/types.ts';
import { getRoleByArn, roleTrustPolicy } from '../iam/shared.ts';
import { trustAllows } from './trust-policy.ts';

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomKeyId(): string {
  const b = randomBytes(16);
  let s = 'ASIA';
  for (let i = 0; i < 16; i++) s += KEY_ALPHABET[b[i]! % 32];
  return s;
}

export interface ServiceRoleSession {
  credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  assumedRoleUser: { Arn: string; AssumedRoleId: string };
}

/**
 * assumeRoleAsService issues a session of `roleArn` for `service` (the
 * role's trust policy must allow that service principal sts:AssumeRole),
 * named `sessionName`, valid `durationSeconds` on the simulated clock.
 * Throws AccessDenied (403) when the role is missing or does not trust it.
 */
export async function assumeRoleAsService(deps: AwsDeps, roleArn: string, service: string, sessionName: string, durationSeconds: number, tags?: SessionTags): Promise<ServiceRoleSession> {
  const context = tagContext(tags);
  const role = trustedRole(deps, roleArn, { action: 'sts:AssumeRole', service, context }, service);
  if (tags && Object.keys(tags).length > 0) trustedRole(deps, roleArn, { action: 'sts:TagSession', service, context }, service, 'sts:TagSession');
  return issue(deps, role, sessionName, durationSeconds, tags);
}

/** Session tags: key -> value (EKS Pod Identity's eks-cluster-arn, kubernetes-namespace, ...). */
export type SessionTags = Record<string, string>;

/** The condition keys STS sets for the tags of a request. */
function tagContext(tags: SessionTags | undefined): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {};
  if (!tags || Object.keys(tags).length === 0) return context;
  for (const [k, v] of Object.entries(tags)) context[`aws:RequestTag/${k}`] = v;
  context['aws:TagKeys'] = Object.keys(tags);
  return context;
}

/** sessionTagsOf: the session tags of temporary credentials (by access key id), undefined when it has none or is unknown. */
export function sessionTagsOf(deps: AwsDeps, accessKeyId: string): SessionTags | undefined {
  return deps.state.get<TaggedSessionDoc>(sessionKey(accessKeyId))?._sessionTags;
}

/**
 * assumeRoleAsSession chains roles: the session `source` (an assumed-role
 * session ARN) assumes `roleArn`, whose trust policy must allow that role
 * (conditions evaluated on sts:ExternalId and sts:RoleSessionName), as EKS
 * Pod Identity's target roles are assumed. Throws AccessDenied (403) otherwise.
 */
export async function assumeRoleAsSession(
  deps: AwsDeps,
  source: { arn: string; accountId: string },
  roleArn: string,
  sessionName: string,
  durationSeconds: number,
  externalId?: string,
  tags?: SessionTags,
): Promise<ServiceRoleSession> {
  const context: Record<string, string | string[]> = { 'aws:PrincipalArn': source.arn, 'aws:PrincipalAccount': source.accountId, 'sts:RoleSessionName': sessionName, ...tagContext(tags) };
  if (externalId !== undefined) context['sts:ExternalId'] = externalId;
  const req = { callerArn: source.arn, callerAccountId: source.accountId, context };
  const role = trustedRole(deps, roleArn, { action: 'sts:AssumeRole', ...req }, source.arn);
  if (tags && Object.keys(tags).length > 0) trustedRole(deps, roleArn, { action: 'sts:TagSession', ...req }, source.arn, 'sts:TagSession');
  return issue(deps, role, sessionName, durationSeconds, tags);
}

function trustedRole(deps: AwsDeps, roleArn: string, req: Parameters<typeof trustAllows>[1], who: string, action = 'sts:AssumeRole') {
  const role = getRoleByArn(deps.state, roleArn);
  let policy: unknown;
  try {
    policy = role ? roleTrustPolicy(role) : undefined;
  } catch {
    policy = undefined;
  }
  if (!role || !trustAllows(policy, req)) {
    throw awsError('AccessDenied', `${who} is not authorized to perform: ${action} on resource: ${roleArn}`, 403);
  }
  return role;
}

/** A session with the tags it was issued with. */
type TaggedSessionDoc = SessionDoc & { _sessionTags?: SessionTags };

async function issue(deps: AwsDeps, role: NonNullable<ReturnType<typeof getRoleByArn>>, sessionName: string, durationSeconds: number, tags?: SessionTags): Promise<ServiceRoleSession> {
  const accountId = role.Arn.split(':')[4]!;
  const doc: TaggedSessionDoc = {
    AccessKeyId: randomKeyId(),
    SecretAccessKey: randomBytes(30).toString('base64').slice(0, 40),
    SessionToken: randomBytes(96).toString('base64'),
    Expiration: new Date(deps.clock.nowMs() + durationSeconds * 1000).toISOString(),
    AccountId: accountId,
    Arn: `arn:aws:sts::${accountId}:assumed-role/${role.RoleName}/${sessionName}`,
    AssumedRoleId: `${role.RoleId}:${sessionName}`,
    RoleArn: role.Arn,
  };
  if (tags && Object.keys(tags).length > 0) doc._sessionTags = { ...tags };
  await deps.state.commit([{ op: 'create', key: sessionKey(doc.AccessKeyId), doc }]);
  return {
    credentials: { AccessKeyId: doc.AccessKeyId, SecretAccessKey: doc.SecretAccessKey, SessionToken: doc.SessionToken, Expiration: doc.Expiration },
    assumedRoleUser: { Arn: doc.Arn, AssumedRoleId: doc.AssumedRoleId },
  };
}
