/**
 * `localeks reset`, `localeks snapshot ...` and `localeks clock ...` as a
 * user runs them: the real bin/localeks against an in-process server, the
 * endpoint given by --endpoint-url, LOCALEKS_ENDPOINT or AWS_ENDPOINT_URL.
 * Output is plain (stdout is not a TTY); exit codes 0 / 1 / 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { parseDuration } from '../../src/cli/commands/admin-client.ts';

let srv: TestServer;
const tmp = mkdtempSync(join(tmpdir(), 'fixtures-cli-'));
const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }] });

function localeks(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.LOCALEKS_ENDPOINT;
  delete base.AWS_ENDPOINT_URL;
  return runProcess('./bin/localeks', args, { env: { ...base, ...env } });
}

describe('localeks reset / snapshot / clock', () => {
  before(async () => {
    srv = await startTestServer({ timingProfile: 'instant', referenceChecks: false });
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('snapshot save, list, export, delete, import, restore; reset --service', async () => {
    await awsJson(srv.awsEndpoint, ['iam', 'create-role', '--role-name', 'cli-role', '--assume-role-policy-document', trust]);
    const ep = ['--endpoint-url', srv.awsEndpoint];
    const save = await localeks(['snapshot', 'save', 'one', ...ep]);
    assert.equal(save.code, 0, save.stderr);
    assert.match(save.stdout, /^saved snapshot one \(\d+ keys, revision \d+\)\n$/);

    const list = await localeks(['snapshot', 'list'], { LOCALEKS_ENDPOINT: srv.awsEndpoint });
    assert.equal(list.code, 0, list.stderr);
    const [name, created, keys] = list.stdout.trim().split('\t');
    assert.equal(name, 'one');
    assert.ok(!Number.isNaN(Date.parse(created!)));
    assert.ok(Number(keys) > 0);

    const file = join(tmp, 'one.snap');
    const exp = await localeks(['snapshot', 'export', 'one', file], { AWS_ENDPOINT_URL: srv.awsEndpoint });
    assert.equal(exp.code, 0, exp.stderr);
    assert.equal(readFileSync(file)[0], 0x1f);
    assert.equal((await localeks(['snapshot', 'delete', 'one', ...ep])).code, 0);

    const reset = await localeks(['reset', '--service', 'iam', ...ep]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((await runAws(srv.awsEndpoint, ['iam', 'get-role', '--role-name', 'cli-role'])).errorCode, 'NoSuchEntity');

    const imp = await localeks(['snapshot', 'import', file, '--name', 'moved', ...ep]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /imported snapshot moved/);
    const res = await localeks(['snapshot', 'restore', 'moved', ...ep]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await awsJson(srv.awsEndpoint, ['iam', 'get-role', '--role-name', 'cli-role'])).Role.RoleName, 'cli-role');
  });

  it('clock now and advance; errors exit 1 (failure) or 2 (usage)', async () => {
    const ep = ['--endpoint-url', srv.awsEndpoint];
    const now = await localeks(['clock', 'now', ...ep]);
    assert.equal(now.code, 0, now.stderr);
    const adv = await localeks(['clock', 'advance', '10m', ...ep]);
    assert.equal(adv.code, 0, adv.stderr);
    assert.ok(Date.parse(adv.stdout.trim()) - Date.parse(now.stdout.trim()) >= 600_000);

    const missing = await localeks(['snapshot', 'restore', 'ghost', ...ep]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'localeks: no snapshot named "ghost"\n');
    const noCluster = await localeks(['reset', '--cluster', 'ghost', ...ep]);
    assert.equal(noCluster.code, 1);
    assert.match(noCluster.stderr, /no EKS cluster named "ghost"/);
    const badDuration = await localeks(['clock', 'advance', 'soon', ...ep]);
    assert.equal(badDuration.code, 2);
    assert.match(badDuration.stderr, /invalid duration "soon"/);
    const usage = await localeks(['snapshot', 'save']);
    assert.equal(usage.code, 2);
    const down = await localeks(['clock', 'now', '--endpoint-url', 'http://127.0.0.1:9']);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach localeks at http:\/\/127\.0\.0\.1:9/);
  });

  it('a snapshot saved on a SQLite server survives kill -9 and restores after the restart', async () => {
    const dataDir = join(tmp, 'sqlite');
    const serve = async () => {
      const child = spawn('./bin/localeks', ['serve', '--aws-port', '0', '--kube-port', '0', '--store', 'sqlite', '--data-dir', dataDir, '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const ep = await new Promise<string>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^localeks ready: aws (\S+) /m.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`localeks exited with ${code}; stderr:\n${err}`)));
      });
      return { child, ep };
    };
    const first = await serve();
    try {
      await awsJson(first.ep, ['iam', 'create-role', '--role-name', 'durable', '--assume-role-policy-document', trust]);
      assert.equal((await localeks(['snapshot', 'save', 'durable', '--endpoint-url', first.ep])).code, 0);
      await awsJson(first.ep, ['iam', 'delete-role', '--role-name', 'durable']);
    } finally {
      const exited = once(first.child, 'exit');
      first.child.kill('SIGKILL');
      await exited;
    }
    const second = await serve();
    try {
      const r = await localeks(['snapshot', 'restore', 'durable'], { LOCALEKS_ENDPOINT: second.ep });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await awsJson(second.ep, ['iam', 'get-role', '--role-name', 'durable'])).Role.RoleName, 'durable');
    } finally {
      const exited = once(second.child, 'exit');
      second.child.kill('SIGTERM');
      await exited;
    }
  });

  it('parses durations', () => {
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('2'), 2000);
    assert.throws(() => parseDuration('10x'));
    assert.throws(() => parseDuration(''));
  });
});
