// Deny by default: OCI_REGISTRIES, GCS_BUCKETS, CIPD_HOSTS and PUBLISH_TO are
// parsed strictly (errors name the variable), and a reporter-named image is
// on the OCI allowlist only when its registry and port equal an entry's and
// its repository lies under the entry's prefix at a segment boundary; no other
// spelling of a host or path gets through.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../functions/config.js';
import { ociAllowed, parseOciRule, parseOciTarget } from '../../functions/domain/oci-allowlist.js';
import { canonicalCipdHost, isBucketName } from '../../functions/domain/publish-names.js';
import { OciSink } from '../../functions/adapters/publish/oci-sink.js';
import { captureLogs } from '../helpers/capture-logs.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('the OCI allowlist', () => {
  const sink = new OciSink(
    ['us-docker.pkg.dev/proj/release', '127.0.0.1:5000', 'registry.example.com'].map(parseOciRule),
  );
  const allowed = (image: string) => sink.refuses(`${image}@${D}`) === undefined;

  it('admits images under a listed registry and prefix', () => {
    for (const image of [
      'us-docker.pkg.dev/proj/release/app',
      'us-docker.pkg.dev/proj/release/x/y/z',
      '127.0.0.1:5000/anything/here',
      'registry.example.com/team/app',
    ])
      assert.ok(allowed(image), image);
  });

  it('refuses the prefix as a string prefix, other repositories, hosts, ports and spellings', () => {
    for (const image of [
      'us-docker.pkg.dev/proj/release-evil/app', // not at a segment boundary
      'us-docker.pkg.dev/proj/releas/app',
      'us-docker.pkg.dev/proj/other/app',
      'us-docker.pkg.dev/proj2/release/app',
      'eu-docker.pkg.dev/proj/release/app',
      'us-docker.pkg.dev:443/proj/release/app', // an explicit port an entry did not name
      'US-DOCKER.PKG.DEV/proj/release/app', // upper case is not a spelling the parser accepts
      'us-docker.pkg.dev./proj/release/app', // trailing dot
      'evil.us-docker.pkg.dev/proj/release/app',
      'us-docker.pkg.dev.evil.com/proj/release/app',
      '127.0.0.1/anything', // no port: the default port, not 5000
      '127.0.0.1:5001/anything',
      '127.0.0.1:05000/anything',
      '127.1:5000/anything', // IPv4 shorthands of the same address
      '0x7f.0.0.1:5000/anything',
      '0177.0.0.1:5000/anything',
      '2130706433:5000/anything',
      'localhost:5000/anything',
      'user@127.0.0.1:5000/anything',
      'registry.example.com/team/../app',
      'registry.example.com/Team/app',
      'registry.example.com//app',
      'registry.example.com',
    ])
      assert.ok(!allowed(image), image);
  });

  it('refuses malformed targets with a reason, without throwing', () => {
    for (const target of [
      'us-docker.pkg.dev/proj/release/app',
      'us-docker.pkg.dev/proj/release/app@sha256:abc',
      `us-docker.pkg.dev/proj/release/app:tag@${D}`,
      `us-docker.pkg.dev/proj/release/app@${D}@${D}`,
      `us-docker.pkg.dev/proj/release/app\n@${D}`,
      '',
    ]) {
      const reason = sink.refuses(target);
      assert.ok(reason && /not an OCI image target/.test(reason), target);
    }
    assert.match(sink.refuses(`eu.gcr.io/p/app@${D}`) ?? '', /eu\.gcr\.io\/p\/app is not on OCI_REGISTRIES/);
  });

  it('matches an entry only at its exact registry and prefix', () => {
    const rules = [parseOciRule('reg.example:8443/a/b')];
    assert.ok(ociAllowed(rules, parseOciTarget(`reg.example:8443/a/b@${D}`)));
    assert.ok(ociAllowed(rules, parseOciTarget(`reg.example:8443/a/b/c@${D}`)));
    assert.ok(!ociAllowed(rules, parseOciTarget(`reg.example:8443/a/bc@${D}`)));
    assert.ok(!ociAllowed(rules, parseOciTarget(`reg.example/a/b/c@${D}`)));
    assert.ok(!ociAllowed([], parseOciTarget(`reg.example:8443/a/b@${D}`)), 'nothing is allowed by default');
  });
});

