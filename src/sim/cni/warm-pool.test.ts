import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cniConfigFromEnv, DEFAULT_CNI_CONFIG, targetHoldings } from './warm-pool.ts';

const m5large = { maxEnis: 3, ipv4PerEni: 10 };

test('default WARM_ENI_TARGET=1 keeps a whole spare ENI of addresses', () => {
  assert.deepEqual(targetHoldings(DEFAULT_CNI_CONFIG, m5large, 0), { enis: 1, prefixes: 0, podAddresses: 9, subnetAddresses: 9 });
  // The first pod makes the free pool smaller than one ENI: a second ENI is attached.
  assert.deepEqual(targetHoldings(DEFAULT_CNI_CONFIG, m5large, 1), { enis: 2, prefixes: 0, podAddresses: 18, subnetAddresses: 19 });
  assert.equal(targetHoldings(DEFAULT_CNI_CONFIG, m5large, 10).enis, 3);
  assert.equal(targetHoldings(DEFAULT_CNI_CONFIG, m5large, 27).podAddresses, 27, 'capped at max ENIs');
});

test('WARM_IP_TARGET and MINIMUM_IP_TARGET hold few addresses (seed 002)', () => {
  const cfg = cniConfigFromEnv({ WARM_IP_TARGET: '2' });
  assert.deepEqual(targetHoldings(cfg, m5large, 0), { enis: 1, prefixes: 0, podAddresses: 2, subnetAddresses: 2 });
  assert.deepEqual(targetHoldings(cfg, m5large, 8), { enis: 2, prefixes: 0, podAddresses: 10, subnetAddresses: 11 });
  const min = cniConfigFromEnv({ WARM_IP_TARGET: '1', MINIMUM_IP_TARGET: '5' });
  assert.equal(targetHoldings(min, m5large, 0).podAddresses, 5);
  assert.equal(targetHoldings(min, m5large, 6).podAddresses, 7);
});

test('prefix delegation holds /28 prefixes', () => {
  const cfg = cniConfigFromEnv({ ENABLE_PREFIX_DELEGATION: 'true' });
  assert.deepEqual(targetHoldings(cfg, m5large, 0), { enis: 1, prefixes: 1, podAddresses: 16, subnetAddresses: 16 });
  assert.equal(targetHoldings(cfg, m5large, 17).prefixes, 3);
  const warmIp = cniConfigFromEnv({ ENABLE_PREFIX_DELEGATION: 'true', WARM_IP_TARGET: '5' });
  assert.equal(targetHoldings(warmIp, m5large, 12).prefixes, 2);
});

test('env parsing ignores junk like ipamd', () => {
  assert.deepEqual(cniConfigFromEnv({ WARM_IP_TARGET: 'abc', WARM_ENI_TARGET: '' }), { ...DEFAULT_CNI_CONFIG, warmIpTarget: undefined, minimumIpTarget: undefined });
});
