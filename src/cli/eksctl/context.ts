/**
 * What every eksctl-shaped command works with: the AWS client for the
 * running server (endpoint from --endpoint-url / LOCALEKS_ENDPOINT /
 * AWS_ENDPOINT_URL; credentials from the usual AWS chain, test credentials
 * when there are none; region from --region / AWS_REGION /
 * AWS_DEFAULT_REGION), the progress reporter, and the wait deadline.
 */
import { type AwsClient, createAwsClient } from '../../aws/client/aws-client.ts';
import { resolveCredentials, resolveRegion } from '../aws-credentials.ts';
import { resolveEndpoint } from '../commands/admin-client.ts';
import { parseDuration } from '../commands/admin-client.ts';
import { Progress } from './progress.ts';

export interface CommonOptions {
  endpointUrl?: string;
  region?: string;
  quiet?: boolean;
  verbose?: number;
  timeout?: string;
}

export interface CliContext {
  aws: AwsClient;
  region: string;
  endpoint: string;
  progress: Progress;
  /** Real-time deadline for waits (epoch ms). */
  deadline: number;
  /** The --timeout text, for messages. */
  timeout: string;
  /** No AWS credentials were found: the test credentials stand in (and go into the kubeconfig's exec env). */
  testCredentials: boolean;
}

/** DEFAULT_TIMEOUT matches eksctl's 25 minutes for create/delete waits. */
export const DEFAULT_TIMEOUT = '25m';

/** makeContext builds the context; `region` overrides the flags (a ClusterConfig's metadata.region). */
export function makeContext(opts: CommonOptions, region?: string): CliContext {
  const endpoint = resolveEndpoint(opts.endpointUrl);
  const r = region ?? resolveRegion(opts.region);
  const progress = new Progress({ quiet: opts.quiet, verbose: opts.verbose ?? 0 });
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT;
  const credentials = resolveCredentials();
  const aws = createAwsClient({
    endpoint,
    region: r,
    credentials,
    onRequest: progress.verbose > 0 ? (e) => progress.debug(`${e.service}:${e.operation} ${e.status} (${e.ms.toFixed(0)} ms)`) : undefined,
  });
  return { aws, region: r, endpoint, progress, deadline: Date.now() + parseDuration(timeout), timeout, testCredentials: credentials.defaulted === true };
}
