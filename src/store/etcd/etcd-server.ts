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

export async function startEtcd(): Promise<EtcdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'localeks-etcd-'));
  for (let attempt = 0; ; attempt++) {
    const [client, peer] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    const proc: ChildProcess = spawn(
      'etcd',
      [
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
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise<void>((r) => proc.on('exit', () => r()));
    let dead = false;
    void exited.then(() => (dead = true));
    const stop = async () => {
      if (!dead) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 20_000;
    while (!dead && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/health`);
        if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return { host: `127.0.0.1:${client}`, url, stop };
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!dead) proc.kill('SIGKILL');
    await exited;
    // A port taken between freePort() and etcd's bind: try other ports.
    if (attempt < 3 && /address already in use/.test(stderr)) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`etcd did not become healthy: ${stderr}`);
  }
}
