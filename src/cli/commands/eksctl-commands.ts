/**
 * The eksctl-shaped commands, each a commander Command added to the
 * program by cli/main.ts:
 *
 *   create cluster|nodegroup|iamserviceaccount|accessentry
 *   get clusters|nodegroups|fargateprofiles|addons|accessentries
 *   delete cluster|nodegroup
 *   scale nodegroup, upgrade cluster, utils write-kubeconfig|associate-iam-oidc-provider
 *   completion bash|zsh
 *
 * They are clients of a running localeks (src/cli/eksctl/context.ts picks
 * the endpoint, credentials and region). Exit codes: src/cli/eksctl/errors.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { usageExit } from './admin-client.ts';
import type { ClusterConfig } from '../eksctl/cluster-config.ts';
import type { CliContext, CommonOptions } from '../eksctl/context.ts';
import type { ClusterFlags } from '../eksctl/flags.ts';
import type { ClusterNetwork } from '../eksctl/network.ts';

/** The implementation, loaded when a command runs (so `localeks --help` and `version` stay fast). */
async function load() {
  const mods = await Promise.all([
    import('../../aws/client/aws-client.ts'),
    import('../kubeconfig.ts'),
    import('../aws-credentials.ts'),
    import('../eksctl/cluster-config.ts'),
    import('../eksctl/context.ts'),
    import('../eksctl/create-cluster.ts'),
    import('../eksctl/delete-cluster.ts'),
    import('../eksctl/errors.ts'),
    import('../eksctl/flags.ts'),
    import('../eksctl/get.ts'),
    import('../eksctl/iam.ts'),
    import('../eksctl/nodegroups.ts'),
    import('../eksctl/progress.ts'),
    import('../eksctl/wait.ts'),
  ]);
  return Object.assign({}, ...mods) as (typeof mods)[0] & (typeof mods)[1] & (typeof mods)[2] & (typeof mods)[3] & (typeof mods)[4] & (typeof mods)[5] & (typeof mods)[6] & (typeof mods)[7] & (typeof mods)[8] & (typeof mods)[9] & (typeof mods)[10] & (typeof mods)[11] & (typeof mods)[12] & (typeof mods)[13];
}
type Lib = Awaited<ReturnType<typeof load>>;
let L: Lib;

/** eksctl's default wait for create and delete. */
const DEFAULT_TIMEOUT = '25m';

type Opts = CommonOptions & Record<string, any>;

/** act wraps an action: errors print `[✖]  message` on stderr and exit with their code (errors.ts). */
function act(fn: (opts: Opts, cmd: Command) => Promise<void>): (...args: any[]) => Promise<void> {
  return async (...args: any[]) => {
    const cmd = args[args.length - 1] as Command;
    const opts = { ...cmd.optsWithGlobals() } as Opts;
    L ??= await load();
    const onInt = () => {
      const f = L.inFlight;
      const what = f.created.length ? `; created so far: ${f.created.join(', ')}\nto delete them: localeks delete cluster --name ${f.name} --region ${f.region}` : '';
      process.stderr.write(`\n[✖]  interrupted${what}\n`);
      process.exit(L.EXIT.INTERRUPTED);
    };
    process.once('SIGINT', onInt);
    try {
      await fn(opts, cmd);
      process.exitCode = L.EXIT.OK;
    } catch (e) {
      new L.Progress({ quiet: false, tty: false }).error(L.messageOf(e));
      process.exitCode = L.exitCodeOf(e);
    } finally {
      process.off('SIGINT', onInt);
    }
  };
}

/** Flags every client command takes. */
function common(cmd: Command, opts: { timeout?: boolean; region?: boolean } = {}): Command {
  if (opts.region !== false) cmd.option('-r, --region <region>', 'AWS region (env: AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)');
  cmd
    .option('--endpoint-url <url>', 'the localeks AWS endpoint (env: LOCALEKS_ENDPOINT, AWS_ENDPOINT_URL; default http://127.0.0.1:4566)')
    .option('-q, --quiet', 'print only warnings, errors and results')
    .addOption(new Option('-v, --verbose [level]', 'more output: 1 logs every AWS request').argParser((v: string | undefined) => (v === undefined ? 1 : Number(v))));
  if (opts.timeout) cmd.option('--timeout <duration>', `maximum time to wait (e.g. 90s, 10m)`, DEFAULT_TIMEOUT);
  return cmd;
}

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
}

const EXIT_HELP = `Exit codes:
  0  success
  1  failed (an AWS or Kubernetes error, the server unreachable)
  2  usage: bad flags or an invalid ClusterConfig; nothing was created
  3  not found (cluster, node group)
  4  timed out waiting (--timeout)
  5  failed midway: the message lists what was created; \`localeks delete cluster\` removes it
  130 interrupted
`;

function verboseOf(o: Opts): number {
  const v: unknown = o.verbose;
  return v === true ? 1 : Number(v ?? 0) || 0;
}

