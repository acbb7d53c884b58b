/**
 * `localeks backup` end to end, with the real bin/localeks, the aws CLI and
 * kubectl against one in-process server with two EKS clusters (each with a
 * node group, so pods run):
 *  - a namespace with a Deployment, a Service and a ConfigMap is backed up
 *    from cluster A and restored into cluster B: the Deployment runs there
 *    with pods recreated by B's controllers (owned by a new ReplicaSet), the
 *    Service gets a ClusterIP from B's service CIDR, the ConfigMap is equal,
 *    restored objects carry the backup and restore labels;
 *  - restoring again leaves existing objects alone (counted, no failure);
 *  - --namespace-mappings restores into another namespace of cluster A;
 *  - list, describe, export to a file and import, delete, and the errors
 *    (unknown cluster or backup, bad selector, a name taken, a file that is
 *    not a backup) with the CLI's exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const tmp = mkdtempSync(join(tmpdir(), 'backup-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);
const kc = (c: string) => join(tmp, `kubeconfig-${c}`);

function localeks(args: string[]) {
  const env = { ...process.env };
  delete env.LOCALEKS_ENDPOINT;
  delete env.AWS_ENDPOINT_URL;
  return runProcess('./bin/localeks', [...args, '--endpoint-url', ep], { env });
}

function kubectl(cluster: string, args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc(cluster), '--cache-dir', join(tmp, `cache-${cluster}`), ...args], { env: awsCliEnv(), input });
}

async function kubectlJson(cluster: string, args: string[]): Promise<any> {
  const r = await kubectl(cluster, [...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const manifests = (ns: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: 'shop' } } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { color: 'blue', size: 'L' } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', envFrom: [{ configMapRef: { name: 'settings' } }] }] } },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 80 }] } },
    ],
  });

/** Waits until the Deployment's pods run, and returns them. */
async function runningPods(cluster: string, ns: string, n: number): Promise<any[]> {
  return waitFor(
    async () => {
      const pods = (await kubectlJson(cluster, ['get', 'pods', '-n', ns, '-l', 'app=web'])).items;
      return pods.length === n && pods.every((p: any) => p.status?.phase === 'Running') ? pods : undefined;
    },
    { what: `${n} web pods Running in ${cluster}/${ns}`, timeoutMs: 60_000 },
  );
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}

