import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MemoryBackend } from '../store/memory/memory-backend.ts';
import { ensureTls, openCaKey, SHARED_CA_KEY, servingNames, shareCa, STORE_KEY_FILE, storeKey } from './tls.ts';

describe('instance TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'localeks-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a CA and a serving certificate it signs, for the default names and --hostname', async () => {
    const t = await ensureTls({ dataDir: dir, hostnames: ['eks.example.test', '192.0.2.7'] });
    assert.equal(t.createdCa, true);
    assert.equal(t.issuedServing, true);
    const ca = new X509Certificate(t.caCertPem);
    const cert = new X509Certificate(t.certPem);
    assert.equal(ca.ca, true);
    assert.equal(cert.ca, false);
    assert.ok(cert.verify(ca.publicKey));
    assert.ok(cert.checkIssued(ca));
    for (const ip of ['127.0.0.1', '::1', '192.0.2.7']) assert.ok(cert.checkIP(ip), ip);
    for (const h of ['localhost', 'eks.example.test']) assert.ok(cert.checkHost(h), h);
    assert.equal(cert.checkHost('other.example.test'), undefined);
    assert.equal(statSync(join(dir, 'tls', 'ca.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'tls', 'serving.key')).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8'), t.caCertPem);
  });

  it('reuses both on restart with the same names (in any order or case)', async () => {
    const before = readFileSync(join(dir, 'tls', 'serving.crt'), 'utf8');
    const t = await ensureTls({ dataDir: dir, hostnames: ['192.0.2.7', 'EKS.example.test'] });
    assert.equal(t.createdCa, false);
    assert.equal(t.issuedServing, false);
    assert.equal(t.certPem, before);
  });

  it('reissues the serving certificate, with the same CA, when the names change', async () => {
    const ca = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
    const t = await ensureTls({ dataDir: dir, hostnames: [] });
    assert.equal(t.createdCa, false);
    assert.equal(t.issuedServing, true);
    assert.equal(t.caCertPem, ca);
    const cert = new X509Certificate(t.certPem);
    assert.equal(cert.checkHost('eks.example.test'), undefined);
    assert.ok(cert.verify(new X509Certificate(ca).publicKey));
  });

  it('reissues a serving certificate that is near expiry or not from this CA', async () => {
    const later = new Date(Date.now() + 800 * 86_400_000);
    assert.equal((await ensureTls({ dataDir: dir, hostnames: [], now: later })).issuedServing, true);
    const other = mkdtempSync(join(tmpdir(), 'localeks-tls-other-'));
    try {
      const foreign = await ensureTls({ dataDir: other, hostnames: [] });
      writeFileSync(join(dir, 'tls', 'serving.crt'), foreign.certPem);
      assert.equal((await ensureTls({ dataDir: dir, hostnames: [] })).issuedServing, true);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('keeps everything in memory without a data dir', async () => {
    const t = await ensureTls({ hostnames: [] });
    assert.equal(t.caCertPath, '');
    assert.ok(new X509Certificate(t.certPem).verify(new X509Certificate(t.caCertPem).publicKey));
  });

  it('shares one CA between servers on one store', async () => {
    const backend = new MemoryBackend();
    const dirA = mkdtempSync(join(tmpdir(), 'localeks-tls-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'localeks-tls-b-'));
    try {
      const a = await ensureTls({ dataDir: dirA, hostnames: [] });
      assert.equal(await shareCa(backend, a, { dataDir: dirA, hostnames: [] }), a, 'the first server records its CA');
      const recorded = (await backend.get(SHARED_CA_KEY)).kv!.value;
      assert.equal(JSON.parse(recorded).certPem, a.caCertPem);
      assert.ok(!recorded.includes('PRIVATE KEY'), 'the CA key is not in the store in plain text');
      assert.equal(statSync(join(dirA, 'tls', STORE_KEY_FILE)).mode & 0o777, 0o600);
      const b0 = await ensureTls({ dataDir: dirB, hostnames: ['b.test'] });
      assert.notEqual(b0.caCertPem, a.caCertPem);
      // Without A's store key, B cannot open the recorded CA key, and says what to do.
      await assert.rejects(() => shareCa(backend, b0, { dataDir: dirB, hostnames: ['b.test'] }), /sealed with another server's store key.*copy store\.key/);
      copyFileSync(join(dirA, 'tls', STORE_KEY_FILE), join(dirB, 'tls', STORE_KEY_FILE));
      const b = await shareCa(backend, b0, { dataDir: dirB, hostnames: ['b.test'] });
      assert.equal(b.caCertPem, a.caCertPem);
      assert.equal(readFileSync(join(dirB, 'tls', 'ca.crt'), 'utf8'), a.caCertPem);
      const cert = new X509Certificate(b.certPem);
      assert.ok(cert.verify(new X509Certificate(a.caCertPem).publicKey));
      assert.ok(cert.checkHost('b.test'));
      // On B's next start the adopted CA is its own: nothing changes.
      const again = await ensureTls({ dataDir: dirB, hostnames: ['b.test'] });
      assert.equal(again.issuedServing, false);
      assert.equal(await shareCa(backend, again, { dataDir: dirB, hostnames: ['b.test'] }), again);
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });

  it('a CA recorded in plain text by an older server is adopted and sealed', async () => {
    const backend = new MemoryBackend();
    const dirA = mkdtempSync(join(tmpdir(), 'localeks-tls-old-'));
    const dirB = mkdtempSync(join(tmpdir(), 'localeks-tls-new-'));
    try {
      const a = await ensureTls({ dataDir: dirA, hostnames: [] });
      await backend.create(SHARED_CA_KEY, JSON.stringify({ certPem: a.caCertPem, keyPem: a.caKeyPem }));
      const b = await shareCa(backend, await ensureTls({ dataDir: dirB, hostnames: [] }), { dataDir: dirB, hostnames: [] });
      assert.equal(b.caCertPem, a.caCertPem);
      assert.equal(b.caKeyPem, a.caKeyPem);
      const rec = JSON.parse((await backend.get(SHARED_CA_KEY)).kv!.value);
      assert.equal(rec.keyPem, undefined, 'the plain key is gone from the store');
      assert.equal(openCaKey(rec.keySealed, rec.certPem, storeKey(dirB)), a.caKeyPem);
      assert.throws(() => openCaKey(rec.keySealed, a.caCertPem.replace('A', 'B'), storeKey(dirB)), 'the certificate is bound to the sealed key');
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });

  it('normalizes the name set', () => {
    assert.deepEqual(servingNames(['B.test', 'localhost']), ['127.0.0.1', '::1', 'b.test', 'localhost']);
  });
});
