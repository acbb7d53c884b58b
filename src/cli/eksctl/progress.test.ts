import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Progress } from './progress.ts';

function sink(tty: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  out.isTTY = tty;
  out.columns = 80;
  let text = '';
  out.on('data', (b: Buffer) => (text += b.toString()));
  return { out, text: () => text };
}

test('not a TTY: one plain line per start, detail change and end; no escape codes', () => {
  const s = sink(false);
  const p = new Progress({ out: s.out });
  const t = p.task('creating managed node group "ng"');
  t.update('0 of 3 nodes Ready');
  t.update('0 of 3 nodes Ready');
  t.update('3 of 3 nodes Ready');
  t.done('3 nodes Ready');
  p.success('EKS cluster "demo" in "us-east-1" region is ready');
  p.close();
  const lines = s.text().trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 3), ['[ℹ]  creating managed node group "ng"', '[ℹ]  creating managed node group "ng": 0 of 3 nodes Ready', '[ℹ]  creating managed node group "ng": 3 of 3 nodes Ready']);
  assert.match(lines[3]!, /^\[✔\]  creating managed node group "ng": 3 nodes Ready \(\d+\.\ds\)$/);
  assert.equal(lines[4], '[✔]  EKS cluster "demo" in "us-east-1" region is ready');
  assert.doesNotMatch(s.text(), /\x1b/);
});

test('quiet: only warnings and failures', () => {
  const s = sink(true);
  const p = new Progress({ out: s.out, quiet: true });
  p.info('hidden');
  const t = p.task('hidden task');
  t.done();
  p.warn('careful');
  p.task('broken').fail('boom');
  p.close();
  assert.match(s.text(), /^\[!\]  careful\n\[✖\]  broken: boom \(\d+\.\ds\)\n$/);
});

test('a TTY: running tasks are drawn with a spinner, erased and replaced by their final line', () => {
  const s = sink(true);
  const p = new Progress({ out: s.out, tty: true });
  const a = p.task('waiting for the control plane');
  const b = p.task('creating VPC');
  assert.match(s.text(), /\[[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]\]  creating VPC \(0\.\ds\)/);
  b.done('vpc-1');
  a.update('ACTIVE soon');
  a.done();
  p.close();
  const text = s.text();
  assert.match(text, /\x1b\[\d+A\x1b\[J/, 'live lines are erased in place');
  assert.match(text, /\[✔\]  creating VPC: vpc-1 \(\d+\.\ds\)\n/);
  assert.match(text, /\[✔\]  waiting for the control plane \(\d+\.\ds\)\n/);
  assert.equal((text.match(/\[✔\]/g) ?? []).length, 2);
});
