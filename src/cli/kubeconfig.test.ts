import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveCredentials } from './aws-credentials.ts';
import { kubeconfigEntry } from './kubeconfig.ts';

const cluster = { name: 'demo', arn: 'arn:aws:eks:us-east-1:000000000000:cluster/demo', endpoint: 'https://127.0.0.1:6443/clusters/demo', certificateAuthorityData: 'Q0E=' };

test('the exec user is aws eks get-token with the localeks endpoint, as update-kubeconfig writes it', () => {
  const e = kubeconfigEntry(cluster, { region: 'us-east-1', endpointUrl: 'http://127.0.0.1:4566' });
  const exec = e.user.user.exec as any;
  assert.equal(exec.command, 'aws');
  assert.deepEqual(exec.args, ['--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'demo', '--output', 'json']);
  assert.deepEqual(exec.env, [{ name: 'AWS_ENDPOINT_URL', value: 'http://127.0.0.1:4566' }]);
});

test('without any AWS credentials the test credentials stand in, and the exec plugin gets them too', () => {
  const none = resolveCredentials({ HOME: '/nonexistent-home', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' });
  assert.deepEqual(none, { accessKeyId: 'test', secretAccessKey: 'test', defaulted: true });
  const given = resolveCredentials({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 's' });
  assert.equal(given.defaulted, undefined);
  const e = kubeconfigEntry(cluster, { endpointUrl: 'http://127.0.0.1:4566', testCredentials: none.defaulted });
  assert.deepEqual((e.user.user.exec as any).env, [
    { name: 'AWS_ENDPOINT_URL', value: 'http://127.0.0.1:4566' },
    { name: 'AWS_ACCESS_KEY_ID', value: 'test' },
    { name: 'AWS_SECRET_ACCESS_KEY', value: 'test' },
  ]);
  // A named profile keeps its own credentials.
  const p = kubeconfigEntry(cluster, { profile: 'dev', testCredentials: true });
  assert.deepEqual((p.user.user.exec as any).env, [{ name: 'AWS_PROFILE', value: 'dev' }]);
});