function ctxOf(o: Opts, region?: string): CliContext {
  return L.makeContext({ endpointUrl: o.endpointUrl, region: o.region, quiet: o.quiet, verbose: verboseOf(o), timeout: o.timeout }, region);
}

function readConfig(path: string, defaultRegion: string): ClusterConfig {
  let text: string;
  try {
    text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  } catch (e) {
    throw new L.EksctlError(`cannot read ${path}: ${(e as Error).message}`, L.EXIT.USAGE);
  }
  return L.parseClusterConfig(text, { defaultRegion, file: path });
}

function required(o: Opts, key: string, flag: string): string {
  const v = o[key];
  if (v === undefined || v === '') throw new L.EksctlError(`${flag} must be set`, L.EXIT.USAGE);
  return String(v);
}

const nodeFlags = (cmd: Command) =>
  cmd
    .option('-t, --node-type <type>', 'node instance type (default m5.large)')
    .option('--instance-types <types>', 'comma-separated instance types (managed node groups, e.g. for spot)')
    .option('-N, --nodes <n>', 'desired number of nodes (default 2)')
    .option('-m, --nodes-min <n>', 'minimum number of nodes')
    .option('-M, --nodes-max <n>', 'maximum number of nodes')
    .option('--node-volume-size <GiB>', 'node volume size (default 80)')
    .option('--node-volume-type <type>', 'node volume type (default gp3)')
    .option('--max-pods-per-node <n>', 'maximum pods per node')
    .option('--node-labels <k=v,...>', 'labels for the nodes')
    .option('--node-zones <zones>', 'zones for the nodes (comma-separated)')
    .option('-P, --node-private-networking', 'put the nodes in the private subnets')
    .option('--node-ami-family <family>', 'AmazonLinux2023 (default), AmazonLinux2, Bottlerocket, ...')
    .option('--spot', 'spot instances (managed node groups)')
    .option('--ssh-access', 'allow SSH to the nodes')
    .option('--ssh-public-key <name>', 'EC2 key pair name for SSH')
    .option('--enable-ssm', 'accepted for compatibility (SSM is always enabled by the node role)')
    .addOption(new Option('--managed [bool]', 'managed node group (default true; --managed=false for a self-managed one)'));

function createClusterCommand(): Command {
  const cmd = new Command('cluster').description('create a cluster with its VPC, IAM roles, node groups, Fargate profiles and add-ons, and write its kubeconfig');
  cmd
    .option('-f, --config-file <file>', 'an eksctl ClusterConfig (eksctl.io/v1alpha5) file, or - for stdin')
    .option('-n, --name <name>', 'cluster name (default: a generated one)')
    .option('--version <version>', 'Kubernetes version (e.g. 1.31; default: EKS\'s default)')
    .option('--tags <k=v,...>', 'tags for the cluster and its resources')
    .option('--zones <zones>', 'availability zones (comma-separated, at least two)')
    .option('--vpc-cidr <cidr>', 'VPC CIDR (default 192.168.0.0/16)')
    .option('--vpc-nat-mode <mode>', 'HighlyAvailable, Single (default) or Disable')
    .option('--vpc-public-subnets <ids>', 'existing public subnets (use a ClusterConfig instead)')
    .option('--vpc-private-subnets <ids>', 'existing private subnets (use a ClusterConfig instead)')
    .option('--with-oidc', 'create the IAM OIDC provider (for IRSA)')
    .option('--nodegroup-name <name>', 'name of the initial node group (default ng-<random>)')
    .option('--without-nodegroup', 'create no initial node group')
    .option('--fargate', 'a Fargate profile "fp-default" for the default and kube-system namespaces, no node group');
  nodeFlags(cmd);
  cmd
    .option('--kubeconfig <path>', 'kubeconfig to write (env: KUBECONFIG; default ~/.kube/config)')
    .option('--auto-kubeconfig', "write the kubeconfig to its own file, ~/.kube/eksctl/clusters/<name> (instead of merging it into --kubeconfig's)")
    .addOption(new Option('--write-kubeconfig [bool]', 'write the kubeconfig').default(true))
    .option('--dry-run', 'print the ClusterConfig that would be created, create nothing');
  common(cmd, { timeout: true });
  examples(cmd, [
    'localeks create cluster --name demo --nodes 3',
    'localeks create cluster --name my-eks-managed --managed',
    'localeks create cluster --name my-eks-fargate --fargate',
    'localeks create cluster --name dev --version 1.31 --zones us-east-1a,us-east-1b --node-type m5.xlarge --nodes-min 1 --nodes-max 4',
    'localeks create cluster -f cluster.yaml',
    'localeks create cluster --name demo --dry-run > cluster.yaml',
  ]);
  cmd.addHelpText('after', EXIT_HELP);
  cmd.action(
    act(async (o, c) => {
      let cfg: ClusterConfig;
      const defaultRegion = L.resolveRegion(o.region);
      if (o.configFile) {
        const clash = L.CONFIG_FILE_EXCLUSIVE.find((k) => c.getOptionValueSource(k) === 'cli');
        if (clash) throw new L.EksctlError(`cannot use --${clash.replace(/[A-Z]/g, (x) => `-${x.toLowerCase()}`)} when --config-file/-f is set`, L.EXIT.USAGE);
        cfg = readConfig(o.configFile, defaultRegion);
      } else cfg = L.configFromFlags(o as ClusterFlags, defaultRegion);
      if (o.dryRun) {
        const { stringify } = await import('yaml');
        process.stdout.write(stringify(cfg));
        return;
      }
      const write = o.writeKubeconfig !== false && o.writeKubeconfig !== 'false';
      if (o.autoKubeconfig && o.kubeconfig) throw new L.EksctlError('--kubeconfig and --auto-kubeconfig cannot be used at the same time', L.EXIT.USAGE);
      if (o.autoKubeconfig && !write) throw new L.EksctlError('--write-kubeconfig=false and --auto-kubeconfig cannot be used at the same time', L.EXIT.USAGE);
      const ctx = ctxOf(o, cfg.metadata.region);
      try {
        await L.createCluster(ctx, cfg, { write, path: o.autoKubeconfig ? L.autoKubeconfigPath(cfg.metadata.name) : o.kubeconfig });
      } finally {
        ctx.progress.close();
      }
    }),
  );
  return cmd;
}

