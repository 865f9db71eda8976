// Configuration is parsed once, and refuses what would make the service
// misbehave, naming the variable: here the claim lease and the recovery grace.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, MIN_GRACE_OVER_LEASE_SECONDS } from '../../functions/config.js';

it('keeps the recovery grace longer than the assembly lease', () => {
  assert.equal(loadConfig({}).recoveryGraceSeconds, 300);
  assert.equal(loadConfig({}).assemblyLeaseSeconds, 120);
  assert.doesNotThrow(() =>
    loadConfig({ ASSEMBLY_LEASE_SECONDS: '60', RECOVERY_GRACE_SECONDS: String(60 + MIN_GRACE_OVER_LEASE_SECONDS) }),
  );
  for (const [lease, grace] of [
    ['120', '60'],
    ['120', '120'],
    ['300', '300'],
    ['60', String(60 + MIN_GRACE_OVER_LEASE_SECONDS - 1)],
  ] as const) {
    assert.throws(
      () => loadConfig({ ASSEMBLY_LEASE_SECONDS: lease, RECOVERY_GRACE_SECONDS: grace }),
      (err: Error) =>
        err instanceof ConfigError &&
        /RECOVERY_GRACE_SECONDS=\d+ must be at least ASSEMBLY_LEASE_SECONDS/.test(err.message),
      `${lease}/${grace}`,
    );
  }
  assert.throws(
    () => loadConfig({ ASSEMBLY_LEASE_SECONDS: '5' }),
    /ASSEMBLY_LEASE_SECONDS="5": expected an integer from 30/,
  );
});

it('names the variable in every refusal', () => {
  for (const [name, value] of [
    ['PORT', 'x'],
    ['TOKEN_CLOCK_SKEW_SECONDS', '900'],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', '0'],
    ['EVENTS', 'kafka'],
    ['KMS_KEY_VERSION', 'key-1'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith(`${name}=`),
      name,
    );
  }
});

it('bounds the statement size and the read page (MAX_STATEMENT_BYTES, READ_PAGE_ENVELOPES)', () => {
  const dflt = loadConfig({});
  assert.equal(dflt.maxStatementBytes, 16 * 1024 * 1024);
  assert.equal(dflt.readPageEnvelopes, 20);
  assert.equal(loadConfig({ MAX_STATEMENT_BYTES: '1048576' }).maxStatementBytes, 1048576);
  for (const [name, value] of [
    ['MAX_STATEMENT_BYTES', '0'],
    ['MAX_STATEMENT_BYTES', '16MiB'],
    ['MAX_STATEMENT_BYTES', String(128 * 1024 * 1024)],
    ['READ_PAGE_ENVELOPES', '0'],
    ['READ_PAGE_ENVELOPES', '5000'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (err: Error) => err instanceof ConfigError && err.message.startsWith(`${name}=`),
      `${name}=${value}`,
    );
  }
});
