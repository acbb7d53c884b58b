/**
 * The aws-auth ConfigMap (kube-system/aws-auth) as EKS's authenticator reads
 * it: mapRoles, mapUsers and mapAccounts, each a YAML document inside a
 * ConfigMap data key.
 *
 * Behaviour kept from aws-iam-authenticator (pkg/mapper/configmap and
 * pkg/config/mapper.go), because platform teams rehearse exactly these
 * failure modes:
 *  - each section is parsed on its own; a section that is not valid YAML, or
 *    whose entries have the wrong types (e.g. `groups: system:masters` instead
 *    of a list), is dropped whole while the other sections still apply, so one
 *    bad edit of mapRoles locks out every role-mapped identity, nodes included;
 *  - empty sections ("", `""`, two backticks) are skipped silently;
 *  - ARNs compare case-insensitively; role ARNs may use `*`/`?` wildcards;
 *  - assumed-role sessions match through their role's ARN without a path
 *    (the EKS user guide: a role ARN with a path in aws-auth never matches);
 *  - usernames and groups may use {{AccountID}}, {{SessionName}} (with `@`
 *    turned into `-`), {{SessionNameRaw}}, {{AccessKeyID}} and
 *    {{EC2PrivateDNSName}} (the private DNS name of the instance whose id is
 *    the session name).
 */
import { parse as parseYaml } from 'yaml';

export interface RoleMapping {
  rolearn: string;
  username: string;
  groups: string[];
}

export interface UserMapping {
  userarn: string;
  username: string;
  groups: string[];
}

/** The parsed ConfigMap, with one error per section that was dropped. */
export interface AwsAuthConfig {
  mapRoles: RoleMapping[];
  mapUsers: UserMapping[];
  mapAccounts: string[];
  errors: string[];
}

/** The caller as STS reports it (GetCallerIdentity). */
export interface CallerIdentity {
  /** arn:aws:iam::<acct>:user/x, arn:aws:sts::<acct>:assumed-role/<role>/<session>, or ...:root */
  arn: string;
  accountId: string;
  /** UserId as STS returns it: AIDA... or AROA...:session */
  userId: string;
  accessKeyId: string;
}

/** The Kubernetes user a caller maps to. */
export interface MappedUser {
  username: string;
  groups: string[];
  /** Extra attributes EKS adds (arn, canonicalArn, sessionName, accessKeyId, principalId). */
  extra: Record<string, string[]>;
  /** Where the mapping came from. */
  source: 'mapRoles' | 'mapUsers' | 'mapAccounts';
}

function isSkippable(s: string): boolean {
  const t = s.trim();
  return t === '' || t === '``' || t === '""';
}

/** Go's encoding/json matches struct fields case-insensitively; so do we. */
function field(entry: Record<string, unknown>, name: string): unknown {
  for (const [k, v] of Object.entries(entry)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function parseSection<T>(data: string | undefined, name: string, conv: (e: Record<string, unknown>) => T, errors: string[]): T[] {
  if (data === undefined || isSkippable(data)) return [];
  let doc: unknown;
  try {
    doc = parseYaml(data);
  } catch (e) {
    errors.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
    return [];
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) {
    errors.push(`${name}: json: cannot unmarshal ${typeof doc === 'object' ? 'object' : typeof doc} into Go value of type []config.${name === 'mapRoles' ? 'RoleMapping' : 'UserMapping'}`);
    return [];
  }
  const out: T[] = [];
  for (const e of doc) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      errors.push(`${name}: json: cannot unmarshal ${Array.isArray(e) ? 'array' : typeof e} into Go value of type config.${name === 'mapRoles' ? 'RoleMapping' : 'UserMapping'}`);
      return [];
    }
    try {
      out.push(conv(e as Record<string, unknown>));
    } catch (err) {
      errors.push(`${name}: ${(err as Error).message}`);
      return [];
    }
  }
  return out;
}