/** The network of an existing cluster, from its subnets (public = tagged kubernetes.io/role/elb or mapping public IPs). */
async function clusterNetwork(ctx: CliContext, cluster: any): Promise<ClusterNetwork> {
  const ids: string[] = cluster.resourcesVpcConfig?.subnetIds ?? [];
  const subnets = ids.length ? ((await ctx.aws.call('ec2', 'DescribeSubnets', { SubnetIds: ids })).Subnets ?? []) : [];
  const net: ClusterNetwork = { vpcId: cluster.resourcesVpcConfig?.vpcId, publicSubnets: new Map(), privateSubnets: new Map() };
  for (const s of subnets) {
    const pub = s.MapPublicIpOnLaunch || (s.Tags ?? []).some((t: any) => t.Key === 'kubernetes.io/role/elb');
    (pub ? net.publicSubnets : net.privateSubnets).set(s.AvailabilityZone, s.SubnetId);
  }
  const shared = ((await ctx.aws.call('ec2', 'DescribeSecurityGroups', { Filters: [{ Name: 'vpc-id', Values: [net.vpcId] }, { Name: 'tag:Name', Values: [`eksctl-${cluster.name}-cluster/ClusterSharedNodeSecurityGroup`] }] })).SecurityGroups ?? [])[0];
  net.sharedNodeSecurityGroup = shared?.GroupId;
  return net;
}

function createNodegroupCommand(): Command {
  const cmd = new Command('nodegroup').alias('ng').description('add node groups to an existing cluster (from flags, or the node groups of a ClusterConfig that do not exist yet)');
  cmd.option('-f, --config-file <file>', 'a ClusterConfig; its managedNodeGroups and nodeGroups are created').option('-c, --cluster <name>', 'the cluster').option('-n, --name <name>', 'node group name');
  nodeFlags(cmd);
  common(cmd, { timeout: true });
  examples(cmd, ['localeks create nodegroup --cluster demo --name workers --nodes 3 --node-type m5.xlarge', 'localeks create nodegroup --cluster demo --name spot --spot --instance-types m5.large,m5a.large', 'localeks create nodegroup -f cluster.yaml']);
  cmd.action(
    act(async (o) => {
      const defaultRegion = L.resolveRegion(o.region);
      let cfg: ClusterConfig;
      if (o.configFile) cfg = readConfig(o.configFile, defaultRegion);
      else {
        cfg = L.configFromFlags({ ...(o as ClusterFlags), name: required(o, 'cluster', '--cluster'), nodegroupName: o.name }, defaultRegion);
        cfg.fargateProfiles = [];
      }
      const ctx = ctxOf(o, cfg.metadata.region);
      for (const w of L.configWarnings(cfg)) ctx.progress.warn(w);
      const cluster = await L.describeCluster(ctx, cfg.metadata.name);
      cfg.metadata.version = cluster.version;
      const existing = new Set<string>((await ctx.aws.call('eks', 'ListNodegroups', { clusterName: cluster.name })).nodegroups ?? []);
      for (const g of await L.selfManagedGroups(ctx, cluster.name)) existing.add(g.name);
      const net = await clusterNetwork(ctx, cluster);
      const kube = L.kubeFor(ctx, cluster);
      const created: string[] = [];
      const record = (w: string) => created.push(w);
      const todo = [...cfg.managedNodeGroups.map((ng) => ({ ng, managed: true })), ...cfg.nodeGroups.map((ng: any) => ({ ng, managed: false }))].filter((x) => {
        if (existing.has(x.ng.name)) ctx.progress.info(`node group "${x.ng.name}" already exists, skipped`);
        return !existing.has(x.ng.name);
      });
      try {
        await Promise.all(
          todo.map(async ({ ng, managed }) => {
            const spec = L.nodeRoleSpec(cluster.name, ng, cfg.metadata.tags);
            const roleArn = ng.iam?.instanceRoleARN ?? (await L.createRole(ctx, spec, record));
            if (managed) await L.provisionManagedNodegroup(ctx, cfg, ng, net, roleArn, kube, record);
            else await L.provisionSelfManagedNodegroup(ctx, cfg, ng, net, cluster, { arn: roleArn, name: roleArn.split('/').pop()! }, kube, record);
          }),
        );
      } catch (e) {
        if (created.length === 0) throw e;
        throw new L.EksctlError(`${L.messageOf(e)}\ncreated so far: ${created.join(', ')}`, L.exitCodeOf(e) === L.EXIT.TIMEOUT ? L.EXIT.TIMEOUT : L.EXIT.PARTIAL, created);
      } finally {
        ctx.progress.close();
      }
    }),
  );
  return cmd;
}

