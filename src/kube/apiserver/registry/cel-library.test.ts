import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CIDR, IP, KubeURL, Quantity, compileCel } from './cel-library.ts';

const run = (expr: string, self: unknown = {}) => compileCel(expr)({ self });
const t = (expr: string, self?: unknown) => assert.equal(run(expr, self), true, expr);
const f = (expr: string, self?: unknown) => assert.equal(run(expr, self), false, expr);
const throwsAt = (expr: string, re: RegExp) => assert.throws(() => run(expr), re, expr);

describe('optional types', () => {
  test('self.?field, [?key], orValue, optional.of/none, hasValue', () => {
    const self = { a: 1n, m: { k: 'v' } };
    assert.equal(run('self.?a.orValue(5)', self), 1n);
    assert.equal(run('self.?missing.orValue(5)', self), 5n);
    assert.equal(run('self.m[?"k"].orValue("x")', self), 'v');
    assert.equal(run('self.m[?"z"].orValue("x")', self), 'x');
    t('optional.of(1).hasValue()');
    f('optional.none().hasValue()');
    t('self.?a.hasValue() && !self.?b.hasValue()', self);
    assert.equal(run('self.?b.or(optional.of(3)).value()', self), 3n);
  });
});

describe('quantity library', () => {
  test('parsing, comparisons, arithmetic (upstream examples)', () => {
    t('isQuantity("1Gi") && isQuantity("100m") && isQuantity("1.5e3") && !isQuantity("1GiB") && !isQuantity("")');
    t('quantity("200M").compareTo(quantity("0.2G")) == 0');
    t('quantity("50M").compareTo(quantity("50Mi")) == -1');
    t('quantity("50Mi").compareTo(quantity("50M")) == 1');
    t('quantity("150Mi").isGreaterThan(quantity("100Mi"))');
    f('quantity("50Mi").isGreaterThan(quantity("100Mi"))');
    t('quantity("50M").isLessThan(quantity("100M"))');
    t('quantity("50k").add(quantity("20k")) == quantity("70k")');
    t('quantity("50k").add(20) == quantity("50020")');
    t('quantity("50k").sub(quantity("20k")) == quantity("30k")');
    t('quantity("50k").sub(20000) == quantity("30k")');
    t('quantity("50k").add(20).sub(quantity("100k")).sub(-50000) == quantity("20")');
    t('quantity("1Gi") == quantity("1024Mi")');
    t('quantity("1Gi") != quantity("1G")');
    t('quantity("50k").sub(20000).asApproximateFloat() == 30000.0');
    assert.equal(run('quantity("1Ki").asInteger()'), 1024n);
    t('quantity("50").isInteger() && !quantity("50m").isInteger()');
    assert.equal(run('quantity("-3").sign()'), -1n);
    assert.equal(run('sign(quantity("0"))'), 0n);
    t('quantity("2").mul(3) == quantity("6")');
    throwsAt('quantity("50.5m").asInteger()', /cannot convert value to integer/);
    throwsAt('quantity("1GiB")', /quantities must match the regular expression/);
    assert.equal(Quantity.parse('0.1n').nanos, 1n); // rounded up to the nano
  });

  test('rules over resource fields', () => {
    t('quantity(self.limit).isGreaterThan(quantity(self.request))', { limit: '2Gi', request: '512Mi' });
  });
});

describe('url library', () => {
  test('parts of a URL, isURL', () => {
    assert.equal(run('url("https://example.com:8443/a/b?x=1&x=2&y").getHost()'), 'example.com:8443');
    assert.equal(run('url("https://example.com:8443/a/b").getHostname()'), 'example.com');
    assert.equal(run('url("https://example.com:8443/a/b").getPort()'), '8443');
    assert.equal(run('url("https://example.com/a/b").getPort()'), '');
    assert.equal(run('url("HTTPS://example.com/").getScheme()'), 'https');
    assert.equal(run('url("https://[::1]:80/").getHostname()'), '::1');
    assert.equal(run('url("https://[::1]:80/").getHost()'), '[::1]:80');
    assert.equal(run('url("https://example.com/with space").getEscapedPath()'), '/with%20space');
    assert.equal(run('url("/absolute/path").getEscapedPath()'), '/absolute/path');
    assert.deepEqual(run('url("https://e.com/?x=1&x=2&y").getQuery()'), { x: ['1', '2'], y: [''] });
    t('isURL("https://example.com") && isURL("/path") && !isURL("example.com") && !isURL("not a url")');
    throwsAt('url("example.com")', /URL parse error during conversion from string: parse "example.com": invalid URI for request/);
    assert.equal(KubeURL.parse('http://u:p@h.com:1/p').host, 'h.com:1');
  });
});

