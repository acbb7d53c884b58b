/**
 * `localeks delete cluster` and `delete nodegroup`, as eksctl orders them:
 * node groups (managed: DeleteNodegroup, which drains and terminates;
 * self-managed: the Auto Scaling group) and Fargate profiles (one at a time)
 * first, waiting until they are gone; then add-ons and the cluster
 * (waiting); then every IAM role tagged with the cluster (IRSA, node,
 * Fargate, service roles, with their instance profiles), the IAM OIDC
 * provider, and the VPC pieces in dependency order (network.ts). It also
 * cleans up after a `create cluster` that failed midway: whatever of these
 * exists is removed, whatever is missing is skipped.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { AwsClientError } from '../../aws/client/aws-client.ts';
import { kubeconfigPath } from '../kubeconfig.ts';
import type { CliContext } from './context.ts';
import { autoKubeconfigPath } from './create-cluster.ts';
import { EksctlError, EXIT } from './errors.ts';
import { clusterRoles, deleteOidcProvider, deleteRole } from './iam.ts';
import { TAG_CLUSTER, TAG_NODEGROUP, TAG_NODEGROUP_TYPE } from './names.ts';
import { deleteNetwork } from './network.ts';
import { asgInstanceIds, deleteSelfManaged, drainNodes, instanceIdOf, kubeFor, selfManagedGroups } from './nodegroups.ts';
import { waitUntil } from './wait.ts';

const notFound = (e: unknown) => e instanceof AwsClientError && (e.code === 'ResourceNotFoundException' || e.code === 'NoSuchEntity');

/** gone resolves true once fn throws ResourceNotFound (the resource is deleted). */
async function waitGone(ctx: CliContext, what: string, fn: () => Promise<unknown>): Promise<void> {
  await waitUntil(
    async () => {
      try {
        await fn();
        return undefined;
      } catch (e) {
        if (notFound(e)) return true;
        throw e;
      }
    },
    { deadline: ctx.deadline, what },
  );
}

/** deleteManagedNodegroup deletes one managed node group and waits until it is gone. */
export async function deleteManagedNodegroup(ctx: CliContext, cluster: string, name: string): Promise<void> {
  const t = ctx.progress.task(`deleting managed node group "${name}" (draining its nodes)`);
  await ctx.aws.call('eks', 'DeleteNodegroup', { clusterName: cluster, nodegroupName: name });
  t.update('waiting for the node group to be deleted');
  await waitGone(ctx, `node group ${name} to be deleted`, () => ctx.aws.call('eks', 'DescribeNodegroup', { clusterName: cluster, nodegroupName: name }));
  // The launch template eksctl made for the group (managedLaunchTemplateNeeds), if any.
  const lts = (await ctx.aws.call('ec2', 'DescribeLaunchTemplates', { Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [cluster] }, { Name: `tag:${TAG_NODEGROUP}`, Values: [name] }, { Name: `tag:${TAG_NODEGROUP_TYPE}`, Values: ['managed'] }] })).LaunchTemplates ?? [];
  await Promise.all(lts.map((lt: any) => ctx.aws.call('ec2', 'DeleteLaunchTemplate', { LaunchTemplateId: lt.LaunchTemplateId })));
  t.done();
}

/**
 * deleteSelfManagedGroup drains a self-managed group's nodes (unless
 * `drain` is false; EKS drains managed groups itself), then deletes its
 * Auto Scaling group and launch template.
 */
export async function deleteSelfManagedGroup(ctx: CliContext, cluster: any, group: { name: string; asg: any }, drain = true): Promise<void> {
  const t = ctx.progress.task(`deleting self-managed node group "${group.name}"`);
  if (drain && cluster?.status === 'ACTIVE') {
    t.update('draining its nodes');
    const ids = await asgInstanceIds(ctx, group.asg.AutoScalingGroupName);
    const n = await drainNodes(ctx, kubeFor(ctx, cluster), (node) => ids.has(instanceIdOf(node)));
    t.update(`${n} pod${n === 1 ? '' : 's'} evicted, deleting its Auto Scaling group`);
  }
  await deleteSelfManaged(ctx, group);
  t.done();
}