describe('localeks backup: one cluster\'s Kubernetes objects into another', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true });
    ep = srv.awsEndpoint;
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.70.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    const subnets: string[] = [];
    for (const [i, az] of azs.entries()) subnets.push((await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.70.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'bk-cluster', '--assume-role-policy-document', trust)).Role.Arn;
    const nodeRole = (await aws('iam', 'create-role', '--role-name', 'bk-node', '--assume-role-policy-document', trust)).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'a', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`);
    await aws('eks', 'create-cluster', '--name', 'b', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`, '--kubernetes-network-config', 'serviceIpv4Cidr=172.20.0.0/16');
    for (const c of ['a', 'b']) {
      await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', c)).cluster.status === 'ACTIVE', { what: `cluster ${c} ACTIVE` });
      await aws('eks', 'create-nodegroup', '--cluster-name', c, '--nodegroup-name', 'workers', '--node-role', nodeRole, '--subnets', ...subnets, '--scaling-config', 'minSize=1,maxSize=2,desiredSize=1', '--instance-types', 'm5.large');
      const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', c, '--kubeconfig', kc(c)]);
      assert.equal(u.code, 0, u.stderr);
    }
    for (const c of ['a', 'b']) {
      await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', c, '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: `node group of ${c} ACTIVE` });
    }
    const applied = await kubectl('a', ['create', '--validate=false', '-f', '-'], manifests('shop'));
    assert.equal(applied.code, 0, applied.stderr);
    await runningPods('a', 'shop', 2);
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('backs up a namespace of cluster A and restores it into cluster B, where it runs with a new ClusterIP', async () => {
    const created = await localeks(['backup', 'create', 'shop-bk', '--cluster', 'a', '--include-namespaces', 'shop']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^backup shop-bk completed: \d+ items from cluster a/);

    const described = await localeks(['backup', 'describe', 'shop-bk', '--details']);
    assert.equal(described.code, 0, described.stderr);
    for (const line of ['apps/deployments shop/web', 'services shop/web', 'configmaps shop/settings', 'namespaces shop', 'pods shop/web-']) assert.ok(described.stdout.includes(`- ${line}`), `${line} in\n${described.stdout}`);
    assert.doesNotMatch(described.stdout, /- nodes /, 'cluster-scoped objects are not taken with --include-namespaces');

    const listed = await localeks(['backup', 'list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^shop-bk\tCompleted\ta\t/m);

    const restored = await localeks(['backup', 'restore', 'shop-bk', '--cluster', 'b', '--restore-name', 'to-b']);
    assert.equal(restored.code, 0, restored.stderr + restored.stdout);
    assert.match(restored.stdout, /restore to-b of backup shop-bk into cluster b: Completed \(\d+ created, \d+ skipped, \d+ already present, 0 failed\)/);

    const podsB = await runningPods('b', 'shop', 2);
    const podsA = (await kubectlJson('a', ['get', 'pods', '-n', 'shop', '-l', 'app=web'])).items;
    const rsB = (await kubectlJson('b', ['get', 'replicasets', '-n', 'shop'])).items;
    assert.equal(rsB.length, 1, 'one ReplicaSet, made by the Deployment controller of B');
    const depB = await kubectlJson('b', ['get', 'deployment', 'web', '-n', 'shop']);
    assert.equal(rsB[0].metadata.ownerReferences[0].uid, depB.metadata.uid);
    for (const p of podsB) {
      assert.equal(p.metadata.ownerReferences[0].uid, rsB[0].metadata.uid, 'pods are owned by the new ReplicaSet');
      assert.ok(!podsA.some((a: any) => a.metadata.uid === p.metadata.uid || a.metadata.name === p.metadata.name), 'pods are recreated, not copied');
    }
    assert.equal(depB.metadata.labels['localeks.dev/backup-name'], 'shop-bk');
    assert.equal(depB.metadata.labels['localeks.dev/restore-name'], 'to-b');

    const svcA = await kubectlJson('a', ['get', 'service', 'web', '-n', 'shop']);
    const svcB = await kubectlJson('b', ['get', 'service', 'web', '-n', 'shop']);
    assert.ok(inCidr(svcB.spec.clusterIP, '172.20.0.0/16'), `ClusterIP ${svcB.spec.clusterIP} from B's service CIDR`);
    assert.notEqual(svcB.spec.clusterIP, svcA.spec.clusterIP);
    assert.deepEqual(svcB.spec.clusterIPs, [svcB.spec.clusterIP]);

    const cm = await kubectlJson('b', ['get', 'configmap', 'settings', '-n', 'shop']);
    assert.deepEqual(cm.data, { color: 'blue', size: 'L' });
    const ns = await kubectlJson('b', ['get', 'namespace', 'shop']);
    assert.equal(ns.metadata.labels.team, 'shop');
  });

  it('a second restore leaves existing objects alone', async () => {
    const again = await fetch(`${ep}/_localeks/backups/shop-bk/restore`, { method: 'POST', body: JSON.stringify({ cluster: 'b', restoreName: 'again' }) });
    assert.equal(again.status, 200);
    const r = (await again.json()) as any;
    assert.equal(r.phase, 'Completed');
    assert.equal(r.created, 0);
    assert.equal(r.failed, 0);
    assert.ok(r.existing >= 4, JSON.stringify(r.items));
    assert.ok(r.items.some((i: any) => i.resource === 'pods' && i.result === 'skipped' && /ReplicaSet/.test(i.message)));
    await runningPods('b', 'shop', 2);
  });

  it('--namespace-mappings restores into another namespace', async () => {
    const r = await localeks(['backup', 'restore', 'shop-bk', '--cluster', 'a', '--namespace-mappings', 'shop:shop-copy']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await runningPods('a', 'shop-copy', 2);
    const cm = await kubectlJson('a', ['get', 'configmap', 'settings', '-n', 'shop-copy']);
    assert.equal(cm.data.color, 'blue');
    await runningPods('a', 'shop', 2);
  });

  it('errors: unknown cluster or backup, bad selector, a taken name; delete', async () => {
    const noCluster = await localeks(['backup', 'create', 'x', '--cluster', 'nope']);
    assert.equal(noCluster.code, 1);
    assert.match(noCluster.stderr, /no EKS cluster named "nope"/);
    const taken = await localeks(['backup', 'create', 'shop-bk', '--cluster', 'a']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /a backup named "shop-bk" already exists/);
    const badSel = await localeks(['backup', 'create', 'y', '--cluster', 'a', '--selector', 'a in (']);
    assert.equal(badSel.code, 2, badSel.stderr);
    assert.match(badSel.stderr, /invalid selector/);
    const badMap = await localeks(['backup', 'restore', 'shop-bk', '--cluster', 'b', '--namespace-mappings', 'shop']);
    assert.equal(badMap.code, 2, badMap.stderr);
    const noBackup = await localeks(['backup', 'restore', 'nope', '--cluster', 'b']);
    assert.equal(noBackup.code, 1);
    assert.match(noBackup.stderr, /no backup named "nope"/);
    // Export to a file and import under another name (as on another machine).
    const file = join(tmp, 'shop.localeks-backup.json.gz');
    const exported = await localeks(['backup', 'export', 'shop-bk', file]);
    assert.equal(exported.code, 0, exported.stderr);
    const imported = await localeks(['backup', 'import', file, '--name', 'shop-moved']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /imported backup shop-moved \(\d+ items from cluster a\)/);
    assert.equal((await localeks(['backup', 'import', file, '--name', 'shop-moved'])).code, 1, 'the name is taken');
    writeFileSync(join(tmp, 'junk'), 'not a backup');
    const junk = await localeks(['backup', 'import', join(tmp, 'junk')]);
    assert.equal(junk.code, 2);
    assert.match(junk.stderr, /not a localeks backup file/);
    const moved = await localeks(['backup', 'describe', 'shop-moved']);
    assert.match(moved.stdout, /Cluster:\s+a /);

    const del = await localeks(['backup', 'delete', 'shop-bk']);
    assert.equal(del.code, 0, del.stderr);
    const gone = await localeks(['backup', 'describe', 'shop-bk']);
    assert.equal(gone.code, 1);
  });
});
