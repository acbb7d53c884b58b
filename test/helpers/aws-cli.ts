/**
 * runAws runs the real aws CLI (v1, installed as `aws`) against localeks:
 * `aws <args> --endpoint-url <endpoint> --output json` with test credentials,
 * and parses stdout as JSON when it is JSON.
 *
 * @example
 *   const r = await runAws(server.awsEndpoint, ['ec2', 'create-vpc', '--cidr-block', '10.0.0.0/16']);
 *   assert.equal(r.code, 0, r.stderr);
 *   const vpcId = r.json.Vpc.VpcId;
 */
import { runProcess } from './exec.ts';

export interface AwsCliResult {
  /** Exit code: 0 on success, 254/255 for service errors, 252 for usage errors. */
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout (undefined when stdout is empty or not JSON). */
  json: any;
  /** The AWS error code parsed from stderr ("An error occurred (Code) when calling ..."), if any. */
  errorCode?: string;
  /** The error message after the colon on that stderr line, if any. */
  errorMessage?: string;
}

export interface AwsCliOptions {
  /** Region (default us-east-1). */
  region?: string;
  /** Access key id (default "test"). */
  accessKeyId?: string;
  /** Secret (default "test"). */
  secretAccessKey?: string;
  sessionToken?: string;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin. */
  input?: string;
  /** The CLI binary (default `aws`, the v1 CLI; AWS_CLI_V2 for Debian's v2). */
  cli?: string;
}

/** Where Debian's awscli package (the v2 CLI) installs; `aws` on PATH is v1. */
export const AWS_CLI_V2 = '/usr/bin/aws';

/** awsCliEnv is the environment every aws CLI / boto3 child runs with: no real credentials or config files. */
export function awsCliEnv(opts: AwsCliOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    AWS_ACCESS_KEY_ID: opts.accessKeyId ?? 'test',
    AWS_SECRET_ACCESS_KEY: opts.secretAccessKey ?? 'test',
    AWS_DEFAULT_REGION: opts.region ?? 'us-east-1',
    AWS_REGION: opts.region ?? 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_RETRY_MODE: 'standard',
    AWS_MAX_ATTEMPTS: '1',
    PYTHONWARNINGS: 'ignore',
    ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
    ...(process.env.PYENV_VERSION ? { PYENV_VERSION: process.env.PYENV_VERSION } : {}),
  };
  if (opts.sessionToken) env.AWS_SESSION_TOKEN = opts.sessionToken;
  return { ...env, ...opts.env };
}

/** runAws never throws for a failed command: check `code` (and `errorCode`). */
export async function runAws(endpoint: string, args: string[], opts: AwsCliOptions = {}): Promise<AwsCliResult> {
  const r = await runProcess(opts.cli ?? 'aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], {
    env: awsCliEnv(opts),
    input: opts.input,
  });
  let json: any;
  const text = r.stdout.trim();
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const m = /An error occurred \(([^)]+)\)(?: when calling the \w+ operation)?(?:\s*\([^)]*\))?: ?(.*)/.exec(r.stderr);
  return { ...r, json, errorCode: m?.[1], errorMessage: m?.[2]?.trim() };
}

/** awsJson runs the CLI and returns its JSON, throwing with stderr when the command fails. */
export async function awsJson(endpoint: string, args: string[], opts: AwsCliOptions = {}): Promise<any> {
  const r = await runAws(endpoint, args, opts);
  if (r.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.json;
}
