/**
 * `localeks reset [--service S | --cluster C]`: wipes a running server's
 * state (everything, one AWS service, or one EKS cluster's Kubernetes
 * objects) through POST /_localeks/reset.
 */
import { Command } from 'commander';
import { adminRequest, CliError, endpointOf, run, usageExit, withEndpoint } from './admin-client.ts';

export function resetCommand(): Command {
  const cmd = new Command('reset')
    .description("wipe the running server's state: everything, one AWS service (--service eks) or one cluster's Kubernetes objects (--cluster NAME)")
    .option('--service <service>', 'only this AWS service (e.g. eks, ec2, iam)')
    .option('--cluster <name>', "only this EKS cluster's Kubernetes objects (it keeps its bootstrap objects)")
    .option('--region <region>', 'with --cluster: the region of the cluster, when several have that name');
  withEndpoint(cmd).exitOverride(usageExit);
  cmd.action(
    run(async (opts: { service?: string; cluster?: string; region?: string }, self: Command) => {
      if (opts.service && opts.cluster) throw new CliError('give either --service or --cluster, not both', 2);
      const q = new URLSearchParams();
      if (opts.service) q.set('service', opts.service);
      if (opts.cluster) q.set('cluster', opts.cluster);
      if (opts.region && opts.cluster) q.set('region', opts.region);
      const qs = q.toString();
      const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/reset${qs ? `?${qs}` : ''}`);
      const what = opts.service ? `service ${opts.service}` : opts.cluster ? `cluster ${opts.cluster}` : 'everything';
      process.stdout.write(`reset ${what} (${r.json.changed} keys, ${r.json.durationMs} ms)\n`);
    }),
  );
  return cmd;
}
