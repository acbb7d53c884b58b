/**
 * `localeks clock now` / `localeks clock advance 10m`: the simulated clock
 * of a running server, through /_localeks/clock.
 */
import { Command } from 'commander';
import { adminRequest, endpointOf, parseDuration, run, usageExit, withEndpoint } from './admin-client.ts';

export function clockCommand(): Command {
  const cmd = new Command('clock').description('read or jump the simulated clock that drives every delay (lifecycles, CronJobs, token expiry)');
  withEndpoint(cmd).exitOverride(usageExit);
  cmd
    .command('now')
    .description('print simulated now (ISO 8601)')
    .action(
      run(async (_o: unknown, self: Command) => {
        const r = await adminRequest(endpointOf(self), 'GET', '/_localeks/clock');
        process.stdout.write(`${r.json.now}\n`);
      }),
    );
  cmd
    .command('advance <duration>')
    .description('jump simulated time forward by DURATION (e.g. 30s, 10m, 1h30m, 2d) and print the new now')
    .action(
      run(async (duration: string, _o: unknown, self: Command) => {
        const ms = parseDuration(duration);
        const r = await adminRequest(endpointOf(self), 'POST', `/_localeks/clock/advance?ms=${ms}`);
        process.stdout.write(`${r.json.now}\n`);
      }),
    );
  return cmd;
}
