/**
 * examples/node-test runs green: a node:test file on startLocaleks() with a
 * snapshot restored before each test (one test deletes the fixture cluster,
 * the next finds it back, bootstrap objects and RBAC included).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runProcess } from '../helpers/exec.ts';

const root = join(import.meta.dirname, '../..');

describe('examples/node-test', () => {
  it('node --test passes', async () => {
    // Without NODE_TEST_CONTEXT the child is a test run of its own, reporting on stdout (not to this runner).
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = await runProcess(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'examples/node-test/eks.test.ts'], { cwd: root, env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^# pass 3$/m);
    assert.match(r.stdout, /^# fail 0$/m);
  });
});