function createIamServiceAccountCommand(): Command {
  const cmd = new Command('iamserviceaccount').description('create an IAM role trusted by a Kubernetes service account (IRSA) and the annotated service account');
  cmd
    .option('-f, --config-file <file>', "a ClusterConfig; its iam.serviceAccounts are created")
    .option('-c, --cluster <name>', 'the cluster')
    .option('--name <name>', 'service account name')
    .option('--namespace <ns>', 'service account namespace', 'default')
    .option('--attach-policy-arn <arn>', 'managed policy to attach (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--attach-role-arn <arn>', 'use this existing role instead of creating one')
    .option('--role-name <name>', 'name of the role to create')
    .option('--role-only', 'create the role only, not the service account')
    .option('--override-existing-serviceaccounts', 'annotate service accounts that already exist (always done)')
    .option('--approve', 'apply the changes (without it, only the plan is shown)');
  common(cmd, { timeout: true });
  examples(cmd, ['localeks create iamserviceaccount --cluster demo --namespace kube-system --name external-dns --attach-policy-arn arn:aws:iam::aws:policy/AmazonRoute53FullAccess --approve']);
  cmd.action(
    act(async (o) => {
      const defaultRegion = L.resolveRegion(o.region);
      let clusterName: string;
      let accounts: any[];
      let cfgRegion: string | undefined;
      if (o.configFile) {
        const cfg = readConfig(o.configFile, defaultRegion);
        clusterName = cfg.metadata.name;
        cfgRegion = cfg.metadata.region;
        accounts = cfg.iam?.serviceAccounts ?? [];
      } else {
        clusterName = required(o, 'cluster', '--cluster');
        if (!o.attachPolicyArn?.length && !o.attachRoleArn) throw new L.EksctlError('--attach-policy-arn or --attach-role-arn must be set', L.EXIT.USAGE);
        accounts = [{ metadata: { name: required(o, 'name', '--name'), namespace: o.namespace }, attachPolicyARNs: o.attachPolicyArn, attachRoleARN: o.attachRoleArn, roleName: o.roleName, roleOnly: o.roleOnly }];
      }
      const ctx = ctxOf(o, cfgRegion);
      if (!o.approve) {
        for (const a of accounts) ctx.progress.info(`(plan) would create IAM service account "${a.metadata.namespace ?? 'default'}/${a.metadata.name}" in cluster "${clusterName}"`);
        ctx.progress.warn('no changes were applied, run again with --approve to apply the changes');
        return;
      }
      const cluster = await L.describeCluster(ctx, clusterName);
      const issuer = cluster.identity?.oidc?.issuer;
      const providers = (await ctx.aws.call('iam', 'ListOpenIDConnectProviders', {})).OpenIDConnectProviderList ?? [];
      const provider = providers.find((p: any) => issuer && String(p.Arn).endsWith(`:oidc-provider/${issuer.replace(/^https:\/\//, '')}`));
      if (!provider) throw new L.EksctlError(`unable to create iamserviceaccount(s) without IAM OIDC provider enabled; run \`localeks utils associate-iam-oidc-provider --cluster ${clusterName} --approve\``, L.EXIT.FAILED);
      const kube = L.kubeFor(ctx, cluster);
      const cfg = { metadata: { name: clusterName, region: ctx.region } } as ClusterConfig;
      try {
        for (const a of accounts) await L.createIrsa(ctx, kube, cfg, cluster, provider.Arn, a, () => undefined);
      } finally {
        ctx.progress.close();
      }
    }),
  );
  return cmd;
}

