/**
 * TagResource, UntagResource and ListTagsForResource by ARN for every
 * taggable EKS resource: clusters, node groups, Fargate profiles, add-ons,
 * identity provider configs, pod identity associations, access entries,
 * capabilities and EKS Anywhere subscriptions.
 */
import { awsError, type RequestContext } from '../core/types.ts';
import { childKey, childPrefix, clusterKey, type EksContext, topKey, validateTags } from './common.ts';

function badArn(a: string) {
  return awsError('BadRequestException', `${a} is not a valid resource ARN`, 400);
}

/** findByArn returns the store key of the resource an ARN names (or throws NotFoundException). */
function keyOfArn(e: EksContext, resourceArn: string): string {
  const m = /^arn:aws[a-z-]*:eks:([a-z0-9-]+):(\d{12}):([a-z-]+)\/(.+)$/.exec(resourceArn);
  if (!m) throw badArn(resourceArn);
  const scope = { accountId: m[2]!, region: m[1]! };
  const type = m[3]!;
  const parts = m[4]!.split('/');
  const nf = () => awsError('NotFoundException', `Resource ${resourceArn} not found`, 404);
  const check = (key: string, field: string) => {
    const d = e.deps.state.get<any>(key);
    if (!d || d[field] !== resourceArn) throw nf();
    return key;
  };
  switch (type) {
    case 'cluster':
      return check(clusterKey(scope, parts[0]!), 'arn');
    case 'nodegroup':
      return check(childKey(scope, 'nodegroup', parts[0]!, parts[1] ?? ''), 'nodegroupArn');
    case 'fargateprofile':
      return check(childKey(scope, 'fargate', parts[0]!, parts[1] ?? ''), 'fargateProfileArn');
    case 'addon':
      return check(childKey(scope, 'addon', parts[0]!, parts[1] ?? ''), 'addonArn');
    case 'identityproviderconfig':
      return check(childKey(scope, 'idp', parts[0]!, parts[2] ?? ''), 'identityProviderConfigArn');
    case 'podidentityassociation':
      return check(childKey(scope, 'podid', parts[0]!, parts[1] ?? ''), 'associationArn');
    case 'capability':
      return check(childKey(scope, 'capability', parts[0]!, parts[1] ?? ''), 'arn');
    case 'eks-anywhere-subscription':
      return check(topKey(scope, 'eksa', parts[0]!), 'arn');
    case 'access-entry': {
      const found = e.deps.state.list<any>(childPrefix(scope, 'access', parts[0]!)).find((a) => a.accessEntryArn === resourceArn);
      if (!found) throw nf();
      return found._key;
    }
    default:
      throw badArn(resourceArn);
  }
}

export function tagOperations(e: EksContext) {
  const { deps } = e;
  return {
    TagResource: async (input: any, _ctx: RequestContext) => {
      const key = keyOfArn(e, input.resourceArn);
      validateTags(input.tags);
      const cur = deps.state.get<any>(key);
      if (Object.keys({ ...(cur?.tags ?? {}), ...input.tags }).length > 50) throw awsError('BadRequestException', 'Tags cannot contain more than 50 keys', 400);
      await deps.state.mutate<any>(key, (d) => (d ? { ...d, tags: { ...(d.tags ?? {}), ...input.tags } } : d));
      return {};
    },
    UntagResource: async (input: any, _ctx: RequestContext) => {
      const key = keyOfArn(e, input.resourceArn);
      await deps.state.mutate<any>(key, (d) => {
        if (!d) return d;
        const tags = { ...(d.tags ?? {}) };
        for (const k of input.tagKeys ?? []) delete tags[k];
        return { ...d, tags };
      });
      return {};
    },
    ListTagsForResource: (input: any, _ctx: RequestContext) => {
      const key = keyOfArn(e, input.resourceArn);
      return { tags: deps.state.get<any>(key)?.tags ?? {} };
    },
  };
}
