/**
 * examples/jest runs green: its jest suite starts localeks with
 * startLocaleks() in globalSetup and drives it with @aws-sdk/client-eks.
 * jest is that example's own dependency, not the root's: where it has not
 * been installed (`npm install` in examples/jest, which needs the npm
 * registry once), this test is skipped and says so. It never installs.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runProcess } from '../helpers/exec.ts';

const dir = join(import.meta.dirname, '../../examples/jest');
const installed = existsSync(join(dir, 'node_modules/jest/package.json'));

describe('examples/jest', () => {
  it('npm test passes', { skip: installed ? false : 'jest is not installed in examples/jest (run `npm install` there; it needs the npm registry once)' }, async () => {
    const r = await runProcess('npm', ['test', '--silent'], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr + r.stdout, /Tests:\s+3 passed, 3 total/);
  });
});
