/**
 * The eksctl-shaped `localeks` commands run as a user runs them (the
 * bin/localeks child process, not a TTY), against one in-process localeks
 * (fast profile), with the results checked by the aws CLI and kubectl:
 *  - seed 003's `create cluster --managed` and `--fargate` (the default
 *    add-ons as EKS add-ons, CoreDNS on Fargate); a cluster in
 *    existing subnets (`--vpc-public-subnets` / `--vpc-private-subnets`)
 *    with `--auto-kubeconfig`;
 *  - the ClusterConfig in shared/examples (managed node groups, spot, a
 *    Fargate profile, add-ons, IRSA, logging, HA NAT) unchanged;
 *  - invalid configs and flags rejected with exit 2 before anything exists;
 *  - get (table, json, yaml), scale, upgrade, iamserviceaccount,
 *    accessentry, write-kubeconfig, completion;
 *  - a failure midway (exit 5, what was created listed), then `delete
 *    cluster` removing everything; exit 3 for a missing cluster.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { awsCliEnv, awsJson } from '../helpers/aws-cli.ts';
import { runProcess } from '../helpers/exec.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';

const BIN = new URL('../../bin/localeks', import.meta.url).pathname;
const EXAMPLE = new URL('../../../shared/examples/eksctl-cluster.yaml', import.meta.url).pathname;
let srv: TestServer;
const tmp = mkdtempSync(join(tmpdir(), 'cli-eksctl-e2e-'));
const kc = join(tmp, 'kubeconfig');

function env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...awsCliEnv(), HOME: tmp, KUBECONFIG: kc, LOCALEKS_ENDPOINT: srv.awsEndpoint, ...extra };
}

async function cli(args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) {
  return runProcess(process.execPath, [BIN, ...args], { env: env(extra), input });
}

const aws = (args: string[], region = 'us-east-1') => awsJson(srv.awsEndpoint, args, { region });

async function kubectl(args: string[], kubeconfig = kc) {
  return runProcess('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(tmp, 'kcache'), ...args], { env: env() });
}

async function readyNodes(kubeconfig = kc): Promise<any[]> {
  const r = await kubectl(['get', 'nodes', '-o', 'json'], kubeconfig);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).items.filter((n: any) => n.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'));
}

/** The aws CLI v1 prints policy documents decoded; v2 URL-encoded. */
function policyDoc(d: unknown): any {
  return typeof d === 'string' ? JSON.parse(decodeURIComponent(d)) : d;
}

async function counts(region = 'us-east-1') {
  return {
    vpcs: (await aws(['ec2', 'describe-vpcs'], region)).Vpcs.length,
    roles: (await aws(['iam', 'list-roles'])).Roles.length,
    clusters: (await aws(['eks', 'list-clusters'], region)).clusters.length,
  };
}