function createAccessEntryCommand(): Command {
  const cmd = new Command('accessentry').description('create access entries (from flags, or accessConfig.accessEntries of a ClusterConfig)');
  cmd
    .option('-f, --config-file <file>', 'a ClusterConfig; its accessConfig.accessEntries are created')
    .option('-c, --cluster <name>', 'the cluster')
    .option('--principal-arn <arn>', 'IAM principal (user or role) ARN')
    .option('--type <type>', 'STANDARD (default), EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX')
    .option('--kubernetes-groups <groups>', 'Kubernetes groups (comma-separated)')
    .option('--kubernetes-username <name>', 'Kubernetes user name');
  common(cmd);
  examples(cmd, ['localeks create accessentry --cluster demo --principal-arn arn:aws:iam::000000000000:role/dev --kubernetes-groups viewers', 'localeks create accessentry -f cluster.yaml']);
  cmd.action(
    act(async (o) => {
      const defaultRegion = L.resolveRegion(o.region);
      let clusterName: string;
      let entries: any[];
      let cfgRegion: string | undefined;
      if (o.configFile) {
        const cfg = readConfig(o.configFile, defaultRegion);
        clusterName = cfg.metadata.name;
        cfgRegion = cfg.metadata.region;
        entries = cfg.accessConfig?.accessEntries ?? [];
      } else {
        clusterName = required(o, 'cluster', '--cluster');
        entries = [{ principalARN: required(o, 'principalArn', '--principal-arn'), type: o.type, kubernetesGroups: o.kubernetesGroups?.split(',').filter(Boolean), kubernetesUsername: o.kubernetesUsername }];
      }
      const ctx = ctxOf(o, cfgRegion);
      await L.describeCluster(ctx, clusterName);
      for (const e of entries) await L.createAccessEntry(ctx, clusterName, e, () => undefined);
    }),
  );
  return cmd;
}

function clusterOpt(cmd: Command): Command {
  return cmd.option('-c, --cluster <name>', 'the cluster');
}

function outputOpt(cmd: Command): Command {
  return cmd.option('-o, --output <format>', 'table, json or yaml', 'table');
}

function getCommand(): Command {
  const get = new Command('get').description('list clusters and their node groups, Fargate profiles, add-ons, access entries');
  examples(get, ['localeks get clusters', 'localeks get nodegroups --cluster demo -o json', 'localeks get addons --cluster demo']);
  const clusters = outputOpt(common(new Command('clusters').alias('cluster').description('list clusters').option('-n, --name <name>', 'only this cluster')));
  examples(clusters, ['localeks get clusters', 'localeks get clusters --region eu-west-2 -o json']);
  clusters.action(act(async (o) => L.getClusters(ctxOf(o), o.name, L.parseOutput(o.output))));
  const ngs = outputOpt(common(clusterOpt(new Command('nodegroups').aliases(['nodegroup', 'ng']).description("list a cluster's node groups").option('-n, --name <name>', 'only this node group'))));
  examples(ngs, ['localeks get nodegroups --cluster demo', 'localeks get nodegroup --cluster demo --name ng-1 -o yaml']);
  ngs.action(act(async (o) => L.getNodegroups(ctxOf(o), required(o, 'cluster', '--cluster'), o.name, L.parseOutput(o.output))));
  const fps = outputOpt(common(clusterOpt(new Command('fargateprofiles').aliases(['fargateprofile']).description("list a cluster's Fargate profiles").option('--name <name>', 'only this profile'))));
  examples(fps, ['localeks get fargateprofile --cluster demo']);
  fps.action(act(async (o) => L.getFargateProfiles(ctxOf(o), required(o, 'cluster', '--cluster'), o.name, L.parseOutput(o.output))));
  const addons = outputOpt(common(clusterOpt(new Command('addons').aliases(['addon']).description("list a cluster's add-ons").option('--name <name>', 'only this add-on'))));
  examples(addons, ['localeks get addons --cluster demo']);
  addons.action(act(async (o) => L.getAddons(ctxOf(o), required(o, 'cluster', '--cluster'), o.name, L.parseOutput(o.output))));
  const aes = outputOpt(common(clusterOpt(new Command('accessentries').aliases(['accessentry']).description("list a cluster's access entries").option('--principal-arn <arn>', 'only this principal'))));
  examples(aes, ['localeks get accessentry --cluster demo -o json']);
  aes.action(act(async (o) => L.getAccessEntries(ctxOf(o), required(o, 'cluster', '--cluster'), o.principalArn, L.parseOutput(o.output))));
  for (const c of [clusters, ngs, fps, addons, aes]) get.addCommand(c);
  return get;
}

