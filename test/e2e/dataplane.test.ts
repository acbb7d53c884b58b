/**
 * The simulated data plane end to end with the real aws CLI and kubectl
 * (kubeconfig from `aws eks update-kubeconfig`, token from `aws eks
 * get-token`), against one in-process localeks (fast timing profile,
 * reference checks on so node groups launch real simulated EC2 instances):
 *  - a node group of 3 m5.large registers 3 Ready nodes with the EKS labels,
 *    providerID and `pods` allocatable 29;
 *  - a Pod is scheduled and runs with an IP inside the node's subnet;
 *  - a Pod asking for 100 CPUs stays Pending with the scheduler's
 *    FailedScheduling event "0/3 nodes are available: 3 Insufficient cpu.";
 *  - a deleted Pod goes away; the subnet loses no address;
 *  - scaling the node group down removes the terminated instance's Node.
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
const tmp = mkdtempSync(join(tmpdir(), 'dataplane-e2e-'));
const aws = (...args: string[]) => awsJson(ep, args);
const subnets: string[] = [];
const cidrs = new Map<string, string>();

async function kubectl(args: string[], input?: string) {
  return runProcess('kubectl', ['--kubeconfig', kc, '--cache-dir', join(tmp, 'cache'), ...args], { env: awsCliEnv(), input });
}

async function kubectlJson(args: string[]): Promise<any> {
  const r = await kubectl([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = (s: string) => s.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(n(ip) / size) === Math.floor(n(base!) / size);
}

const pod = (name: string, cpu?: string) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'app', image: 'public.ecr.aws/nginx/nginx:1.27', ...(cpu ? { resources: { requests: { cpu } } } : {}) }] },
  });

describe('data plane: nodes, scheduler and kubelets with kubectl', () => {
  before(async () => {
    srv = await startTestServer({ referenceChecks: true });
    ep = srv.awsEndpoint;
    const vpc = (await aws('ec2', 'create-vpc', '--cidr-block', '10.60.0.0/16')).Vpc.VpcId;
    const azs = (await aws('ec2', 'describe-availability-zones')).AvailabilityZones.map((z: any) => z.ZoneName).slice(0, 2);
    for (const [i, az] of azs.entries()) {
      const s = (await aws('ec2', 'create-subnet', '--vpc-id', vpc, '--cidr-block', `10.60.${i}.0/24`, '--availability-zone', az)).Subnet;
      subnets.push(s.SubnetId);
      cidrs.set(s.SubnetId, s.CidrBlock);
    }
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: ['eks.amazonaws.com', 'ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' }] });
    const clusterRole = (await aws('iam', 'create-role', '--role-name', 'dp-cluster', '--assume-role-policy-document', trust)).Role.Arn;
    const nodeRole = (await aws('iam', 'create-role', '--role-name', 'dp-node', '--assume-role-policy-document', trust)).Role.Arn;
    await aws('eks', 'create-cluster', '--name', 'dp', '--role-arn', clusterRole, '--resources-vpc-config', `subnetIds=${subnets.join(',')}`);
    await waitFor(async () => (await aws('eks', 'describe-cluster', '--name', 'dp')).cluster.status === 'ACTIVE', { what: 'cluster ACTIVE' });
    await aws(
      'eks', 'create-nodegroup', '--cluster-name', 'dp', '--nodegroup-name', 'workers', '--node-role', nodeRole, '--subnets', ...subnets,
      '--scaling-config', 'minSize=1,maxSize=5,desiredSize=3', '--instance-types', 'm5.large', '--labels', 'team=data',
    );
    await waitFor(async () => (await aws('eks', 'describe-nodegroup', '--cluster-name', 'dp', '--nodegroup-name', 'workers')).nodegroup.status === 'ACTIVE', { what: 'node group ACTIVE' });
    kc = join(tmp, 'kubeconfig');
    const u = await runAws(ep, ['eks', 'update-kubeconfig', '--name', 'dp', '--kubeconfig', kc]);
    assert.equal(u.code, 0, u.stderr);
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('kubectl get nodes: 3 Ready m5.large nodes with the EKS labels and 29 pods allocatable', async () => {
    const nodes = await waitFor(
      async () => {
        const l = await kubectlJson(['get', 'nodes']);
        const ready = l.items.filter((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
        return ready.length === 3 ? l.items : undefined;
      },
      { what: '3 Ready nodes' },
    );
    const instances = (await aws('ec2', 'describe-instances', '--filters', 'Name=tag:eks:nodegroup-name,Values=workers', 'Name=instance-state-name,Values=running')).Reservations.flatMap((r: any) => r.Instances);
    assert.equal(instances.length, 3);
    for (const n of nodes) {
      const i = instances.find((x: any) => x.PrivateDnsName === n.metadata.name);
      assert.ok(i, `node ${n.metadata.name} is an instance's private DNS name`);
      const l = n.metadata.labels;
      assert.equal(l['eks.amazonaws.com/nodegroup'], 'workers');
      assert.equal(l['eks.amazonaws.com/capacityType'], 'ON_DEMAND');
      assert.equal(l['eks.amazonaws.com/nodegroup-image'], i.ImageId);
      assert.equal(l['node.kubernetes.io/instance-type'], 'm5.large');
      assert.equal(l['topology.kubernetes.io/region'], 'us-east-1');
      assert.equal(l['topology.kubernetes.io/zone'], i.Placement.AvailabilityZone);
      assert.equal(l['kubernetes.io/arch'], 'amd64');
      assert.equal(l['kubernetes.io/os'], 'linux');
      assert.equal(l['kubernetes.io/hostname'], n.metadata.name);
      assert.equal(l.team, 'data');
      assert.equal(n.spec.providerID, `aws:///${i.Placement.AvailabilityZone}/${i.InstanceId}`);
      assert.equal(n.status.allocatable.pods, '29');
      assert.equal(n.status.allocatable.cpu, '1930m');
      assert.deepEqual(n.status.addresses.map((a: any) => a.type), ['InternalIP', 'InternalDNS', 'Hostname']);
      assert.equal(n.status.addresses[0].address, i.PrivateIpAddress);
      assert.match(n.status.nodeInfo.kubeletVersion, /^v1\.\d+\.\d+-eks-[0-9a-f]{7}$/);
    }
    const leases = await waitFor(async () => {
      const l = (await kubectlJson(['get', 'leases', '-n', 'kube-node-lease'])).items;
      return l.length === 3 ? l : undefined;
    }, { what: '3 node leases' });
    assert.deepEqual(leases.map((l: any) => l.spec.holderIdentity).sort(), nodes.map((n: any) => n.metadata.name).sort());
    const table = await kubectl(['get', 'nodes']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout.trim().split('\n').filter((l) => / Ready /.test(l)).length, 3, table.stdout);
  });

  it('a Pod is scheduled and runs with an IP inside its node\'s subnet', async () => {
    const c = await kubectl(['create', '-f', '-'], pod('web'));
    assert.equal(c.code, 0, c.stderr);
    const p = await waitFor(
      async () => {
        const o = await kubectlJson(['get', 'pod', 'web']);
        return o.status.phase === 'Running' && o.status.conditions.some((x: any) => x.type === 'Ready' && x.status === 'True') ? o : undefined;
      },
      { what: 'pod web Running and Ready' },
    );
    const instances = (await aws('ec2', 'describe-instances', '--filters', `Name=private-dns-name,Values=${p.spec.nodeName}`)).Reservations.flatMap((r: any) => r.Instances);
    assert.equal(instances.length, 1);
    const subnet = instances[0].SubnetId;
    assert.ok(inCidr(p.status.podIP, cidrs.get(subnet)!), `${p.status.podIP} in ${cidrs.get(subnet)}`);
    assert.notEqual(p.status.podIP, p.status.hostIP);
    assert.equal(p.status.hostIP, instances[0].PrivateIpAddress);
    const ev = await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=Scheduled']);
    assert.equal(ev.items[0]?.message, `Successfully assigned default/web to ${p.spec.nodeName}`);
    const started = await waitFor(async () => (await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=Started'])).items[0], { what: 'Started event' });
    assert.equal(started.message, 'Started container app');
    assert.equal(started.source.component, 'kubelet');
    assert.equal(started.source.host, p.spec.nodeName);
  });

  it('a Pod asking for 100 CPUs stays Pending with the FailedScheduling event', async () => {
    const c = await kubectl(['create', '-f', '-'], pod('huge', '100'));
    assert.equal(c.code, 0, c.stderr);
    const ev = await waitFor(
      async () => {
        const l = await kubectlJson(['get', 'events', '--field-selector', 'involvedObject.name=huge,reason=FailedScheduling']);
        return l.items[0];
      },
      { what: 'FailedScheduling event' },
    );
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.source.component, 'default-scheduler');
    assert.match(ev.message, /^0\/3 nodes are available: 3 Insufficient cpu\./);
    const p = await kubectlJson(['get', 'pod', 'huge']);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.spec.nodeName, undefined);
    const cond = p.status.conditions.find((x: any) => x.type === 'PodScheduled');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message, ev.message);
    const d = await kubectl(['describe', 'pod', 'huge']);
    assert.match(d.stdout, /FailedScheduling .*0\/3 nodes are available: 3 Insufficient cpu\./);
  });

  it('a deleted Pod goes away after its grace period; its address goes back to the node\'s warm pool', async () => {
    const p = await kubectlJson(['get', 'pod', 'web']);
    const inst = (await aws('ec2', 'describe-instances', '--filters', `Name=private-dns-name,Values=${p.spec.nodeName}`)).Reservations[0].Instances[0];
    const free = async () => (await aws('ec2', 'describe-subnets', '--subnet-ids', inst.SubnetId)).Subnets[0].AvailableIpAddressCount;
    const before = await free();
    const d = await kubectl(['delete', 'pod', 'web', '--grace-period=1', '--wait=false']);
    assert.equal(d.code, 0, d.stderr);
    await waitFor(async () => (await kubectl(['get', 'pod', 'web'])).code !== 0, { what: 'pod web gone' });
    // ipamd keeps the address in the node's warm pool (or gives spare ones back): the subnet never loses any.
    assert.ok((await free()) >= before);
  });

  it('a pod with sim.localeks.io/duration and restartPolicy Never completes', async () => {
    const job = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'once', annotations: { 'sim.localeks.io/duration': '2s' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox' }] },
    });
    assert.equal((await kubectl(['create', '-f', '-'], job)).code, 0);
    const p = await waitFor(async () => {
      const o = await kubectlJson(['get', 'pod', 'once']);
      return o.status.phase === 'Succeeded' ? o : undefined;
    }, { what: 'pod once Succeeded' });
    assert.equal(p.status.containerStatuses[0].state.terminated.reason, 'Completed');
  });

  it('a ReplicaSet keeps its replicas Running and reports them Ready; scaling down removes pods', async () => {
    const rs = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'front' },
      spec: { replicas: 4, selector: { matchLabels: { app: 'front' } }, template: { metadata: { labels: { app: 'front' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    });
    assert.equal((await kubectl(['create', '-f', '-'], rs)).code, 0);
    await waitFor(async () => (await kubectlJson(['get', 'rs', 'front'])).status.readyReplicas === 4, { what: '4 ready replicas' });
    const pods = (await kubectlJson(['get', 'pods', '-l', 'app=front'])).items;
    assert.equal(pods.length, 4);
    for (const p of pods) {
      assert.equal(p.status.phase, 'Running');
      assert.equal(p.metadata.ownerReferences[0].kind, 'ReplicaSet');
      assert.ok([...cidrs.values()].some((c) => inCidr(p.status.podIP, c)));
    }
    assert.equal(new Set(pods.map((p: any) => p.status.podIP)).size, 4);
    assert.equal((await kubectl(['scale', 'rs', 'front', '--replicas=1'])).code, 0);
    // The others terminate for their grace period (30 s of simulated time): count the live ones.
    await waitFor(async () => (await kubectlJson(['get', 'pods', '-l', 'app=front'])).items.filter((p: any) => !p.metadata.deletionTimestamp).length === 1, { what: '1 pod left' });
    await waitFor(async () => (await kubectlJson(['get', 'rs', 'front'])).status.replicas === 1, { what: 'status.replicas 1' });
  });

  it('a Deployment rolls out, updates with a rolling update and rolls back (kubectl rollout)', async () => {
    // (kubectl create deployment sends protobuf, which localeks does not read: create it from JSON.)
    const dep = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', labels: { app: 'api' } },
      spec: { replicas: 6, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } },
    };
    const c = await kubectl(['create', '-f', '-'], JSON.stringify(dep));
    assert.equal(c.code, 0, c.stderr);
    const s1 = await kubectl(['rollout', 'status', 'deployment/api', '--timeout=60s']);
    assert.equal(s1.code, 0, s1.stderr);
    assert.match(s1.stdout, /successfully rolled out/);
    const d1 = await kubectlJson(['get', 'deployment', 'api']);
    assert.equal(d1.status.availableReplicas, 6);
    assert.equal(d1.status.updatedReplicas, 6);
    assert.equal(d1.status.conditions.find((c: any) => c.type === 'Progressing').reason, 'NewReplicaSetAvailable');
    const si = await kubectl(['set', 'image', 'deployment/api', 'nginx=nginx:1.27']);
    assert.equal(si.code, 0, si.stderr);
    const s2 = await kubectl(['rollout', 'status', 'deployment/api', '--timeout=60s']);
    assert.equal(s2.code, 0, s2.stderr);
    const rss = (await kubectlJson(['get', 'rs', '-l', 'app=api'])).items;
    assert.equal(rss.length, 2);
    const byRev = Object.fromEntries(rss.map((rs: any) => [rs.metadata.annotations['deployment.kubernetes.io/revision'], rs]));
    assert.equal(byRev['2'].spec.replicas, 6);
    assert.equal(byRev['1'].spec.replicas, 0);
    assert.equal(byRev['2'].spec.template.spec.containers[0].image, 'nginx:1.27');
    const live = (await kubectlJson(['get', 'pods', '-l', 'app=api'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 6);
    for (const p of live) assert.equal(p.spec.containers[0].image, 'nginx:1.27');
    const u = await kubectl(['rollout', 'undo', 'deployment/api']);
    assert.equal(u.code, 0, u.stderr);
    const s3 = await kubectl(['rollout', 'status', 'deployment/api', '--timeout=60s']);
    assert.equal(s3.code, 0, s3.stderr);
    const back = (await kubectlJson(['get', 'rs', '-l', 'app=api'])).items.find((rs: any) => rs.spec.replicas === 6);
    assert.equal(back.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '3');
  });

  it('scaling the Deployment to 70 replicas runs them all with distinct subnet IPs', async () => {
    const sc = await kubectl(['scale', 'deployment/api', '--replicas=70']);
    assert.equal(sc.code, 0, sc.stderr);
    const st = await kubectl(['rollout', 'status', 'deployment/api', '--timeout=90s']);
    assert.equal(st.code, 0, st.stderr);
    const live = (await kubectlJson(['get', 'pods', '-l', 'app=api'])).items.filter((p: any) => !p.metadata.deletionTimestamp);
    assert.equal(live.length, 70);
    assert.equal(new Set(live.map((p: any) => p.status.podIP)).size, 70);
    for (const p of live) assert.ok([...cidrs.values()].some((c) => inCidr(p.status.podIP, c)), p.status.podIP);
    const perNode = new Map<string, number>();
    for (const p of live) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    for (const n of perNode.values()) assert.ok(n <= 29);
  });

  it('scaling the node group down deletes the terminated instance\'s Node', async () => {
    await aws('eks', 'update-nodegroup-config', '--cluster-name', 'dp', '--nodegroup-name', 'workers', '--scaling-config', 'minSize=1,maxSize=5,desiredSize=2');
    await waitFor(async () => (await kubectlJson(['get', 'nodes'])).items.length === 2, { what: '2 nodes', timeoutMs: 60_000 });
  });
});
