import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { advertisedHost, ConfigError, defaultServeConfig, parseStoreSpec, resolveServeConfig, SERVE_OPTIONS, validateServeConfig } from './config.ts';

describe('serve config', () => {
  it('has the documented defaults', () => {
    assert.deepEqual(defaultServeConfig(), {
      awsPort: 4566,
      kubePort: 6443,
      host: '127.0.0.1',
      hostnames: [],
      dataDir: '.localeks',
      store: 'sqlite',
      logLevel: 'info',
      accountId: '000000000000',
      enforceIam: false,
      referenceChecks: true,
      timingProfile: 'fast',
      timeScale: 1,
    });
  });

  it('gives every option a LOCALEKS_* variable', () => {
    for (const o of SERVE_OPTIONS) assert.match(o.env, /^LOCALEKS_[A-Z_]+$/, o.flag);
    assert.equal(new Set(SERVE_OPTIONS.map((o) => o.env)).size, SERVE_OPTIONS.length);
  });

  it('reads variables, and flags win over them', () => {
    const env = {
      LOCALEKS_AWS_PORT: '0',
      LOCALEKS_KUBE_PORT: '7443',
      LOCALEKS_HOSTNAME: 'a.example, 10.0.0.1',
      LOCALEKS_STORE: 'etcd://127.0.0.1:2379,[::1]:2380',
      LOCALEKS_ENFORCE_IAM: 'true',
      LOCALEKS_REFERENCE_CHECKS: 'false',
      LOCALEKS_TIME_SCALE: '60',
      LOCALEKS_TIMING_PROFILE: 'instant',
      LOCALEKS_ACCOUNT_ID: '123456789012',
    };
    const c = resolveServeConfig({ kubePort: '0', hostnames: ['b.example'], enforceIam: false }, env);
    assert.equal(c.awsPort, 0);
    assert.equal(c.kubePort, 0);
    assert.deepEqual(c.hostnames, ['b.example']);
    assert.equal(c.store, 'etcd://127.0.0.1:2379,[::1]:2380');
    assert.equal(c.enforceIam, false);
    assert.equal(c.referenceChecks, false);
    assert.equal(c.timeScale, 60);
    assert.equal(c.timingProfile, 'instant');
    assert.equal(c.accountId, '123456789012');
    assert.deepEqual(resolveServeConfig({}, env).hostnames, ['a.example', '10.0.0.1']);
  });

  it('names the flag or the variable in errors', () => {
    const bad: [Parameters<typeof resolveServeConfig>[0], Record<string, string>, RegExp][] = [
      [{ awsPort: '70000' }, {}, /invalid --aws-port: 70000 is not a port number/],
      [{}, { LOCALEKS_KUBE_PORT: '-1' }, /invalid LOCALEKS_KUBE_PORT: "-1" is not a port number/],
      [{ store: 'mysql' }, {}, /invalid --store: "mysql" is not a store: use sqlite, memory or etcd/],
      [{ store: 'etcd://hostonly' }, {}, /each etcd endpoint must be host:port/],
      [{ logLevel: 'verbose' }, {}, /invalid --log-level: "verbose" is not one of fatal, error, warn, info, debug, trace, silent/],
      [{ accountId: '12345' }, {}, /not a 12-digit AWS account id/],
      [{ timingProfile: 'slow' }, {}, /is not one of instant, fast, realistic/],
      [{ timeScale: '0' }, {}, /invalid --time-scale: "0" is not a positive number/],
      [{ hostnames: ['bad host'] }, {}, /invalid --hostname: "bad host" is not a DNS name or IP address/],
      [{}, { LOCALEKS_ENFORCE_IAM: 'maybe' }, /invalid LOCALEKS_ENFORCE_IAM: "maybe" is not a boolean/],
      [{ awsPort: '5000', kubePort: '5000' }, {}, /both 5000/],
    ];
    for (const [flags, env, re] of bad) assert.throws(() => resolveServeConfig(flags, env), (e: unknown) => e instanceof ConfigError && re.test(e.message));
  });

  it('validates configs built in code', () => {
    assert.throws(() => validateServeConfig({ ...defaultServeConfig(), awsPort: '1' as unknown as number }), /expected a number/);
    assert.throws(() => validateServeConfig({ ...defaultServeConfig(), enforceIam: 'yes' as unknown as boolean }), /expected a boolean/);
    assert.deepEqual(validateServeConfig({ ...defaultServeConfig(), hostnames: ['x.test', 'x.test'] }).hostnames, ['x.test']);
  });

  it('is documented in the README flag table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const o of SERVE_OPTIONS) {
      const flag = o.boolean === 'disable' ? `--no-${o.flag}` : `--${o.flag}`;
      assert.match(readme, new RegExp(`^\\| \`${flag}[ \`].*\\| \`${o.env}`, 'm'), `${flag} / ${o.env}`);
    }
  });

  it('advertises the bind address, or for a wildcard bind the first --hostname', () => {
    assert.equal(advertisedHost({ host: '127.0.0.1', hostnames: ['x.test'] }), '127.0.0.1');
    assert.equal(advertisedHost({ host: '0.0.0.0', hostnames: [] }), '127.0.0.1');
    assert.equal(advertisedHost({ host: '0.0.0.0', hostnames: ['localeks', 'y'] }), 'localeks');
    assert.equal(advertisedHost({ host: '::1', hostnames: [] }), '::1');
  });

  it('accepts the three store kinds', () => {
    assert.equal(parseStoreSpec('sqlite'), 'sqlite');
    assert.equal(parseStoreSpec('memory'), 'memory');
    assert.equal(parseStoreSpec('etcd://h1:2379'), 'etcd://h1:2379');
  });
});
