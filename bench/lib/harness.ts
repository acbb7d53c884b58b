/**
 * What the benchmarks share: command-line arguments, free ports, and starting/stopping the
 * server processes they compare (localeks and moto_server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** arg reads `--name value` from the command line, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}


/** freePort asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts a child and resolves with the endpoint once `ready` matches its output. */
export function startChild(
  cmd: string,
  args: string[],
  ready: RegExp,
  endpointOf: (m: RegExpExecArray) => string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOCALEKS_LOG_LEVEL: 'error', ...env } });
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = ready.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        child.stdout!.resume();
        child.stderr!.resume();
        resolve({ child, endpoint: endpointOf(m) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited ${code} before it was ready:\n${out.slice(-2000)}`)));
    setTimeout(() => reject(new Error(`${cmd} not ready after 60 s:\n${out.slice(-2000)}`)), 60_000).unref();
  });
}

/** stopChild sends SIGTERM, then SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/** runPool runs task(0..n-1) with at most `concurrency` in flight and returns the results in order. */
export async function runPool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, n) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      out[i] = await task(i);
    }
  });
  await Promise.all(workers);
  return out;
}

/**
 * onLocaleks runs `localeks serve` in a child process (free ports, loopback,
 * the given store; a fresh data dir under /tmp for sqlite; extra node flags
 * such as --cpu-prof first), calls fn with its AWS endpoint, then stops it.
 */
export async function onLocaleks<T>(opts: { store: string; nodeArgs?: string[]; serveArgs?: string[] }, fn: (endpoint: string) => Promise<T>): Promise<T> {
  const bin = new URL('../../bin/localeks', import.meta.url).pathname;
  const dataDir = opts.store === 'sqlite' ? ['--data-dir', `/tmp/localeks-bench-${process.pid}-${Date.now()}`] : [];
  const { child, endpoint } = await startChild(
    process.execPath,
    [...(opts.nodeArgs ?? []), bin, 'serve', '--aws-port', '0', '--kube-port', '0', '--host', '127.0.0.1', '--store', opts.store, '--log-level', 'error', ...dataDir, ...(opts.serveArgs ?? [])],
    /aws (http:\/\/[^\s]+)/,
    (m) => m[1]!,
  );
  try {
    return await fn(endpoint);
  } finally {
    await stopChild(child);
  }
}

/**
 * onMoto runs moto_server on a free loopback port, calls fn with its
 * endpoint, then stops it. When moto_server cannot start it prints
 * `moto     not run: <why>` and resolves undefined.
 */
export async function onMoto<T>(fn: (endpoint: string) => Promise<T>, env: Record<string, string> = {}): Promise<T | undefined> {
  const port = await freePort();
  let moto: { child: ChildProcess; endpoint: string };
  try {
    moto = await startChild('moto_server', ['-H', '127.0.0.1', '-p', String(port)], /Running on|Press CTRL\+C/, () => `http://127.0.0.1:${port}`, env);
  } catch (e) {
    console.log(`moto     not run: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
  try {
    return await fn(moto.endpoint);
  } finally {
    await stopChild(moto.child);
  }
}
