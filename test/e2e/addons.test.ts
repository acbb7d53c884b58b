/**
 * EKS's default add-ons and the EKS add-on API end to end, with the real aws
 * CLI and kubectl against one in-process localeks (fast timing profile):
 *  - a new cluster with a node group of 3 m5.large has the aws-node and
 *    kube-proxy DaemonSets 3/3, the coredns Deployment 2/2 and the kube-dns
 *    Service at .10 of the service CIDR, with the EKS ECR images of the
 *    default add-on versions; `kubectl rollout status ds/aws-node` succeeds;
 *  - the kube-dns Endpoints and EndpointSlice list the coredns pods;
 *  - every namespace has kube-root-ca.crt; the coredns PDB has real numbers;
 *  - CreateAddon / UpdateAddon / DeleteAddon change those objects, and the
 *    add-on health reports DEGRADED while its pods cannot run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsCliEnv, awsJson, runAws } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
let kc: string;
const tmp = mkdtempSync(join(tmpdir(), 'addons-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);
const subnets: string[] = [];
let version = '';
let serviceCidr = '';

async function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

/** Jumps simulated time forward (grace periods of replaced pods). */
async function advance(seconds: number): Promise<void> {
  const r = await fetch(`${ep}/_localeks/clock/advance?seconds=${seconds}`, { method: 'POST' });
  assert.equal(r.status, 200);
}

