/**
 * The `localeks serve` configuration: one table of options (SERVE_OPTIONS)
 * from which the command line flags, the LOCALEKS_* environment variables,
 * the defaults and the --help text all come, so they cannot drift apart.
 *
 * Precedence: command line flag > environment variable > default.
 *
 * @example
 *   const config = resolveServeConfig({ awsPort: '0', store: 'memory' }, process.env);
 *   const server = await startServer(config);
 */
import type { TimingProfile } from '../aws/core/deps.ts';

/** Log levels: pino's, plus silent. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const TIMING_PROFILES: readonly TimingProfile[] = ['instant', 'fast', 'realistic'];

/** The validated configuration of one localeks server. */
export interface ServeConfig {
  /** AWS endpoint port (plain HTTP); 0 picks a free port. */
  awsPort: number;
  /** Kubernetes endpoint port (HTTPS); 0 picks a free port. */
  kubePort: number;
  /** Address both listeners bind to. */
  host: string;
  /** Extra DNS names or IP addresses for the serving certificate (besides 127.0.0.1, ::1, localhost). */
  hostnames: string[];
  /** Folder for the SQLite database and the TLS material. */
  dataDir: string;
  /** Store spec: 'sqlite', 'memory' or 'etcd://h:p[,h:p]'. */
  store: string;
  logLevel: LogLevel;
  /** Default 12-digit AWS account id. */
  accountId: string;
  /** Verify signatures and require emulated credentials. */
  enforceIam: boolean;
  /** When false, EKS accepts unknown subnet/role/key ids. */
  referenceChecks: boolean;
  timingProfile: TimingProfile;
  /** Simulated milliseconds per real millisecond. */
  timeScale: number;
}

/** Raised for an invalid flag or environment value; the message names the flag and the variable. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One serve option: its flag, environment variable, default and parser. */
export interface ServeOption<K extends keyof ServeConfig = keyof ServeConfig> {
  key: K;
  /** Long flag name without dashes, e.g. 'aws-port'. */
  flag: string;
  /** Value placeholder for --help ('' for boolean flags). */
  arg: string;
  env: string;
  description: string;
  default: ServeConfig[K];
  /** Boolean flags: '--enforce-iam' sets true; '--no-reference-checks' sets false. */
  boolean?: 'enable' | 'disable';
  /** Repeatable flag (collected into a list; the variable is comma separated). */
  repeatable?: boolean;
  /** Parses one raw value (from a flag or the variable); throws a plain message on a bad value. */
  parse(raw: string): ServeConfig[K];
}

function port(raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw new Error(`"${raw}" is not a port number (0-65535; 0 picks a free port)`);
  const n = Number(raw);
  if (n > 65535) throw new Error(`${n} is not a port number (0-65535; 0 picks a free port)`);
  return n;
}

function bool(raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  throw new Error(`"${raw}" is not a boolean (true/false, 1/0, yes/no, on/off)`);
}

function oneOf<T extends string>(values: readonly T[]): (raw: string) => T {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`"${raw}" is not one of ${values.join(', ')}`);
    return raw as T;
  };
}

const HOSTNAME_RE = /^(?=.{1,253}$)(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

/** parseStoreSpec checks a --store value: sqlite, memory, or etcd://host:port[,host:port]. */
export function parseStoreSpec(raw: string): string {
  if (raw === 'sqlite' || raw === 'memory') return raw;
  if (raw.startsWith('etcd://')) {
    const hosts = raw.slice('etcd://'.length).split(',');
    for (const h of hosts) {
      const m = /^(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9.-]+):(\d{1,5})$/.exec(h);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
        throw new Error(`"${raw}": each etcd endpoint must be host:port (e.g. etcd://127.0.0.1:2379,10.0.0.2:2379), got "${h}"`);
      }
    }
    return raw;
  }
  throw new Error(`"${raw}" is not a store: use sqlite, memory or etcd://host:port[,host:port]`);
}

