/**
 * `localeks get clusters|nodegroups|fargateprofiles|addons|accessentries`:
 * eksctl-like tables (a header row and aligned columns, always, so output is
 * the same in a terminal and a pipe), or `-o json|yaml` with the EKS API's
 * objects (DescribeCluster, DescribeNodegroup, ...) as a list.
 */
import { stringify } from 'yaml';
import type { CliContext } from './context.ts';
import { EksctlError, EXIT } from './errors.ts';
import { TAG_CLUSTER } from './names.ts';
import { selfManagedGroups } from './nodegroups.ts';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** parseOutput validates -o. */
export function parseOutput(v: string | undefined): OutputFormat {
  const o = (v ?? 'table').toLowerCase();
  if (o !== 'table' && o !== 'json' && o !== 'yaml') throw new EksctlError(`-o/--output: "${v}" is not one of table, json, yaml`, EXIT.USAGE);
  return o;
}

/** printTable writes a header and rows with columns padded to width (eksctl's tabwriter look). */
export function printTable(header: string[], rows: string[][], out: NodeJS.WritableStream = process.stdout): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  out.write(all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n');
}

function emit(format: OutputFormat, items: unknown[], table: () => void): void {
  if (format === 'json') process.stdout.write(JSON.stringify(items, null, 2) + '\n');
  else if (format === 'yaml') process.stdout.write(stringify(items));
  else table();
}

const iso = (d: unknown) => (d instanceof Date ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : String(d ?? ''));

/** describeCluster returns DescribeCluster's cluster; a missing cluster is EksctlError NOT_FOUND (exit 3). */
export async function describeCluster(ctx: CliContext, name: string): Promise<any> {
  try {
    return (await ctx.aws.call('eks', 'DescribeCluster', { name })).cluster;
  } catch (e: any) {
    if (e?.code === 'ResourceNotFoundException') throw new EksctlError(`cluster "${name}" not found in "${ctx.region}"`, EXIT.NOT_FOUND);
    throw e;
  }
}

/** getClusters lists clusters (all, or one by name). */
export async function getClusters(ctx: CliContext, name: string | undefined, format: OutputFormat): Promise<void> {
  const names: string[] = name ? [name] : await listAll(ctx, 'ListClusters', {}, 'clusters');
  const clusters = await Promise.all(names.map((n) => describeCluster(ctx, n)));
  emit(format, clusters, () =>
    printTable(
      ['NAME', 'VERSION', 'STATUS', 'CREATED', 'VPC', 'SUBNETS', 'SECURITYGROUPS', 'PROVIDER', 'EKSCTL CREATED'],
      clusters.map((c) => [c.name, c.version, c.status, iso(c.createdAt), c.resourcesVpcConfig?.vpcId ?? '', (c.resourcesVpcConfig?.subnetIds ?? []).join(','), (c.resourcesVpcConfig?.securityGroupIds ?? []).join(','), 'EKS', c.tags?.[TAG_CLUSTER] ? 'True' : 'False']),
    ),
  );
}

async function listAll(ctx: CliContext, op: string, input: Record<string, unknown>, key: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const r = await ctx.aws.call('eks', op, { ...input, nextToken });
    out.push(...(r[key] ?? []));
    nextToken = r.nextToken;
  } while (nextToken);
  return out;
}

/** getNodegroups lists managed node groups and eksctl's self-managed ones. */
export async function getNodegroups(ctx: CliContext, cluster: string, name: string | undefined, format: OutputFormat): Promise<void> {
  await describeCluster(ctx, cluster);
  const names = name ? [name] : await listAll(ctx, 'ListNodegroups', { clusterName: cluster }, 'nodegroups');
  const self = (await selfManagedGroups(ctx, cluster)).filter((g) => !name || g.name === name);
  const managed = await Promise.all(
    names.filter((n) => !self.some((g) => g.name === n)).map(async (n) => {
      try {
        return (await ctx.aws.call('eks', 'DescribeNodegroup', { clusterName: cluster, nodegroupName: n })).nodegroup;
      } catch (e: any) {
        if (e?.code === 'ResourceNotFoundException' && name) throw new EksctlError(`node group "${n}" not found in cluster "${cluster}"`, EXIT.NOT_FOUND);
        throw e;
      }
    }),
  );
  if (name && managed.length === 0 && self.length === 0) throw new EksctlError(`node group "${name}" not found in cluster "${cluster}"`, EXIT.NOT_FOUND);
  const items = [...managed, ...self.map((g) => ({ nodegroupName: g.name, clusterName: cluster, type: 'unmanaged', autoScalingGroup: g.asg }))];
  emit(format, items, () =>
    printTable(
      ['CLUSTER', 'NODEGROUP', 'STATUS', 'CREATED', 'MIN SIZE', 'MAX SIZE', 'DESIRED CAPACITY', 'INSTANCE TYPE', 'IMAGE ID', 'ASG NAME', 'TYPE'],
      [
        ...managed.map((n) => [
          cluster,
          n.nodegroupName,
          n.status,
          iso(n.createdAt),
          String(n.scalingConfig?.minSize ?? ''),
          String(n.scalingConfig?.maxSize ?? ''),
          String(n.scalingConfig?.desiredSize ?? ''),
          (n.instanceTypes ?? []).join(','),
          n.amiType ?? '',
          (n.resources?.autoScalingGroups ?? []).map((a: any) => a.name).join(','),
          'managed',
        ]),
        ...self.map((g) => [cluster, g.name, 'CREATE_COMPLETE', iso(g.asg.CreatedTime), String(g.asg.MinSize), String(g.asg.MaxSize), String(g.asg.DesiredCapacity), [...new Set((g.asg.Instances ?? []).map((i: any) => i.InstanceType))].join(','), '', g.asg.AutoScalingGroupName, 'unmanaged']),
      ],
    ),
  );
}

