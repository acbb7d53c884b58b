/**
 * `localeks snapshot save|restore|list|delete|export|import`: the snapshots
 * of a running server, through /_localeks/snapshots.
 */
import { Command } from 'commander';
import { adminRequest, downloadTo, endpointOf, run, table, uploadFrom, usageExit, withEndpoint } from './admin-client.ts';

const enc = encodeURIComponent;

export function snapshotCommand(): Command {
  const cmd = new Command('snapshot').description("save and restore the running server's whole state (AWS resources and every cluster's Kubernetes objects)");
  withEndpoint(cmd).exitOverride(usageExit);

  cmd
    .command('save <name>')
    .description('capture the state at one store revision under NAME (replacing a snapshot of that name)')
    .action(
      run(async (name: string, _o: unknown, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/snapshots/${enc(name)}`);
        process.stdout.write(`saved snapshot ${r.json.name} (${r.json.keys} keys, revision ${r.json.revision})\n`);
      }),
    );
  cmd
    .command('restore <name>')
    .description('make the state equal to snapshot NAME, atomically')
    .action(
      run(async (name: string, _o: unknown, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/snapshots/${enc(name)}/restore`);
        process.stdout.write(`restored snapshot ${name} (${r.json.changed} keys changed, ${r.json.durationMs} ms)\n`);
      }),
    );
  cmd
    .command('list')
    .description('list the saved snapshots')
    .action(
      run(async (_o: unknown, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'GET', '/_localeks/snapshots');
        table(
          ['NAME', 'CREATED', 'KEYS', 'BYTES'],
          (r.json.snapshots as Array<{ name: string; createdAt: string; keys: number; bytes: number }>).map((s) => [s.name, s.createdAt, String(s.keys), String(s.bytes)]),
        );
      }),
    );
  cmd
    .command('delete <name>')
    .description('delete snapshot NAME')
    .action(
      run(async (name: string, _o: unknown, self: Command) => {
        await adminRequest(endpointOf(self), 'DELETE', `/_localeks/snapshots/${enc(name)}`);
        process.stdout.write(`deleted snapshot ${name}\n`);
      }),
    );
  cmd
    .command('export <name> <file>')
    .description('write snapshot NAME to FILE (gzipped JSON, format localeks-snapshot; "-" for stdout)')
    .action(
      run(async (name: string, file: string, _o: unknown, self: Command) => {
        const bytes = await downloadTo(endpointOf(self), `/_localeks/snapshots/${enc(name)}/export`, file);
        if (bytes !== undefined) process.stdout.write(`exported snapshot ${name} to ${file} (${bytes} bytes)\n`);
      }),
    );
  cmd
    .command('import <file>')
    .description('store the snapshot in FILE (written by `snapshot export`) on the server; restore it with `snapshot restore`')
    .option('--name <name>', 'store it under this name (default: the name in the file)')
    .action(
      run(async (file: string, opts: { name?: string }, self: Command) => {
        const r = await uploadFrom(endpointOf(self), `/_localeks/snapshots/import${opts.name ? `?name=${enc(opts.name)}` : ''}`, file);
        process.stdout.write(`imported snapshot ${r.json.name} (${r.json.keys} keys)\n`);
      }),
    );
  return cmd;
}
