/**
 * Test harness for the Kubernetes API: a plain HTTP server routing
 * /clusters/<endpointId>/... to createClusterApiServer over a MemoryBackend,
 * a bootstrapped fake cluster, a kubeconfig file for kubectl, and a kubectl
 * runner.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { awsJson } from '../helpers/aws-cli.ts';
import { MemoryBackend } from '../../src/store/memory/memory-backend.ts';
import type { ClusterInfo } from '../../src/kube/types.ts';
import { bootstrapCluster, createClusterApiServer, type ClusterApiServer } from '../../src/kube/apiserver/index.ts';

export interface KubeHarness {
  url: string;
  server: Server;
  api: ClusterApiServer;
  backend: MemoryBackend;
  cluster: ClusterInfo;
  kubeconfig: string;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** kubectl that must succeed: its stdout. */
  ok(args: string[], input?: string): Promise<string>;
  /** kubectl that must fail: its stderr. */
  fails(args: string[], input?: string): Promise<string>;
  close(): Promise<void>;
}

const silent = { info() {}, warn() {}, error(o: unknown) { console.error(o); }, debug() {} };

export async function startKubeHarness(name = 'test'): Promise<KubeHarness> {
  const backend = new MemoryBackend();
  const cluster: ClusterInfo = {
    uid: `uid-${name}`,
    name,
    endpointId: name,
    accountId: '000000000000',
    region: 'us-east-1',
    kubernetesVersion: '1.31',
    platformVersion: 'eks.12',
    status: 'ACTIVE',
    serviceIpv4Cidr: '172.20.0.0/16',
    oidcIssuer: 'https://oidc.eks.us-east-1.amazonaws.com/id/TEST',
    createdAt: new Date().toISOString(),
  };
  await bootstrapCluster(backend, cluster);
  const api = createClusterApiServer({ backend, log: silent });
  const server = createServer((req, res) => {
    const m = /^\/clusters\/([^/?]+)(\/[^?]*)?/.exec(req.url ?? '');
    if (!m || m[1] !== cluster.endpointId) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    void api.handle(cluster, req, res, m[2] || '/');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/clusters/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'localeks-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
    server: ${url}
    insecure-skip-tls-verify: true
contexts:
- name: ${name}
  context:
    cluster: ${name}
    user: admin
current-context: ${name}
users:
- name: admin
  user:
    token: test-token
`,
  );
  const kubectl = (args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => (stdout += d));
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
      p.stdin.end(input ?? '');
    });
  return {
    url,
    server,
    api,
    backend,
    cluster,
    kubeconfig,
    kubectl,
    async ok(args, input) {
      const r = await kubectl(args, input);
      assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async fails(args, input) {
      const r = await kubectl(args, input);
      assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail`);
      return r.stderr;
    },
    async close() {
      api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.close();
    },
  };
}

/**
 * Replaces the exec credential (`aws eks get-token`, run by kubectl on every
 * call) of a kubeconfig written by `aws eks update-kubeconfig` with the token
 * it returns now (valid 15 minutes): the same EKS authentication, without a
 * Python start per kubectl call.
 */
export async function withStaticToken(awsEndpoint: string, kubeconfig: string, clusterName: string): Promise<void> {
  const token: string = (await awsJson(awsEndpoint, ['eks', 'get-token', '--cluster-name', clusterName])).status.token;
  const doc = parseYaml(readFileSync(kubeconfig, 'utf8'));
  for (const u of doc.users ?? []) u.user = { token };
  writeFileSync(kubeconfig, stringifyYaml(doc));
}
