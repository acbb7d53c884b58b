/**
 * localeks as a library, for test suites: `startLocaleks()` runs an embedded
 * instance in this process on free ports and hands back what a test needs.
 *
 * @example
 *   import { startLocaleks } from 'localeks';
 *   import { EKSClient, CreateClusterCommand } from '@aws-sdk/client-eks';
 *   const lx = await startLocaleks({ timingProfile: 'instant' });
 *   const eks = new EKSClient(lx.awsConfig);
 *   await eks.send(new CreateClusterCommand({ name: 'demo', roleArn, resourcesVpcConfig: { subnetIds } }));
 *   writeFileSync('kubeconfig', await lx.kubeconfig('demo'));   // kubectl, @kubernetes/client-node
 *   await lx.snapshot('base'); ...; await lx.restore('base');
 *   await lx.backup('app', 'demo', { includeNamespaces: ['app'] }); await lx.restoreBackup('app', 'other');
 *   await lx.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { getCluster } from './aws/eks/shared.ts';
import type { TimingProfile } from './aws/core/deps.ts';
import type { LogLevel } from './server/config.ts';
import { type RunningServer, startServer } from './server/start.ts';
import type { BackupSpec, BackupSummary, RestoreResult } from './fixtures/backup.ts';

export { createEksToken as eksToken } from './kube/authn/eks-token.ts';
export type { RunningServer } from './server/start.ts';
export type { BackupSpec, BackupSummary, RestoreResult } from './fixtures/backup.ts';

/** Options of startLocaleks; every field is optional. */
export interface LocaleksOptions {
  /** 'memory' (default) or 'sqlite' (under dataDir, else a temporary folder removed by stop()). */
  store?: 'memory' | 'sqlite';
  /** Folder for the SQLite database and the TLS material. */
  dataDir?: string;
  /** Default 12-digit account id (default 000000000000). */
  accountId?: string;
  /** Lifecycle timing: 'instant' (transitions done before the call returns), 'fast' (default), 'realistic'. */
  timingProfile?: TimingProfile;
  /** Region for awsConfig and kubeconfig (default us-east-1). Requests may sign for any region. */
  region?: string;
  /** Simulated milliseconds per real millisecond (default 1). */
  timeScale?: number;
  /** When false, EKS accepts unknown subnet, role and key ids (default true: they must exist). */
  referenceChecks?: boolean;
  /** Server log level (default 'silent'). */
  logLevel?: LogLevel;
}

/** The credentials localeks accepts without IAM enforcement (any would do; these are the convention). */
export const TEST_CREDENTIALS = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });

/** A running embedded localeks. */
export interface Localeks {
  /** e.g. http://127.0.0.1:40123 — every AWS service. */
  awsEndpoint: string;
  /** e.g. https://127.0.0.1:40124 — clusters at /clusters/<name>. */
  kubeEndpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** An AWS SDK v3 client config: `new EKSClient(lx.awsConfig)`. */
  awsConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** PEM of the CA that signed the Kubernetes endpoint's certificate. */
  caCertPem: string;
  /** The underlying server (state, clock, store) for advanced use. */
  server: RunningServer;
  /** Wipes every AWS resource and cluster (snapshots are kept). */
  reset(): Promise<void>;
  /** Saves the whole state as snapshot NAME. */
  snapshot(name: string): Promise<void>;
  /** Makes the state equal to snapshot NAME again. */
  restore(name: string): Promise<void>;
  /**
   * Backs up one cluster's Kubernetes objects as backup NAME (velero-style,
   * see `localeks backup`); the spec filters them. Returns the backup's summary.
   */
  backup(name: string, cluster: string, spec?: BackupSpec): Promise<BackupSummary>;
  /**
   * Creates the objects of backup NAME in a cluster (the same or another),
   * through its API; returns the restore's result (phase, counts, warnings,
   * items). Throws when the backup or the cluster does not exist.
   */
  restoreBackup(name: string, cluster: string, opts?: { namespaceMappings?: Record<string, string>; restoreName?: string }): Promise<RestoreResult>;
  /** Jumps simulated time forward (lifecycles, CronJobs, token expiry follow). */
  advanceClock(ms: number): Promise<void>;
  /** A kubeconfig (YAML) for an ACTIVE cluster, as `aws eks update-kubeconfig` writes it. */
  kubeconfig(clusterName: string, opts?: { region?: string; accountId?: string }): Promise<string>;
  /** Stops the instance and releases ports, store and temporary files. Idempotent. */
  stop(): Promise<void>;
}