describe('ip and cidr libraries', () => {
  test('ip parsing, family, classification, canonical form', () => {
    assert.equal(run('ip("10.0.0.1").family()'), 4n);
    assert.equal(run('ip("fe80::1").family()'), 6n);
    t('isIP("1.2.3.4") && isIP("::1") && !isIP("1.2.3") && !isIP("01.2.3.4") && !isIP("::ffff:1.2.3.4") && !isIP("fe80::1%eth0")');
    t('ip("127.0.0.1").isLoopback() && ip("::1").isLoopback()');
    t('ip("0.0.0.0").isUnspecified() && ip("::").isUnspecified()');
    t('ip("169.254.1.1").isLinkLocalUnicast() && ip("fe80::1").isLinkLocalUnicast()');
    t('ip("224.0.0.251").isLinkLocalMulticast() && ip("ff02::fb").isLinkLocalMulticast()');
    t('ip("10.1.2.3").isGlobalUnicast() && !ip("255.255.255.255").isGlobalUnicast() && ip("2001:db8::1").isGlobalUnicast()');
    t('ip.isCanonical("2001:db8::1") && !ip.isCanonical("2001:DB8::1") && !ip.isCanonical("2001:db8:0:0:0:0:0:1")');
    assert.equal(run('string(ip("2001:0db8:0:0:1:0:0:1"))'), '2001:db8::1:0:0:1');
    assert.equal(run('string(ip("64:ff9b::1.2.3.4"))'), '64:ff9b::102:304');
    t('ip("10.0.0.1") == ip("10.0.0.1") && ip("10.0.0.1") != ip("10.0.0.2")');
    throwsAt('ip("1.2.3")', /IP Address "1\.2\.3" parse error during conversion from string: ParseAddr\("1\.2\.3"\): IPv4 address too short/);
    throwsAt('ip("fe80::1%en0")', /IP address "fe80::1%en0" with zone value is not allowed/);
    throwsAt('ip("::ffff:1.2.3.4")', /IPv4-mapped IPv6 address "::ffff:1\.2\.3\.4" is not allowed/);
    assert.equal(new IP(6, 0n).toString(), '::');
  });

  test('cidr: containsIP/containsCIDR, ip, masked, prefixLength (upstream examples)', () => {
    t('cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))');
    f('cidr("192.168.0.0/24").containsIP(ip("192.168.1.1"))');
    t('cidr("192.168.0.0/24").containsIP("192.168.0.1")');
    f('cidr("192.168.0.0/24").containsIP("::1")');
    t('cidr("192.168.0.0/16").containsCIDR(cidr("192.168.10.0/24"))');
    f('cidr("192.168.1.0/24").containsCIDR(cidr("192.168.2.0/24"))');
    t('cidr("192.168.0.0/16").containsCIDR("192.168.10.0/24")');
    f('cidr("192.168.10.0/24").containsCIDR("192.168.0.0/16")');
    t('cidr("192.168.0.1/24").ip() == ip("192.168.0.1")');
    assert.equal(run('cidr("::1/128").ip().family()'), 6n);
    t('cidr("192.168.0.1/24").masked() == cidr("192.168.0.0/24")');
    f('cidr("192.168.0.1/24") == cidr("192.168.0.1/24").masked()');
    assert.equal(run('cidr("10.0.0.0/8").prefixLength()'), 8n);
    assert.equal(run('string(cidr("2001:db8::/32"))'), '2001:db8::/32');
    t('isCIDR("10.0.0.0/8") && isCIDR("::1/128") && !isCIDR("10.0.0.0/33") && !isCIDR("::1/129") && !isCIDR("10.0.0.0")');
    throwsAt('cidr("10.0.0.0/33")', /network address parse error during conversion from string: .*prefix length out of range/);
    assert.equal(CIDR.parse('fd00::/8').masked().toString(), 'fd00::/8');
  });
});

