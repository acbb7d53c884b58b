/**
 * Progress for long CLI work, in eksctl's spirit: one line per resource or
 * wait ("creating VPC", "waiting for the control plane", "2 of 3 nodes
 * Ready"), with eksctl's markers ([ℹ] [✔] [!] [✖]).
 *
 * On a TTY the running tasks are redrawn in place every 80 ms with a
 * spinner and their elapsed time; finished tasks leave one final line above
 * them. Elsewhere (pipes, CI, --no-color terminals) every line is plain
 * text printed once, without escape codes: a task prints when it starts,
 * when its detail changes, and when it ends. `quiet` prints only warnings
 * and errors. Everything goes to stderr; stdout is kept for results
 * (tables, JSON, YAML).
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ProgressOptions {
  /** Where lines go (default process.stderr). */
  out?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Force TTY rendering on or off (default: out.isTTY). */
  tty?: boolean;
  quiet?: boolean;
  /** 0 normal, 1+ debug lines (AWS requests). */
  verbose?: number;
}

/** One unit of work shown on its own line. */
export interface Task {
  /** update changes the detail shown after the label (e.g. "2 of 3 nodes Ready"). */
  update(detail: string): void;
  /** done ends the task with a success line. */
  done(detail?: string): void;
  /** fail ends the task with an error line. */
  fail(detail: string): void;
}

function secs(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

interface Running {
  label: string;
  detail: string;
  start: number;
}

/** Progress reports tasks and messages; close() stops the redraw timer and clears the live lines. */
export class Progress {
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly tty: boolean;
  readonly quiet: boolean;
  readonly verbose: number;
  private readonly running = new Set<Running>();
  private drawn = 0;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: ProgressOptions = {}) {
    this.out = opts.out ?? process.stderr;
    this.quiet = opts.quiet ?? false;
    this.tty = !this.quiet && (opts.tty ?? (this.out.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb'));
    this.verbose = opts.verbose ?? 0;
  }

  /** info prints an [ℹ] line (not in quiet mode). */
  info(msg: string): void {
    if (!this.quiet) this.line(`[ℹ]  ${msg}`);
  }

  /** success prints a [✔] line (not in quiet mode). */
  success(msg: string): void {
    if (!this.quiet) this.line(`[✔]  ${msg}`);
  }

  /** warn prints a [!] line, also in quiet mode. */
  warn(msg: string): void {
    this.line(`[!]  ${msg}`);
  }

  /** error prints a [✖] line, also in quiet mode. */
  error(msg: string): void {
    this.line(`[✖]  ${msg}`);
  }

  /** debug prints a line when verbose. */
  debug(msg: string): void {
    if (this.verbose > 0) this.line(`[▶]  ${msg}`);
  }

  /** task starts a line for one unit of work. */
  task(label: string): Task {
    const r: Running = { label, detail: '', start: performance.now() };
    let ended = false;
    if (this.tty) {
      this.running.add(r);
      this.timer ??= setInterval(() => this.redraw(), 80);
      this.timer.unref?.();
      this.redraw();
    } else if (!this.quiet) this.line(`[ℹ]  ${label}`);
    const end = (mark: string, detail: string | undefined, always: boolean) => {
      if (ended) return;
      ended = true;
      this.running.delete(r);
      const text = `[${mark}]  ${label}${detail ? `: ${detail}` : ''} (${secs(performance.now() - r.start)})`;
      if (!this.quiet || always) this.line(text);
      if (this.tty && this.running.size === 0) this.stopTimer();
    };
    return {
      update: (detail) => {
        if (ended || detail === r.detail) return;
        r.detail = detail;
        if (this.tty) this.redraw();
        else if (!this.quiet) this.line(`[ℹ]  ${label}: ${detail}`);
      },
      done: (detail) => end('✔', detail, false),
      fail: (detail) => end('✖', detail, true),
    };
  }

  /** close ends the live display (running tasks are left as they are). */
  close(): void {
    this.stopTimer();
    if (this.tty) this.clearLive();
    this.running.clear();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private clearLive(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  /** line prints a permanent line above the live ones. */
  private line(text: string): void {
    if (this.tty) {
      this.clearLive();
      this.out.write(text + '\n');
      this.drawLive();
    } else this.out.write(text + '\n');
  }

  private redraw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.clearLive();
    this.drawLive();
  }

  private drawLive(): void {
    const width = Math.max(20, (this.out.columns ?? 100) - 1);
    const now = performance.now();
    let text = '';
    for (const r of this.running) {
      const line = `[${FRAMES[this.frame]}]  ${r.label}${r.detail ? `: ${r.detail}` : ''} (${secs(now - r.start)})`;
      text += (line.length > width ? line.slice(0, width - 1) + '…' : line) + '\n';
    }
    this.out.write(text);
    this.drawn = this.running.size;
  }
}
