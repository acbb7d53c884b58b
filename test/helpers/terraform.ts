/**
 * Terraform against localeks, offline.
 *
 * findAwsProviderMirror() locates, once per process, a terraform filesystem
 * mirror on this machine that holds registry.terraform.io/hashicorp/aws.
 * createTerraformWorkdir() makes a temp directory with the test's .tf files
 * plus a provider block pointing every emulated service at localeks (see
 * awsProviderBlock), and a CLI config that installs providers only from that
 * mirror; its methods run init/apply/plan/destroy with TF_CLI_CONFIG_FILE.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandExists, type ProcessResult, runProcess } from './exec.ts';

const PROVIDER_DIR = join('registry.terraform.io', 'hashicorp', 'aws');

let mirrorCache: string | null | undefined;

/** Places searched for a mirror, first hit wins; LOCALEKS_TF_MIRROR overrides. */
function candidateRoots(): string[] {
  const home = process.env.HOME ?? '/root';
  return [
    process.env.LOCALEKS_TF_MIRROR ?? '',
    '/opt/tf-plugins',
    join(home, '.terraform.d', 'plugins'),
    join(home, '.local', 'share', 'terraform', 'plugins'),
    '/usr/share/terraform/plugins',
    '/usr/local/share/terraform/plugins',
    '/opt',
    '/usr/share',
    '/usr/local/share',
    home,
  ].filter(Boolean);
}

/** Breadth-first search for a directory containing registry.terraform.io/hashicorp/aws (bounded depth). */
function searchMirror(root: string, depth: number): string | undefined {
  let level = [root];
  for (let d = 0; d <= depth && level.length > 0; d++) {
    const next: string[] = [];
    for (const dir of level) {
      if (existsSync(join(dir, PROVIDER_DIR))) return dir;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (n === 'node_modules' || n === 'proc' || n === '.git' || n === '.cache') continue;
        const p = join(dir, n);
        try {
          if (statSync(p).isDirectory()) next.push(p);
        } catch {
          // unreadable entry: skip
        }
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * findAwsProviderMirror returns the filesystem mirror directory (the one that
 * contains registry.terraform.io/hashicorp/aws), or undefined. Cached.
 */
export function findAwsProviderMirror(): string | undefined {
  if (mirrorCache !== undefined) return mirrorCache ?? undefined;
  for (const root of candidateRoots()) {
    if (!existsSync(root)) continue;
    const hit = searchMirror(root, 4);
    if (hit) {
      mirrorCache = hit;
      return hit;
    }
  }
  mirrorCache = null;
  return undefined;
}

/** Why terraform tests cannot run here (undefined when they can). */
export async function terraformSkipReason(): Promise<string | undefined> {
  if (!(await commandExists('terraform'))) return 'terraform is not installed (not on PATH)';
  if (!findAwsProviderMirror()) return 'no terraform filesystem mirror holding registry.terraform.io/hashicorp/aws was found (set LOCALEKS_TF_MIRROR)';
  return undefined;
}

/** The services whose endpoints point at localeks (hashicorp/aws 5.x `endpoints` block names). */
export const TERRAFORM_ENDPOINT_SERVICES = ['autoscaling', 'ec2', 'eks', 'elbv2', 'iam', 'kms', 'logs', 'route53', 'sts'] as const;

/**
 * awsProviderBlock is the provider configuration that points hashicorp/aws
 * at localeks. It is documented in README.md (Terraform).
 */
export function awsProviderBlock(endpoint: string, region = 'us-east-1', extra = ''): string {
  const eps = TERRAFORM_ENDPOINT_SERVICES.map((s) => `    ${s.padEnd(11)} = "${endpoint}"`).join('\n');
  return `provider "aws" {
  region                      = "${region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
${extra}
  endpoints {
${eps}
  }
}
`;
}

export interface TerraformWorkdirOptions {
  /** localeks AWS endpoint, e.g. http://127.0.0.1:4566. */
  endpoint: string;
  region?: string;
  /** File name -> content (.tf, .tfvars, ...), written into the workdir. */
  files: Record<string, string>;
  /** When false, no provider.tf is added (the files bring their own). Default true. */
  providerBlock?: boolean;
  /** Extra lines inside the generated provider block. */
  providerExtra?: string;
}

export interface TerraformWorkdir {
  dir: string;
  /** Runs `terraform <args>` in the workdir with the offline CLI config. */
  run(args: string[]): Promise<ProcessResult>;
  init(): Promise<ProcessResult>;
  apply(extra?: string[]): Promise<ProcessResult>;
  /** `plan -detailed-exitcode`: code 0 = no changes, 2 = changes, 1 = error. */
  planDetailed(extra?: string[]): Promise<ProcessResult>;
  destroy(extra?: string[]): Promise<ProcessResult>;
  /** `terraform output -json`, parsed. */
  outputs(): Promise<Record<string, { value: any }>>;
  /** `terraform show -json`, parsed (state). */
  show(): Promise<any>;
  /** Removes the workdir. */
  remove(): void;
}

/** createTerraformWorkdir writes the files and the CLI config; nothing runs until you call a method. */
export function createTerraformWorkdir(opts: TerraformWorkdirOptions): TerraformWorkdir {
  const mirror = findAwsProviderMirror();
  if (!mirror) throw new Error('no terraform provider mirror found');
  const dir = mkdtempSync(join(tmpdir(), 'localeks-tf-'));
  const cliConfig = join(dir, '.terraformrc');
  writeFileSync(
    cliConfig,
    `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/*/*"]\n  }\n}\ndisable_checkpoint = true\n`,
  );
  if (opts.providerBlock !== false) {
    writeFileSync(
      join(dir, 'provider.tf'),
      `terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n    }\n  }\n}\n\n${awsProviderBlock(opts.endpoint, opts.region, opts.providerExtra ?? '')}`,
    );
  }
  for (const [name, content] of Object.entries(opts.files)) writeFileSync(join(dir, name), content);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TF_CLI_CONFIG_FILE: cliConfig,
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: opts.region ?? 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...(process.env.TF_LOG ? { TF_LOG: process.env.TF_LOG } : {}),
  };
  const run = (args: string[]) => runProcess('terraform', args, { cwd: dir, env });
  return {
    dir,
    run,
    init: () => run(['init', '-input=false', '-no-color']),
    apply: (extra = []) => run(['apply', '-input=false', '-no-color', '-auto-approve', ...extra]),
    planDetailed: (extra = []) => run(['plan', '-input=false', '-no-color', '-detailed-exitcode', ...extra]),
    destroy: (extra = []) => run(['destroy', '-input=false', '-no-color', '-auto-approve', ...extra]),
    outputs: async () => {
      const r = await run(['output', '-json', '-no-color']);
      if (r.code !== 0) throw new Error(`terraform output failed: ${r.stderr}`);
      return JSON.parse(r.stdout || '{}');
    },
    show: async () => {
      const r = await run(['show', '-json', '-no-color']);
      if (r.code !== 0) throw new Error(`terraform show failed: ${r.stderr}`);
      return JSON.parse(r.stdout || '{}');
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** tfErrorLines extracts the "Error: ..." blocks of terraform output for assertion messages. */
export function tfErrorLines(r: ProcessResult, max = 60): string {
  const text = `${r.stdout}\n${r.stderr}`;
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/Error:|error/.test(lines[i]!) || /will be updated|must be replaced|will be created|will be destroyed|forces replacement|~ |-\/\+ /.test(lines[i]!)) {
      out.push(...lines.slice(i, i + 8));
      i += 7;
    }
    if (out.length >= max) break;
  }
  return out.length ? out.join('\n') : text.slice(-4000);
}