function str(e: Record<string, unknown>, name: string): string {
  const v = field(e, name);
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go struct field .${name} of type string`);
  return v;
}

function strList(e: Record<string, unknown>, name: string): string[] {
  const v = field(e, name);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new Error(`json: cannot unmarshal ${Array.isArray(v) ? 'array element' : typeof v} into Go struct field .${name} of type []string`);
  }
  return v as string[];
}

const parsedAwsAuth = new WeakMap<object, AwsAuthConfig>();

/**
 * parseAwsAuth reads the data of the aws-auth ConfigMap. It never throws.
 * The result is remembered per data object (the watch cache hands out the
 * same object until the ConfigMap changes): treat it as read-only.
 */
export function parseAwsAuth(data: Record<string, string> | undefined): AwsAuthConfig {
  if (!data) return parseAwsAuthUncached(data);
  let c = parsedAwsAuth.get(data);
  if (!c) parsedAwsAuth.set(data, (c = parseAwsAuthUncached(data)));
  return c;
}

function parseAwsAuthUncached(data: Record<string, string> | undefined): AwsAuthConfig {
  const errors: string[] = [];
  const d = data ?? {};
  const mapRoles = parseSection(d.mapRoles, 'mapRoles', (e) => ({ rolearn: str(e, 'rolearn'), username: str(e, 'username'), groups: strList(e, 'groups') }), errors);
  const mapUsers = parseSection(d.mapUsers, 'mapUsers', (e) => ({ userarn: str(e, 'userarn'), username: str(e, 'username'), groups: strList(e, 'groups') }), errors);
  let mapAccounts: string[] = [];
  if (d.mapAccounts !== undefined && !isSkippable(d.mapAccounts)) {
    try {
      const doc = parseYaml(d.mapAccounts);
      if (Array.isArray(doc)) mapAccounts = doc.map((x) => String(x));
      else if (doc !== null) errors.push('mapAccounts: expected a list of account ids');
    } catch (e) {
      errors.push(`mapAccounts: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  for (const r of mapRoles) if (!r.rolearn) errors.push('mapRoles: one of rolearn or SSO must be supplied');
  for (const u of mapUsers) if (!u.userarn) errors.push('mapUsers: value for userarn must be supplied');
  return { mapRoles: mapRoles.filter((r) => r.rolearn), mapUsers: mapUsers.filter((u) => u.userarn), mapAccounts, errors };
}

/** Parts of an identity ARN that mapping needs. */
export interface CanonicalIdentity {
  /** The ARN mappings compare with: the role ARN (no path) for assumed roles, else the caller ARN. */
  canonicalArn: string;
  /** Session name for assumed roles. */
  sessionName?: string;
}

/**
 * canonicalizeArn turns a caller ARN into the ARN that aws-auth and access
 * entries are matched against: arn:aws:sts::A:assumed-role/R/S becomes
 * arn:aws:iam::A:role/R. Throws for ARNs that are not identities.
 */
export function canonicalizeArn(arn: string): CanonicalIdentity {
  let c = canonical.get(arn);
  if (!c) {
    c = canonicalizeArnUncached(arn);
    if (canonical.size >= 10_000) canonical.clear();
    canonical.set(arn, c);
  }
  return c;
}

/** Canonical forms already computed (the same callers come back); invalid ARNs throw and are not kept. */
const canonical = new Map<string, CanonicalIdentity>();

function canonicalizeArnUncached(arn: string): CanonicalIdentity {
  const m = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):(.+)$/.exec(arn);
  if (!m) throw new Error(`arn '${arn}' is invalid`);
  const [, partition, service, account, resource] = m as unknown as [string, string, string, string, string];
  const parts = resource.split('/');
  if (service === 'sts') {
    if (parts[0] === 'federated-user') return { canonicalArn: arn };
    if (parts[0] === 'assumed-role') {
      if (parts.length < 3) throw new Error(`assumed-role arn '${arn}' does not have a role`);
      const role = parts.slice(1, -1).join('/');
      return { canonicalArn: `arn:${partition}:iam::${account}:role/${role}`, sessionName: parts[parts.length - 1] };
    }
    throw new Error(`unrecognized resource ${resource} for service sts`);
  }
  if (parts[0] === 'role' || parts[0] === 'user' || parts[0] === 'root') return { canonicalArn: arn };
  throw new Error(`unrecognized resource ${resource} for service iam`);
}

