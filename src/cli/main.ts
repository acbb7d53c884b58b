/**
 * The localeks command line: `localeks serve` (flags from SERVE_OPTIONS, each
 * with its LOCALEKS_* variable), `localeks version`, and the fixture commands
 * `reset`, `snapshot`, `clock` (src/cli/commands/) against a running server.
 *
 * `serve` prints exactly one line on stdout when both endpoints are ready:
 *   localeks ready: aws http://127.0.0.1:4566 kubernetes https://127.0.0.1:6443 (store sqlite .localeks)
 * Logs go to stderr. SIGINT/SIGTERM stop it cleanly (exit 0); a second signal
 * exits at once (exit 130/143). A bad flag or variable exits 2 with a message.
 */
import { Command, Option } from 'commander';
import { ConfigError, resolveServeConfig, SERVE_OPTIONS, type ServeConfig } from '../server/config.ts';
import { LOCALEKS_VERSION } from '../server/version.ts';
import { clockCommand } from './commands/clock.ts';
import { resetCommand } from './commands/reset.ts';
import { snapshotCommand } from './commands/snapshot.ts';
import { backupCommand } from './commands/backup.ts';
import { eksctlCommands } from './commands/eksctl-commands.ts';
import { authCommands } from './commands/auth-commands.ts';

/** readyLine is the one line `serve` prints when it is ready. */
export function readyLine(s: { awsEndpoint: string; kubeEndpoint: string; config: Pick<ServeConfig, 'store' | 'dataDir'> }): string {
  const store = s.config.store === 'sqlite' ? `sqlite ${s.config.dataDir}` : s.config.store;
  return `localeks ready: aws ${s.awsEndpoint} kubernetes ${s.kubeEndpoint} (store ${store})`;
}

function fail(message: string, code = 2): never {
  process.stderr.write(`localeks: ${message}\n`);
  process.exit(code);
}

/** buildProgram returns the commander program (exported for tests of --help). */
export function buildProgram(): Command {
  const program = new Command('localeks')
    // Program options (-V/--version) only before a command, so that subcommands may have their own --version (create cluster --version 1.31).
    .enablePositionalOptions()
    .description('Amazon EKS on one machine: the EKS API, the AWS services EKS stacks need, and a Kubernetes API per cluster')
    .version(LOCALEKS_VERSION, '-V, --version', 'print the version')
    .showHelpAfterError();

  const serve = program.command('serve').description('run the AWS endpoint (HTTP) and the Kubernetes endpoint (HTTPS)');
  const byAttr = new Map<string, (typeof SERVE_OPTIONS)[number]>();
  for (const o of SERVE_OPTIONS) {
    const dflt = Array.isArray(o.default) ? '' : o.boolean === 'disable' ? '' : `, default: ${String(o.default)}`;
    const flags = o.boolean === 'disable' ? `--no-${o.flag}` : o.boolean === 'enable' ? `--${o.flag}` : `--${o.flag} ${o.arg}`;
    const opt = new Option(flags, `${o.description} (env: ${o.env}${dflt})`);
    if (o.repeatable) opt.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
    serve.addOption(opt);
    byAttr.set(opt.attributeName(), o);
  }
  serve.action(async (opts: Record<string, unknown>, cmd: Command) => {
    const flags: Record<string, string | string[] | boolean> = {};
    for (const [attr, o] of byAttr) {
      if (cmd.getOptionValueSource(attr) !== 'cli') continue;
      flags[o.key] = opts[attr] as string | string[] | boolean;
    }
    await serveCommand(flags);
  });

  // Fixture commands (reset, snapshots, clock) against a running server: src/cli/commands/.
  program.addCommand(resetCommand()).addCommand(snapshotCommand()).addCommand(clockCommand()).addCommand(backupCommand());
  // Cluster commands in eksctl's shape, and access (kubeconfig): src/cli/commands/.
  for (const c of [...eksctlCommands(), ...authCommands()]) program.addCommand(c);

  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`localeks ${LOCALEKS_VERSION}\n`);
    });
  return program;
}

async function serveCommand(flags: Record<string, string | string[] | boolean>): Promise<void> {
  let config: ServeConfig;
  try {
    config = resolveServeConfig(flags, process.env);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  const { startServer } = await import('../server/start.ts');
  // Signals are handled from the start: one that arrives during startup stops
  // the server as soon as startup completes (exit 0, no ready line).
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`localeks: ${signal} again, exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    if (!server) return; // handled once startServer returns
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`localeks: shutdown failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    server = await startServer(config);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    fail(`cannot start: ${(e as Error).message}`, 1);
  }
  if (stopping) {
    await server.close();
    process.exit(0);
  }
  process.stdout.write(readyLine(server) + '\n');
}

await buildProgram().parseAsync(process.argv);
