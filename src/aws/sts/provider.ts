/**
 * AWS STS: caller identity and temporary credentials.
 *
 * - GetCallerIdentity answers the identity the gateway resolved (root, IAM
 *   user, assumed-role session).
 * - AssumeRole / AssumeRoleWithWebIdentity issue ASIA... credentials for a
 *   role that exists in IAM state, stored as sessions (see core/identity.ts)
 *   so later requests signed with them act as
 *   `arn:aws:sts::<acct>:assumed-role/<role>/<session>`; expiry is measured
 *   on the simulated clock.
 * - GetSessionToken issues credentials standing for the caller itself;
 *   GetFederationToken for a federated user of the caller's account.
 * - Sessions expired for over an hour are swept every 200 issues.
 * - GetAccessKeyInfo names the account an access key belongs to.
 *
 * Trust policies (trust-policy.ts): AssumeRoleWithWebIdentity always needs
 * the role's trust policy to allow the OIDC provider (with its sub/aud
 * conditions), as IRSA relies on; AssumeRole checks the caller against the
 * trust policy only with IAM enforcement on. Web identity tokens are checked
 * for shape, issuer (a registered IAM OIDC provider), audience (its client id
 * list) and expiry, and their signature through deps.webIdentityVerifier
 * when the server provides one (cluster service-account issuers).
 */
import { randomBytes } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import { type AccessKeyDoc, accessKeyKey, type SessionDoc, sessionKey } from '../core/identity.ts';
import { collectionPrefix, GLOBAL_REGION } from '../core/state.ts';
import { getOidcProviderByUrl, getRoleByArn, type RoleDoc, roleTrustPolicy } from '../iam/shared.ts';
import { type AwsProvider, awsError, type RequestContext } from '../core/types.ts';
import { trustAllows, type TrustRequest } from './trust-policy.ts';

const SESSIONS = collectionPrefix({ accountId: '_', region: GLOBAL_REGION }, 'sts', 'session');

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function randomId(prefix: string, n: number): string {
  const b = randomBytes(n);
  let s = prefix;
  for (let i = 0; i < n; i++) s += KEY_ALPHABET[b[i]! & 31];
  return s;
}

function randomSecret(): string {
  return randomBytes(30).toString('base64').replace(/[+/]/g, (c) => (c === '+' ? 'A' : 'B'));
}

function randomSessionToken(): string {
  return `IQoJb3JpZ2luX2VjE${randomBytes(270).toString('base64')}`;
}

/** parseRoleArn splits arn:aws:iam::<account>:role/<path/><name>; undefined when it is not a role ARN. */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/.exec(arn);
  return m ? { accountId: m[1]!, roleName: m[2]! } : undefined;
}

