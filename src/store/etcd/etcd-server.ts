/**
 * startEtcd runs a throwaway single-member etcd (the `etcd` binary, Debian's
 * etcd-server package) on free loopback ports in a temporary data dir, for
 * tests and benchmarks. stop() terminates it and removes the data dir.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** host:port of the client endpoint, as EtcdBackend.open({hosts}) takes it. */
  host: string;
  /** http://host:port */
  url: string;
  /** restart kills etcd with SIGKILL and starts it again on the same ports and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** etcdMissing returns why etcd cannot run here, or undefined when it can. */
export function etcdMissing(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'the etcd binary is not installed (apt-get install etcd-server; .ci/run does this)';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  proc: ChildProcess;
  exited: Promise<void>;
  dead(): boolean;
  stderr(): string;
}

function launch(args: string[]): Running {
  const proc = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  let dead = false;
  const exited = new Promise<void>((r) => proc.on('exit', () => r())).then(() => {
    dead = true;
  });
  return { proc, exited, dead: () => dead, stderr: () => stderr };
}

/** healthy polls etcd's /health until it answers true, the process dies, or 20 s pass. */
async function healthy(url: string, run: Running): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (!run.dead() && Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export async function startEtcd(): Promise<EtcdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'localeks-etcd-'));
  for (let attempt = 0; ; attempt++) {
    const [client, peer] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const args = [
      '--name=default',
      `--data-dir=${join(dir, `data-${attempt}`)}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      // Short raft timers: fast startup, and a 1 s minimum lease TTL.
      '--heartbeat-interval=10',
      '--election-timeout=50',
      // Whole-world snapshot restores and big list pages: raise etcd's
      // defaults of 128 operations per txn and 1.5 MiB per request.
      '--max-txn-ops=100000',
      '--max-request-bytes=67108864',
      '--logger=zap',
      '--log-level=error',
    ];
    let run = launch(args);
    if (await healthy(url, run)) {
      return {
        host: `127.0.0.1:${client}`,
        url,
        async restart() {
          run.proc.kill('SIGKILL');
          await run.exited;
          run = launch(args);
          if (!(await healthy(url, run))) throw new Error(`etcd did not come back: ${run.stderr()}`);
        },
        async stop() {
          if (!run.dead()) run.proc.kill('SIGTERM');
          await run.exited;
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    if (!run.dead()) run.proc.kill('SIGKILL');
    await run.exited;
    // A port taken between freePort() and etcd's bind: try other ports.
    if (attempt < 3 && /address already in use/.test(run.stderr())) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`etcd did not become healthy: ${run.stderr()}`);
  }
}