function deleteCommand(): Command {
  const del = new Command('delete').description('delete clusters and node groups');
  examples(del, ['localeks delete cluster --name demo', 'localeks delete nodegroup --cluster demo --name ng-1']);
  del.addHelpText('after', EXIT_HELP);
  const cluster = common(new Command('cluster').description('delete a cluster and everything created for it (node groups and Fargate profiles first)').option('-n, --name <name>', 'the cluster').option('-f, --config-file <file>', 'take the name and region from a ClusterConfig').option('-w, --wait', 'wait for the deletion (always done)').option('--disable-nodegroup-eviction', 'do not drain self-managed node groups first'), { timeout: true });
  examples(cluster, ['localeks delete cluster --name demo', 'localeks delete cluster -f cluster.yaml']);
  cluster.action(
    act(async (o) => {
      let name: string;
      let region: string | undefined;
      if (o.configFile) {
        const cfg = readConfig(o.configFile, L.resolveRegion(o.region));
        name = cfg.metadata.name;
        region = cfg.metadata.region;
      } else name = required(o, 'name', '--name');
      const ctx = ctxOf(o, region);
      try {
        await L.deleteCluster(ctx, name, { drain: !o.disableNodegroupEviction });
      } finally {
        ctx.progress.close();
      }
    }),
  );
  const ng = common(clusterOpt(new Command('nodegroup').alias('ng').description('delete a node group (its nodes are drained first)').option('-n, --name <name>', 'the node group')).option('-w, --wait', 'wait for the deletion (always done)').option('--disable-eviction', 'delete a self-managed group without draining it'), { timeout: true });
  examples(ng, ['localeks delete nodegroup --cluster demo --name ng-1']);
  ng.action(
    act(async (o) => {
      const ctx = ctxOf(o);
      const clusterName = required(o, 'cluster', '--cluster');
      const name = required(o, 'name', '--name');
      const cluster = await L.describeCluster(ctx, clusterName);
      try {
        const self = (await L.selfManagedGroups(ctx, clusterName)).find((g) => g.name === name);
        if (self) {
          await L.deleteSelfManagedGroup(ctx, cluster, self, !o.disableEviction);
          return;
        }
        try {
          await L.deleteManagedNodegroup(ctx, clusterName, name);
        } catch (e) {
          if (e instanceof L.AwsClientError && e.code === 'ResourceNotFoundException') throw new L.EksctlError(`node group "${name}" not found in cluster "${clusterName}"`, L.EXIT.NOT_FOUND);
          throw e;
        }
      } finally {
        ctx.progress.close();
      }
    }),
  );
  del.addCommand(cluster).addCommand(ng);
  return del;
}

