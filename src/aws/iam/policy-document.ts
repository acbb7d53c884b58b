/**
 * Validation of IAM policy documents as IAM does it on write, giving
 * MalformedPolicyDocument with IAM's messages. Identity policies (managed and
 * inline) need Action and Resource in every statement; trust policies
 * (AssumeRolePolicyDocument) need a Principal, may only name sts: actions, and
 * must not have Resource.
 */
import { awsError } from '../core/types.ts';

export type PolicyKind = 'identity' | 'trust';

const VERSIONS = new Set(['2008-10-17', '2012-10-17']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

function malformed(message: string): Error {
  return awsError('MalformedPolicyDocument', message, 400);
}

function isStringOrStrings(v: unknown): v is string | string[] {
  return typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
}

function list(v: string | string[]): string[] {
  return typeof v === 'string' ? [v] : v;
}

/**
 * validatePolicyDocument checks a policy document and returns it parsed.
 * Throws MalformedPolicyDocument (status 400) with IAM's message otherwise.
 */
export function validatePolicyDocument(text: string, kind: PolicyKind): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw malformed('Syntax errors in policy.');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) {
    if (!['Version', 'Id', 'Statement'].includes(k)) throw malformed('Syntax errors in policy.');
  }
  if (d.Version !== undefined && (typeof d.Version !== 'string' || !VERSIONS.has(d.Version))) {
    throw malformed('Policy document must be version 2012-10-17 or greater.');
  }
  if (d.Statement === undefined) throw malformed('Syntax errors in policy.');
  const statements = Array.isArray(d.Statement) ? d.Statement : [d.Statement];
  if (statements.length === 0) throw malformed('Syntax errors in policy.');
  const sids = new Set<string>();
  for (const s of statements) {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw malformed('Syntax errors in policy.');
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) if (!STATEMENT_KEYS.has(k)) throw malformed('Syntax errors in policy.');
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Syntax errors in policy.');
    if (st.Sid !== undefined) {
      if (typeof st.Sid !== 'string') throw malformed('Syntax errors in policy.');
      if (st.Sid !== '' && sids.has(st.Sid)) throw malformed('Statement IDs (SID) in a single policy must be unique.');
      sids.add(st.Sid);
    }
    if (st.Action !== undefined && st.NotAction !== undefined) throw malformed('Syntax errors in policy.');
    if (st.Resource !== undefined && st.NotResource !== undefined) throw malformed('Syntax errors in policy.');
    const actions = st.Action ?? st.NotAction;
    if (actions === undefined) throw malformed('Policy statement must contain actions.');
    if (!isStringOrStrings(actions)) throw malformed('Syntax errors in policy.');
    for (const a of list(actions)) {
      if (a === '*') continue;
      const parts = a.split(':');
      if (parts.length < 2) throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
      if (parts.length > 2) throw malformed('Actions/Condition can contain only one colon.');
      if (!/^[a-zA-Z0-9-]+$/.test(parts[0]!)) throw malformed(`Vendor ${parts[0]} is not valid`);
    }
    if (st.Condition !== undefined && (typeof st.Condition !== 'object' || st.Condition === null || Array.isArray(st.Condition))) {
      throw malformed('Syntax errors in policy.');
    }
    const principal = st.Principal ?? st.NotPrincipal;
    if (kind === 'trust') {
      if (st.Resource !== undefined || st.NotResource !== undefined) throw malformed('Has prohibited field Resource.');
      if (principal === undefined) throw malformed('Syntax errors in policy.');
      for (const a of list(actions)) {
        if (!/^sts:[A-Za-z*]+$/.test(a) && a !== '*') {
          throw malformed('Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity');
        }
      }
    } else {
      if (principal !== undefined) throw malformed('Policy document should not specify a principal.');
      const resources = st.Resource ?? st.NotResource;
      if (resources === undefined) throw malformed('Policy statement must contain resources.');
      if (!isStringOrStrings(resources)) throw malformed('Syntax errors in policy.');
      for (const r of list(resources)) {
        if (r !== '*' && !r.startsWith('arn:') && !r.includes('${')) {
          throw malformed(`Resource ${r} must be in ARN format or "*".`);
        }
      }
    }
    if (principal !== undefined) {
      if (principal !== '*' && (typeof principal !== 'object' || principal === null || Array.isArray(principal))) {
        throw malformed('Syntax errors in policy.');
      }
      if (typeof principal === 'object') {
        for (const [k, v] of Object.entries(principal as Record<string, unknown>)) {
          if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(k) || !isStringOrStrings(v)) {
            throw malformed('Invalid principal in policy: "' + k + '"');
          }
        }
      }
    }
  }
  return d;
}

/** encodePolicy URL-encodes a policy document the way IAM returns documents. */
export function encodePolicy(text: string): string {
  return encodeURIComponent(text);
}