describe('regex, lists, strings, sets', () => {
  test('matches as a global function and a method', () => {
    t('matches("v1.3.2", "v1.[0-3].\\\\d+") && !matches("v1.5.0", "v1.[0-3].\\\\d+") && "abc".matches("b")');
  });

  test('find and findAll', () => {
    assert.equal(run('"abc 123".find("[0-9]+")'), '123');
    assert.equal(run('"abc".find("[0-9]+")'), '');
    assert.deepEqual(run('"123 abc 456".findAll("[0-9]+")'), ['123', '456']);
    assert.deepEqual(run('"123 abc 456".findAll("[0-9]+", 1)'), ['123']);
  });

  test('list library: sum, min, max, indexOf, lastIndexOf, isSorted', () => {
    assert.equal(run('[1, 2, 3].sum()'), 6n);
    assert.equal(run('[1.5, 2.5].sum()'), 4);
    assert.equal(run('[].sum()'), 0n);
    assert.equal(run('[3, 1, 2].min()'), 1n);
    assert.equal(run('["b", "c", "a"].max()'), 'c');
    assert.equal(run('[1, 2, 3, 2].indexOf(2)'), 1n);
    assert.equal(run('[1, 2, 3, 2].lastIndexOf(2)'), 3n);
    assert.equal(run('[1, 2].indexOf(5)'), -1n);
    t('[1, 2, 2, 3].isSorted() && !["b", "a"].isSorted() && [].isSorted()');
    t('self.replicas.sum() <= 10', { replicas: [3n, 4n] });
    throwsAt('[].min()', /min called on empty list/);
  });

  test('string extensions', () => {
    assert.equal(run('"hello".charAt(1)'), 'e');
    assert.equal(run('"hello".charAt(5)'), '');
    assert.equal(run('"a-b-c".replace("-", "+")'), 'a+b+c');
    assert.equal(run('"a-b-c".replace("-", "+", 1)'), 'a+b-c');
    assert.equal(run('"abc".reverse()'), 'cba');
    assert.equal(run('"%s has %d items (%.2f)".format([dyn("x"), dyn(3), dyn(1.5)])'), 'x has 3 items (1.50)');
    // List literals are homogeneous (upstream's base environment): mixed types need dyn().
    assert.throws(() => compileCel('"%s %d".format(["x", 3])'), /same type/);
    assert.equal(run('strings.quote("a\\"b")'), '"a\\"b"');
    assert.equal(run('"ABC".lowerAscii() + " " + "a,b".split(",").join("|") + " " + "  t ".trim()'), 'abc a|b t');
  });

  test('format library: named formats validate with upstream messages', () => {
    f('format.dns1123Label().validate("my-name").hasValue()');
    assert.deepEqual(run('format.dns1123Label().validate("My_Name").value()'), [
      "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    f('format.dns1123LabelPrefix().validate("prefix-").hasValue()');
    t('format.named("labelValue").hasValue() && !format.named("nope").hasValue()');
    f('format.named("qualifiedName").value().validate("example.com/name").hasValue()');
    f('format.uuid().validate("123e4567-e89b-12d3-a456-426614174000").hasValue()');
    assert.deepEqual(run('format.uuid().validate("nope").value()'), ['does not match the UUID format']);
    assert.deepEqual(run('format.uri().validate("nope").value()'), ['parse "nope": invalid URI for request']);
    t('format.datetime().validate("x").hasValue() && !format.date().validate("2024-02-29").hasValue()');
  });

  test('semver library (upstream examples)', () => {
    assert.equal(run('semver("1.2.3").major()'), 1n);
    assert.equal(run('semver("1.2.3").compareTo(semver("1.2.3"))'), 0n);
    assert.equal(run('semver("1.2.3").compareTo(semver("2.0.0"))'), -1n);
    assert.equal(run('semver("1.2.3").compareTo(semver("0.1.2"))'), 1n);
    t('semver("1.0.0-alpha").isLessThan(semver("1.0.0-alpha.1")) && semver("1.0.0-rc.1").isLessThan(semver("1.0.0"))');
    t('isSemver("1.0.0") && !isSemver("hello") && !isSemver("v1.0") && isSemver("v1.0", true)');
    t('semver("v1.0", true) == semver("1.0.0") && semver("01.01.01", true) == semver("1.1.1")');
    throwsAt('semver("200K")', /No Major.Minor.Patch elements found/);
    throwsAt('semver("1.02.3")', /Minor number must not contain leading zeroes "02"/);
  });

  test('image library (upstream examples)', () => {
    const d = 'sha256:6aefddb645ee6963afd681b1845c661d0ea4c3b20ab9db86d9e753b203d385f2';
    assert.equal(run('image("kube-apiserver-arm64:testtag").registry()'), 'index.docker.io');
    assert.equal(run('image("registry.k8s.io/kube-apiserver-arm64:latest").registry()'), 'registry.k8s.io');
    assert.equal(run('image("registry.k8s.io/kube-apiserver-arm64").repository()'), 'kube-apiserver-arm64');
    assert.equal(run('image("nginx").repository()'), 'library/nginx');
    assert.equal(run('image("registry.k8s.io/kube-apiserver-arm64").tag()'), 'latest');
    assert.equal(run('image("registry.k8s.io/kube-apiserver-arm64:testtag").identifier()'), 'testtag');
    assert.equal(run(`image("registry.k8s.io/kube-apiserver-arm64:latest@${d}").identifier()`), d);
    t(`image("registry.k8s.io/kube-apiserver-arm64@${d}").containsDigest() && !image("nginx:1.27").containsDigest()`);
    t('isImage("nginx") && isImage("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1") && !isImage("registry.k8s.io//kube-apiserver-arm64")');
    throwsAt('image("registry.k8s.io//x")', /could not parse reference: registry.k8s.io\/\/x/);
  });

  test('two-variable comprehensions over lists and maps', () => {
    const self = { m: { a: 1n, b: 2n }, l: ['x', 'yy'] };
    t('self.m.all(k, v, v > 0) && !self.m.all(k, v, v > 1)', self);
    t('self.m.exists(k, v, k == "b" && v == 2) && self.l.existsOne(i, v, v == "x")', self);
    t('self.l.all(i, v, size(v) == i + 1)', self);
    assert.deepEqual(run('self.l.transformList(i, v, v + string(i))', self), ['x0', 'yy1']);
    assert.deepEqual(run('self.l.transformList(i, v, i > 0, v)', self), ['yy']);
    assert.deepEqual(run('self.m.transformMap(k, v, v * 2)', self), { a: 2n, b: 4n });
    t('self.l.transformMap(i, v, size(v))[1] == 2', self);
    t('[1, 2].all(x, x > 0)');
  });

  test('has() on any selection (not only identifier chains); string literals untouched', () => {
    const self = [{ matches: [1n], x: { y: 1n } }, {}];
    t('has(self[0].matches) && !has(self[1].matches) && has(self[0].x.y)', self);
    t('"has(x)" == "has(x)" && \'has(\' + "y" == "has(y"');
    assert.throws(() => run('has(self[5].x)', self), /index out of bounds/);
    // An optional compared with null is false (heterogeneous equality).
    t('format.dns1123Label().validate("abc") != null');
  });

  test('conversions: string(duration), string(timestamp), int(timestamp)', () => {
    assert.equal(run('string(duration("1h"))'), '3600s');
    assert.equal(run('string(duration("1.5s"))'), '1.5s');
    assert.equal(run('string(timestamp("2024-01-01T00:00:00Z"))'), '2024-01-01T00:00:00Z');
    assert.equal(run('string(timestamp("2024-01-01T00:00:00.5Z"))'), '2024-01-01T00:00:00.5Z');
    assert.equal(run('int(timestamp("2024-01-01T00:00:00Z"))'), 1704067200n);
  });

  test('sets', () => {
    t('sets.contains([1, 2, 3], [1, 3]) && !sets.contains([1], [2])');
    t('sets.equivalent([1, 2], [2, 1, 1]) && !sets.equivalent([1], [1, 2])');
    t('sets.intersects([1, 2], [2, 3]) && !sets.intersects([1], [3])');
  });

  test('unknown functions and wrong arguments fail to compile', () => {
    assert.throws(() => compileCel('self.x.nope()'), /found no matching overload/);
    assert.throws(() => compileCel('quantity(1)'), /found no matching overload/);
    assert.throws(() => compileCel('self.a <= '), /./);
  });
});
