/**
 * Kubeconfig entries for EKS clusters, written exactly as
 * `aws eks update-kubeconfig` writes them (awscli customizations/eks):
 * cluster, user and context all named by the cluster ARN; the cluster with
 * certificate-authority-data and server from DescribeCluster; the user an
 * exec plugin (client.authentication.k8s.io/v1beta1) running
 * `aws --region R eks get-token --cluster-name X --output json`, with
 * AWS_PROFILE when a profile is used. For localeks the exec entry also sets
 * AWS_ENDPOINT_URL (the aws CLI then reaches localeks for what get-token may
 * call, e.g. `--role` AssumeRole). Instead of the exec plugin, a user may
 * carry a localeks static token (kube/authn/static-token.ts), for machines
 * without the aws CLI.
 *
 * Merging follows the aws CLI: the file is the one named by --kubeconfig,
 * else the KUBECONFIG file already holding the cluster, else KUBECONFIG's
 * first file, else ~/.kube/config; entries with the same names are
 * replaced, others kept; current-context becomes the new context; the file
 * is written with mode 0600.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { createStaticToken } from '../kube/authn/static-token.ts';
import { awsJsonRequest, resolveCredentials, type AwsCredentials } from './aws-credentials.ts';
import { CliError } from './commands/admin-client.ts';

/** The exec plugin API version the aws CLI writes. */
export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1beta1';

/** What a kubeconfig needs to know about a cluster (from DescribeCluster). */
export interface KubeconfigCluster {
  name: string;
  arn: string;
  /** cluster.endpoint */
  endpoint: string;
  /** cluster.certificateAuthority.data (base64 PEM) */
  certificateAuthorityData: string;
}

export interface KubeconfigUserOptions {
  /** Region for `--region` (default: the cluster ARN's region). */
  region?: string;
  /** The localeks AWS endpoint, passed to the exec plugin as AWS_ENDPOINT_URL. */
  endpointUrl?: string;
  /** AWS profile, passed as AWS_PROFILE (as update-kubeconfig --profile). */
  profile?: string;
  /**
   * The test credentials, passed to the exec plugin as AWS_ACCESS_KEY_ID and
   * AWS_SECRET_ACCESS_KEY: set when the user has no AWS credentials at all
   * (the CLI then used `test`), so `aws eks get-token` can sign too.
   */
  testCredentials?: boolean;
  /** IAM role for get-token's --role (as update-kubeconfig --role-arn). */
  roleArn?: string;
  /** A bearer token to use instead of the exec plugin (a localeks static token). */
  staticToken?: string;
  /** Context name (update-kubeconfig --alias); default the cluster ARN. */
  alias?: string;
  /** User name (update-kubeconfig --user-alias); default the cluster ARN. */
  userAlias?: string;
}

export interface KubeconfigEntry {
  cluster: { name: string; cluster: { 'certificate-authority-data': string; server: string } };
  user: { name: string; user: Record<string, unknown> };
  context: { name: string; context: { cluster: string; user: string } };
}

/** kubeconfigEntry builds the cluster, user and context entries (pure). */
export function kubeconfigEntry(c: KubeconfigCluster, opts: KubeconfigUserOptions = {}): KubeconfigEntry {
  const region = opts.region ?? c.arn.split(':')[3] ?? 'us-east-1';
  let user: Record<string, unknown>;
  if (opts.staticToken !== undefined) {
    user = { token: opts.staticToken };
  } else {
    const args = ['--region', region, 'eks', 'get-token', '--cluster-name', c.name, '--output', 'json'];
    if (opts.roleArn) args.push('--role', opts.roleArn);
    const exec: Record<string, unknown> = { apiVersion: EXEC_API_VERSION, args, command: 'aws' };
    const env: Array<{ name: string; value: string }> = [];
    if (opts.profile) env.push({ name: 'AWS_PROFILE', value: opts.profile });
    if (opts.endpointUrl) env.push({ name: 'AWS_ENDPOINT_URL', value: opts.endpointUrl });
    if (opts.testCredentials && !opts.profile) env.push({ name: 'AWS_ACCESS_KEY_ID', value: 'test' }, { name: 'AWS_SECRET_ACCESS_KEY', value: 'test' });
    if (env.length > 0) exec.env = env;
    user = { exec };
  }
  const userName = opts.userAlias ?? c.arn;
  return {
    cluster: { name: c.arn, cluster: { 'certificate-authority-data': c.certificateAuthorityData, server: c.endpoint } },
    user: { name: userName, user },
    context: { name: opts.alias ?? userName, context: { cluster: c.arn, user: userName } },
  };
}

function emptyKubeconfig(): Record<string, unknown> {
  return { apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] };
}

/** renderKubeconfig is a whole kubeconfig holding only `entry`, current-context set (what --print and --dry-run show). */
export function renderKubeconfig(entry: KubeconfigEntry): string {
  const doc = emptyKubeconfig();
  insert(doc, entry);
  return stringify(doc);
}

function expand(p: string, env: NodeJS.ProcessEnv): string {
  return resolve(p.startsWith('~/') ? (env.HOME || homedir()) + p.slice(1) : p);
}

function load(path: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(`cannot read kubeconfig ${path}: ${(e as Error).message}`, 1);
  }
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CliError(`kubeconfig ${path} is corrupted: ${(e as Error).message.split('\n')[0]}`, 1);
  }
  if (doc === null || doc === undefined) return undefined;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new CliError(`kubeconfig ${path} is corrupted: not a mapping`, 1);
  return doc as Record<string, unknown>;
}

function hasCluster(doc: Record<string, unknown> | undefined, name: string): boolean {
  const list = doc?.clusters;
  return Array.isArray(list) && list.some((e) => e && typeof e === 'object' && (e as { name?: unknown }).name === name);
}