/** getFargateProfiles lists a cluster's Fargate profiles. */
export async function getFargateProfiles(ctx: CliContext, cluster: string, name: string | undefined, format: OutputFormat): Promise<void> {
  await describeCluster(ctx, cluster);
  const names = name ? [name] : await listAll(ctx, 'ListFargateProfiles', { clusterName: cluster }, 'fargateProfileNames');
  const fps = await Promise.all(names.map(async (n) => (await ctx.aws.call('eks', 'DescribeFargateProfile', { clusterName: cluster, fargateProfileName: n })).fargateProfile));
  emit(format, fps, () =>
    printTable(
      ['NAME', 'SELECTOR_NAMESPACE', 'SELECTOR_LABELS', 'POD_EXECUTION_ROLE_ARN', 'SUBNETS', 'TAGS', 'STATUS'],
      fps.flatMap((f) =>
        (f.selectors ?? []).map((s: any) => [
          f.fargateProfileName,
          s.namespace,
          s.labels && Object.keys(s.labels).length ? Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',') : '<none>',
          f.podExecutionRoleArn,
          (f.subnets ?? []).join(','),
          Object.entries(f.tags ?? {}).filter(([k]) => !k.startsWith('alpha.eksctl.io/') && !k.startsWith('eksctl.')).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
          f.status,
        ]),
      ),
    ),
  );
}

/** getAddons lists a cluster's add-ons with whether a newer version exists. */
export async function getAddons(ctx: CliContext, cluster: string, name: string | undefined, format: OutputFormat): Promise<void> {
  const c = await describeCluster(ctx, cluster);
  const names = name ? [name] : await listAll(ctx, 'ListAddons', { clusterName: cluster }, 'addons');
  const addons = await Promise.all(names.map(async (n) => (await ctx.aws.call('eks', 'DescribeAddon', { clusterName: cluster, addonName: n })).addon));
  const newer = new Map<string, string>();
  if (format === 'table' && addons.length) {
    const v = await ctx.aws.call('eks', 'DescribeAddonVersions', { kubernetesVersion: c.version });
    for (const a of v.addons ?? []) newer.set(a.addonName, a.addonVersions?.[0]?.addonVersion ?? '');
  }
  emit(format, addons, () =>
    printTable(
      ['NAME', 'VERSION', 'STATUS', 'ISSUES', 'IAMROLE', 'UPDATE AVAILABLE', 'CONFIGURATION VALUES'],
      addons.map((a) => [a.addonName, a.addonVersion, a.status, String((a.health?.issues ?? []).length), a.serviceAccountRoleArn ?? '', newer.get(a.addonName) && newer.get(a.addonName) !== a.addonVersion ? newer.get(a.addonName)! : '', a.configurationValues ?? '']),
    ),
  );
}

/** getAccessEntries lists a cluster's access entries and their policies. */
export async function getAccessEntries(ctx: CliContext, cluster: string, principal: string | undefined, format: OutputFormat): Promise<void> {
  await describeCluster(ctx, cluster);
  const arns = principal ? [principal] : await listAll(ctx, 'ListAccessEntries', { clusterName: cluster }, 'accessEntries');
  const entries = await Promise.all(
    arns.map(async (a) => {
      const e = (await ctx.aws.call('eks', 'DescribeAccessEntry', { clusterName: cluster, principalArn: a })).accessEntry;
      const pol = (await ctx.aws.call('eks', 'ListAssociatedAccessPolicies', { clusterName: cluster, principalArn: a })).associatedAccessPolicies ?? [];
      return { ...e, accessPolicies: pol };
    }),
  );
  emit(format, entries, () =>
    printTable(
      ['PRINCIPAL ARN', 'TYPE', 'KUBERNETES USERNAME', 'KUBERNETES GROUPS', 'ACCESS POLICIES'],
      entries.map((e) => [e.principalArn, e.type ?? '', e.username ?? '', (e.kubernetesGroups ?? []).join(','), e.accessPolicies.map((p: any) => String(p.policyArn).split('/').pop()).join(',')]),
    ),
  );
}