/** arnLike matches an ARN against a pattern with `*` and `?` wildcards (IAM's ArnLike), case-insensitively. */
export function arnLike(subject: string, pattern: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .toLowerCase()
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    's',
  );
  return re.test(subject.toLowerCase());
}

export interface TemplateContext {
  /** Resolves an EC2 instance id to its private DNS name (for {{EC2PrivateDNSName}}). */
  ec2PrivateDnsName?: (instanceId: string) => string | undefined;
}

/**
 * renderTemplate fills the placeholders of a username or group. Returns
 * undefined when a placeholder cannot be resolved (the authenticator then
 * rejects the request).
 */
export function renderTemplate(tpl: string, id: CallerIdentity, canon: CanonicalIdentity, ctx: TemplateContext = {}): string | undefined {
  let failed = false;
  const out = tpl.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    switch (name) {
      case 'AccountID':
        return id.accountId;
      case 'AccessKeyID':
        return id.accessKeyId;
      case 'SessionName':
        if (canon.sessionName === undefined) return (failed = true), whole;
        return canon.sessionName.replace(/@/g, '-');
      case 'SessionNameRaw':
        if (canon.sessionName === undefined) return (failed = true), whole;
        return canon.sessionName;
      case 'EC2PrivateDNSName': {
        const dns = canon.sessionName && /^i-[0-9a-f]+$/.test(canon.sessionName) ? ctx.ec2PrivateDnsName?.(canon.sessionName) : undefined;
        if (!dns) return (failed = true), whole;
        return dns;
      }
      default:
        return whole;
    }
  });
  return failed ? undefined : out;
}

function extraFor(id: CallerIdentity, canon: CanonicalIdentity): Record<string, string[]> {
  const extra: Record<string, string[]> = {
    arn: [id.arn],
    canonicalArn: [canon.canonicalArn],
    accessKeyId: [id.accessKeyId],
    principalId: [id.userId.split(':')[0]!],
  };
  if (canon.sessionName !== undefined) extra.sessionName = [canon.sessionName];
  return extra;
}

/**
 * mapIdentity finds the Kubernetes user for a caller in aws-auth: mapRoles
 * (for roles and assumed roles), then mapUsers, then mapAccounts (username =
 * the caller's canonical ARN, no groups). Returns undefined when unmapped.
 */
export function mapIdentity(cfg: AwsAuthConfig, id: CallerIdentity, ctx: TemplateContext = {}): MappedUser | undefined {
  let canon: CanonicalIdentity;
  try {
    canon = canonicalizeArn(id.arn);
  } catch {
    return undefined;
  }
  const subject = canon.canonicalArn;
  const render = (username: string, groups: string[], source: MappedUser['source']): MappedUser | undefined => {
    const u = renderTemplate(username || subject, id, canon, ctx);
    if (u === undefined) return undefined;
    const gs: string[] = [];
    for (const g of groups) {
      const r = renderTemplate(g, id, canon, ctx);
      if (r === undefined) return undefined;
      gs.push(r);
    }
    return { username: u, groups: gs, extra: extraFor(id, canon), source };
  };
  if (subject.includes(':role/')) {
    for (const r of cfg.mapRoles) {
      const hit = /[*?]/.test(r.rolearn) ? arnLike(subject, r.rolearn) : r.rolearn.toLowerCase() === subject.toLowerCase();
      if (hit) return render(r.username, r.groups, 'mapRoles');
    }
  }
  for (const u of cfg.mapUsers) {
    if (u.userarn.toLowerCase() === subject.toLowerCase()) return render(u.username, u.groups, 'mapUsers');
  }
  if (cfg.mapAccounts.includes(id.accountId)) return render('', [], 'mapAccounts');
  return undefined;
}