describe('localeks create/get/delete cluster (eksctl shape)', () => {
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('create cluster --managed: VPC, roles, cluster, 3 Ready nodes, kubeconfig; plain progress lines without escape codes', async () => {
    const r = await cli(['create', 'cluster', '--name', 'my-eks-managed', '--managed', '--nodes', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /\x1b/, 'no escape codes when not a TTY');
    assert.match(r.stderr, /waiting for the control plane/);
    assert.match(r.stderr, /\d of 3 nodes Ready/);
    assert.match(r.stderr, /\[✔\]  EKS cluster "my-eks-managed" in "us-east-1" region is ready/);
    const c = (await aws(['eks', 'describe-cluster', '--name', 'my-eks-managed'])).cluster;
    assert.equal(c.status, 'ACTIVE');
    assert.equal(c.tags['alpha.eksctl.io/cluster-name'], 'my-eks-managed');
    assert.equal(c.accessConfig.authenticationMode, 'API_AND_CONFIG_MAP');
    const vpcs = (await aws(['ec2', 'describe-vpcs', '--filters', 'Name=tag:alpha.eksctl.io/cluster-name,Values=my-eks-managed'])).Vpcs;
    assert.equal(vpcs.length, 1);
    assert.equal(vpcs[0].CidrBlock, '192.168.0.0/16');
    assert.equal(c.resourcesVpcConfig.vpcId, vpcs[0].VpcId);
    const subnets = (await aws(['ec2', 'describe-subnets', '--filters', `Name=vpc-id,Values=${vpcs[0].VpcId}`])).Subnets;
    assert.equal(subnets.length, 4, 'public and private subnets in us-east-1a and us-east-1b');
    const tag = (s: any, k: string) => s.Tags.find((t: any) => t.Key === k)?.Value;
    assert.deepEqual(subnets.filter((s: any) => tag(s, 'kubernetes.io/role/elb') === '1').map((s: any) => s.AvailabilityZone).sort(), ['us-east-1a', 'us-east-1b']);
    assert.deepEqual(subnets.filter((s: any) => tag(s, 'kubernetes.io/role/internal-elb') === '1').map((s: any) => s.CidrBlock).sort(), ['192.168.64.0/19', '192.168.96.0/19']);
    assert.ok(subnets.filter((s: any) => tag(s, 'kubernetes.io/role/elb')).every((s: any) => s.MapPublicIpOnLaunch));
    assert.equal((await aws(['ec2', 'describe-internet-gateways', '--filters', `Name=attachment.vpc-id,Values=${vpcs[0].VpcId}`])).InternetGateways.length, 1);
    assert.equal((await aws(['ec2', 'describe-nat-gateways', '--filter', `Name=vpc-id,Values=${vpcs[0].VpcId}`])).NatGateways.length, 1, 'a single NAT gateway by default');
    const role = (await aws(['iam', 'get-role', '--role-name', c.roleArn.split('/').pop()])).Role;
    assert.match(role.RoleName, /^eksctl-my-eks-managed-cluster-ServiceRole-/);
    const attached = (await aws(['iam', 'list-attached-role-policies', '--role-name', role.RoleName])).AttachedPolicies.map((p: any) => p.PolicyName);
    assert.ok(attached.includes('AmazonEKSClusterPolicy'));
    const ngs = (await aws(['eks', 'list-nodegroups', '--cluster-name', 'my-eks-managed'])).nodegroups;
    assert.equal(ngs.length, 1);
    const ng = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'my-eks-managed', '--nodegroup-name', ngs[0]])).nodegroup;
    assert.deepEqual(ng.scalingConfig, { minSize: 3, maxSize: 3, desiredSize: 3 });
    assert.deepEqual(ng.instanceTypes, ['m5.large']);
    const nodeRolePolicies = (await aws(['iam', 'list-attached-role-policies', '--role-name', ng.nodeRole.split('/').pop()])).AttachedPolicies.map((p: any) => p.PolicyName).sort();
    assert.deepEqual(nodeRolePolicies, ['AmazonEC2ContainerRegistryReadOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonSSMManagedInstanceCore']);
    const nodes = await readyNodes();
    assert.equal(nodes.length, 3);
    for (const n of nodes) assert.equal(n.metadata.labels['alpha.eksctl.io/nodegroup-name'], ngs[0]);
    const doc = parse(readFileSync(kc, 'utf8'));
    assert.equal(doc['current-context'], c.arn);
  });

  it('create cluster --fargate: the fp-default profile for default and kube-system, no node group', async () => {
    const r = await cli(['create', 'cluster', '--name', 'my-eks-fargate', '--fargate', '--write-kubeconfig=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await aws(['eks', 'list-nodegroups', '--cluster-name', 'my-eks-fargate'])).nodegroups, []);
    const fp = (await aws(['eks', 'describe-fargate-profile', '--cluster-name', 'my-eks-fargate', '--fargate-profile-name', 'fp-default'])).fargateProfile;
    assert.equal(fp.status, 'ACTIVE');
    assert.deepEqual(fp.selectors.map((s: any) => s.namespace), ['default', 'kube-system']);
    const private_ = (await aws(['ec2', 'describe-subnets', '--subnet-ids', ...fp.subnets])).Subnets;
    assert.ok(private_.every((s: any) => !s.MapPublicIpOnLaunch), 'Fargate runs in the private subnets');
    const role = (await aws(['iam', 'get-role', '--role-name', fp.podExecutionRoleArn.split('/').pop()])).Role;
    assert.match(JSON.stringify(policyDoc(role.AssumeRolePolicyDocument)), /eks-fargate-pods\.amazonaws\.com/);
    // eksctl 0.184+: the default add-ons are EKS add-ons; with kube-system on Fargate, CoreDNS is set to run there.
    assert.deepEqual((await aws(['eks', 'list-addons', '--cluster-name', 'my-eks-fargate'])).addons.sort(), ['coredns', 'kube-proxy', 'vpc-cni']);
    const dns = (await aws(['eks', 'describe-addon', '--cluster-name', 'my-eks-fargate', '--addon-name', 'coredns'])).addon;
    assert.equal(dns.configurationValues, '{"computeType":"Fargate"}');
    assert.match(r.stderr, /successfully created addon: coredns/);
  });

  it('create cluster --managed=false --version 1.31: a self-managed node group (launch template with bootstrap user data, Auto Scaling group) whose nodes join', async () => {
    const skc = join(tmp, 'sm.kubeconfig');
    const r = await cli(['create', 'cluster', '--name', 'selfmanaged', '--managed=false', '--version', '1.31', '--nodes', '2', '--node-labels', 'team=a', '--kubeconfig', skc]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await aws(['eks', 'describe-cluster', '--name', 'selfmanaged'])).cluster.version, '1.31');
    assert.deepEqual((await aws(['eks', 'list-nodegroups', '--cluster-name', 'selfmanaged'])).nodegroups, [], 'no managed node group');
    const asgs = (await aws(['autoscaling', 'describe-auto-scaling-groups', '--filters', 'Name=tag:alpha.eksctl.io/cluster-name,Values=selfmanaged'])).AutoScalingGroups;
    assert.equal(asgs.length, 1);
    assert.ok(asgs[0].Tags.some((t: any) => t.Key === 'kubernetes.io/cluster/selfmanaged' && t.Value === 'owned'));
    const lt = (await aws(['ec2', 'describe-launch-template-versions', '--launch-template-id', asgs[0].LaunchTemplate.LaunchTemplateId])).LaunchTemplateVersions[0].LaunchTemplateData;
    assert.match(Buffer.from(lt.UserData, 'base64').toString(), /kind: NodeConfig[\s\S]*name: selfmanaged[\s\S]*--node-labels=alpha\.eksctl\.io\/cluster-name=selfmanaged,alpha\.eksctl\.io\/nodegroup-name=ng-[0-9a-f]+,team=a/);
    const nodes = await readyNodes(skc);
    assert.equal(nodes.length, 2);
    assert.ok(nodes.every((n) => n.metadata.labels.team === 'a'));
    const list = await cli(['get', 'nodegroups', '--cluster', 'selfmanaged']);
    assert.match(list.stdout, /selfmanaged\s+ng-[0-9a-f]+\s+CREATE_COMPLETE.*unmanaged/);
    const dep = await kubectl(['create', 'deployment', 'web', '--image=public.ecr.aws/nginx/nginx:1.27', '--replicas=2'], skc);
    assert.equal(dep.code, 0, dep.stderr);
    await waitFor(async () => {
      const r = await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'], skc);
      return r.code === 0 && JSON.parse(r.stdout).items.filter((p: any) => p.status.phase === 'Running').length === 2;
    }, { what: '2 web pods Running' });
    const del = await cli(['delete', 'cluster', '--name', 'selfmanaged']);
    assert.equal(del.code, 0, del.stderr);
    const evicted = /deleting self-managed node group "ng-[0-9a-f]+": (\d+) pods? evicted/.exec(del.stderr);
    assert.ok(evicted && Number(evicted[1]) >= 2, `the group was drained first (the web pods evicted):\n${del.stderr}`);
    assert.deepEqual((await aws(['autoscaling', 'describe-auto-scaling-groups', '--filters', 'Name=tag:alpha.eksctl.io/cluster-name,Values=selfmanaged'])).AutoScalingGroups, []);
    assert.deepEqual((await aws(['iam', 'list-instance-profiles'])).InstanceProfiles.filter((p: any) => p.InstanceProfileName.startsWith('eksctl-selfmanaged-')), []);
  });

  it('the shared ClusterConfig example, unchanged: two managed node groups (one spot), Fargate, add-ons, IRSA, logging, HA NAT', async () => {
    const ekc = join(tmp, 'platform.kubeconfig');
    const r = await cli(['create', 'cluster', '-f', EXAMPLE, '--kubeconfig', ekc]);
    assert.equal(r.code, 0, r.stderr);
    const region = 'eu-west-2';
    const c = (await aws(['eks', 'describe-cluster', '--name', 'platform-dev'], region)).cluster;
    assert.equal(c.version, '1.31');
    assert.equal(c.tags.team, 'platform');
    assert.deepEqual(c.logging.clusterLogging.find((l: any) => l.enabled).types, ['api', 'audit', 'authenticator']);
    const vpcId = c.resourcesVpcConfig.vpcId;
    assert.equal((await aws(['ec2', 'describe-vpcs', '--vpc-ids', vpcId], region)).Vpcs[0].CidrBlock, '10.0.0.0/16');
    assert.equal((await aws(['ec2', 'describe-nat-gateways', '--filter', `Name=vpc-id,Values=${vpcId}`], region)).NatGateways.length, 3, 'HighlyAvailable: one NAT gateway per zone');
    const main = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'platform-dev', '--nodegroup-name', 'main'], region)).nodegroup;
    assert.deepEqual(main.scalingConfig, { minSize: 2, maxSize: 6, desiredSize: 3 });
    assert.equal(main.diskSize, 80);
    assert.equal(main.labels.role, 'general');
    const mainSubnets = (await aws(['ec2', 'describe-subnets', '--subnet-ids', ...main.subnets], region)).Subnets;
    assert.ok(mainSubnets.every((s: any) => !s.MapPublicIpOnLaunch), 'privateNetworking: private subnets');
    const mon = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'platform-dev', '--nodegroup-name', 'monitoring'], region)).nodegroup;
    assert.equal(mon.capacityType, 'SPOT');
    assert.deepEqual(mon.instanceTypes, ['r5.2xlarge', 'r5a.2xlarge']);
    assert.deepEqual(mon.taints, [{ key: 'monitoring', value: 'true', effect: 'NO_SCHEDULE' }]);
    const fp = (await aws(['eks', 'describe-fargate-profile', '--cluster-name', 'platform-dev', '--fargate-profile-name', 'batch'], region)).fargateProfile;
    assert.deepEqual(fp.selectors, [{ namespace: 'batch', labels: { compute: 'fargate' } }]);
    assert.deepEqual((await aws(['eks', 'list-addons', '--cluster-name', 'platform-dev'], region)).addons.sort(), ['coredns', 'kube-proxy', 'vpc-cni']);
    const cni = (await aws(['eks', 'describe-addon', '--cluster-name', 'platform-dev', '--addon-name', 'vpc-cni'], region)).addon;
    assert.equal(JSON.parse(cni.configurationValues).env.WARM_IP_TARGET, '2');
    const providers = (await aws(['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList;
    assert.ok(providers.some((p: any) => p.Arn.endsWith(c.identity.oidc.issuer.replace('https://', ''))), 'withOIDC: the IAM OIDC provider of the issuer');
    const nodes = await readyNodes(ekc);
    assert.equal(nodes.length, 4, '3 main + 1 monitoring');
    const sa = await kubectl(['get', 'serviceaccount', 'external-dns', '-n', 'kube-system', '-o', 'json'], ekc);
    assert.equal(sa.code, 0, sa.stderr);
    const roleArn = JSON.parse(sa.stdout).metadata.annotations['eks.amazonaws.com/role-arn'];
    const irsa = (await aws(['iam', 'get-role', '--role-name', roleArn.split('/').pop()])).Role;
    const trust = policyDoc(irsa.AssumeRolePolicyDocument);
    assert.equal(trust.Statement[0].Action, 'sts:AssumeRoleWithWebIdentity');
    assert.equal(Object.values(trust.Statement[0].Condition.StringEquals).includes('system:serviceaccount:kube-system:external-dns'), true);
    assert.deepEqual((await aws(['iam', 'list-attached-role-policies', '--role-name', irsa.RoleName])).AttachedPolicies.map((p: any) => p.PolicyName), ['AmazonRoute53FullAccess']);

    const json = await cli(['get', 'nodegroups', '--cluster', 'platform-dev', '--region', region, '-o', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).map((n: any) => n.nodegroupName).sort(), ['main', 'monitoring']);
    const table = await cli(['get', 'fargateprofiles', '--cluster', 'platform-dev', '--region', region]);
    assert.match(table.stdout, /^NAME\s+SELECTOR_NAMESPACE\s+SELECTOR_LABELS/);
    assert.match(table.stdout, /batch\s+batch\s+compute=fargate/);
    const addons = await cli(['get', 'addons', '--cluster', 'platform-dev', '--region', region, '-o', 'yaml']);
    assert.deepEqual(parse(addons.stdout).map((a: any) => a.addonName).sort(), ['coredns', 'kube-proxy', 'vpc-cni']);

    const del = await cli(['delete', 'cluster', '-f', EXAMPLE]);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual((await aws(['ec2', 'describe-vpcs', '--filters', 'Name=tag:alpha.eksctl.io/cluster-name,Values=platform-dev'], region)).Vpcs, []);
    assert.deepEqual((await aws(['eks', 'list-clusters'], region)).clusters, []);
    assert.ok(!(await aws(['iam', 'list-roles'])).Roles.some((r: any) => r.RoleName.startsWith('eksctl-platform-dev-')));
    assert.ok(!(await aws(['iam', 'list-open-id-connect-providers'])).OpenIDConnectProviderList.some((p: any) => p.Arn.includes('/eu-west-2/')));
  });

  it("seed 003: `-v 4` prints the cluster's config as JSON, and a copy under another name creates a second cluster in the same VPC", async () => {
    const r = await cli(['create', 'cluster', '--name', 'tom-managed', '--managed', '-v', '4', '--write-kubeconfig=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[▶\]  eks:CreateCluster 200/, 'verbose logs the AWS requests');
    const marker = 'cfg.json = \\\n';
    assert.ok(r.stderr.includes(marker), r.stderr.slice(-500));
    const cfg = JSON.parse(r.stderr.slice(r.stderr.indexOf(marker) + marker.length));
    assert.equal(cfg.kind, 'ClusterConfig');
    assert.equal(cfg.apiVersion, 'eksctl.io/v1alpha5');
    const tom = (await aws(['eks', 'describe-cluster', '--name', 'tom-managed'])).cluster;
    assert.equal(cfg.vpc.id, tom.resourcesVpcConfig.vpcId);
    assert.equal(cfg.iam.serviceRoleARN, tom.roleArn);
    assert.equal(Object.keys(cfg.vpc.subnets.private).length, 2);
    cfg.metadata.name = 'tom2-managed';
    const file = join(tmp, 'tom2.yml');
    writeFileSync(file, JSON.stringify(cfg, null, 4));
    const r2 = await cli(['create', 'cluster', '-f', file, '--write-kubeconfig=false']);
    assert.equal(r2.code, 0, r2.stderr);
    const tom2 = (await aws(['eks', 'describe-cluster', '--name', 'tom2-managed'])).cluster;
    assert.equal(tom2.resourcesVpcConfig.vpcId, tom.resourcesVpcConfig.vpcId, 'the same VPC');
    assert.deepEqual([...tom2.resourcesVpcConfig.subnetIds].sort(), [...tom.resourcesVpcConfig.subnetIds].sort());
    assert.equal((await aws(['eks', 'list-nodegroups', '--cluster-name', 'tom2-managed'])).nodegroups.length, 1);
    const del = await cli(['delete', 'cluster', '--name', 'tom2-managed']);
    assert.equal(del.code, 0, del.stderr);
    // The same subnets by flag (eksctl's --vpc-public-subnets / --vpc-private-subnets: the VPC is theirs), kubeconfig in its own file.
    const ids = (m: Record<string, { id: string }>) => Object.values(m).map((x) => x.id).join(',');
    const r3 = await cli(['create', 'cluster', '--name', 'tom3', '--nodes', '1', '--vpc-public-subnets', ids(cfg.vpc.subnets.public), '--vpc-private-subnets', ids(cfg.vpc.subnets.private), '--auto-kubeconfig']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /using existing subnets: vpc-[0-9a-f]+: 2 public and 2 private subnets/);
    const tom3 = (await aws(['eks', 'describe-cluster', '--name', 'tom3'])).cluster;
    assert.equal(tom3.resourcesVpcConfig.vpcId, tom.resourcesVpcConfig.vpcId, 'the subnets\' VPC');
    assert.deepEqual([...tom3.resourcesVpcConfig.subnetIds].sort(), [...tom.resourcesVpcConfig.subnetIds].sort());
    const auto = join(tmp, '.kube', 'eksctl', 'clusters', 'tom3');
    assert.match(r3.stderr, new RegExp(`kubectl command should work with "${auto}", try 'kubectl --kubeconfig=${auto} get nodes'`));
    assert.equal((await readyNodes(auto)).length, 1);
    assert.ok(!readFileSync(kc, 'utf8').includes('cluster/tom3'), '--auto-kubeconfig leaves the default kubeconfig alone');
    const del3 = await cli(['delete', 'cluster', '--name', 'tom3']);
    assert.equal(del3.code, 0, del3.stderr);
    assert.ok(!existsSync(auto), 'delete cluster removes the --auto-kubeconfig file');
    assert.equal((await aws(['ec2', 'describe-vpcs', '--vpc-ids', tom.resourcesVpcConfig.vpcId])).Vpcs.length, 1, "tom's VPC stays: it is not tom2's");
    assert.equal((await aws(['eks', 'describe-cluster', '--name', 'tom-managed'])).cluster.status, 'ACTIVE');
  });

  it('IRSA well-known and inline policies, pod identity, an OIDC identity provider, node add-on policies, SSH from a public key, upgrade policy, a managed group with a custom AMI, volume and max pods (eksctl\'s launch template); fields without effect are warned about', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from((publicKey.export({ format: 'jwk' }) as { x: string }).x, 'base64url');
    const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const sshKey = `ssh-ed25519 ${Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]).toString('base64')} e2e`;
    const ami = (await aws(['ec2', 'describe-images', '--owners', 'amazon', '--filters', 'Name=name,Values=amazon-eks-node-al2023-x86_64-standard-*'])).Images[0].ImageId;
    const file = join(tmp, 'extras.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: eksctl.io/v1alpha5',
        'kind: ClusterConfig',
        'metadata: {name: extras, region: us-east-1}',
        'iam:',
        '  withOIDC: true',
        '  serviceAccounts:',
        '    - metadata: {name: cluster-autoscaler, namespace: kube-system}',
        '      wellKnownPolicies: {autoScaler: true}',
        '    - metadata: {name: reader, namespace: apps}',
        '      attachPolicy: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:GetObject"], Resource: "*"}]}',
        '  podIdentityAssociations:',
        '    - {namespace: apps, serviceAccountName: writer, permissionPolicyARNs: [arn:aws:iam::aws:policy/AmazonS3FullAccess]}',
        'identityProviders:',
        '  - {name: corp, type: oidc, issuerURL: "https://idp.example.com", clientID: kubernetes}',
        'upgradePolicy: {supportType: STANDARD}',
        'managedNodeGroups:',
        '  - name: ng',
        '    desiredCapacity: 1',
        '    volumeIOPS: 4000',
        `    ssh: {allow: true, publicKey: "${sshKey}"}`,
        '    iam: {withAddonPolicies: {externalDNS: true, ebs: true}}',
        `  - {name: tuned, desiredCapacity: 1, ami: ${ami}, amiFamily: AmazonLinux2023, volumeType: gp2, volumeEncrypted: true, maxPodsPerNode: 20}`,
      ].join('\n') + '\n',
    );
    const r = await cli(['create', 'cluster', '-f', file, '--write-kubeconfig=false']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[!\]  \S*extras\.yaml:19: managedNodeGroups\[0\]\.volumeIOPS: has no effect in localeks/);
    const c = (await aws(['eks', 'describe-cluster', '--name', 'extras'])).cluster;
    assert.equal(c.upgradePolicy.supportType, 'STANDARD');
    const idp = (await aws(['eks', 'describe-identity-provider-config', '--cluster-name', 'extras', '--identity-provider-config', 'type=oidc,name=corp'])).identityProviderConfig.oidc;
    assert.equal(idp.issuerUrl, 'https://idp.example.com');
    const pia = (await aws(['eks', 'list-pod-identity-associations', '--cluster-name', 'extras'])).associations;
    assert.deepEqual(pia.map((a: any) => `${a.namespace}/${a.serviceAccount}`), ['apps/writer']);
    const roles = (await aws(['iam', 'list-roles'])).Roles.filter((x: any) => x.RoleName.startsWith('eksctl-extras-'));
    const byPrefix = (p: string) => roles.find((x: any) => x.RoleName.startsWith(p)).RoleName;
    assert.deepEqual((await aws(['iam', 'list-role-policies', '--role-name', byPrefix('eksctl-extras-addon-iamserviceaccount-kube')])).PolicyNames, ['PolicyWellKnownAutoScaler']);
    assert.deepEqual((await aws(['iam', 'list-role-policies', '--role-name', byPrefix('eksctl-extras-addon-iamserviceaccount-apps')])).PolicyNames, ['Policy1']);
    const ng = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'extras', '--nodegroup-name', 'ng'])).nodegroup;
    assert.match(ng.remoteAccess.ec2SshKey, /^eksctl-extras-nodegroup-ng-([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const nodeRole = ng.nodeRole.split('/').pop();
    assert.deepEqual((await aws(['iam', 'list-role-policies', '--role-name', nodeRole])).PolicyNames, ['PolicyWellKnownExternalDNS']);
    assert.ok((await aws(['iam', 'list-attached-role-policies', '--role-name', nodeRole])).AttachedPolicies.some((x: any) => x.PolicyName === 'AmazonEBSCSIDriverPolicy'));
    // Settings EKS takes only from a launch template: eksctl's own for the group.
    const tuned = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'extras', '--nodegroup-name', 'tuned'])).nodegroup;
    assert.equal(tuned.amiType, 'CUSTOM');
    assert.equal(tuned.launchTemplate.name, 'eksctl-extras-nodegroup-tuned');
    const ltData = (await aws(['ec2', 'describe-launch-template-versions', '--launch-template-id', tuned.launchTemplate.id])).LaunchTemplateVersions[0].LaunchTemplateData;
    assert.equal(ltData.ImageId, ami);
    assert.deepEqual([ltData.BlockDeviceMappings[0].Ebs.VolumeType, ltData.BlockDeviceMappings[0].Ebs.Encrypted], ['gp2', true]);
    assert.match(Buffer.from(ltData.UserData, 'base64').toString(), /--max-pods=20/);
    const asg = (await aws(['autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', tuned.resources.autoScalingGroups[0].name])).AutoScalingGroups[0];
    const inst = (await aws(['ec2', 'describe-instances', '--instance-ids', asg.Instances[0].InstanceId])).Reservations[0].Instances[0];
    assert.equal(inst.ImageId, ami, 'the nodes run the custom AMI');
    // The kubelet takes maxPodsPerNode from the bootstrap user data (--max-pods=20), not the instance type's EKS value.
    const extrasKc = join(tmp, 'extras.kubeconfig');
    const wk = await cli(['utils', 'write-kubeconfig', '--cluster', 'extras', '--kubeconfig', extrasKc]);
    assert.equal(wk.code, 0, wk.stderr);
    const tunedNode = await waitFor(async () => (await readyNodes(extrasKc)).find((n) => n.metadata.name === inst.PrivateDnsName), { what: 'the tuned node Ready' });
    assert.equal(tunedNode.status.allocatable.pods, '20');
    assert.equal(tunedNode.status.capacity.pods, '20');
    assert.doesNotMatch(r.stderr, /ami has no effect|volumeEncrypted has no effect|maxPodsPerNode: has no effect/);
    const del = await cli(['delete', 'cluster', '--name', 'extras']);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual((await aws(['ec2', 'describe-launch-templates', '--filters', 'Name=tag:alpha.eksctl.io/cluster-name,Values=extras'])).LaunchTemplates, []);
    assert.deepEqual((await aws(['iam', 'list-roles'])).Roles.filter((x: any) => x.RoleName.startsWith('eksctl-extras-')), []);
    assert.deepEqual((await aws(['ec2', 'describe-key-pairs'])).KeyPairs.filter((k: any) => k.KeyName.startsWith('eksctl-extras-')), []);
  });

  it('invalid configs and flags are rejected with exit 2 before anything is created', async () => {
    const before = await counts();
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata:\n  name: bad\n  region: us-east-1\nmanagedNodeGroups:\n  - name: ng\n    instanceTyp: m5.large\n');
    const r = await cli(['create', 'cluster', '-f', bad]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.yaml:8: managedNodeGroups\[0\]\.instanceTyp: unknown field \(did you mean "instanceType"\?\)/);
    const flags = await cli(['create', 'cluster', '--name', 'bad2', '--nodes', '2', '--nodes-min', '5']);
    assert.equal(flags.code, 2, flags.stderr);
    assert.match(flags.stderr, /--nodes-min: minSize \(5\) cannot be greater than desiredCapacity \(2\)/);
    const clash = await cli(['create', 'cluster', '-f', EXAMPLE, '--name', 'x']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /cannot use --name when --config-file\/-f is set/);
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(policy, 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: badpolicy, region: us-east-1}\niam:\n  withOIDC: true\n  serviceAccounts:\n    - metadata: {name: x}\n      attachPolicyARNs: [arn:aws:iam::aws:policy/NoSuchPolicy]\n');
    const p = await cli(['create', 'cluster', '-f', policy]);
    assert.equal(p.code, 2, p.stderr);
    assert.match(p.stderr, /NoSuchPolicy/);
    const typo = await cli(['create', 'clustr', '--name', 'x']);
    assert.equal(typo.code, 2, 'an unknown command is a usage error');
    assert.match(typo.stderr, /unknown command 'clustr'[\s\S]*Did you mean cluster\?/);
    const noKey = await cli(['create', 'cluster', '--name', 'nokey', '--ssh-access']);
    assert.equal(noKey.code, 2, noKey.stderr);
    assert.match(noKey.stderr, /ssh\.allow: cannot read the public key .*id_rsa\.pub/);
    const cidr = await cli(['create', 'cluster', '--name', 'x', '--vpc-cidr', '10.1.0.0/16', '--vpc-private-subnets', 'subnet-0123abcd']);
    assert.equal(cidr.code, 2, cidr.stderr);
    assert.match(cidr.stderr, /--vpc-cidr cannot be used with --vpc-public-subnets \/ --vpc-private-subnets/);
    const notId = await cli(['create', 'cluster', '--name', 'x', '--vpc-public-subnets', 'sn-1']);
    assert.equal(notId.code, 2, notId.stderr);
    assert.match(notId.stderr, /--vpc-public-subnets: "sn-1" is not a subnet id/);
    const both = await cli(['create', 'cluster', '--name', 'x', '--auto-kubeconfig', '--kubeconfig', join(tmp, 'k')]);
    assert.equal(both.code, 2, both.stderr);
    assert.match(both.stderr, /--kubeconfig and --auto-kubeconfig cannot be used at the same time/);
    const dry = await cli(['create', 'cluster', '--name', 'dry', '--nodes', '4', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(parse(dry.stdout).managedNodeGroups[0].desiredCapacity, 4);
    assert.deepEqual(await counts(), before, 'nothing was created');
  });

  it('get, scale, upgrade, iamserviceaccount, accessentry, write-kubeconfig, completion on the managed cluster', async () => {
    const name = 'my-eks-managed';
    const list = await cli(['get', 'clusters']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+VERSION\s+STATUS/);
    assert.match(list.stdout, /my-eks-managed\s+\S+\s+ACTIVE/);
    const one = await cli(['get', 'cluster', '--name', name, '-o', 'json']);
    assert.equal(JSON.parse(one.stdout)[0].name, name);
    const ng = (await aws(['eks', 'list-nodegroups', '--cluster-name', name])).nodegroups[0];

    const scale = await cli(['scale', 'nodegroup', '--cluster', name, '--name', ng, '--nodes', '4', '--nodes-max', '5', '--wait']);
    assert.equal(scale.code, 0, scale.stderr);
    assert.equal((await readyNodes()).length, 4);
    assert.deepEqual((await aws(['eks', 'describe-nodegroup', '--cluster-name', name, '--nodegroup-name', ng])).nodegroup.scalingConfig, { minSize: 3, maxSize: 5, desiredSize: 4 });
    const badScale = await cli(['scale', 'nodegroup', '--cluster', name, '--name', ng, '--nodes', '9']);
    assert.equal(badScale.code, 2);

    const v = (await aws(['eks', 'describe-cluster', '--name', name])).cluster.version;
    const plan = await cli(['upgrade', 'cluster', '--name', name]);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stderr, /\(plan\) would upgrade cluster/);
    assert.equal((await aws(['eks', 'describe-cluster', '--name', name])).cluster.version, v, 'the plan changes nothing');

    const sa = await cli(['create', 'iamserviceaccount', '--cluster', name, '--namespace', 'apps', '--name', 'reader', '--attach-policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', '--approve']);
    assert.equal(sa.code, 1, 'no OIDC provider yet');
    assert.match(sa.stderr, /associate-iam-oidc-provider/);
    const oidc = await cli(['utils', 'associate-iam-oidc-provider', '--cluster', name, '--approve']);
    assert.equal(oidc.code, 0, oidc.stderr);
    const sa2 = await cli(['create', 'iamserviceaccount', '--cluster', name, '--namespace', 'apps', '--name', 'reader', '--attach-policy-arn', 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess', '--approve']);
    assert.equal(sa2.code, 0, sa2.stderr);
    const obj = await kubectl(['get', 'sa', 'reader', '-n', 'apps', '-o', 'jsonpath={.metadata.annotations.eks\\.amazonaws\\.com/role-arn}']);
    assert.match(obj.stdout, /^arn:aws:iam::000000000000:role\/eksctl-my-eks-managed-addon-iamserviceaccount-/);

    const principal = (await aws(['iam', 'create-role', '--role-name', 'cli-dev', '--assume-role-policy-document', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' }] })])).Role.Arn;
    const ae = await cli(['create', 'accessentry', '--cluster', name, '--principal-arn', principal, '--kubernetes-groups', 'viewers']);
    assert.equal(ae.code, 0, ae.stderr);
    const aes = await cli(['get', 'accessentries', '--cluster', name, '-o', 'json']);
    const entry = JSON.parse(aes.stdout).find((e: any) => e.principalArn === principal);
    assert.deepEqual(entry.kubernetesGroups, ['viewers']);

    const other = join(tmp, 'other.kubeconfig');
    const wk = await cli(['utils', 'write-kubeconfig', '--cluster', name, '--kubeconfig', other]);
    assert.equal(wk.code, 0, wk.stderr);
    assert.equal((await readyNodes(other)).length, 4);

    const up = await cli(['upgrade', 'cluster', '--name', name, '--approve']);
    assert.equal(up.code, 0, up.stderr);
    const [maj, min] = v.split('.').map(Number);
    assert.equal((await aws(['eks', 'describe-cluster', '--name', name])).cluster.version, `${maj}.${min + 1}`);

    const addNg = await cli(['create', 'nodegroup', '--cluster', 'my-eks-fargate', '--name', 'extra', '--nodes', '1', '--node-type', 'm5.xlarge']);
    assert.equal(addNg.code, 0, addNg.stderr);
    const extra = (await aws(['eks', 'describe-nodegroup', '--cluster-name', 'my-eks-fargate', '--nodegroup-name', 'extra'])).nodegroup;
    assert.deepEqual([extra.status, extra.instanceTypes, extra.scalingConfig.desiredSize], ['ACTIVE', ['m5.xlarge'], 1]);
    const delNg = await cli(['delete', 'nodegroup', '--cluster', 'my-eks-fargate', '--name', 'extra']);
    assert.equal(delNg.code, 0, delNg.stderr);
    assert.deepEqual((await aws(['eks', 'list-nodegroups', '--cluster-name', 'my-eks-fargate'])).nodegroups, []);

    const comp = await cli(['completion', 'bash']);
    assert.equal(comp.code, 0);
    assert.match(comp.stdout, /complete -F _localeks_complete localeks/);
    assert.match(comp.stdout, /"create cluster"\) words="[^"]*--nodes-min/);
    const help = await cli(['create', 'cluster', '--help']);
    assert.match(help.stdout, /Examples:\n {2}localeks create cluster --name demo --nodes 3/);
  });

  it('a failure midway exits 5 listing what was created; delete cluster removes it all; a missing cluster exits 3', async () => {
    const before = await counts();
    const cfg = join(tmp, 'broken-addon.yaml');
    writeFileSync(cfg, 'apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: halfway, region: us-east-1}\nmanagedNodeGroups:\n  - name: ng\n    desiredCapacity: 1\naddons:\n  - name: vpc-cni\n    version: v0.0.1-nosuch\n');
    const r = await cli(['create', 'cluster', '-f', cfg, '--write-kubeconfig=false']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /created so far: .*VPC vpc-/);
    assert.match(r.stderr, /localeks delete cluster --name halfway --region us-east-1/);
    const del = await cli(['delete', 'cluster', '--name', 'halfway']);
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(await counts(), before, 'everything created for "halfway" is gone');
    const arn = (await aws(['eks', 'describe-cluster', '--name', 'my-eks-managed'])).cluster.arn;
    assert.ok(parse(readFileSync(kc, 'utf8')).clusters.some((c: any) => c.name === arn));
    const delManaged = await cli(['delete', 'cluster', '--name', 'my-eks-managed']);
    assert.equal(delManaged.code, 0, delManaged.stderr);
    const after = parse(readFileSync(kc, 'utf8'));
    assert.ok(!after.clusters.some((c: any) => c.name === arn), 'the deleted cluster left the kubeconfig');
    assert.ok(!after.contexts.some((c: any) => c.context.cluster === arn));
    assert.equal(after['current-context'], '');
    const missing = await cli(['delete', 'cluster', '--name', 'halfway']);
    assert.equal(missing.code, 3, missing.stderr);
    const getMissing = await cli(['get', 'nodegroups', '--cluster', 'nosuch']);
    assert.equal(getMissing.code, 3);
    const unreachable = await cli(['get', 'clusters'], { LOCALEKS_ENDPOINT: 'http://127.0.0.1:1' });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
  });
});
