/**
 * `localeks backup create|restore|list|describe|delete`: velero-style backups
 * of one cluster's Kubernetes objects on a running server, through
 * /_localeks/backups (semantics in src/fixtures/backup.ts).
 */
import { Command } from 'commander';
import { adminRequest, downloadTo, endpointOf, run, table, uploadFrom, usageExit, withEndpoint } from './admin-client.ts';

const enc = encodeURIComponent;

interface ClusterOpts {
  cluster: string;
  region?: string;
  accountId?: string;
}

function clusterOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--cluster <name>', 'the EKS cluster')
    .option('--region <region>', 'the cluster\'s region, when clusters of that name exist in several')
    .option('--account-id <id>', 'the cluster\'s account, when clusters of that name exist in several');
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

/** The filter flags of create and restore (velero's). */
function filterOptions(cmd: Command, verb: string): Command {
  return cmd
    .option('--include-namespaces <a,b>', `namespaces to ${verb} (default: all)`, list)
    .option('--exclude-namespaces <a,b>', `namespaces not to ${verb}`, list)
    .option('--selector <k=v>', 'only objects matching this label selector')
    .option('--include-resources <r,s>', `resources to ${verb} (plural, plural.group, kind or short name; default: all)`, list)
    .option('--exclude-resources <r,s>', `resources not to ${verb}`, list)
    .option('--include-cluster-resources <bool>', 'cluster-scoped resources too (default: for create, only when every namespace is included; for restore, yes)');
}

function filterBody(o: Record<string, any>): Record<string, unknown> {
  return {
    includeNamespaces: o.includeNamespaces,
    excludeNamespaces: o.excludeNamespaces,
    selector: o.selector,
    includeResources: o.includeResources,
    excludeResources: o.excludeResources,
    includeClusterResources: o.includeClusterResources === undefined ? undefined : o.includeClusterResources === 'true',
  };
}

export function backupCommand(): Command {
  const cmd = new Command('backup').description("back up one cluster's Kubernetes objects and restore them into a cluster (as velero does)");
  withEndpoint(cmd).exitOverride(usageExit);

  filterOptions(clusterOptions(cmd.command('create <name>').description('back up the objects of a cluster under NAME, read at one store revision')), 'back up')
    .action(
      run(async (name: string, o: ClusterOpts & Record<string, any>, self: Command) => {
        const body = { ...filterBody(o), cluster: o.cluster, region: o.region, accountId: o.accountId };
        const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/backups/${enc(name)}`, Buffer.from(JSON.stringify(body)));
        process.stdout.write(`backup ${r.json.name} completed: ${r.json.itemCount} items from cluster ${r.json.cluster.name} (revision ${r.json.revision})\n`);
        for (const w of r.json.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
      }),
    );

  filterOptions(clusterOptions(cmd.command('restore <name>').description('create the objects of backup NAME in a cluster (existing objects are left alone)')), 'restore')
    .option('--namespace-mappings <a:b,c:d>', 'restore namespace a into b')
    .option('--restore-name <name>', 'the restore\'s name, labelled on created objects (default: NAME-<timestamp>)')
    .option('--existing-resource-policy <policy>', 'none (default: existing objects are left, with a warning when they differ) or update (make them the backed-up version)')
    .action(
      run(async (name: string, o: ClusterOpts & Record<string, any>, self: Command) => {
        const body = {
          ...filterBody(o),
          cluster: o.cluster,
          region: o.region,
          accountId: o.accountId,
          namespaceMappings: o.namespaceMappings,
          restoreName: o.restoreName,
          existingResourcePolicy: o.existingResourcePolicy,
        };
        const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/backups/${enc(name)}/restore`, Buffer.from(JSON.stringify(body)));
        const j = r.json;
        process.stdout.write(`restore ${j.restore} of backup ${name} into cluster ${j.cluster}: ${j.phase} (${j.created} created, ${j.skipped} skipped, ${j.existing} already present, ${j.failed} failed)\n`);
        for (const w of j.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
        for (const e of j.errors ?? []) process.stderr.write(`error: ${e}\n`);
        if (j.phase !== 'Completed') process.exitCode = 1;
      }),
    );

  cmd
    .command('list')
    .description('list the backups')
    .action(
      run(async (_o: unknown, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'GET', '/_localeks/backups');
        table(
          ['NAME', 'STATUS', 'CLUSTER', 'CREATED', 'ITEMS'],
          (r.json.backups as Array<{ name: string; phase: string; cluster: { name: string }; createdAt: string; itemCount: number }>).map((b) => [b.name, b.phase, b.cluster.name, b.createdAt, String(b.itemCount)]),
        );
      }),
    );

  cmd
    .command('describe <name>')
    .description('show a backup: its source, filters and items per resource')
    .option('--details', 'list every item')
    .action(
      run(async (name: string, o: { details?: boolean }, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'GET', `/_localeks/backups/${enc(name)}${o.details ? '?details=true' : ''}`);
        const b = r.json;
        const out: string[] = [
          `Name:         ${b.name}`,
          `Phase:        ${b.phase}`,
          `Cluster:      ${b.cluster.name} (${b.cluster.accountId}/${b.cluster.region})`,
          `Created:      ${b.createdAt}`,
          `Revision:     ${b.revision}`,
          `Namespaces:   included ${(b.spec.includeNamespaces ?? ['*']).join(',')}; excluded ${(b.spec.excludeNamespaces ?? []).join(',') || '<none>'}`,
          `Resources:    included ${(b.spec.includeResources ?? ['*']).join(',')}; excluded ${(b.spec.excludeResources ?? []).join(',') || '<none>'}`,
          `Selector:     ${b.spec.selector || '<none>'}`,
          `Items:        ${b.itemCount}`,
        ];
        for (const [res, n] of Object.entries(b.resources as Record<string, number>)) out.push(`  ${res}: ${n}`);
        for (const w of b.warnings ?? []) out.push(`Warning:      ${w}`);
        if (o.details) for (const i of b.items as Array<{ resource: string; namespace?: string; name: string }>) out.push(`  - ${i.resource} ${i.namespace ? `${i.namespace}/` : ''}${i.name}`);
        process.stdout.write(out.join('\n') + '\n');
      }),
    );

  cmd
    .command('export <name> <file>')
    .description('write backup NAME to FILE (gzipped JSON, format localeks-backup; "-" for stdout)')
    .action(
      run(async (name: string, file: string, _o: unknown, self: Command) => {
        const bytes = await downloadTo(endpointOf(self), `/_localeks/backups/${enc(name)}/export`, file);
        if (bytes !== undefined) process.stdout.write(`exported backup ${name} to ${file} (${bytes} bytes)\n`);
      }),
    );

  cmd
    .command('import <file>')
    .description('store the backup in FILE (written by `backup export`, maybe on another machine); restore it with `backup restore`')
    .option('--name <name>', 'store it under this name (default: the name in the file)')
    .action(
      run(async (file: string, o: { name?: string }, self: Command) => {
        const r = await uploadFrom(endpointOf(self), `/_localeks/backups/import${o.name ? `?name=${enc(o.name)}` : ''}`, file);
        process.stdout.write(`imported backup ${r.json.name} (${r.json.itemCount} items from cluster ${r.json.cluster.name})\n`);
      }),
    );

  cmd
    .command('delete <name>')
    .description('delete backup NAME')
    .action(
      run(async (name: string, _o: unknown, self: Command) => {
        await adminRequest(endpointOf(self), 'DELETE', `/_localeks/backups/${enc(name)}`);
        process.stdout.write(`deleted backup ${name}\n`);
      }),
    );
  return cmd;
}
