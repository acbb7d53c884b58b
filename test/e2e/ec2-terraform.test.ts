/**
 * terraform (hashicorp/aws 5.100 from the machine's filesystem mirror)
 * against localeks EC2, with the resources terraform-aws-modules/vpc and
 * /eks manage beyond the basic network: the VPC's default security group,
 * network ACL and route table, S3 gateway and ECR interface endpoints,
 * security group rules as separate resources (aws_vpc_security_group_*_rule
 * and aws_security_group_rule with a group reference), an imported key
 * pair, a launch template with metadata options and tags, and the instance
 * type data source. Apply, a second `plan -detailed-exitcode` with no
 * changes, destroy, nothing left behind.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const toolSkip = await terraformSkipReason();

function sshEd25519(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const part = (b: Buffer) => {
    const l = Buffer.alloc(4);
    l.writeUInt32BE(b.length);
    return Buffer.concat([l, b]);
  };
  return `ssh-ed25519 ${Buffer.concat([part(Buffer.from('ssh-ed25519')), part(raw)]).toString('base64')} e2e`;
}

const MAIN_TF = (publicKey: string) => `
data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ec2_instance_type" "m5" {
  instance_type = "m5.large"
}

resource "aws_vpc" "this" {
  cidr_block           = "10.42.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = "ec2-tf", Stack = "ec2-tf" }
}

resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  ingress {
    protocol  = -1
    self      = true
    from_port = 0
    to_port   = 0
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  tags = { Name = "ec2-tf-default" }
}

resource "aws_default_network_acl" "this" {
  default_network_acl_id = aws_vpc.this.default_network_acl_id
  subnet_ids             = aws_subnet.private[*].id
  ingress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  egress {
    protocol   = -1
    rule_no    = 100
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 0
    to_port    = 0
  }
  tags = { Name = "ec2-tf-default" }
}

resource "aws_default_route_table" "this" {
  default_route_table_id = aws_vpc.this.default_route_table_id
  tags                   = { Name = "ec2-tf-default" }
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(aws_vpc.this.cidr_block, 4, count.index)
  availability_zone = data.aws_availability_zones.available.names[count.index]
  tags              = { Name = "ec2-tf-private-\${count.index}", "kubernetes.io/role/internal-elb" = "1" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "ec2-tf-private" }
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

resource "aws_security_group" "endpoints" {
  name_prefix = "ec2-tf-endpoints-"
  description = "VPC endpoints"
  vpc_id      = aws_vpc.this.id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.endpoints.id
  cidr_ipv4         = aws_vpc.this.cidr_block
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = "HTTPS from the VPC"
  tags              = { Name = "https" }
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.endpoints.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_security_group" "nodes" {
  name        = "ec2-tf-nodes"
  description = "EKS nodes"
  vpc_id      = aws_vpc.this.id
  tags        = { "kubernetes.io/cluster/demo" = "owned" }
}

resource "aws_security_group_rule" "nodes_to_endpoints" {
  type                     = "ingress"
  security_group_id        = aws_security_group.endpoints.id
  source_security_group_id = aws_security_group.nodes.id
  from_port                = 443
  to_port                  = 443
  protocol                 = "tcp"
  description              = "nodes"
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.us-east-1.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
  tags              = { Name = "s3" }
}

resource "aws_vpc_endpoint" "ecr_dkr" {
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.us-east-1.ecr.dkr"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
  tags                = { Name = "ecr-dkr" }
}

resource "aws_key_pair" "nodes" {
  key_name   = "ec2-tf-nodes"
  public_key = "${publicKey}"
}

resource "aws_launch_template" "nodes" {
  name_prefix            = "ec2-tf-nodes-"
  image_id               = "ami-0123456789abcdef0"
  instance_type          = "m5.large"
  key_name               = aws_key_pair.nodes.key_name
  vpc_security_group_ids = [aws_security_group.nodes.id]
  update_default_version = true
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }
  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 50
      volume_type = "gp3"
    }
  }
  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "ec2-tf-node" }
  }
}

output "vpc_id" { value = aws_vpc.this.id }
output "m5_max_enis" { value = data.aws_ec2_instance_type.m5.maximum_network_interfaces }
output "m5_ipv4_per_eni" { value = data.aws_ec2_instance_type.m5.maximum_ipv4_addresses_per_interface }
output "lt_version" { value = aws_launch_template.nodes.latest_version }
`;

describe('terraform: EC2 resources of terraform-aws-modules/vpc and /eks (apply, no drift, destroy)', { skip: toolSkip ?? false }, () => {
  let srv: TestServer;
  let tf: TerraformWorkdir;
  let applied = false;

  before(async () => {
    srv = await startTestServer();
    tf = createTerraformWorkdir({ endpoint: srv.awsEndpoint, files: { 'main.tf': MAIN_TF(sshEd25519()) } });
  });

  after(async () => {
    if (applied) await tf?.destroy().catch(() => undefined);
    tf?.remove();
    await srv?.stop();
  });

  it('applies, shows no drift on a second plan, and destroys cleanly', async () => {
    const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);
    const init = await tf.init();
    assert.equal(init.code, 0, `terraform init failed:\n${init.stderr}`);
    const apply = await tf.apply();
    applied = true;
    assert.equal(apply.code, 0, `terraform apply failed:\n${tfErrorLines(apply)}`);
    const out = await tf.outputs();
    assert.equal(Number(out.m5_max_enis!.value), 3);
    assert.equal(Number(out.m5_ipv4_per_eni!.value), 10);
    const vpcId = out.vpc_id!.value as string;
    const def = (await aws('ec2', 'describe-security-groups', '--filters', `Name=vpc-id,Values=${vpcId}`, 'Name=group-name,Values=default')).SecurityGroups[0];
    assert.deepEqual(def.Tags, [{ Key: 'Name', Value: 'ec2-tf-default' }]);

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${plan.stdout.slice(-6000)}\n${tfErrorLines(plan)}`);

    const destroy = await tf.destroy();
    assert.equal(destroy.code, 0, `terraform destroy failed:\n${tfErrorLines(destroy)}`);
    applied = false;
    assert.deepEqual((await aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:Stack,Values=ec2-tf')).Vpcs, []);
    assert.deepEqual((await aws('ec2', 'describe-vpc-endpoints')).VpcEndpoints, []);
    assert.deepEqual((await aws('ec2', 'describe-launch-templates')).LaunchTemplates, []);
    assert.deepEqual((await aws('ec2', 'describe-key-pairs')).KeyPairs, []);
    assert.deepEqual((await aws('ec2', 'describe-network-interfaces')).NetworkInterfaces, []);
  });
});
