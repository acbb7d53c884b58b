import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../store/memory/memory-backend.ts';
import { ensureSigningKey, forgetSigningKey, signingKeyKey } from './signing-keys.ts';

test('one signing key per cluster, created once even when asked concurrently', async () => {
  const b = new MemoryBackend();
  const [k1, k2] = await Promise.all([ensureSigningKey(b, 'c1'), ensureSigningKey(b, 'c1')]);
  forgetSigningKey('c1');
  const k3 = await ensureSigningKey(b, 'c1');
  assert.equal(k1.publicKeyPem, k3.publicKeyPem);
  assert.equal(k2.publicKeyPem, k3.publicKeyPem);
  const other = await ensureSigningKey(b, 'c2');
  assert.notEqual(other.publicKeyPem, k1.publicKeyPem);
  assert.ok((await b.get(signingKeyKey('c1'))).kv);
});
