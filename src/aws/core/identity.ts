/**
 * Who signed a request: the access key conventions of the brief.
 *
 * - An STS session key (stored at sts/session/<AccessKeyId>) acts as its
 *   assumed-role identity in its account.
 * - An IAM user's access key (iam/access-key/<AccessKeyId>) acts as that user.
 * - A 12-digit numeric key acts as the root of that account.
 * - Anything else acts as the root of the default account; with IAM
 *   enforcement only the key `test` does (the documented default test/test
 *   credentials), other unknown keys are rejected.
 *
 * With IAM enforcement, root keys verify against the secret `test`.
 */
import type { AwsConfig } from './deps.ts';
import { type AwsState, awsKey, GLOBAL_REGION } from './state.ts';

/** The secret that root credentials (12-digit key ids and `test`) verify against under IAM enforcement. */
export const ROOT_SECRET = 'test';

const KEY_SCOPE = { accountId: '_', region: GLOBAL_REGION };

/** An IAM user's long-term key document (iam/access-key). */
export interface AccessKeyDoc {
  AccessKeyId: string;
  SecretAccessKey: string;
  UserName: string;
  Status: string;
  CreateDate: string;
  AccountId: string;
}

/** Temporary credentials issued by STS (sts/session). */
export interface SessionDoc {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  /** ISO 8601. */
  Expiration: string;
  AccountId: string;
  Arn: string;
  AssumedRoleId: string;
  RoleArn: string;
  /** For GetSessionToken sessions: the caller the session stands for. */
  _userId?: string;
}

export interface Caller {
  accountId: string;
  arn: string;
  userId: string;
  kind: 'root' | 'user' | 'assumed-role' | 'session' | 'anonymous';
  /** The secret to verify the signature with; undefined when the key is unknown. */
  secret?: string;
  /** Temporary credentials: the expected session token and expiry (epoch ms). */
  sessionToken?: string;
  expiresAtMs?: number;
  /** False when the key matched nothing (only acceptable without IAM enforcement). */
  known: boolean;
  /** IAM key marked Inactive. */
  inactive?: boolean;
}

/** sessionKey is where STS keeps a temporary credential. */
export function sessionKey(accessKeyId: string): string {
  return awsKey(KEY_SCOPE, 'sts', 'session', accessKeyId);
}

/** accessKeyKey is where IAM keeps a user's access key. */
export function accessKeyKey(accessKeyId: string): string {
  return awsKey(KEY_SCOPE, 'iam', 'access-key', accessKeyId);
}

function root(accountId: string, known: boolean): Caller {
  return { accountId, arn: `arn:aws:iam::${accountId}:root`, userId: accountId, kind: 'root', secret: known ? ROOT_SECRET : undefined, known };
}

/** resolveCaller maps an access key id to the identity it acts as. */
export function resolveCaller(state: AwsState, config: AwsConfig, accessKeyId: string): Caller {
  if (accessKeyId === '') return { ...root(config.defaultAccountId, false), kind: 'anonymous' };
  const session = state.get<SessionDoc>(sessionKey(accessKeyId));
  if (session) {
    return {
      accountId: session.AccountId,
      arn: session.Arn,
      userId: session.AssumedRoleId,
      kind: session.RoleArn ? 'assumed-role' : 'session',
      secret: session.SecretAccessKey,
      sessionToken: session.SessionToken,
      expiresAtMs: Date.parse(session.Expiration),
      known: true,
    };
  }
  const key = state.get<AccessKeyDoc>(accessKeyKey(accessKeyId));
  if (key) {
    const user = state.get<{ Arn?: string; UserId?: string }>(awsKey({ accountId: key.AccountId, region: GLOBAL_REGION }, 'iam', 'user', key.UserName));
    return {
      accountId: key.AccountId,
      arn: user?.Arn ?? `arn:aws:iam::${key.AccountId}:user/${key.UserName}`,
      userId: user?.UserId ?? accessKeyId,
      kind: 'user',
      secret: key.SecretAccessKey,
      known: true,
      inactive: key.Status === 'Inactive',
    };
  }
  if (/^\d{12}$/.test(accessKeyId)) return root(accessKeyId, true);
  return root(config.defaultAccountId, accessKeyId === 'test');
}