/** startLocaleks starts an embedded instance (free ports, memory store, silent log by default). */
export async function startLocaleks(opts: LocaleksOptions = {}): Promise<Localeks> {
  const store = opts.store ?? 'memory';
  let tempDir: string | undefined;
  let dataDir = opts.dataDir;
  if (store === 'sqlite' && dataDir === undefined) dataDir = tempDir = mkdtempSync(join(tmpdir(), 'localeks-'));
  const server = await startServer({
    store,
    dataDir,
    awsPort: 0,
    kubePort: 0,
    host: '127.0.0.1',
    logLevel: opts.logLevel ?? 'silent',
    accountId: opts.accountId,
    timingProfile: opts.timingProfile,
    timeScale: opts.timeScale,
    referenceChecks: opts.referenceChecks,
  });
  const region = opts.region ?? 'us-east-1';
  const credentials = { ...TEST_CREDENTIALS };

  const admin = async (method: string, path: string, input?: unknown): Promise<any> => {
    const r = await fetch(server.awsEndpoint + path, { method, body: input === undefined ? undefined : JSON.stringify(input) });
    const body = (await r.json().catch(() => undefined)) as any;
    if (!r.ok) throw new Error(`localeks: ${body?.error?.message ?? `HTTP ${r.status} from ${path}`}`);
    return body;
  };
  const enc = encodeURIComponent;
  let stopped: Promise<void> | undefined;

  return {
    awsEndpoint: server.awsEndpoint,
    kubeEndpoint: server.kubeEndpoint,
    region,
    credentials,
    awsConfig: { endpoint: server.awsEndpoint, region, credentials: { ...credentials } },
    caCertPem: server.tls.caCertPem,
    server,
    reset: async () => void (await admin('POST', '/_localeks/reset')),
    snapshot: async (name) => void (await admin('POST', `/_localeks/snapshots/${enc(name)}`)),
    restore: async (name) => void (await admin('POST', `/_localeks/snapshots/${enc(name)}/restore`)),
    backup: (name, cluster, spec = {}) => admin('POST', `/_localeks/backups/${enc(name)}`, { ...spec, cluster, region }),
    restoreBackup: (name, cluster, o = {}) => admin('POST', `/_localeks/backups/${enc(name)}/restore`, { ...o, cluster, region }),
    advanceClock: async (ms) => {
      if (!(ms >= 0)) throw new Error(`localeks: cannot advance the clock by ${ms} ms`);
      server.clock.advance(ms);
    },
    kubeconfig: async (clusterName, o = {}) => {
      const scope = { accountId: o.accountId ?? server.config.accountId, region: o.region ?? region };
      const doc = getCluster(server.state, scope, clusterName);
      if (!doc) throw new Error(`localeks: no EKS cluster named "${clusterName}" in ${scope.region} of account ${scope.accountId}`);
      if (!doc.endpoint || !doc.certificateAuthority?.data) throw new Error(`localeks: cluster "${clusterName}" is ${doc.status}, it has no endpoint yet (wait for ACTIVE)`);
      return kubeconfigYaml({ arn: doc.arn, name: clusterName, endpoint: doc.endpoint, caData: doc.certificateAuthority.data, region: scope.region, credentials });
    },
    stop: () =>
      (stopped ??= server.close().finally(() => {
        if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      })),
  };
}

/**
 * kubeconfigYaml writes a kubeconfig as `aws eks update-kubeconfig` does
 * (names are the cluster ARN; the user runs `aws eks get-token`, which
 * presigns offline), with the instance's credentials in its environment.
 */
export function kubeconfigYaml(c: { arn: string; name: string; endpoint: string; caData: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }): string {
  return toYaml({
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': c.caData, server: c.endpoint }, name: c.arn }],
    contexts: [{ context: { cluster: c.arn, user: c.arn }, name: c.arn }],
    'current-context': c.arn,
    kind: 'Config',
    preferences: {},
    users: [
      {
        name: c.arn,
        user: {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'aws',
            args: ['--region', c.region, 'eks', 'get-token', '--cluster-name', c.name, '--output', 'json'],
            // No AWS_ENDPOINT_URL here: get-token presigns offline, and with it the aws
            // CLI would presign an http://127.0.0.1 URL, which EKS tokens must not be.
            env: [
              { name: 'AWS_ACCESS_KEY_ID', value: c.credentials.accessKeyId },
              { name: 'AWS_SECRET_ACCESS_KEY', value: c.credentials.secretAccessKey },
            ],
            interactiveMode: 'IfAvailable',
            provideClusterInfo: false,
          },
        },
      },
    ],
  });
}