function hostnames(raw: string): string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const h = part.trim();
    if (h === '') continue;
    if (!isIp(h) && !HOSTNAME_RE.test(h)) throw new Error(`"${h}" is not a DNS name or IP address`);
    out.push(h);
  }
  return out;
}

/** isIp tells whether s is an IPv4 or IPv6 literal. */
export function isIp(s: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(s) ? s.split('.').every((o) => Number(o) <= 255) : /^[0-9a-fA-F:]+(%\w+)?$/.test(s) && s.includes(':');
}

/**
 * Every `localeks serve` option. The CLI builds its flags from this table,
 * resolveServeConfig its values.
 */
export const SERVE_OPTIONS: ServeOption[] = [
  { key: 'awsPort', flag: 'aws-port', arg: '<port>', env: 'LOCALEKS_AWS_PORT', description: 'AWS endpoint port (HTTP); 0 picks a free port', default: 4566, parse: port },
  { key: 'kubePort', flag: 'kube-port', arg: '<port>', env: 'LOCALEKS_KUBE_PORT', description: 'Kubernetes endpoint port (HTTPS); 0 picks a free port', default: 6443, parse: port },
  {
    key: 'host',
    flag: 'host',
    arg: '<address>',
    env: 'LOCALEKS_HOST',
    description: 'address to bind both endpoints to (0.0.0.0 for every interface)',
    default: '127.0.0.1',
    parse: (raw) => {
      const h = raw.trim();
      if (h === '' || (!isIp(h) && !HOSTNAME_RE.test(h))) throw new Error(`"${raw}" is not an address to bind to`);
      return h;
    },
  },
  {
    key: 'hostnames',
    flag: 'hostname',
    arg: '<name>',
    env: 'LOCALEKS_HOSTNAME',
    description: 'extra DNS name or IP for the serving certificate (repeatable; the variable is comma separated)',
    default: [],
    repeatable: true,
    parse: hostnames,
  },
  {
    key: 'dataDir',
    flag: 'data-dir',
    arg: '<dir>',
    env: 'LOCALEKS_DATA_DIR',
    description: 'folder for the SQLite store and the TLS material',
    default: '.localeks',
    parse: (raw) => {
      if (raw.trim() === '') throw new Error('the data dir must not be empty');
      return raw;
    },
  },
  { key: 'store', flag: 'store', arg: '<spec>', env: 'LOCALEKS_STORE', description: 'sqlite | memory | etcd://host:port[,host:port]', default: 'sqlite', parse: parseStoreSpec },
  { key: 'logLevel', flag: 'log-level', arg: '<level>', env: 'LOCALEKS_LOG_LEVEL', description: LOG_LEVELS.join(' | '), default: 'info', parse: oneOf(LOG_LEVELS) },
  {
    key: 'accountId',
    flag: 'account-id',
    arg: '<id>',
    env: 'LOCALEKS_ACCOUNT_ID',
    description: 'default AWS account id (12 digits)',
    default: '000000000000',
    parse: (raw) => {
      if (!/^\d{12}$/.test(raw)) throw new Error(`"${raw}" is not a 12-digit AWS account id`);
      return raw;
    },
  },
  { key: 'enforceIam', flag: 'enforce-iam', arg: '', env: 'LOCALEKS_ENFORCE_IAM', description: 'verify SigV4 signatures against emulated IAM credentials', default: false, boolean: 'enable', parse: bool },
  {
    key: 'referenceChecks',
    flag: 'reference-checks',
    arg: '',
    env: 'LOCALEKS_REFERENCE_CHECKS',
    description: 'accept references to subnets, roles and KMS keys that do not exist (API-only tests); the variable takes false to do the same',
    default: true,
    boolean: 'disable',
    parse: bool,
  },
  { key: 'timingProfile', flag: 'timing-profile', arg: '<profile>', env: 'LOCALEKS_TIMING_PROFILE', description: 'lifecycle timing: instant | fast | realistic', default: 'fast', parse: oneOf(TIMING_PROFILES) },
  {
    key: 'timeScale',
    flag: 'time-scale',
    arg: '<factor>',
    env: 'LOCALEKS_TIME_SCALE',
    description: 'simulated seconds per real second',
    default: 1,
    parse: (raw) => {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`"${raw}" is not a positive number`);
      return n;
    },
  },
];