/** deleteCluster removes the cluster and everything created for it (see the module comment). */
export async function deleteCluster(ctx: CliContext, name: string, opts: { drain?: boolean } = {}): Promise<void> {
  const p = ctx.progress;
  p.info(`deleting EKS cluster "${name}" in "${ctx.region}"`);
  let cluster: any;
  try {
    cluster = (await ctx.aws.call('eks', 'DescribeCluster', { name })).cluster;
  } catch (e) {
    if (!notFound(e)) throw e;
  }
  const roles = await clusterRoles(ctx, name);
  const vpcs = (await ctx.aws.call('ec2', 'DescribeVpcs', { Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [name] }] })).Vpcs ?? [];
  const selfManaged = await selfManagedGroups(ctx, name);
  if (!cluster && roles.length === 0 && vpcs.length === 0 && selfManaged.length === 0) {
    throw new EksctlError(`cluster "${name}" not found in "${ctx.region}"`, EXIT.NOT_FOUND);
  }

  if (cluster) {
    const ngs: string[] = (await ctx.aws.call('eks', 'ListNodegroups', { clusterName: name })).nodegroups ?? [];
    const fps: string[] = (await ctx.aws.call('eks', 'ListFargateProfiles', { clusterName: name })).fargateProfileNames ?? [];
    await Promise.all([
      ...ngs.map((ng) => deleteManagedNodegroup(ctx, name, ng)),
      ...selfManaged.map((g) => deleteSelfManagedGroup(ctx, cluster, g, opts.drain !== false)),
      (async () => {
        for (const fp of fps) {
          const t = p.task(`deleting Fargate profile "${fp}"`);
          await ctx.aws.call('eks', 'DeleteFargateProfile', { clusterName: name, fargateProfileName: fp });
          await waitGone(ctx, `Fargate profile ${fp} to be deleted`, () => ctx.aws.call('eks', 'DescribeFargateProfile', { clusterName: name, fargateProfileName: fp }));
          t.done();
        }
      })(),
    ]);
    const addons: string[] = (await ctx.aws.call('eks', 'ListAddons', { clusterName: name })).addons ?? [];
    if (addons.length) {
      const t = p.task(`deleting ${addons.length} add-on${addons.length === 1 ? '' : 's'}`);
      await Promise.all(addons.map((a) => ctx.aws.call('eks', 'DeleteAddon', { clusterName: name, addonName: a }).catch((e) => (notFound(e) ? undefined : Promise.reject(e)))));
      await Promise.all(addons.map((a) => waitGone(ctx, `add-on ${a} to be deleted`, () => ctx.aws.call('eks', 'DescribeAddon', { clusterName: name, addonName: a }))));
      t.done();
    }
    const t = p.task(`deleting EKS cluster "${name}"`);
    await ctx.aws.call('eks', 'DeleteCluster', { name });
    t.update('waiting for the control plane to be deleted');
    await waitGone(ctx, `cluster ${name} to be deleted`, () => ctx.aws.call('eks', 'DescribeCluster', { name }));
    t.done();
  } else {
    await Promise.all(selfManaged.map((g) => deleteSelfManaged(ctx, g)));
  }

  if (roles.length) {
    const t = p.task(`deleting ${roles.length} IAM role${roles.length === 1 ? '' : 's'}`);
    await Promise.all(roles.map((r) => deleteRole(ctx, r)));
    t.done(roles.join(', '));
  }
  const issuer = cluster?.identity?.oidc?.issuer;
  if (issuer && (await deleteOidcProvider(ctx, issuer))) p.success('deleted the IAM OIDC provider');
  // Launch templates of self-managed groups that failed before their ASG existed.
  const lts = (await ctx.aws.call('ec2', 'DescribeLaunchTemplates', { Filters: [{ Name: `tag:${TAG_CLUSTER}`, Values: [name] }] })).LaunchTemplates ?? [];
  await Promise.all(lts.map((lt: any) => ctx.aws.call('ec2', 'DeleteLaunchTemplate', { LaunchTemplateId: lt.LaunchTemplateId })));
  // Key pairs imported for node groups' SSH access (ssh.allow without publicKeyName).
  const keys = (await ctx.aws.call('ec2', 'DescribeKeyPairs', {})).KeyPairs ?? [];
  await Promise.all(keys.filter((k: any) => String(k.KeyName).startsWith(`eksctl-${name}-nodegroup-`)).map((k: any) => ctx.aws.call('ec2', 'DeleteKeyPair', { KeyName: k.KeyName })));
  await deleteNetwork(ctx, name);
  if (cluster?.arn) {
    const file = forgetKubeconfig(cluster.arn);
    if (file) p.success(`removed cluster "${name}" from kubeconfig "${file}"`);
  }
  // The file --auto-kubeconfig wrote for the cluster, as eksctl removes it.
  const auto = autoKubeconfigPath(name);
  if (existsSync(auto)) {
    rmSync(auto, { force: true });
    p.success(`deleted kubeconfig file "${auto}"`);
  }
  p.success(`all resources of cluster "${name}" have been deleted`);
}

/**
 * forgetKubeconfig removes a deleted cluster's entries (the cluster and
 * user named by its ARN, the contexts using that cluster) from the
 * kubeconfig holding them, as eksctl does; returns the file, or undefined
 * when no kubeconfig knew the cluster. A corrupted file is left alone.
 */
export function forgetKubeconfig(arn: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = kubeconfigPath(undefined, arn, env);
  let doc: any;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.clusters) || !doc.clusters.some((c: any) => c?.name === arn)) return undefined;
  const contexts: any[] = Array.isArray(doc.contexts) ? doc.contexts : [];
  const gone = new Set(contexts.filter((c) => c?.name === arn || c?.context?.cluster === arn).map((c) => c.name));
  doc.clusters = doc.clusters.filter((c: any) => c?.name !== arn);
  if (Array.isArray(doc.users)) doc.users = doc.users.filter((u: any) => u?.name !== arn);
  doc.contexts = contexts.filter((c) => !gone.has(c?.name));
  if (gone.has(doc['current-context'])) doc['current-context'] = '';
  writeFileSync(file, stringify(doc), { mode: 0o600 });
  return file;
}
