/**
 * Evaluation of a role's trust policy (AssumeRolePolicyDocument) for the STS
 * AssumeRole* calls: a matching Deny refuses, otherwise a matching Allow is
 * needed. A statement matches when its Action covers the call (wildcards
 * allowed), its Principal names the caller, and its Condition holds.
 *
 * Principals: `"*"`, `{"AWS": ...}` (an ARN, `arn:aws:iam::<acct>:root` or a
 * bare account id for every principal of that account, a role ARN for that
 * role's sessions), `{"Federated": <OIDC provider ARN>}` for web identity.
 * Conditions: the String* operators (Equals, NotEquals, Like, NotLike, and
 * their IgnoreCase/IfExists forms) on the context keys the call supplies,
 * e.g. `oidc.eks.<region>.amazonaws.com/id/<ID>:sub`; other operators are
 * not evaluated (treated as holding).
 */

/** Who asks, for which action, with which condition keys. */
export interface TrustRequest {
  action: string;
  /** The caller's ARN (AssumeRole). */
  callerArn?: string;
  /** The caller's account (AssumeRole). */
  callerAccountId?: string;
  /** The federated provider ARN (AssumeRoleWithWebIdentity). */
  federated?: string;
  /** The AWS service principal assuming the role (e.g. pods.eks.amazonaws.com for EKS Pod Identity). */
  service?: string;
  /** Condition context keys (lower-cased when compared). */
  context: Record<string, string | string[]>;
}

type Json = Record<string, unknown>;

function list(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(value);
}

function actionMatches(stmt: Json, action: string): boolean {
  if (stmt.NotAction !== undefined) return !list(stmt.NotAction).some((a) => glob(a, action, true));
  return list(stmt.Action).some((a) => glob(a, action, true));
}

/** The role ARN behind an assumed-role session ARN (arn:aws:sts::<acct>:assumed-role/<role>/<session>). */
function sessionRoleName(arn: string): { accountId: string; role: string } | undefined {
  const m = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? { accountId: m[1]!, role: m[2]! } : undefined;
}

function awsPrincipalMatches(p: string, req: TrustRequest): boolean {
  if (p === '*') return true;
  if (!req.callerArn) return false;
  if (p === req.callerArn) return true;
  if (/^\d{12}$/.test(p) || /^arn:aws[\w-]*:iam::\d{12}:root$/.test(p)) {
    const acct = /^\d{12}$/.test(p) ? p : p.split(':')[4];
    return acct === req.callerAccountId;
  }
  const session = sessionRoleName(req.callerArn);
  if (session) {
    const m = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(p);
    return !!m && m[1] === session.accountId && m[2] === session.role;
  }
  return false;
}

function principalMatches(stmt: Json, req: TrustRequest): boolean {
  const principal = stmt.Principal;
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const p = principal as Json;
  if (req.federated !== undefined) return list(p.Federated).includes(req.federated) || list(p.AWS).includes('*');
  if (req.service !== undefined) return list(p.Service).includes(req.service);
  return list(p.AWS).some((x) => awsPrincipalMatches(x, req));
}

function conditionHolds(stmt: Json, req: TrustRequest): boolean {
  const cond = stmt.Condition;
  if (!cond || typeof cond !== 'object') return true;
  const ctx = new Map(Object.entries(req.context).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));
  for (const [rawOp, block] of Object.entries(cond as Json)) {
    if (!block || typeof block !== 'object') continue;
    let op = rawOp.replace(/^(ForAnyValue|ForAllValues):/, '');
    const ifExists = op.endsWith('IfExists');
    if (ifExists) op = op.slice(0, -'IfExists'.length);
    if (!/^String(Not)?(Equals|Like)(IgnoreCase)?$/.test(op)) continue;
    const negate = op.includes('Not');
    const like = op.includes('Like');
    const ignoreCase = op.endsWith('IgnoreCase');
    for (const [key, want] of Object.entries(block as Json)) {
      const have = ctx.get(key.toLowerCase());
      if (have === undefined) {
        if (ifExists || negate) continue;
        return false;
      }
      const wants = list(want);
      const any = have.some((h) => wants.some((w) => (like ? glob(w, h, ignoreCase) : ignoreCase ? w.toLowerCase() === h.toLowerCase() : w === h)));
      if (negate ? any : !any) return false;
    }
  }
  return true;
}

/** trustAllows reports whether the trust policy lets the request assume the role. */
export function trustAllows(policy: unknown, req: TrustRequest): boolean {
  if (!policy || typeof policy !== 'object') return false;
  const raw = (policy as Json).Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]).filter((s): s is Json => !!s && typeof s === 'object');
  let allowed = false;
  for (const s of statements) {
    if (!actionMatches(s, req.action) || !principalMatches(s, req) || !conditionHolds(s, req)) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}
