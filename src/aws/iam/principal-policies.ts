/**
 * Managed-policy attachments and inline policies of roles, users and groups:
 * Attach/Detach/ListAttached<Kind>Policies and Put/Get/Delete/List<Kind>Policies,
 * written once for the three kinds of principal.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler } from '../core/types.ts';
import { checkPolicyArn, iamError, noSuchEntity, paginate } from './common.ts';
import { iamKey, type GroupDoc, type RoleDoc, type UserDoc } from './model.ts';
import { encodePolicy, validatePolicyDocument } from './policy-document.ts';
import { getPolicy } from './shared.ts';

export type PrincipalKind = 'Role' | 'User' | 'Group';
type PrincipalDoc = RoleDoc | UserDoc | GroupDoc;

const TYPE = { Role: 'role', User: 'user', Group: 'group' } as const;
const MAX_MANAGED = 10;
const MAX_INLINE_BYTES = { Role: 10240, User: 2048, Group: 5120 };

/** principalNotFound is IAM's NoSuchEntity for a missing role/user/group. */
export function principalNotFound(kind: PrincipalKind, name: string): Error {
  return noSuchEntity(`The ${TYPE[kind]} with name ${name} cannot be found.`);
}

function policyNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}

/** principalPolicyOperations returns the attach/inline handlers for one kind of principal. */
export function principalPolicyOperations(deps: AwsDeps, kind: PrincipalKind): Record<string, OperationHandler> {
  const { state } = deps;
  const nameField = `${kind}Name`;
  const key = (account: string, name: string) => iamKey(account, TYPE[kind], name);
  const load = (account: string, name: string): PrincipalDoc => {
    const doc = state.get<PrincipalDoc>(key(account, name));
    if (!doc) throw principalNotFound(kind, name);
    return doc;
  };
  const update = async (account: string, name: string, fn: (doc: PrincipalDoc) => void): Promise<void> => {
    await state.mutate<PrincipalDoc>(key(account, name), (cur) => {
      if (!cur) throw principalNotFound(kind, name);
      fn(cur);
      return cur;
    });
  };

  return {
    [`Attach${kind}Policy`]: async (input, ctx) => {
      const name: string = input[nameField];
      const arn: string = input.PolicyArn;
      load(ctx.accountId, name);
      checkPolicyArn(arn);
      const policy = getPolicy(state, arn);
      if (!policy || !policy.IsAttachable) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`);
      const principal = load(ctx.accountId, name);
      if (policy.Path.startsWith('/aws-service-role/') && !('Path' in principal && principal.Path.startsWith('/aws-service-role/'))) {
        throw iamError('PolicyNotAttachable', `Cannot attach a Service Role Policy to a Customer ${kind}.`);
      }
      await update(ctx.accountId, name, (doc) => {
        if (doc._attached.includes(arn)) return;
        if (doc._attached.length >= MAX_MANAGED) throw iamError('LimitExceeded', `Cannot exceed quota for PoliciesPer${kind}: ${MAX_MANAGED}`);
        doc._attached.push(arn);
      });
      return {};
    },
    [`Detach${kind}Policy`]: async (input, ctx) => {
      const name: string = input[nameField];
      const arn: string = input.PolicyArn;
      const doc = load(ctx.accountId, name);
      checkPolicyArn(arn);
      if (!doc._attached.includes(arn)) throw noSuchEntity(`Policy ${arn} was not found.`);
      await update(ctx.accountId, name, (cur) => {
        cur._attached = cur._attached.filter((a) => a !== arn);
      });
      return {};
    },
    [`ListAttached${kind}Policies`]: (input, ctx) => {
      const doc = load(ctx.accountId, input[nameField]);
      let arns = doc._attached;
      if (input.PathPrefix) arns = arns.filter((a) => (getPolicy(state, a)?.Path ?? '/').startsWith(input.PathPrefix));
      const { page, IsTruncated, Marker } = paginate(arns, input);
      return { AttachedPolicies: page.map((a) => ({ PolicyName: policyNameOf(a), PolicyArn: a })), IsTruncated, Marker };
    },
    [`Put${kind}Policy`]: async (input, ctx) => {
      const name: string = input[nameField];
      load(ctx.accountId, name);
      const text: string = input.PolicyDocument;
      validatePolicyDocument(text, 'identity');
      const encoded = encodePolicy(text);
      await update(ctx.accountId, name, (doc) => {
        const others = Object.entries(doc._inline)
          .filter(([n]) => n !== input.PolicyName)
          .reduce((n, [, v]) => n + decodeURIComponent(v).replace(/\s/g, '').length, 0);
        if (others + text.replace(/\s/g, '').length > MAX_INLINE_BYTES[kind]) {
          throw iamError('LimitExceeded', `Maximum policy size of ${MAX_INLINE_BYTES[kind]} bytes exceeded for ${TYPE[kind]} ${name}`);
        }
        doc._inline[input.PolicyName] = encoded;
      });
      return {};
    },
    [`Get${kind}Policy`]: (input, ctx) => {
      const name: string = input[nameField];
      const doc = load(ctx.accountId, name);
      const p = doc._inline[input.PolicyName];
      if (p === undefined) throw noSuchEntity(`The ${TYPE[kind]} policy with name ${input.PolicyName} cannot be found.`);
      return { [nameField]: name, PolicyName: input.PolicyName, PolicyDocument: p };
    },
    [`Delete${kind}Policy`]: async (input, ctx) => {
      const name: string = input[nameField];
      const doc = load(ctx.accountId, name);
      if (doc._inline[input.PolicyName] === undefined) {
        throw noSuchEntity(`The ${TYPE[kind]} policy with name ${input.PolicyName} cannot be found.`);
      }
      await update(ctx.accountId, name, (cur) => {
        delete cur._inline[input.PolicyName];
      });
      return {};
    },
    [`List${kind}Policies`]: (input, ctx) => {
      const doc = load(ctx.accountId, input[nameField]);
      const { page, IsTruncated, Marker } = paginate(Object.keys(doc._inline).sort(), input);
      return { PolicyNames: page, IsTruncated, Marker };
    },
  };
}