/** The configuration with every default (no flags, no environment). */
export function defaultServeConfig(): ServeConfig {
  const c: Record<string, unknown> = {};
  for (const o of SERVE_OPTIONS) c[o.key] = Array.isArray(o.default) ? [...o.default] : o.default;
  return c as unknown as ServeConfig;
}

/**
 * resolveServeConfig merges flag values (raw strings, booleans or string
 * lists as commander gives them, keyed by ServeConfig key), LOCALEKS_*
 * variables from env, and the defaults. Throws ConfigError naming the flag
 * and the variable on the first bad value.
 */
export function resolveServeConfig(
  flags: Partial<Record<keyof ServeConfig, string | string[] | boolean | number | undefined>>,
  env: Record<string, string | undefined> = {},
): ServeConfig {
  const c = defaultServeConfig() as unknown as Record<string, unknown>;
  for (const o of SERVE_OPTIONS) {
    const flag = flags[o.key];
    const envRaw = env[o.env];
    try {
      if (flag !== undefined) {
        if (typeof flag === 'boolean') c[o.key] = flag;
        else if (Array.isArray(flag)) c[o.key] = flag.flatMap((v) => o.parse(v) as string[]);
        else c[o.key] = o.parse(String(flag));
      } else if (envRaw !== undefined && envRaw !== '') {
        c[o.key] = o.parse(envRaw);
      }
    } catch (e) {
      const source = flag !== undefined ? `--${o.boolean === 'disable' ? 'no-' : ''}${o.flag}` : o.env;
      throw new ConfigError(`invalid ${source}: ${(e as Error).message}`);
    }
  }
  return validateServeConfig(c as unknown as ServeConfig);
}

/**
 * validateServeConfig checks a whole configuration (for callers that build
 * one in code, e.g. the library API) and returns it with hostnames
 * deduplicated. Throws ConfigError.
 */
export function validateServeConfig(config: ServeConfig): ServeConfig {
  const c = { ...defaultServeConfig(), ...config };
  for (const o of SERVE_OPTIONS) {
    const v = c[o.key];
    try {
      if (o.boolean) {
        if (typeof v !== 'boolean') throw new Error(`expected a boolean, got ${JSON.stringify(v)}`);
      } else if (Array.isArray(v)) {
        o.parse(v.join(','));
      } else {
        const back = o.parse(String(v));
        if (typeof back === 'number' && typeof v !== 'number') throw new Error(`expected a number, got ${JSON.stringify(v)}`);
      }
    } catch (e) {
      throw new ConfigError(`invalid ${o.key} (--${o.flag}, ${o.env}): ${(e as Error).message}`);
    }
  }
  if (c.awsPort !== 0 && c.awsPort === c.kubePort) {
    throw new ConfigError(`--aws-port and --kube-port are both ${c.awsPort}: the two endpoints need different ports`);
  }
  c.hostnames = [...new Set(c.hostnames)];
  return c;
}

/**
 * advertisedHost is the host to put in endpoint URLs (the ready line, EKS
 * cluster endpoints): the bind address, or for a wildcard bind (0.0.0.0, ::)
 * the first --hostname (e.g. a container's service name), else 127.0.0.1.
 */
export function advertisedHost(config: Pick<ServeConfig, 'host' | 'hostnames'>): string {
  const h = config.host;
  if (h === '0.0.0.0' || h === '::' || h === '') return config.hostnames[0] ?? '127.0.0.1';
  return h;
}

/** urlHost formats a host for a URL (brackets around IPv6 literals). */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
