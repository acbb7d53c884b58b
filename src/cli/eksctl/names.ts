/**
 * Names and tags as eksctl gives them, without CloudFormation: every
 * resource the CLI creates carries `alpha.eksctl.io/cluster-name` (and
 * eksctl's older `eksctl.cluster.k8s.io/v1alpha1/cluster-name`), a `Name`
 * tag in eksctl's `eksctl-<cluster>-cluster/<Resource>` form, and node
 * group resources `alpha.eksctl.io/nodegroup-name` / `-type`. `delete
 * cluster` finds what to remove by these tags and by the role name prefix.
 */
import { randomBytes } from 'node:crypto';
import { LOCALEKS_VERSION } from '../../server/version.ts';

export const TAG_CLUSTER = 'alpha.eksctl.io/cluster-name';
export const TAG_CLUSTER_OLD = 'eksctl.cluster.k8s.io/v1alpha1/cluster-name';
export const TAG_VERSION = 'alpha.eksctl.io/eksctl-version';
export const TAG_NODEGROUP = 'alpha.eksctl.io/nodegroup-name';
export const TAG_NODEGROUP_TYPE = 'alpha.eksctl.io/nodegroup-type';
export const TAG_OIDC = 'alpha.eksctl.io/cluster-oidc-enabled';
export const TAG_IRSA = 'alpha.eksctl.io/iamserviceaccount-name';

/** The tags every resource of a cluster gets (plus the user's metadata.tags). */
export function clusterTags(cluster: string, user: Record<string, string> = {}): Record<string, string> {
  return { ...user, [TAG_CLUSTER]: cluster, [TAG_CLUSTER_OLD]: cluster, [TAG_VERSION]: `localeks-${LOCALEKS_VERSION}` };
}

/** stackName is the CloudFormation stack eksctl would use; the Name tags and role names start with it. */
export function stackName(cluster: string, part: string): string {
  return `eksctl-${cluster}-${part}`;
}

/** zoneSuffix is eksctl's zone spelling in resource names: us-west-2a -> USWEST2A. */
export function zoneSuffix(az: string): string {
  return az.replace(/-/g, '').toUpperCase();
}

/**
 * roleName is `<stack>-<Logical>-<random>` as CloudFormation names roles,
 * cut to IAM's 64 characters (the stack part is shortened, the random
 * suffix kept).
 */
export function roleName(stack: string, logical: string): string {
  const suffix = randomBytes(6).toString('hex').toUpperCase().slice(0, 12);
  const tail = `-${logical}-${suffix}`;
  return stack.slice(0, 64 - tail.length) + tail;
}

/** The ec2 TagSpecifications for a resource type. */
export function tagSpec(resourceType: string, tags: Record<string, string>): Array<{ ResourceType: string; Tags: Array<{ Key: string; Value: string }> }> {
  return [{ ResourceType: resourceType, Tags: toTagList(tags) }];
}

/** toTagList turns a record into [{Key, Value}]. */
export function toTagList(tags: Record<string, string>): Array<{ Key: string; Value: string }> {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

const ADJECTIVES = ['attractive', 'beautiful', 'bright', 'calm', 'dazzling', 'delightful', 'exciting', 'fabulous', 'gorgeous', 'hilarious', 'scrumptious', 'wonderful'];
const NOUNS = ['sculpture', 'mushroom', 'rainbow', 'party', 'gopher', 'unicorn', 'wardrobe', 'outfit', 'painting', 'mongoose', 'creature', 'hideout'];

/** generatedClusterName is eksctl's name for a cluster created without --name. */
export function generatedClusterName(): string {
  const pick = (l: string[]) => l[randomBytes(1)[0]! % l.length]!;
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Date.now() / 1000)}`;
}
