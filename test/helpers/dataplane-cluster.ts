/**
 * One EKS cluster with a managed node group, made with the real aws CLI, and
 * kubectl on its kubeconfig (`aws eks update-kubeconfig`), for the data
 * plane end-to-end files (test/e2e/dataplane-*.test.ts). One per test file.
 *
 * @example
 *   let dp: DataPlaneCluster;
 *   before(async () => { dp = await startDataPlaneCluster({ name: 'n', cidr: '10.61', nodes: 3 }); });
 *   after(() => dp.stop());
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsCliEnv, awsJson, runAws } from './aws-cli.ts';
import { runProcess } from './exec.ts';
import { startTestServer, type TestServer, waitFor } from './server.ts';

export interface DataPlaneCluster {
  srv: TestServer;
  ep: string;
  kc: string;
  tmp: string;
  clusterName: string;
  subnets: string[];
  cidrs: Map<string, string>;
  nodeRoleArn: string;
  clusterRoleArn: string;
  aws(...args: string[]): Promise<any>;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  kubectlJson(args: string[]): Promise<any>;
  /** Jumps simulated time forward (POST /_localeks/clock/advance). */
  advance(seconds: number): Promise<void>;
  stop(): Promise<void>;
}

export interface DataPlaneClusterOptions {
  name: string;
  /** First two octets of the VPC (e.g. '10.61'); subnets are <cidr>.0.0/24 and <cidr>.1.0/24 unless subnetBits says otherwise. */
  cidr: string;
  nodes: number;
  instanceType?: string;
  /** Subnet prefix length (default 24). */
  subnetPrefix?: number;
  /** Only one subnet (one AZ). */
  oneSubnet?: boolean;
  /** Skip the node group. */
  noNodegroup?: boolean;
  /** --access-config authenticationMode (EKS default otherwise). */
  authenticationMode?: string;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}

export async function startDataPlaneCluster(o: DataPlaneClusterOptions): Promise<DataPlaneCluster> {
  const srv = await startTestServer({ referenceChecks: true });
  const ep = srv.awsEndpoint;
  const tmp = mkdtempSync(join(tmpdir(), `${o.name}-e2e-`));
  const kc = join(tmp, 'kubeconfig');
  const aws = (...args: string[]) => awsJson(ep, args);
  const kubectl = (args: string[], input?: string) => runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
  const kubectlJson = async (args: string[]) => {
    const r = await kubectl([...args, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const subnets: string[] = [];
  const cidrs = new Map<string, string>();
  const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', `${o.cidr}.0.0/16`)).Vpc.VpcId;
  const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
  const prefix = o.subnetPrefix ?? 24;
  for (const [i, az] of azs.entries()) {
    const s = (await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `${o.cidr}.${i}.0/${prefix}`, '--availability-zone', az)).Subnet;
    subnets.push(s.SubnetId);
    cidrs.set(s.SubnetId, s.CidrBlock);
  }
  const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com', 'eks-fargate-pods.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
  const clusterRoleArn = (await aws('iam', 'create-role', '--role-name', `${o.name}-cluster`, '--assume-role-policy-document', trust)).Role.Arn;
  const nodeRoleArn = (await aws('iam', 'create-role', '--role-name', `${o.name}-node`, '--assume-role-policy-document', trust)).Role.Arn;
  await aws('eks', 'create-cluster', '--name', o.name, '--role-arn', clusterRoleArn, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`,
    ...(o.authenticationMode ? ['--access-config', `authenticationMode=${o.authenticationMode}`] : []));
  await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', o.name)).cluster.status === 'ACTIVE', { what: 'cluster ACTIVE' });
  if (!o.noNodegroup) {
    await aws(
      'eks', 'create-nodegroup', '--cluster-name', o.name, '--nodegroup-name', 'workers', '--node-role', nodeRoleArn, '--subnets', ...(o.oneSubnet ? subnets.slice(0, 1) : subnets),
      '--scaling-config', `minSize=0,maxSize=10,desiredSize=${o.nodes}`, '--instance-types', o.instanceType ?? 'm5.large',
    );
    await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', o.name, '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: 'node group ACTIVE' });
  }
  const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', o.name, '--kubeconfig', kc]);
  assert.equal(u.code, 0, u.stderr);
  if (!o.noNodegroup) {
    await waitFor(async () => {
      const l = await kubectlJson(['get', 'nodes']);
      return l.items.filter((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True')).length === o.nodes;
    }, { what: `${o.nodes} Ready nodes` });
  }
  return {
    srv, ep, kc, tmp, clusterName: o.name, subnets, cidrs, nodeRoleArn, clusterRoleArn, aws, kubectl, kubectlJson,
    async advance(seconds: number) {
      const r = await fetch(`${ep}/_localeks/clock/advance?seconds=${seconds}`, { method: 'POST' });
      assert.equal(r.status, 200, await r.text());
    },
    async stop() {
      await srv.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
