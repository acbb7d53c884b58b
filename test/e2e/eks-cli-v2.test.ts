/**
 * The EKS API with the aws CLI v2 (Debian's awscli package, /usr/bin/aws;
 * .ci/run installs it). The v1 CLI is covered by eks-cli.test.ts; v2 has its
 * own botocore, output defaults and waiters, so the everyday commands run
 * again here: create, wait, describe, list, update-kubeconfig (and kubectl
 * through the kubeconfig it writes), get-token, errors, delete.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { AWS_CLI_V2, awsCliEnv, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const skip = existsSync(AWS_CLI_V2) ? false : `the aws CLI v2 is not installed at ${AWS_CLI_V2} (apt-get install awscli)`;
let srv: TestServer;
let tmp: string;
const v2 = (args: string[]) => runAws(srv.awsEndpoint, args, { cli: AWS_CLI_V2 });

describe('eks with the aws CLI v2', { skip }, () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: false });
    tmp = mkdtempSync(join(tmpdir(), 'eks-cli-v2-'));
  });
  after(async () => {
    await srv?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is really version 2', async () => {
    const r = await v2(['--version']);
    assert.match(r.stdout + r.stderr, /^aws-cli\/2\./);
  });

  it('creates a cluster, waits for it, and kubectl works through update-kubeconfig', async () => {
    const c = await v2(['eks', 'create-cluster', '--name', 'v2', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.json.cluster.status, 'CREATING');
    const w = await v2(['eks', 'wait', 'cluster-active', '--name', 'v2']);
    assert.equal(w.code, 0, w.stderr);
    const d = await v2(['eks', 'describe-cluster', '--name', 'v2']);
    assert.equal(d.json.cluster.status, 'ACTIVE');
    assert.equal(d.json.cluster.endpoint, `${srv.kubeEndpoint}/clusters/v2`);
    const l = await v2(['eks', 'list-clusters']);
    assert.deepEqual(l.json.clusters, ['v2']);

    const kc = join(tmp, 'kubeconfig');
    const u = await v2(['eks', 'update-kubeconfig', '--name', 'v2', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
    const cfg = parseYaml(readFileSync(kc, 'utf8'));
    assert.equal(cfg.users[0].user.exec.command, 'aws');
    const t = await v2(['eks', 'get-token', '--cluster-name', 'v2']);
    assert.match(t.json.status.token, /^k8s-aws-v1\./);
    // kubectl runs the exec plugin (`aws` on PATH) and authenticates with the token.
    const { stdout } = await promisify(execFile)('kubectl', ['--kubeconfig', kc, 'get', 'namespaces', '-o', 'name'], { env: awsCliEnv() });
    assert.match(stdout, /namespace\/kube-system/);
  });

  it('errors carry EKS codes and messages; delete and wait cluster-deleted', async () => {
    const nf = await v2(['eks', 'describe-cluster', '--name', 'ghost']);
    assert.equal(nf.errorCode, 'ResourceNotFoundException');
    assert.equal(nf.errorMessage, 'No cluster found for name: ghost.');
    const dup = await v2(['eks', 'create-cluster', '--name', 'v2', '--role-arn', 'arn:aws:iam::000000000000:role/eks', '--resources-vpc-config', 'subnetIds=subnet-1,subnet-2']);
    assert.equal(dup.errorCode, 'ResourceInUseException');
    assert.equal(dup.errorMessage, 'Cluster already exists with name: v2');
    const del = await v2(['eks', 'delete-cluster', '--name', 'v2']);
    assert.equal(del.code, 0, del.stderr);
    assert.equal(del.json.cluster.status, 'DELETING');
    const gone = await v2(['eks', 'wait', 'cluster-deleted', '--name', 'v2']);
    assert.equal(gone.code, 0, gone.stderr);
  });
});