function b64urlJson(part: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function createStsProvider(deps: AwsDeps): AwsProvider {
  const { state, clock } = deps;

  /** role finds the role and checks its trust policy; AccessDenied as STS words it otherwise. */
  function role(arn: string, trust: TrustRequest | undefined, ctx: RequestContext): RoleDoc & { accountId: string } {
    const parsed = parseRoleArn(arn);
    if (!parsed) throw awsError('ValidationError', `${arn} is invalid`, 400);
    const doc = getRoleByArn(state, arn);
    let allowed = !!doc;
    if (doc && trust) {
      let policy: unknown;
      try {
        policy = roleTrustPolicy(doc);
      } catch {
        policy = undefined;
      }
      allowed = trustAllows(policy, trust);
    }
    if (!allowed) {
      if (trust?.federated !== undefined || (!trust && ctx.operation === 'AssumeRoleWithWebIdentity')) {
        throw awsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403);
      }
      throw awsError('AccessDenied', `User: ${ctx.callerArn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`, 403);
    }
    return { ...doc!, accountId: parsed.accountId };
  }

  /** Sessions issued since the last sweep of expired ones. */
  let issuedSinceSweep = 0;
  const SWEEP_EVERY = 200;
  /** How long an expired session is kept (so a late request gets ExpiredToken rather than an unknown key). */
  const KEEP_EXPIRED_MS = 3600_000;

  /** store writes a new session and, every SWEEP_EVERY issues, deletes sessions long expired. */
  async function store(doc: SessionDoc): Promise<void> {
    await state.commit([{ op: 'create', key: sessionKey(doc.AccessKeyId), doc }]);
    if (++issuedSinceSweep < SWEEP_EVERY) return;
    issuedSinceSweep = 0;
    const cutoff = clock.nowMs() - KEEP_EXPIRED_MS;
    const stale = state.list<SessionDoc>(SESSIONS).filter((x) => Date.parse(x.Expiration) < cutoff);
    for (let i = 0; i < stale.length; i += 500) {
      await state.commit(stale.slice(i, i + 500).map((x) => ({ op: 'delete' as const, key: sessionKey(x.AccessKeyId) }))).catch(() => {});
    }
  }

  function newSession(accountId: string, durationSeconds: number, identity: { Arn: string; AssumedRoleId: string; RoleArn: string }): SessionDoc {
    return {
      AccessKeyId: randomId('ASIA', 16),
      SecretAccessKey: randomSecret(),
      SessionToken: randomSessionToken(),
      Expiration: new Date(clock.nowMs() + durationSeconds * 1000).toISOString(),
      AccountId: accountId,
      ...identity,
    };
  }

  function credentials(doc: SessionDoc) {
    return { AccessKeyId: doc.AccessKeyId, SecretAccessKey: doc.SecretAccessKey, SessionToken: doc.SessionToken, Expiration: new Date(doc.Expiration) };
  }

  async function issueForRole(r: RoleDoc & { accountId: string }, sessionName: string, durationSeconds: number | undefined) {
    const max = r.MaxSessionDuration ?? 3600;
    const duration = durationSeconds ?? 3600;
    if (duration > max) {
      throw awsError(
        'ValidationError',
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
        400,
      );
    }
    const doc = newSession(r.accountId, duration, {
      Arn: `arn:aws:sts::${r.accountId}:assumed-role/${r.RoleName}/${sessionName}`,
      AssumedRoleId: `${r.RoleId}:${sessionName}`,
      RoleArn: r.Arn,
    });
    await store(doc);
    return {
      Credentials: credentials(doc),
      AssumedRoleUser: { AssumedRoleId: doc.AssumedRoleId, Arn: doc.Arn },
      PackedPolicySize: 0,
    };
  }

  return {
    service: 'sts',
    operations: {
      GetCallerIdentity(_input: unknown, ctx: RequestContext) {
        return { UserId: ctx.callerUserId, Account: ctx.accountId, Arn: ctx.callerArn };
      },

      async AssumeRole(input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number; ExternalId?: string }, ctx: RequestContext) {
        const context: Record<string, string> = { 'aws:PrincipalArn': ctx.callerArn, 'aws:PrincipalAccount': ctx.accountId, 'sts:RoleSessionName': input.RoleSessionName };
        if (input.ExternalId !== undefined) context['sts:ExternalId'] = input.ExternalId;
        const trust = deps.config.enforceIam ? { action: 'sts:AssumeRole', callerArn: ctx.callerArn, callerAccountId: ctx.accountId, context } : undefined;
        const r = role(input.RoleArn, trust, ctx);
        return issueForRole(r, input.RoleSessionName, input.DurationSeconds);
      },

      async AssumeRoleWithWebIdentity(
        input: { RoleArn: string; RoleSessionName: string; WebIdentityToken: string; DurationSeconds?: number },
        ctx: RequestContext,
      ) {
        const parts = input.WebIdentityToken.split('.');
        const header = parts.length === 3 ? b64urlJson(parts[0]!) : undefined;
        const claims = parts.length === 3 ? b64urlJson(parts[1]!) : undefined;
        if (!header || !claims || typeof claims.iss !== 'string') {
          throw awsError('InvalidIdentityToken', 'Couldn\'t parse the web identity token', 400);
        }
        const iss = claims.iss;
        const parsed = parseRoleArn(input.RoleArn);
        const accountId = parsed?.accountId ?? ctx.accountId;
        const providerId = iss.replace(/^https:\/\//, '');
        const provider = getOidcProviderByUrl(state, accountId, iss);
        if (!provider) throw awsError('InvalidIdentityToken', `No OpenIDConnect provider found in your account for ${iss}`, 400);
        const aud = Array.isArray(claims.aud) ? (claims.aud as unknown[]).map(String) : claims.aud === undefined ? [] : [String(claims.aud)];
        if (provider.ClientIDList && provider.ClientIDList.length > 0 && !aud.some((a) => provider.ClientIDList!.includes(a))) {
          throw awsError('InvalidIdentityToken', 'Incorrect token audience', 400);
        }
        const nowS = clock.nowMs() / 1000;
        if (typeof claims.exp === 'number' && claims.exp <= nowS) {
          throw awsError('ExpiredTokenException', 'Token expired: current date/time must be before the expiration date/time.', 400);
        }
        const context: Record<string, string | string[]> = { [`${providerId}:aud`]: aud, [`${providerId}:oaud`]: aud, 'sts:RoleSessionName': input.RoleSessionName };
        if (typeof claims.sub === 'string') context[`${providerId}:sub`] = claims.sub;
        if (deps.webIdentityVerifier) {
          try {
            await deps.webIdentityVerifier(input.WebIdentityToken, iss);
          } catch {
            throw awsError(
              'InvalidIdentityToken',
              'The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.',
              400,
            );
          }
        }
        const r = role(input.RoleArn, { action: 'sts:AssumeRoleWithWebIdentity', federated: provider.Arn, context }, ctx);
        const out = await issueForRole(r, input.RoleSessionName, input.DurationSeconds);
        return {
          ...out,
          SubjectFromWebIdentityToken: typeof claims.sub === 'string' ? claims.sub : undefined,
          Audience: aud[0],
          Provider: providerId,
        };
      },

      async GetSessionToken(input: { DurationSeconds?: number }, ctx: RequestContext) {
        if (ctx.accessKeyId && state.get<SessionDoc>(sessionKey(ctx.accessKeyId))) {
          throw awsError('AccessDenied', 'Cannot call GetSessionToken with session credentials', 403);
        }
        const isRoot = ctx.callerArn.endsWith(':root');
        const duration = input.DurationSeconds ?? (isRoot ? 3600 : 43200);
        if (isRoot && duration > 3600) {
          throw awsError('ValidationError', 'Root users cannot request a DurationSeconds longer than 3600 seconds.', 400);
        }
        const doc = newSession(ctx.accountId, duration, { Arn: ctx.callerArn, AssumedRoleId: ctx.callerUserId, RoleArn: '' });
        await store(doc);
        return { Credentials: credentials(doc) };
      },

      async GetFederationToken(input: { Name: string; DurationSeconds?: number }, ctx: RequestContext) {
        if (ctx.accessKeyId && state.get<SessionDoc>(sessionKey(ctx.accessKeyId))) {
          throw awsError('AccessDenied', 'Cannot call GetFederationToken with session credentials', 403);
        }
        const isRoot = ctx.callerArn.endsWith(':root');
        const duration = input.DurationSeconds ?? (isRoot ? 3600 : 43200);
        if (isRoot && duration > 3600) {
          throw awsError('ValidationError', 'Root users cannot request a DurationSeconds longer than 3600 seconds.', 400);
        }
        const federated = { Arn: `arn:aws:sts::${ctx.accountId}:federated-user/${input.Name}`, FederatedUserId: `${ctx.accountId}:${input.Name}` };
        const doc = newSession(ctx.accountId, duration, { Arn: federated.Arn, AssumedRoleId: federated.FederatedUserId, RoleArn: '' });
        await store(doc);
        return { Credentials: credentials(doc), FederatedUser: federated, PackedPolicySize: 0 };
      },

      GetAccessKeyInfo(input: { AccessKeyId: string }) {
        const id = input.AccessKeyId;
        const session = state.get<SessionDoc>(sessionKey(id));
        if (session) return { Account: session.AccountId };
        const key = state.get<AccessKeyDoc>(accessKeyKey(id));
        if (key) return { Account: key.AccountId };
        return { Account: /^\d{12}$/.test(id) ? id : deps.config.defaultAccountId };
      },
    },
  };
}
