/**
 * `localeks create cluster` in a real terminal (tmux): while it works, the
 * screen shows live lines with a spinner and elapsed time ("waiting for the
 * control plane", "n of 2 nodes Ready"); when it ends, only the final
 * [✔] lines are left (the live lines are redrawn in place, not appended).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

const BIN = new URL('../../bin/localeks', import.meta.url).pathname;
const SOCKET = `localeks-cli-tty-${process.pid}`;
let srv: TestServer;
const tmp = mkdtempSync(join(tmpdir(), 'cli-tty-e2e-'));
const tmux = (...args: string[]) => runProcess('tmux', ['-L', SOCKET, ...args]);
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('localeks create cluster in a terminal (tmux)', () => {
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await tmux('kill-server');
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('shows spinner lines with elapsed time while working, and leaves only the final lines', async () => {
    const env = {
      PATH: process.env.PATH!,
      HOME: tmp,
      TERM: 'xterm-256color',
      LOCALEKS_ENDPOINT: srv.awsEndpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const cmd = `env -i ${Object.entries(env).map(([k, v]) => `${k}=${q(v)}`).join(' ')} ${q(process.execPath)} ${q(BIN)} create cluster --name tty --nodes 2 --kubeconfig ${q(join(tmp, 'kc'))}; echo "EXIT=$?"; sleep 600`;
    const started = await tmux('new-session', '-d', '-s', 'cli', '-x', '160', '-y', '50', cmd);
    assert.equal(started.code, 0, started.stderr);
    const screens: string[] = [];
    const final = (await waitFor(
      async () => {
        const r = await tmux('capture-pane', '-p', '-t', 'cli');
        screens.push(r.stdout);
        return /EXIT=\d+/.test(r.stdout) ? r.stdout : undefined;
      },
      { what: 'the command to end', intervalMs: 20, timeoutMs: 60_000 },
    ))!;
    assert.match(final, /EXIT=0/, final);
    const live = /^\[[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\]  .*\(\d+\.\ds\)$/m;
    assert.ok(screens.some((s) => live.test(s)), `a spinner line with elapsed time was on screen:\n${screens.slice(-5).join('\n---\n')}`);
    assert.ok(screens.some((s) => /^\[[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\]  .*(waiting for the control plane|\d of 2 nodes Ready|waiting for the node group)/m.test(s)), 'the waits were shown as they happened');
    assert.doesNotMatch(final, live, 'no live line is left at the end');
    assert.match(final, /^\[✔\]  creating EKS cluster "tty": control plane ACTIVE, Kubernetes [\d.]+ \(\d+\.\ds\)$/m);
    assert.match(final, /^\[✔\]  creating managed node group "ng-[0-9a-f]+" \(2 x m5\.large\): 2 nodes Ready \(\d+\.\ds\)$/m);
    assert.match(final, /^\[✔\]  EKS cluster "tty" in "us-east-1" region is ready$/m);
    assert.equal((final.match(/control plane ACTIVE/g) ?? []).length, 1, 'each task ends in exactly one line');

    // Ctrl-C midway: what was created is listed, exit 130.
    await tmux('kill-session', '-t', 'cli');
    const cmd2 = cmd.replace('--name tty', '--name tty2');
    assert.equal((await tmux('new-session', '-d', '-s', 'cli2', '-x', '160', '-y', '50', cmd2)).code, 0);
    await waitFor(async () => /waiting for the control plane/.test((await tmux('capture-pane', '-p', '-t', 'cli2')).stdout), { what: 'the control plane wait', intervalMs: 20 });
    await tmux('send-keys', '-t', 'cli2', 'C-c');
    const stopped = (await waitFor(async () => {
      const r = await tmux('capture-pane', '-p', '-J', '-t', 'cli2');
      return /EXIT=\d+/.test(r.stdout) ? r.stdout : undefined;
    }, { what: 'the interrupted command to end', intervalMs: 20 }))!;
    assert.match(stopped, /EXIT=130/);
    assert.match(stopped, /\[✖\]  interrupted; created so far: .*VPC vpc-/);
    assert.match(stopped, /to delete them: localeks delete cluster --name tty2 --region us-east-1/);
  });
});