/**
 * kubeconfigPath chooses the file to write (see the module comment): the
 * flag, else the KUBECONFIG file already holding `clusterArn`, else
 * KUBECONFIG's first file, else ~/.kube/config. Absolute.
 */
export function kubeconfigPath(flag: string | undefined, clusterArn?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return expand(flag, env);
  const paths = (env.KUBECONFIG ?? '')
    .split(delimiter)
    .filter((p) => p.trim() !== '')
    .map((p) => expand(p, env));
  if (paths.length === 0) return expand('~/.kube/config', env);
  if (clusterArn) {
    for (const p of paths) {
      try {
        if (hasCluster(load(p), clusterArn)) return p;
      } catch {
        // a corrupted candidate is passed over, as the aws CLI does
      }
    }
  }
  return paths[0]!;
}

function insert(doc: Record<string, unknown>, entry: KubeconfigEntry): boolean {
  let updated = false;
  for (const [key, e] of [
    ['clusters', entry.cluster],
    ['users', entry.user],
    ['contexts', entry.context],
  ] as const) {
    const list = doc[key] ?? [];
    if (!Array.isArray(list)) throw new CliError(`kubeconfig: "${key}" is not a list`, 1);
    const i = list.findIndex((x) => x && typeof x === 'object' && x.name === e.name);
    if (i >= 0) {
      list[i] = e;
      if (key === 'clusters') updated = true;
    } else list.push(e);
    doc[key] = list;
  }
  doc['current-context'] = entry.context.name;
  return updated;
}

export interface MergeResult {
  /** The file written (absolute). */
  path: string;
  /** The context set as current-context. */
  context: string;
  /** True when the file already held the cluster (the aws CLI then says "Updated context"). */
  updated: boolean;
}

/**
 * mergeKubeconfig writes `entry` into the kubeconfig chosen by
 * kubeconfigPath(path): other entries kept, same-named ones replaced,
 * current-context set, mode 0600 (directory created when missing).
 * Throws CliError for an unreadable or corrupted file.
 */
export function mergeKubeconfig(entry: KubeconfigEntry, opts: { path?: string; env?: NodeJS.ProcessEnv } = {}): MergeResult {
  const path = kubeconfigPath(opts.path, entry.cluster.name, opts.env ?? process.env);
  const doc = load(path) ?? emptyKubeconfig();
  doc.apiVersion ??= 'v1';
  doc.kind ??= 'Config';
  const updated = insert(doc, entry);
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, stringify(doc), { mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (e) {
    throw new CliError(`cannot write kubeconfig ${path}: ${(e as Error).message}`, 1);
  }
  return { path, context: entry.context.name, updated };
}

/** describeClusterForKubeconfig calls EKS DescribeCluster (SigV4-signed) and returns what a kubeconfig needs. */
export async function describeClusterForKubeconfig(endpoint: string, name: string, region: string, credentials: AwsCredentials = resolveCredentials()): Promise<KubeconfigCluster> {
  const r = await awsJsonRequest(endpoint, { service: 'eks', region, method: 'GET', path: `/clusters/${encodeURIComponent(name)}`, credentials });
  const c = r.cluster;
  if (!c?.endpoint || !c?.certificateAuthority?.data) {
    throw new CliError(`cluster ${name} has no endpoint yet (status ${c?.status ?? 'unknown'}); wait until it is ACTIVE`, 1);
  }
  return { name: c.name, arn: c.arn, endpoint: c.endpoint, certificateAuthorityData: c.certificateAuthority.data };
}

export interface ClusterKubeconfigOptions {
  /** The localeks AWS endpoint. */
  endpoint: string;
  clusterName: string;
  region: string;
  /** --kubeconfig (else KUBECONFIG or ~/.kube/config). */
  kubeconfig?: string;
  /** Write a static token (lifetime in seconds) instead of the exec plugin. */
  staticToken?: { lifetimeSeconds?: number };
  credentials?: AwsCredentials;
  profile?: string;
  roleArn?: string;
  alias?: string;
  userAlias?: string;
  /** Do not write: return the rendered kubeconfig only. */
  dryRun?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * writeClusterKubeconfig is `localeks kubeconfig` as a function (for other
 * commands, e.g. eksctl's create cluster): DescribeCluster, build the entry
 * (static token signed with the credentials when asked), merge it.
 */
export async function writeClusterKubeconfig(o: ClusterKubeconfigOptions): Promise<MergeResult & { entry: KubeconfigEntry; rendered: string; tokenExpiresAt?: Date }> {
  const credentials = o.credentials ?? resolveCredentials(o.env);
  const c = await describeClusterForKubeconfig(o.endpoint, o.clusterName, o.region, credentials);
  let staticToken: string | undefined;
  let tokenExpiresAt: Date | undefined;
  if (o.staticToken) {
    try {
      const t = createStaticToken({ clusterArn: c.arn, ...credentials, lifetimeSeconds: o.staticToken.lifetimeSeconds });
      staticToken = t.token;
      tokenExpiresAt = t.expiresAt;
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
  }
  const entry = kubeconfigEntry(c, { region: o.region, endpointUrl: o.endpoint, profile: o.profile, roleArn: o.roleArn, staticToken, alias: o.alias, userAlias: o.userAlias });
  const rendered = renderKubeconfig(entry);
  if (o.dryRun) return { path: '', context: entry.context.name, updated: false, entry, rendered, tokenExpiresAt };
  return { ...mergeKubeconfig(entry, { path: o.kubeconfig, env: o.env }), entry, rendered, tokenExpiresAt };
}
