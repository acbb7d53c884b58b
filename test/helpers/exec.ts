/**
 * runProcess runs a child process asynchronously and collects its output.
 *
 * E2e tests start localeks in the same process, so a client must never be
 * run with spawnSync: that would block the event loop the server answers on.
 */
import { spawn } from 'node:child_process';

/** The outcome of a child process. */
export interface ProcessResult {
  /** Exit code (the signal number + 128 when killed by a signal). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, then stdin is closed. */
  input?: string;
  /** Kill the child after this many real milliseconds (default 10 minutes). */
  timeoutMs?: number;
}

/** runProcess resolves once the child exits; it never rejects for a non-zero exit. */
export function runProcess(command: string, args: string[], opts: RunProcessOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (child.stdin) {
      // A child that exits without reading its input must not crash us with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** commandExists reports whether `command` is on PATH (cached per name). */
const existsCache = new Map<string, Promise<boolean>>();
export function commandExists(command: string): Promise<boolean> {
  let p = existsCache.get(command);
  if (!p) {
    p = runProcess('sh', ['-c', `command -v ${command}`]).then(
      (r) => r.code === 0,
      () => false,
    );
    existsCache.set(command, p);
  }
  return p;
}
