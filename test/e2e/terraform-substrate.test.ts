/**
 * terraform (hashicorp/aws 5.100 from the machine's filesystem mirror)
 * applies the AWS substrate of an EKS stack against localeks
 * (fixtures/terraform/substrate: VPC, public/private subnets in two AZs, IGW,
 * NAT gateway + EIP, route tables, security groups and rules, IAM roles with
 * managed policy attachments, instance profile, KMS key + alias, log group,
 * IAM OIDC provider); a second `plan -detailed-exitcode` must find no drift;
 * destroy must leave nothing behind (checked with the aws CLI).
 *
 * Skips, saying why, when terraform or the provider mirror is missing, or
 * when one of the services the stack needs is not served yet.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'terraform', 'substrate');
const toolSkip = await terraformSkipReason();

/** One cheap read per service the stack needs; an unimplemented service answers InvalidAction / UnknownOperation. */
const PROBES: [string, string[]][] = [
  ['ec2', ['ec2', 'describe-nat-gateways']],
  ['iam', ['iam', 'list-open-id-connect-providers']],
  ['kms', ['kms', 'list-aliases']],
  ['logs', ['logs', 'describe-log-groups']],
  ['sts', ['sts', 'get-caller-identity']],
];

describe('terraform: EKS substrate stack (apply, no drift, destroy)', { skip: toolSkip ?? false }, () => {
  let srv: TestServer;
  let tf: TerraformWorkdir;
  let missing: string[] = [];

  before(async () => {
    srv = await startTestServer();
    for (const [svc, args] of PROBES) {
      const r = await runAws(srv.awsEndpoint, args);
      if (r.code !== 0) missing.push(`${svc} (${r.errorCode ?? r.code}: ${r.errorMessage ?? r.stderr.trim().slice(0, 120)})`);
    }
    const files: Record<string, string> = {};
    for (const f of readdirSync(FIXTURE)) if (f.endsWith('.tf')) files[f] = readFileSync(join(FIXTURE, f), 'utf8');
    tf = createTerraformWorkdir({ endpoint: srv.awsEndpoint, files });
  });

  after(async () => {
    // The server's store is in memory: stopping it discards whatever a failed run left.
    tf?.remove();
    await srv?.stop();
  });

  const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);

  it('applies, shows no drift on a second plan, and destroys cleanly', async (t) => {
    if (missing.length > 0) return t.skip(`services not served yet: ${missing.join('; ')}`);
    const init = await tf.init();
    assert.equal(init.code, 0, `terraform init failed:\n${init.stderr}`);

    const apply = await tf.apply();
    assert.equal(apply.code, 0, `terraform apply failed:\n${tfErrorLines(apply)}`);
    const out = await tf.outputs();
    const vpcId = out.vpc_id!.value as string;
    assert.match(vpcId, /^vpc-[0-9a-f]{17}$/);
    assert.equal(out.public_subnet_ids!.value.length, 2);

    // What terraform made is visible to other clients.
    const subnets = (await aws('ec2', 'describe-subnets', '--filters', `Name=vpc-id,Values=${vpcId}`)).Subnets;
    assert.equal(subnets.length, 4);
    assert.equal(new Set(subnets.map((s: any) => s.AvailabilityZone)).size, 2);
    const nat = (await aws('ec2', 'describe-nat-gateways', '--nat-gateway-ids', out.nat_gateway_id!.value)).NatGateways[0];
    assert.equal(nat.State, 'available');
    const attached = (await aws('iam', 'list-attached-role-policies', '--role-name', 'substrate-node')).AttachedPolicies.map((p: any) => p.PolicyName).sort();
    assert.deepEqual(attached, ['AmazonEC2ContainerRegistryReadOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy']);

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${tfErrorLines(plan)}`);

    const destroy = await tf.destroy();
    assert.equal(destroy.code, 0, `terraform destroy failed:\n${tfErrorLines(destroy)}`);

    // Nothing is left behind.
    assert.deepEqual((await aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:Stack,Values=substrate')).Vpcs, []);
    assert.deepEqual((await aws('ec2', 'describe-subnets', '--filters', `Name=vpc-id,Values=${vpcId}`)).Subnets, []);
    assert.deepEqual((await aws('ec2', 'describe-internet-gateways', '--filters', 'Name=tag:Stack,Values=substrate')).InternetGateways, []);
    assert.deepEqual((await aws('ec2', 'describe-addresses', '--filters', 'Name=tag:Stack,Values=substrate')).Addresses, []);
    const nats = (await aws('ec2', 'describe-nat-gateways', '--filter', 'Name=tag:Stack,Values=substrate')).NatGateways;
    assert.ok(nats.every((n: any) => n.State === 'deleted' || n.State === 'deleting'), JSON.stringify(nats));
    const sgs = (await aws('ec2', 'describe-security-groups', '--filters', 'Name=group-name,Values=substrate-cluster,substrate-node')).SecurityGroups;
    assert.deepEqual(sgs, []);
    for (const role of ['substrate-cluster', 'substrate-node']) {
      const r = await runAws(srv.awsEndpoint, ['iam', 'get-role', '--role-name', role]);
      assert.equal(r.errorCode, 'NoSuchEntity', `role ${role} still exists`);
    }
    const ip = await runAws(srv.awsEndpoint, ['iam', 'get-instance-profile', '--instance-profile-name', 'substrate-node']);
    assert.equal(ip.errorCode, 'NoSuchEntity');
    assert.deepEqual((await aws('iam', 'list-open-id-connect-providers')).OpenIDConnectProviderList, []);
    const aliases = (await aws('kms', 'list-aliases')).Aliases.map((a: any) => a.AliasName);
    assert.ok(!aliases.includes('alias/substrate-eks'));
    const key = (await aws('kms', 'describe-key', '--key-id', out.kms_key_arn!.value)).KeyMetadata;
    assert.equal(key.KeyState, 'PendingDeletion');
    assert.deepEqual((await aws('logs', 'describe-log-groups', '--log-group-name-prefix', '/aws/eks/substrate')).logGroups, []);
  });
});
