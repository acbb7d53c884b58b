/**
 * terraform (hashicorp/aws 5.100, filesystem mirror) applies the IAM, KMS and
 * CloudWatch Logs part of an EKS stack against localeks: roles with trust
 * policies and AWS/customer managed policy attachments, inline policies, an
 * instance profile, a user with an access key in a group, an IAM OIDC
 * provider with an IRSA role trusting it, a KMS key with alias and rotation,
 * a KMS-encrypted log group with retention and a metric filter, an exclusive
 * policy attachment, the account password policy and alias, a SAML provider,
 * a KMS grant, a log stream and a saved Insights query. A second
 * `plan -detailed-exitcode` must find no drift; destroy must leave nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const toolSkip = await terraformSkipReason();

const MAIN_TF = `
data "aws_caller_identity" "me" {}

data "aws_iam_policy_document" "cluster_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name                 = "tfiam-cluster"
  path                 = "/eks/"
  description          = "EKS control plane"
  max_session_duration = 7200
  assume_role_policy   = data.aws_iam_policy_document.cluster_assume.json
  tags                 = { Stack = "tfiam" }
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each   = toset(["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"])
  role       = aws_iam_role.cluster.name
  policy_arn = each.value
}

resource "aws_iam_role" "node" {
  name = "tfiam-node"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  ])
  role       = aws_iam_role.node.name
  policy_arn = each.value
}

resource "aws_iam_policy" "logs" {
  name        = "tfiam-logs"
  description = "node logging"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "*" }]
  })
  tags = { Stack = "tfiam" }
}

resource "aws_iam_role_policy_attachment" "node_logs" {
  role       = aws_iam_role.node.name
  policy_arn = aws_iam_policy.logs.arn
}

resource "aws_iam_role_policy" "node_inline" {
  name = "describe"
  role = aws_iam_role.node.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "ec2:Describe*", Resource = "*" }]
  })
}

resource "aws_iam_instance_profile" "node" {
  name = "tfiam-node"
  role = aws_iam_role.node.name
}

resource "aws_iam_user" "ci" {
  name          = "tfiam-ci"
  force_destroy = true
  tags          = { Stack = "tfiam" }
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

resource "aws_iam_group" "admins" {
  name = "tfiam-admins"
}

resource "aws_iam_group_membership" "admins" {
  name  = "tfiam-admins"
  group = aws_iam_group.admins.name
  users = [aws_iam_user.ci.name]
}

resource "aws_iam_group_policy_attachment" "admins" {
  group      = aws_iam_group.admins.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}

resource "aws_iam_openid_connect_provider" "cluster" {
  url             = "https://oidc.eks.us-east-1.amazonaws.com/id/AAAABBBBCCCCDDDDEEEEFFFF00001111"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
  tags            = { Stack = "tfiam" }
}

data "aws_iam_policy_document" "irsa" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.cluster.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "oidc.eks.us-east-1.amazonaws.com/id/AAAABBBBCCCCDDDDEEEEFFFF00001111:sub"
      values   = ["system:serviceaccount:kube-system:ebs-csi-controller-sa"]
    }
  }
}

resource "aws_iam_role" "ebs_csi" {
  name               = "tfiam-ebs-csi"
  assume_role_policy = data.aws_iam_policy_document.irsa.json
}

resource "aws_iam_role_policy_attachment" "ebs_csi" {
  role       = aws_iam_role.ebs_csi.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
}

resource "aws_kms_key" "eks" {
  description             = "tfiam EKS secrets"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  tags                    = { Stack = "tfiam" }
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Root", Effect = "Allow", Principal = { AWS = "arn:aws:iam::\${data.aws_caller_identity.me.account_id}:root" }, Action = "kms:*", Resource = "*" },
      { Sid = "Logs", Effect = "Allow", Principal = { Service = "logs.us-east-1.amazonaws.com" }, Action = ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*", "kms:Describe*"], Resource = "*" },
    ]
  })
}

resource "aws_cloudwatch_log_resource_policy" "route53" {
  policy_name = "tfiam-route53"
  policy_document = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "route53.amazonaws.com" }, Action = ["logs:CreateLogStream", "logs:PutLogEvents"], Resource = "arn:aws:logs:*:*:log-group:/aws/route53/*" }]
  })
}

resource "aws_kms_alias" "eks" {
  name          = "alias/tfiam-eks"
  target_key_id = aws_kms_key.eks.key_id
}

resource "aws_cloudwatch_log_group" "cluster" {
  name              = "/aws/eks/tfiam/cluster"
  retention_in_days = 30
  kms_key_id        = aws_kms_key.eks.arn
  tags              = { Stack = "tfiam" }
}

resource "aws_cloudwatch_log_metric_filter" "errors" {
  name           = "errors"
  pattern        = "ERROR"
  log_group_name = aws_cloudwatch_log_group.cluster.name
  metric_transformation {
    name      = "Errors"
    namespace = "tfiam"
    value     = "1"
  }
}

resource "aws_iam_policy" "read_only_eks" {
  name = "tfiam-read-eks"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["eks:Describe*", "eks:List*"], Resource = "*" }]
  })
}

# Exclusive: the only attachments of this policy (terraform reads them with ListEntitiesForPolicy).
resource "aws_iam_policy_attachment" "read_only_eks" {
  name       = "tfiam-read-eks"
  users      = [aws_iam_user.ci.name]
  groups     = [aws_iam_group.admins.name]
  roles      = [aws_iam_role.cluster.name]
  policy_arn = aws_iam_policy.read_only_eks.arn
}

resource "aws_iam_account_password_policy" "strict" {
  minimum_password_length        = 14
  require_symbols                = true
  require_numbers                = true
  allow_users_to_change_password = true
  max_password_age               = 90
}

resource "aws_iam_account_alias" "alias" {
  account_alias = "tfiam-platform"
}

resource "aws_iam_saml_provider" "idp" {
  name                   = "tfiam-idp"
  saml_metadata_document = <<-EOT
    <md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2031-01-01T00:00:00Z" entityID="https://idp.example.com">\${join("", [for i in range(100) : "padding..."])}</md:EntityDescriptor>
  EOT
}

resource "aws_kms_grant" "nodes" {
  name              = "tfiam-nodes"
  key_id            = aws_kms_key.eks.key_id
  grantee_principal = aws_iam_role.node.arn
  operations        = ["Encrypt", "Decrypt", "GenerateDataKey"]
}

resource "aws_cloudwatch_log_stream" "manual" {
  name           = "manual"
  log_group_name = aws_cloudwatch_log_group.cluster.name
}

resource "aws_cloudwatch_query_definition" "deletes" {
  name            = "tfiam/deletes"
  log_group_names = [aws_cloudwatch_log_group.cluster.name]
  query_string    = <<-EOQ
    fields @timestamp, @message
    | filter verb = "delete"
    | sort @timestamp desc
    | limit 20
  EOQ
}

output "account_id" {
  value = data.aws_caller_identity.me.account_id
}

output "cluster_role_arn" {
  value = aws_iam_role.cluster.arn
}

output "kms_key_arn" {
  value = aws_kms_key.eks.arn
}

output "access_key_id" {
  value = aws_iam_access_key.ci.id
}
`;

describe('terraform: IAM, KMS and CloudWatch Logs (apply, no drift, destroy)', { skip: toolSkip ?? false }, () => {
  let srv: TestServer;
  let tf: TerraformWorkdir;
  let applied = false;

  before(async () => {
    srv = await startTestServer();
    tf = createTerraformWorkdir({ endpoint: srv.awsEndpoint, files: { 'main.tf': MAIN_TF } });
  });

  after(async () => {
    if (applied) await tf?.destroy().catch(() => undefined);
    tf?.remove();
    await srv?.stop();
  });

  const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);

  it('applies, shows no drift on a second plan, and destroys cleanly', async () => {
    const init = await tf.init();
    assert.equal(init.code, 0, `terraform init failed:\n${init.stderr}`);
    const apply = await tf.apply();
    applied = true;
    assert.equal(apply.code, 0, `terraform apply failed:\n${tfErrorLines(apply)}`);
    const out = await tf.outputs();
    assert.equal(out.cluster_role_arn!.value, 'arn:aws:iam::000000000000:role/eks/tfiam-cluster');
    assert.match(out.access_key_id!.value, /^AKIA/);

    const attached = (await aws('iam', 'list-attached-role-policies', '--role-name', 'tfiam-node')).AttachedPolicies.map((p: any) => p.PolicyName).sort();
    assert.deepEqual(attached, ['AmazonEC2ContainerRegistryReadOnly', 'AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonSSMManagedInstanceCore', 'tfiam-logs']);
    const group = await aws('iam', 'get-group', '--group-name', 'tfiam-admins');
    assert.deepEqual(group.Users.map((u: any) => u.UserName), ['tfiam-ci']);
    const key = (await aws('kms', 'describe-key', '--key-id', 'alias/tfiam-eks')).KeyMetadata;
    assert.equal(key.Arn, out.kms_key_arn!.value);
    assert.equal((await aws('kms', 'get-key-rotation-status', '--key-id', key.KeyId)).KeyRotationEnabled, true);
    const lg = (await aws('logs', 'describe-log-groups', '--log-group-name-prefix', '/aws/eks/tfiam')).logGroups[0];
    assert.equal(lg.kmsKeyId, key.Arn);
    assert.equal(lg.retentionInDays, 30);

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${tfErrorLines(plan)}\n${plan.stdout.slice(-4000)}`);

    const destroy = await tf.destroy();
    assert.equal(destroy.code, 0, `terraform destroy failed:\n${tfErrorLines(destroy)}`);
    applied = false;

    for (const role of ['tfiam-cluster', 'tfiam-node', 'tfiam-ebs-csi']) {
      assert.equal((await runAws(srv.awsEndpoint, ['iam', 'get-role', '--role-name', role])).errorCode, 'NoSuchEntity', `role ${role} still exists`);
    }
    assert.deepEqual((await aws('iam', 'list-users')).Users, []);
    assert.deepEqual((await aws('iam', 'list-groups')).Groups, []);
    assert.deepEqual((await aws('iam', 'list-policies', '--scope', 'Local')).Policies, []);
    assert.deepEqual((await aws('iam', 'list-instance-profiles')).InstanceProfiles, []);
    assert.deepEqual((await aws('iam', 'list-open-id-connect-providers')).OpenIDConnectProviderList, []);
    assert.deepEqual((await aws('kms', 'list-aliases')).Aliases.filter((a: any) => !a.AliasName.startsWith('alias/aws/')), []);
    assert.equal((await aws('kms', 'describe-key', '--key-id', key.KeyId)).KeyMetadata.KeyState, 'PendingDeletion');
    assert.deepEqual((await aws('logs', 'describe-log-groups')).logGroups, []);
    assert.deepEqual((await aws('logs', 'describe-resource-policies')).resourcePolicies, []);
    assert.deepEqual((await aws('logs', 'describe-query-definitions')).queryDefinitions, []);
    assert.deepEqual((await aws('iam', 'list-saml-providers')).SAMLProviderList, []);
    assert.deepEqual((await aws('iam', 'list-account-aliases')).AccountAliases, []);
    assert.equal((await runAws(srv.awsEndpoint, ['iam', 'get-account-password-policy'])).errorCode, 'NoSuchEntity');
  });
});