function scaleCommand(): Command {
  const scale = new Command('scale').description('scale node groups');
  examples(scale, ['localeks scale nodegroup --cluster demo --name ng-1 --nodes 5 --nodes-max 6 --wait']);
  const ng = common(
    clusterOpt(new Command('nodegroup').alias('ng').description('change the size of a node group').option('-n, --name <name>', 'the node group'))
      .option('-N, --nodes <n>', 'desired number of nodes')
      .option('-m, --nodes-min <n>', 'minimum number of nodes')
      .option('-M, --nodes-max <n>', 'maximum number of nodes')
      .option('-w, --wait', 'wait until the nodes are Ready (or gone)'),
    { timeout: true },
  );
  examples(ng, ['localeks scale nodegroup --cluster demo --name ng-1 --nodes 5 --nodes-max 6 --wait']);
  ng.action(
    act(async (o) => {
      const ctx = ctxOf(o);
      const clusterName = required(o, 'cluster', '--cluster');
      const name = required(o, 'name', '--name');
      const num = (k: string, flag: string) => {
        if (o[k] === undefined) return undefined;
        if (!/^\d+$/.test(o[k])) throw new L.EksctlError(`${flag}: "${o[k]}" is not a whole number`, L.EXIT.USAGE);
        return Number(o[k]);
      };
      const desired = num('nodes', '--nodes');
      const min = num('nodesMin', '--nodes-min');
      const max = num('nodesMax', '--nodes-max');
      if (desired === undefined && min === undefined && max === undefined) throw new L.EksctlError('at least one of --nodes, --nodes-min, --nodes-max must be set', L.EXIT.USAGE);
      const cluster = await L.describeCluster(ctx, clusterName);
      const self = (await L.selfManagedGroups(ctx, clusterName)).find((g) => g.name === name);
      try {
        if (self) {
          await ctx.aws.call('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: self.asg.AutoScalingGroupName, DesiredCapacity: desired, MinSize: min, MaxSize: max });
          ctx.progress.success(`scaled self-managed node group "${name}"`);
          return;
        }
        let cur: any;
        try {
          cur = (await ctx.aws.call('eks', 'DescribeNodegroup', { clusterName, nodegroupName: name })).nodegroup;
        } catch (e) {
          if (e instanceof L.AwsClientError && e.code === 'ResourceNotFoundException') throw new L.EksctlError(`node group "${name}" not found in cluster "${clusterName}"`, L.EXIT.NOT_FOUND);
          throw e;
        }
        const sc = { minSize: min ?? cur.scalingConfig.minSize, maxSize: max ?? cur.scalingConfig.maxSize, desiredSize: desired ?? cur.scalingConfig.desiredSize };
        if (sc.minSize > sc.desiredSize) throw new L.EksctlError(`--nodes-min (${sc.minSize}) cannot be greater than the desired number of nodes (${sc.desiredSize})`, L.EXIT.USAGE);
        if (sc.desiredSize > sc.maxSize) throw new L.EksctlError(`the desired number of nodes (${sc.desiredSize}) cannot be greater than --nodes-max (${sc.maxSize})`, L.EXIT.USAGE);
        const t = ctx.progress.task(`scaling node group "${name}" to ${sc.desiredSize} (min ${sc.minSize}, max ${sc.maxSize})`);
        const u = (await ctx.aws.call('eks', 'UpdateNodegroupConfig', { clusterName, nodegroupName: name, scalingConfig: sc })).update;
        await waitUpdate(ctx, clusterName, u.id, name);
        if (o.wait) {
          const kube = L.kubeFor(ctx, cluster);
          await L.waitUntil(
            async () => {
              const r = await kube.request('GET', `/api/v1/nodes?labelSelector=${encodeURIComponent(`eks.amazonaws.com/nodegroup=${name}`)}`);
              const n = (r.body?.items ?? []).length;
              const ready = (r.body?.items ?? []).filter((x: any) => (x.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
              t.update(`${ready} of ${sc.desiredSize} nodes Ready`);
              return n === sc.desiredSize && ready === sc.desiredSize ? true : undefined;
            },
            { deadline: ctx.deadline, what: `node group ${name} to have ${sc.desiredSize} Ready nodes` },
          );
        }
        t.done();
      } finally {
        ctx.progress.close();
      }
    }),
  );
  scale.addCommand(ng);
  return scale;
}

/** waitUpdate waits for an EKS update to end; Failed/Cancelled throw with its errors. */
async function waitUpdate(ctx: CliContext, cluster: string, id: string, nodegroup?: string): Promise<void> {
  await L.waitUntil(
    async () => {
      const u = (await ctx.aws.call('eks', 'DescribeUpdate', { name: cluster, updateId: id, nodegroupName: nodegroup })).update;
      if (u.status === 'Successful') return true;
      if (u.status === 'Failed' || u.status === 'Cancelled') throw new Error(`update ${id} ${u.status}: ${(u.errors ?? []).map((e: any) => `${e.errorCode}: ${e.errorMessage}`).join('; ')}`);
      return undefined;
    },
    { deadline: ctx.deadline, what: `update ${id}` },
  );
}

function upgradeCommand(): Command {
  const up = new Command('upgrade').description('upgrade clusters');
  examples(up, ['localeks upgrade cluster --name demo --approve']);
  const cluster = common(
    new Command('cluster').description('upgrade the control plane by one minor version (node groups and add-ons are not upgraded with it, as in EKS)').option('-n, --name <name>', 'the cluster').option('-f, --config-file <file>', 'take the name, region and target version from a ClusterConfig').option('--version <version>', 'target version (default: the next minor)').option('--approve', 'apply the upgrade (without it, only the plan is shown)'),
    { timeout: true },
  );
  examples(cluster, ['localeks upgrade cluster --name demo', 'localeks upgrade cluster --name demo --version 1.32 --approve']);
  cluster.action(
    act(async (o) => {
      let name: string;
      let region: string | undefined;
      let version: string | undefined = o.version;
      if (o.configFile) {
        const cfg = readConfig(o.configFile, L.resolveRegion(o.region));
        name = cfg.metadata.name;
        region = cfg.metadata.region;
        version ??= cfg.metadata.version;
      } else name = required(o, 'name', '--name');
      const ctx = ctxOf(o, region);
      const c = await L.describeCluster(ctx, name);
      const [maj, min] = String(c.version).split('.').map(Number);
      const target = version ?? `${maj}.${min! + 1}`;
      if (target === c.version) {
        ctx.progress.info(`cluster "${name}" is already at version ${target}`);
        return;
      }
      if (!o.approve) {
        ctx.progress.info(`(plan) would upgrade cluster "${name}" control plane from version ${c.version} to ${target}`);
        ctx.progress.warn('no changes were applied, run again with --approve to apply the changes');
        return;
      }
      const t = ctx.progress.task(`upgrading cluster "${name}" control plane from ${c.version} to ${target}`);
      try {
        const u = (await ctx.aws.call('eks', 'UpdateClusterVersion', { name, version: target })).update;
        await waitUpdate(ctx, name, u.id);
        t.done();
      } catch (e) {
        t.fail(L.messageOf(e));
        throw new L.EksctlError(L.messageOf(e), e instanceof L.AwsClientError && /InvalidParameter|InvalidRequest/.test(e.code) ? L.EXIT.USAGE : L.exitCodeOf(e));
      } finally {
        ctx.progress.close();
      }
      ctx.progress.success(`cluster "${name}" control plane is at version ${target}; upgrade node groups and add-ons separately`);
    }),
  );
  up.addCommand(cluster);
  return up;
}

function utilsCommand(): Command {
  const utils = new Command('utils').description('kubeconfig and IAM OIDC helpers');
  examples(utils, ['localeks utils write-kubeconfig --cluster demo', 'localeks utils associate-iam-oidc-provider --cluster demo --approve']);
  const wk = common(
    clusterOpt(new Command('write-kubeconfig').description("write (merge) a cluster's kubeconfig entry, as aws eks update-kubeconfig does"))
      .option('--kubeconfig <path>', 'kubeconfig to write (env: KUBECONFIG; default ~/.kube/config)')
      .option('--auto-kubeconfig', 'write it to its own file, ~/.kube/eksctl/clusters/<name>'),
  );
  examples(wk, ['localeks utils write-kubeconfig --cluster demo', 'localeks utils write-kubeconfig --cluster demo --kubeconfig ./demo.kubeconfig', 'localeks utils write-kubeconfig --cluster demo --auto-kubeconfig']);
  wk.action(
    act(async (o) => {
      const ctx = ctxOf(o);
      const name = required(o, 'cluster', '--cluster');
      if (o.autoKubeconfig && o.kubeconfig) throw new L.EksctlError('--kubeconfig and --auto-kubeconfig cannot be used at the same time', L.EXIT.USAGE);
      await L.writeKubeconfig(ctx, await L.describeCluster(ctx, name), o.autoKubeconfig ? L.autoKubeconfigPath(name) : o.kubeconfig);
    }),
  );
  const oidc = common(clusterOpt(new Command('associate-iam-oidc-provider').description("create the IAM OIDC provider for a cluster's issuer (needed by IRSA)")).option('--approve', 'apply (without it, only the plan is shown)'));
  examples(oidc, ['localeks utils associate-iam-oidc-provider --cluster demo --approve']);
  oidc.action(
    act(async (o) => {
      const ctx = ctxOf(o);
      const name = required(o, 'cluster', '--cluster');
      const c = await L.describeCluster(ctx, name);
      if (!o.approve) {
        ctx.progress.info(`(plan) would create IAM Open ID Connect provider for cluster "${name}" in "${ctx.region}"`);
        ctx.progress.warn('no changes were applied, run again with --approve to apply the changes');
        return;
      }
      const arn = await L.ensureOidcProvider(ctx, name, c.identity.oidc.issuer, c.certificateAuthority.data, () => undefined);
      ctx.progress.success(`IAM Open ID Connect provider is associated with cluster "${name}" in "${ctx.region}": ${arn}`);
    }),
  );
  utils.addCommand(wk).addCommand(oidc);
  return utils;
}

/** Every command path with its options, for completion scripts. */
function walk(cmd: Command, path: string[] = []): Array<{ path: string[]; subs: string[]; flags: string[] }> {
  const here = { path, subs: cmd.commands.map((c) => c.name()), flags: cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x)) };
  return [here, ...cmd.commands.flatMap((c) => walk(c, [...path, c.name()]))];
}

function completionCommand(): Command {
  const cmd = new Command('completion').description('print a shell completion script (bash or zsh)').argument('<shell>', 'bash or zsh');
  examples(cmd, ['source <(localeks completion bash)', 'localeks completion zsh > "${fpath[1]}/_localeks"']);
  cmd.action(
    act(async (_o, c) => {
      const shell = c.args[0];
      if (shell !== 'bash' && shell !== 'zsh') throw new L.EksctlError(`unsupported shell "${shell}": use bash or zsh`, L.EXIT.USAGE);
      let root: Command = c;
      while (root.parent) root = root.parent;
      const cases = walk(root)
        .map((w) => `    "${w.path.join(' ')}") words="${[...w.subs, ...w.flags, '--help'].join(' ')}" ;;`)
        .join('\n');
      const fn = `_localeks_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w words i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "$path" in
${walk(root)
  .filter((w) => w.subs.length)
  .map((w) => `      "${w.path.join(' ')}") case " ${w.subs.join(' ')} " in *" $w "*) path="\${path:+$path }$w" ;; esac ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
`;
      if (shell === 'bash') process.stdout.write(`# bash completion for localeks\n${fn}complete -F _localeks_complete localeks\n`);
      else process.stdout.write(`#compdef localeks\n# zsh completion for localeks (bash-compatible)\nautoload -U +X bashcompinit && bashcompinit\n${fn}complete -F _localeks_complete localeks\n`);
    }),
  );
  return cmd;
}

/** eksctlCommands returns the commands main.ts adds to the program. */
export function eksctlCommands(): Command[] {
  const create = new Command('create').description('create clusters, node groups, IAM service accounts, access entries');
  examples(create, ['localeks create cluster --name demo --nodes 3', 'localeks create cluster -f cluster.yaml', 'localeks create nodegroup --cluster demo --name more --nodes 2', 'localeks create iamserviceaccount --cluster demo --name app --attach-policy-arn arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess --approve']);
  create.addCommand(createClusterCommand()).addCommand(createNodegroupCommand()).addCommand(createIamServiceAccountCommand()).addCommand(createAccessEntryCommand());
  const all = [create, getCommand(), deleteCommand(), scaleCommand(), upgradeCommand(), utilsCommand(), completionCommand()];
  // Usage errors (unknown command or option, missing argument) exit 2, help 0, at every level.
  const exit2 = (c: Command): void => {
    c.exitOverride(usageExit).showHelpAfterError();
    c.commands.forEach(exit2);
  };
  all.forEach(exit2);
  return all;
}
