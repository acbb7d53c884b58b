/**
 * Commands about access to clusters, added to the program by cli/main.ts:
 *
 *   localeks kubeconfig --cluster X [--region R] [--kubeconfig F]
 *       [--static-token [--token-ttl 24h]] [--print] [--alias A]
 *       [--user-alias U] [--role-arn ARN] [--profile P] [--endpoint-url URL]
 *
 * writes the entry `aws eks update-kubeconfig` writes (cli/kubeconfig.ts),
 * or prints it with --print. Exit codes: 0, 1 (server or file error, no such
 * cluster), 2 (usage).
 */
import { Command } from 'commander';
import { resolveRegion } from '../aws-credentials.ts';
import { writeClusterKubeconfig } from '../kubeconfig.ts';
import { CliError, endpointOf, parseDuration, run, usageExit, withEndpoint } from './admin-client.ts';

function kubeconfigCommand(): Command {
  const cmd = withEndpoint(new Command('kubeconfig'))
    .exitOverride(usageExit)
    .description('write a kubeconfig entry for an EKS cluster (as `aws eks update-kubeconfig`), or print it')
    .requiredOption('--cluster <name>', 'the EKS cluster name')
    .option('--region <region>', 'the cluster\'s region (env: AWS_REGION, AWS_DEFAULT_REGION; default us-east-1)')
    .option('--kubeconfig <file>', 'the kubeconfig file to write (default: KUBECONFIG, else ~/.kube/config)')
    .option('--static-token', 'use a localeks static token bound to your IAM identity instead of the `aws eks get-token` exec plugin (no aws CLI needed)')
    .option('--token-ttl <duration>', 'lifetime of the static token (e.g. 12h, 7d; at most 30d)', '24h')
    .option('--print', 'print the entry as a kubeconfig instead of writing it')
    .option('--alias <context>', 'the context name (default: the cluster ARN)')
    .option('--user-alias <user>', 'the user name (default: the cluster ARN)')
    .option('--role-arn <arn>', 'an IAM role for get-token to assume')
    .option('--profile <profile>', 'the AWS profile (written as AWS_PROFILE for get-token)');
  cmd.action(
    run(async (o: Record<string, string | boolean | undefined>) => {
      const endpoint = endpointOf(cmd);
      const region = resolveRegion(o.region as string | undefined);
      let lifetimeSeconds: number | undefined;
      if (o.staticToken) {
        const ms = parseDuration(String(o.tokenTtl));
        lifetimeSeconds = Math.floor(ms / 1000);
        if (lifetimeSeconds < 1 || lifetimeSeconds > 30 * 86400) throw new CliError(`invalid --token-ttl "${o.tokenTtl}": between 1s and 30d`, 2);
      }
      const env = o.profile ? { ...process.env, AWS_PROFILE: String(o.profile) } : process.env;
      const r = await writeClusterKubeconfig({
        endpoint,
        clusterName: String(o.cluster),
        region,
        kubeconfig: o.kubeconfig as string | undefined,
        staticToken: o.staticToken ? { lifetimeSeconds } : undefined,
        profile: o.profile as string | undefined,
        roleArn: o.roleArn as string | undefined,
        alias: o.alias as string | undefined,
        userAlias: o.userAlias as string | undefined,
        dryRun: Boolean(o.print),
        env,
      });
      if (o.print) {
        process.stdout.write(r.rendered);
        return;
      }
      process.stdout.write(`${r.updated ? 'Updated' : 'Added new'} context ${r.context} in ${r.path}\n`);
      if (r.tokenExpiresAt) process.stdout.write(`The static token expires at ${r.tokenExpiresAt.toISOString()}.\n`);
    }),
  );
  return cmd;
}

export function authCommands(): Command[] {
  return [kubeconfigCommand()];
}
