/**
 * Exit codes of the eksctl-shaped commands, which scripts can rely on:
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | the operation failed (an AWS or Kubernetes error, the server unreachable); nothing was left half-created |
 * | 2 | usage: bad flags or an invalid ClusterConfig; nothing was created |
 * | 3 | not found: the cluster, node group, ... named does not exist |
 * | 4 | timed out waiting (--timeout); what was created stays, see the message |
 * | 5 | failed midway: some resources were created; the message lists them and `localeks delete cluster` removes them |
 * | 130 | interrupted (Ctrl-C) |
 */
import { AwsClientError } from '../../aws/client/aws-client.ts';
import { CliError } from '../commands/admin-client.ts';
import { ClusterConfigError } from './cluster-config.ts';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3, TIMEOUT: 4, PARTIAL: 5, INTERRUPTED: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command failure with its exit code and, for partial failures, what was created. */
export class EksctlError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly created: string[] = [],
  ) {
    super(message);
    this.name = 'EksctlError';
  }
}

/** exitCodeOf maps any error a command can raise to its exit code. */
export function exitCodeOf(e: unknown): ExitCode {
  if (e instanceof EksctlError) return e.exitCode;
  if (e instanceof ClusterConfigError) return EXIT.USAGE;
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof AwsClientError) {
    if (/NotFound|NoSuchEntity/.test(e.code)) return EXIT.NOT_FOUND;
    return EXIT.FAILED;
  }
  return EXIT.FAILED;
}

/** messageOf renders an error for the [✖] line. */
export function messageOf(e: unknown): string {
  if (e instanceof AwsClientError) {
    if (e.code === 'NetworkingError') return `${e.message} (is \`localeks serve\` running? set --endpoint-url or LOCALEKS_ENDPOINT)`;
    return `${e.service}:${e.operation}: ${e.code}: ${e.message}`;
  }
  return (e as Error)?.message ?? String(e);
}
