/**
 * terraform (hashicorp/aws 5.100 from the machine's filesystem mirror)
 * against localeks EBS volumes: aws_ebs_volume (gp3 with tags, gp2),
 * apply, no drift on a second plan, destroy, nothing left behind. (A size
 * change applied in place through ModifyVolume works too, but terraform's
 * modification waiter sleeps ~40 s before its first poll, so it is left to
 * the unit and kubectl tests.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const toolSkip = await terraformSkipReason();

const MAIN_TF = `
resource "aws_ebs_volume" "data" {
  availability_zone = "us-east-1a"
  size              = 10
  type              = "gp3"
  throughput        = 125
  tags              = { Name = "data", Stack = "ebs-tf" }
}

resource "aws_ebs_volume" "logs" {
  availability_zone = "us-east-1b"
  size              = 1
  type              = "gp2"
  tags              = { Stack = "ebs-tf" }
}

output "data_id" { value = aws_ebs_volume.data.id }
output "data_arn" { value = aws_ebs_volume.data.arn }
output "logs_iops" { value = aws_ebs_volume.logs.iops }
`;

describe('terraform: aws_ebs_volume (apply, no drift, destroy)', { skip: toolSkip ?? false }, () => {
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

  it('applies, shows no drift and destroys cleanly', async () => {
    const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);
    const init = await tf.init();
    assert.equal(init.code, 0, `terraform init failed:\n${init.stderr}`);
    const apply = await tf.apply();
    applied = true;
    assert.equal(apply.code, 0, `terraform apply failed:\n${tfErrorLines(apply)}`);
    const out = await tf.outputs();
    const id = out.data_id!.value as string;
    assert.ok(String(out.data_arn!.value).endsWith(`:volume/${id}`), out.data_arn!.value);
    assert.equal(Number(out.logs_iops!.value), 100);
    const v = (await aws('ec2', 'describe-volumes', '--filters', 'Name=tag:Name,Values=data')).Volumes[0];
    assert.deepEqual([v.VolumeId, v.Size, v.VolumeType, v.Throughput, v.State], [id, 10, 'gp3', 125, 'available']);

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${plan.stdout.slice(-6000)}\n${tfErrorLines(plan)}`);

    const destroy = await tf.destroy();
    assert.equal(destroy.code, 0, `terraform destroy failed:\n${tfErrorLines(destroy)}`);
    applied = false;
    assert.deepEqual((await aws('ec2', 'describe-volumes', '--filters', 'Name=tag:Stack,Values=ebs-tf')).Volumes, []);
  });
});