async function kubectlJson(args: string[]): Promise<any> {
  const r = await kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('EKS default add-ons and the add-on API with kubectl and the aws CLI', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true });
    ep = srv.awsEndpoint;
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.70.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    for (const [i, az] of azs.entries()) {
      subnets.push((await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.70.${i}.0/24`, '--availability-zone', az)).Subnet.SubnetId);
    }
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'ad-cluster', '--assume-role-policy-document', trust)).Role.Arn;
    const nodeRole = (await aws('iam', 'create-role', '--role-name', 'ad-node', '--assume-role-policy-document', trust)).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'ad', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`);
    const c = await waitFor(async () => {
      const d = (await aws('eks', 'describe-cluster', '--name', 'ad')).cluster;
      return d.status === 'ACTIVE' ? d : undefined;
    }, { what: 'cluster ACTIVE' });
    version = c.version;
    serviceCidr = c.kubernetesNetworkConfig.serviceIpv4Cidr;
    kc = join(tmp, 'kubeconfig');
    const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'ad', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
    // The first request bootstraps the cluster's API (and with it the default add-ons).
    assert.equal((await kubectl(['get', 'ns'])).code, 0);
    await aws(
      'eks', 'create-nodegroup', '--cluster-name', 'ad', '--nodegroup-name', 'workers', '--node-role', nodeRole, '--subnets', ...subnets,
      '--scaling-config', 'minSize=1,maxSize=5,desiredSize=3', '--instance-types', 'm5.large',
    );
    await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', 'ad', '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: 'node group ACTIVE' });
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('aws-node and kube-proxy run 3/3, coredns 2/2, with the default versions\' EKS ECR images', async () => {
    const ds = await waitFor(async () => {
      const l = (await kubectlJson(['get', 'ds', '-n', 'kube-system'])).items;
      return l.length === 2 && l.every((d: any) => d.status.numberReady === 3 && d.status.numberAvailable === 3 && d.status.updatedNumberScheduled === 3) ? l : undefined;
    }, { what: 'aws-node and kube-proxy 3/3' });
    assert.deepEqual(ds.map((d: any) => d.metadata.name).sort(), ['aws-node', 'kube-proxy']);
    const versions = (await aws('eks', 'describe-addon-versions', '--kubernetes-version', version)).addons;
    const dflt = (name: string) => versions.find((a: any) => a.addonName === name).addonVersions.find((v: any) => v.compatibilities[0].defaultVersion).addonVersion;
    const awsNode = ds.find((d: any) => d.metadata.name === 'aws-node');
    const main = awsNode.spec.template.spec.containers.find((c: any) => c.name === 'aws-node');
    assert.equal(main.image, `602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni:${dflt('vpc-cni')}`);
    assert.equal(main.env.find((e: any) => e.name === 'WARM_ENI_TARGET').value, '1');
    assert.equal(main.env.find((e: any) => e.name === 'CLUSTER_NAME').value, 'ad');
    const kp = ds.find((d: any) => d.metadata.name === 'kube-proxy');
    assert.equal(kp.spec.template.spec.containers[0].image, `602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:${dflt('kube-proxy').replace('-eksbuild', '-minimal-eksbuild')}`);
    const table = await kubectl(['get', 'ds', '-n', 'kube-system']);
    assert.match(table.stdout, /aws-node\s+3\s+3\s+3\s+3\s+3/);
    const rs = await kubectl(['rollout', 'status', 'ds/aws-node', '-n', 'kube-system', '--timeout=60s']);
    assert.equal(rs.code, 0, rs.stderr);
    assert.match(rs.stdout, /daemon set "aws-node" successfully rolled out/);
    // Daemon pods: one per node, pinned with matchFields, hostNetwork (pod IP = node IP).
    const pods = (await kubectlJson(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node'])).items;
    assert.equal(new Set(pods.map((p: any) => p.spec.nodeName)).size, 3);
    for (const p of pods) {
      assert.equal(p.status.podIP, p.status.hostIP);
      assert.deepEqual(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values, [p.spec.nodeName]);
    }
    const dns = await waitFor(async () => {
      const d = await kubectlJson(['get', 'deploy', 'coredns', '-n', 'kube-system']);
      return d.status.readyReplicas === 2 ? d : undefined;
    }, { what: 'coredns 2/2' });
    assert.equal(dns.spec.template.spec.containers[0].image, `602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/coredns:${dflt('coredns')}`);
    const svc = await kubectlJson(['get', 'svc', 'kube-dns', '-n', 'kube-system']);
    assert.equal(svc.spec.clusterIP, serviceCidr.replace(/\.0\/\d+$/, '.10'));
    // Custom networking's ENIConfig CRD comes with the VPC CNI.
    const eni = await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: 'us-east-1a' }, spec: { subnet: subnets[0], securityGroups: ['sg-0123456789abcdef0'] } }));
    assert.equal(eni.code, 0, eni.stderr);
    assert.equal((await kubectlJson(['get', 'eniconfigs'])).items[0].spec.subnet, subnets[0]);
    const revs = (await kubectlJson(['get', 'controllerrevisions', '-n', 'kube-system'])).items;
    assert.ok(revs.some((r: any) => r.metadata.name.startsWith('aws-node-') && r.revision === 1));
  });

  it('kubectl set env ds/aws-node rolls the DaemonSet out with a new revision', async () => {
    const r = await kubectl(['set', 'env', 'ds/aws-node', '-n', 'kube-system', 'WARM_IP_TARGET=2']);
    assert.equal(r.code, 0, r.stderr);
    // Old pods take their 10 s grace period (simulated): jump over them.
    await waitFor(async () => {
      await advance(10);
      const d = await kubectlJson(['get', 'ds', 'aws-node', '-n', 'kube-system']);
      return d.status.observedGeneration === d.metadata.generation && d.status.updatedNumberScheduled === 3 && d.status.numberAvailable === 3;
    }, { what: 'aws-node rolled out' });
    const rs = await kubectl(['rollout', 'status', 'ds/aws-node', '-n', 'kube-system', '--timeout=60s']);
    assert.equal(rs.code, 0, rs.stderr);
    const pods = (await kubectlJson(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=aws-node'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.spec.containers.find((c: any) => c.name === 'aws-node').env.find((e: any) => e.name === 'WARM_IP_TARGET')?.value, '2');
    const h = await kubectl(['rollout', 'history', 'ds/aws-node', '-n', 'kube-system']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^2\s/m);
  });
  it('kubectl get endpoints kube-dns lists the coredns pods; the EndpointSlice has conditions, ports by name, targetRef, nodeName and zone', async () => {
    const pods = (await kubectlJson(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    const ep = await waitFor(async () => {
      const e = await kubectlJson(['get', 'endpoints', 'kube-dns', '-n', 'kube-system']);
      return e.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    }, { what: 'kube-dns endpoints with 2 addresses' });
    assert.deepEqual(ep.subsets[0].addresses.map((a: any) => a.ip).sort(), pods.map((p: any) => p.status.podIP).sort());
    assert.deepEqual(ep.subsets[0].ports.map((p: any) => `${p.name}/${p.port}/${p.protocol}`).sort(), ['dns-tcp/53/TCP', 'dns/53/UDP', 'metrics/9153/TCP']);
    assert.equal(ep.subsets[0].addresses[0].targetRef.kind, 'Pod');
    const table = await kubectl(['get', 'endpoints', 'kube-dns', '-n', 'kube-system']);
    assert.match(table.stdout, /kube-dns\s+\d+\.\d+\.\d+\.\d+:53,/);
    const slices = (await kubectlJson(['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=kube-dns'])).items;
    assert.equal(slices.length, 1);
    const sl = slices[0];
    assert.equal(sl.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(sl.metadata.ownerReferences[0].kind, 'Service');
    assert.equal(sl.addressType, 'IPv4');
    const st = await kubectl(['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=kube-dns']);
    assert.match(st.stdout, new RegExp(`^${sl.metadata.name}\\s+IPv4\\s+53,53,9153\\s+\\d+\\.`, 'm'), st.stdout);
    assert.equal(sl.endpoints.length, 2);
    for (const e of sl.endpoints) {
      assert.deepEqual(e.conditions, { ready: true, serving: true, terminating: false });
      const p = pods.find((x: any) => x.metadata.name === e.targetRef.name);
      assert.equal(e.nodeName, p.spec.nodeName);
      assert.match(e.zone, /^us-east-1[a-f]$/);
    }
  });

  it('a Service follows its pods: scale up, readiness, deletion', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }] } } } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
        { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } },
      ],
    });
    const applied = await kubectl(['create', '--validate=false', '-f', '-'], manifest);
    assert.equal(applied.code, 0, applied.stderr);
    const ep = await waitFor(async () => {
      const e = await kubectlJson(['get', 'endpoints', 'web']);
      return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
    }, { what: 'web endpoints with 3 addresses' });
    assert.deepEqual(ep.subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const pdb = await waitFor(async () => {
      const b = await kubectlJson(['get', 'pdb', 'web']);
      return b.status?.currentHealthy === 3 ? b : undefined;
    }, { what: 'pdb web 3 healthy' });
    assert.equal(pdb.status.desiredHealthy, 2);
    assert.equal(pdb.status.expectedPods, 3);
    assert.equal(pdb.status.disruptionsAllowed, 1);
    assert.equal(pdb.status.conditions[0].reason, 'SufficientPods');
    const t = await kubectl(['get', 'pdb', 'web']);
    assert.match(t.stdout, /^web\s+2\s+N\/A\s+1\s/m, t.stdout);
    // The coredns PDB (maxUnavailable 1) counts the Deployment's scale.
    const dnsPdb = await waitFor(async () => {
      const b = await kubectlJson(['get', 'pdb', 'coredns', '-n', 'kube-system']);
      return b.status?.expectedPods === 2 ? b : undefined;
    }, { what: 'coredns pdb status' });
    assert.equal(dnsPdb.status.disruptionsAllowed, 1);
    // A budget needing all 3 pods refuses an eviction (429); at minAvailable 2 the eviction goes through.
    const pods = (await kubectlJson(['get', 'pods', '-l', 'app=web'])).items;
    const evict = (name: string) => kubectl(['create', '--raw', `/clusters/ad/api/v1/namespaces/default/pods/${name}/eviction`, '-f', '-'], JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } }));
    assert.equal((await kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":3}}'])).code, 0);
    await waitFor(async () => {
      const b = await kubectlJson(['get', 'pdb', 'web']);
      return b.status.observedGeneration === b.metadata.generation && b.status.disruptionsAllowed === 0 && b.status.conditions[0].reason === 'InsufficientPods';
    }, { what: 'pdb web allows no disruption' });
    const refused = await evict(pods[0].metadata.name);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /disruption budget/i);
    assert.equal((await kubectl(['patch', 'pdb', 'web', '--type=merge', '-p', '{"spec":{"minAvailable":2}}'])).code, 0);
    await waitFor(async () => {
      const b = await kubectlJson(['get', 'pdb', 'web']);
      return b.status.observedGeneration === b.metadata.generation && b.status.disruptionsAllowed === 1;
    }, { what: 'pdb web allows one disruption' });
    const first = await evict(pods[0].metadata.name);
    assert.equal(first.code, 0, first.stderr);
    // The endpoints drop the evicted pod, then follow the replacement.
    await waitFor(async () => {
      const e = await kubectlJson(['get', 'endpoints', 'web']);
      const ips = (e.subsets?.[0]?.addresses ?? []).map((a: any) => a.targetRef.name);
      return ips.length === 3 && !ips.includes(pods[0].metadata.name);
    }, { what: 'endpoints follow the replacement pod' });
    assert.equal((await kubectl(['delete', 'svc', 'web'])).code, 0);
    await waitFor(async () => (await kubectl(['get', 'endpoints', 'web'])).code !== 0, { what: 'endpoints web gone with its service' });
  });

  it('a Service without selector and its own Endpoints gets mirrored EndpointSlices', async () => {
    const m = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external-db' }, spec: { ports: [{ name: 'pg', port: 5432 }] } },
        { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external-db' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ name: 'pg', port: 5432 }] }] },
      ],
    });
    const c = await kubectl(['create', '--validate=false', '-f', '-'], m);
    assert.equal(c.code, 0, c.stderr);
    const sl = await waitFor(async () => (await kubectlJson(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=external-db'])).items[0], { what: 'mirrored slice' });
    assert.equal(sl.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslicemirroring-controller.k8s.io');
    assert.deepEqual(sl.endpoints.map((e: any) => e.addresses[0]), ['192.0.2.10']);
    assert.equal(sl.metadata.ownerReferences[0].kind, 'Endpoints');
    // The user's Endpoints are left as they are.
    assert.deepEqual((await kubectlJson(['get', 'endpoints', 'external-db'])).subsets[0].addresses, [{ ip: '192.0.2.10' }]);
  });

  it('every namespace has kube-root-ca.crt with the cluster CA and a default ServiceAccount; deleted ones come back', async () => {
    const c = (await aws('eks', 'describe-cluster', '--name', 'ad')).cluster;
    const pem = Buffer.from(c.certificateAuthority.data, 'base64').toString();
    assert.equal((await kubectl(['create', 'ns', 'team-a'])).code, 0);
    const cm = await waitFor(async () => {
      const r = await kubectl(['get', 'cm', 'kube-root-ca.crt', '-n', 'team-a', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, { what: 'kube-root-ca.crt in team-a' });
    assert.equal(cm.data['ca.crt'], pem);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.equal((await kubectl(['get', 'cm', 'kube-root-ca.crt', '-n', ns])).code, 0, ns);
    assert.equal((await kubectl(['delete', 'cm', 'kube-root-ca.crt', '-n', 'team-a'])).code, 0);
    await waitFor(async () => (await kubectl(['get', 'cm', 'kube-root-ca.crt', '-n', 'team-a'])).code === 0, { what: 'kube-root-ca.crt re-created' });
    assert.equal((await kubectl(['get', 'sa', 'default', '-n', 'team-a'])).code, 0);
    // A deleted default ServiceAccount comes back too.
    assert.equal((await kubectl(['delete', 'sa', 'default', '-n', 'team-a'])).code, 0);
    await waitFor(async () => (await kubectl(['get', 'sa', 'default', '-n', 'team-a'])).code === 0, { what: 'default ServiceAccount re-created' });
  });
  it('CreateAddon adopts the self-managed vpc-cni (NONE, no conflicts); a changed kube-proxy image fails NONE with ConfigurationConflict and OVERWRITE takes it back', async () => {
    await aws('eks', 'create-addon', '--cluster-name', 'ad', '--addon-name', 'vpc-cni');
    const cni = await waitFor(async () => {
      const a = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'vpc-cni')).addon;
      return a.status === 'ACTIVE' ? a : undefined;
    }, { what: 'vpc-cni ACTIVE' });
    assert.deepEqual(cni.health.issues, []);
    // The user's own env (WARM_IP_TARGET from kubectl set env) survives the adoption.
    const ds = await kubectlJson(['get', 'ds', 'aws-node', '-n', 'kube-system']);
    assert.equal(ds.spec.template.spec.containers[0].env.find((e: any) => e.name === 'WARM_IP_TARGET')?.value, '2');

    const r = await kubectl(['set', 'image', 'ds/kube-proxy', '-n', 'kube-system', 'kube-proxy=registry.example.com/kube-proxy:custom']);
    assert.equal(r.code, 0, r.stderr);
    await aws('eks', 'create-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy', '--resolve-conflicts', 'NONE');
    const failed = await waitFor(async () => {
      const a = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy')).addon;
      return a.status === 'CREATE_FAILED' ? a : undefined;
    }, { what: 'kube-proxy CREATE_FAILED' });
    assert.equal(failed.health.issues[0].code, 'ConfigurationConflict');
    assert.match(failed.health.issues[0].message, /^Conflicts found when trying to apply\. Will not continue due to resolve conflicts mode\. Conflicts:\nDaemonSet\.apps kube-proxy - \.spec\.template\.spec\.containers\[name="kube-proxy"\]\.image/);
    assert.equal((await kubectlJson(['get', 'ds', 'kube-proxy', '-n', 'kube-system'])).spec.template.spec.containers[0].image, 'registry.example.com/kube-proxy:custom');
    await aws('eks', 'delete-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy', '--preserve');
    await waitFor(async () => (await runAws(ep, ['eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy'])).errorCode === 'ResourceNotFoundException', { what: 'kube-proxy add-on deleted' });
    await aws('eks', 'create-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy', '--resolve-conflicts', 'OVERWRITE');
    const kp = await waitFor(async () => {
      const a = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'kube-proxy')).addon;
      return a.status === 'ACTIVE' ? a : undefined;
    }, { what: 'kube-proxy ACTIVE' });
    const img = (await kubectlJson(['get', 'ds', 'kube-proxy', '-n', 'kube-system'])).spec.template.spec.containers[0].image;
    assert.equal(img, `602401143452.dkr.ecr.us-east-1.amazonaws.com/eks/kube-proxy:${kp.addonVersion.replace('-eksbuild', '-minimal-eksbuild')}`);
  });

  it('UpdateAddon changes the image tag and the configuration values of the objects', async () => {
    const versions = (await aws('eks', 'describe-addon-versions', '--addon-name', 'vpc-cni', '--kubernetes-version', version)).addons[0].addonVersions;
    const cur = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'vpc-cni')).addon.addonVersion;
    const other = versions.map((v: any) => v.addonVersion).find((v: string) => v !== cur);
    assert.ok(other, 'a second compatible vpc-cni version');
    const u = (await aws('eks', 'update-addon', '--cluster-name', 'ad', '--addon-name', 'vpc-cni', '--addon-version', other, '--configuration-values', '{"env":{"WARM_PREFIX_TARGET":"2"}}')).update;
    await waitFor(async () => (await aws('eks', 'describe-update', '--name', 'ad', '--addon-name', 'vpc-cni', '--update-id', u.id)).update.status === 'Successful', { what: 'update Successful' });
    const ds = await waitFor(async () => {
      const d = await kubectlJson(['get', 'ds', 'aws-node', '-n', 'kube-system']);
      return d.spec.template.spec.containers[0].image.endsWith(`:${other}`) ? d : undefined;
    }, { what: 'aws-node at the new version' });
    const env = ds.spec.template.spec.containers[0].env;
    assert.equal(env.find((e: any) => e.name === 'WARM_PREFIX_TARGET').value, '2');
    assert.equal(env.find((e: any) => e.name === 'VPC_CNI_VERSION').value, other);
    assert.equal(ds.spec.template.spec.initContainers[0].image, `602401143452.dkr.ecr.us-east-1.amazonaws.com/amazon-k8s-cni-init:${other}`);
  });

  it('an add-on whose pods cannot run is DEGRADED (InsufficientNumberOfReplicas), ACTIVE again once they run', async () => {
    await aws('eks', 'create-addon', '--cluster-name', 'ad', '--addon-name', 'coredns', '--resolve-conflicts', 'OVERWRITE', '--configuration-values', '{"nodeSelector":{"pool":"nowhere"}}');
    const degraded = await waitFor(async () => {
      await advance(15);
      const a = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'coredns')).addon;
      return a.status === 'DEGRADED' ? a : undefined;
    }, { what: 'coredns DEGRADED' });
    assert.equal(degraded.health.issues[0].code, 'InsufficientNumberOfReplicas');
    assert.deepEqual(degraded.health.issues[0].resourceIds, ['coredns']);
    await aws('eks', 'update-addon', '--cluster-name', 'ad', '--addon-name', 'coredns', '--configuration-values', '{}');
    await waitFor(async () => {
      await advance(15);
      const a = (await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'coredns')).addon;
      return a.status === 'ACTIVE' && a.health.issues.length === 0;
    }, { what: 'coredns ACTIVE again' });
  });

  it('UpdateAddon with NONE fails on a field changed on the cluster (ConfigurationConflict); PRESERVE keeps it', async () => {
    assert.equal((await kubectl(['scale', 'deploy/coredns', '-n', 'kube-system', '--replicas=3'])).code, 0);
    const u = (await aws('eks', 'update-addon', '--cluster-name', 'ad', '--addon-name', 'coredns', '--configuration-values', '{"podLabels":{"team":"dns"}}', '--resolve-conflicts', 'NONE')).update;
    const failed = await waitFor(async () => {
      const x = (await aws('eks', 'describe-update', '--name', 'ad', '--addon-name', 'coredns', '--update-id', u.id)).update;
      return x.status !== 'InProgress' ? x : undefined;
    }, { what: 'update done' });
    assert.equal(failed.status, 'Failed');
    assert.equal(failed.errors[0].errorCode, 'ConfigurationConflict');
    assert.match(failed.errors[0].errorMessage, /Deployment\.apps coredns - \.spec\.replicas/);
    assert.equal((await aws('eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'coredns')).addon.configurationValues, '{}');
    const p = (await aws('eks', 'update-addon', '--cluster-name', 'ad', '--addon-name', 'coredns', '--configuration-values', '{"podLabels":{"team":"dns"}}', '--resolve-conflicts', 'PRESERVE')).update;
    await waitFor(async () => (await aws('eks', 'describe-update', '--name', 'ad', '--addon-name', 'coredns', '--update-id', p.id)).update.status === 'Successful', { what: 'PRESERVE update Successful' });
    const d = await waitFor(async () => {
      const x = await kubectlJson(['get', 'deploy', 'coredns', '-n', 'kube-system']);
      return x.spec.template.metadata.labels.team === 'dns' ? x : undefined;
    }, { what: 'coredns pod label applied' });
    assert.equal(d.spec.replicas, 3);
  });

  it('DeleteAddon --preserve keeps the objects; without it they are removed', async () => {
    await aws('eks', 'delete-addon', '--cluster-name', 'ad', '--addon-name', 'coredns', '--preserve');
    await waitFor(async () => (await runAws(ep, ['eks', 'describe-addon', '--cluster-name', 'ad', '--addon-name', 'coredns'])).errorCode === 'ResourceNotFoundException', { what: 'coredns add-on deleted' });
    assert.equal((await kubectl(['get', 'deploy', 'coredns', '-n', 'kube-system'])).code, 0);
    await aws('eks', 'delete-addon', '--cluster-name', 'ad', '--addon-name', 'vpc-cni');
    await waitFor(async () => (await kubectl(['get', 'ds', 'aws-node', '-n', 'kube-system'])).code !== 0, { what: 'aws-node removed' });
    assert.notEqual((await kubectl(['get', 'sa', 'aws-node', '-n', 'kube-system'])).code, 0);
    assert.equal((await kubectl(['get', 'ds', 'kube-proxy', '-n', 'kube-system'])).code, 0);
  });

  it('bootstrapSelfManagedAddons=false: a cluster without the default add-ons', async () => {
    const role = (await aws('iam', 'get-role', '--role-name', 'ad-cluster')).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'bare', '--role-arn', role, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`, '--no-bootstrap-self-managed-addons');
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'bare')).cluster.status === 'ACTIVE', { what: 'cluster bare ACTIVE' });
    const bkc = join(tmp, 'kubeconfig-bare');
    assert.equal((await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'bare', '--kubeconfig', bkc])).code, 0);
    const r = await runProcess('kubectl', ['--kubeconfig', bkc, '--cache-dir', join(tmp, 'cache'), 'get', 'ds,deploy,svc', '-n', 'kube-system', '-o', 'json'], { env: awsCliEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).items, []);
  });
});