describe('publishing configuration', () => {
  it('is empty by default: nothing is published anywhere', () => {
    const c = loadConfig({});
    assert.deepEqual(c.publishTo, []);
    assert.deepEqual(c.ociRegistries, []);
    assert.equal(c.gcsBuckets.size, 0);
    assert.equal(c.cipdHosts.size, 0);
    assert.equal(c.publishConcurrency, 8);
    assert.equal(c.publishDeadlineMs, 30_000);
  });

  it('parses the lists', () => {
    const c = loadConfig({
      PUBLISH_TO: 'gcs, oci',
      OCI_REGISTRIES: 'us-docker.pkg.dev/p/release, 127.0.0.1:5000',
      GCS_BUCKETS: 'releases,my.bucket.example',
      CIPD_HOSTS: 'Chrome-Infra-Packages.appspot.com',
      PUBLISH_CONCURRENCY: '4',
      PUBLISH_DEADLINE_SECONDS: '5',
    });
    assert.deepEqual(c.publishTo, ['oci', 'gcs']);
    assert.deepEqual(c.ociRegistries, [
      { registry: 'us-docker.pkg.dev', prefix: 'p/release' },
      { registry: '127.0.0.1:5000', prefix: '' },
    ]);
    assert.deepEqual([...c.gcsBuckets], ['releases', 'my.bucket.example']);
    assert.deepEqual([...c.cipdHosts], ['chrome-infra-packages.appspot.com']);
    assert.equal(c.publishConcurrency, 4);
    assert.equal(c.publishDeadlineMs, 5000);
  });

  it('stores CIPD hosts as the sink compares them: [::1] and 127.0.0.1 with a port, :443 dropped', () => {
    const c = loadConfig({ CIPD_HOSTS: '[::1]:8443,127.0.0.1:9000,cipd.example:443,CIPD.example:8080' });
    assert.deepEqual([...c.cipdHosts], ['[::1]:8443', '127.0.0.1:9000', 'cipd.example', 'cipd.example:8080']);
    for (const host of c.cipdHosts) assert.equal(canonicalCipdHost(host), host);
    const b = loadConfig({ GCS_BUCKETS: 'abc,a-b.c_d.example' });
    for (const bucket of b.gcsBuckets) assert.ok(isBucketName(bucket), bucket);
  });

  it('refuses bad entries, naming the variable', () => {
    for (const [name, value] of [
      ['PUBLISH_TO', 'oci,s3'],
      ['OCI_REGISTRIES', 'https://us-docker.pkg.dev/p'],
      ['OCI_REGISTRIES', '127.1:5000'],
      ['OCI_REGISTRIES', 'reg.example:0'],
      ['OCI_REGISTRIES', 'reg.example/Upper'],
      ['OCI_REGISTRIES', 'user@reg.example'],
      ['GCS_BUCKETS', 'gs://releases'],
      ['GCS_BUCKETS', 'releases/path'],
      ['GCS_BUCKETS', 'Releases'],
      ['GCS_BUCKETS', 'goog-bucket'],
      ['CIPD_HOSTS', 'https://chrome-infra-packages.appspot.com'],
      ['CIPD_HOSTS', 'host/path'],
      // Spellings the sinks' name rules never match: refused at start, not silently dead.
      ['GCS_BUCKETS', 'my.-bucket'],
      ['GCS_BUCKETS', `a.${'x'.repeat(64)}.example`],
      ['GCS_BUCKETS', '192.168.5.4'],
      ['GCS_BUCKETS', 'my-g00gle-bucket'],
      ['CIPD_HOSTS', '127.1'],
      ['CIPD_HOSTS', '2130706433:8080'],
      ['CIPD_HOSTS', 'cipd.example:08080'],
      ['CIPD_HOSTS', 'cipd.example:70000'],
      ['CIPD_HOSTS', 'user@cipd.example'],
      ['CIPD_HOSTS', '[::2]'],
      ['PUBLISH_CONCURRENCY', '0'],
      ['PUBLISH_DEADLINE_SECONDS', '1000'],
    ] as const) {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: Error) => err instanceof ConfigError && err.message.startsWith(name),
        `${name}=${value}`,
      );
    }
  });

  it('keeps OCI_ATTACH=true working as PUBLISH_TO=oci, with a deprecation warning', () => {
    const logs = captureLogs();
    let c: ReturnType<typeof loadConfig>;
    try {
      c = loadConfig({ OCI_ATTACH: 'true', OCI_REGISTRIES: 'reg.example' });
    } finally {
      logs.restore();
    }
    assert.deepEqual(c.publishTo, ['oci']);
    assert.ok(logs.lines().some((l) => l.includes('OCI_ATTACH is deprecated')));
    assert.deepEqual(loadConfig({ OCI_ATTACH: 'false' }).publishTo, []);
  });
});
