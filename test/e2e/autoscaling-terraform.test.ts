/**
 * terraform's aws_autoscaling_group (hashicorp/aws 5.100) against localeks:
 * apply waits for capacity, a second plan shows no drift, changing
 * desired_capacity scales the group, destroy drains and deletes it.
 * Skips, saying why, when terraform, its provider mirror or EC2 is missing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer, waitFor } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const toolSkip = await terraformSkipReason();

describe('terraform: aws_autoscaling_group', { skip: toolSkip ?? false }, () => {
  let srv: TestServer;
  let tf: TerraformWorkdir;
  let missing: string | undefined;

  before(async () => {
    srv = await startTestServer();
    const probe = await runAws(srv.awsEndpoint, ['ec2', 'describe-launch-templates']);
    if (probe.code !== 0) missing = `EC2 is not served yet (${probe.errorCode}: ${probe.errorMessage})`;
    tf = createTerraformWorkdir({
      endpoint: srv.awsEndpoint,
      files: { 'main.tf': readFileSync(join(import.meta.dirname, 'fixtures', 'terraform', 'autoscaling', 'main.tf'), 'utf8') },
    });
  });

  after(async () => {
    // The server's store is in memory: stopping it discards whatever a failed run left.
    tf?.remove();
    await srv?.stop();
  });

  it('applies, shows no drift, scales with desired_capacity, destroys', async (t) => {
    if (missing) return t.skip(missing);
    const aws = (...args: string[]) => awsJson(srv.awsEndpoint, args);
    const init = await tf.init();
    assert.equal(init.code, 0, init.stderr);
    const apply = await tf.apply();
    assert.equal(apply.code, 0, `apply failed:\n${tfErrorLines(apply)}`);

    let g = (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'asg-tf-nodes')).AutoScalingGroups[0];
    assert.equal(g.DesiredCapacity, 2);
    assert.equal(g.Instances.filter((i: any) => i.LifecycleState === 'InService').length, 2, 'terraform waited for capacity');
    const hooks = (await aws('autoscaling', 'describe-lifecycle-hooks', '--auto-scaling-group-name', 'asg-tf-nodes')).LifecycleHooks;
    assert.equal(hooks[0].LifecycleHookName, 'drain');

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${tfErrorLines(plan)}`);

    const scale = await tf.apply(['-var', 'desired=3']);
    assert.equal(scale.code, 0, `scale apply failed:\n${tfErrorLines(scale)}`);
    g = await waitFor(
      async () => {
        const x = (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'asg-tf-nodes')).AutoScalingGroups[0];
        return x.Instances.filter((i: any) => i.LifecycleState === 'InService').length === 3 ? x : undefined;
      },
      { what: '3 InService instances', timeoutMs: 60_000 },
    );
    const ids = g.Instances.map((i: any) => i.InstanceId);
    const insts = (await aws('ec2', 'describe-instances', '--instance-ids', ...ids)).Reservations.flatMap((r: any) => r.Instances);
    for (const i of insts) {
      const tags = Object.fromEntries(i.Tags.map((x: any) => [x.Key, x.Value]));
      assert.equal(tags['kubernetes.io/cluster/tf'], 'owned');
      assert.equal(tags['aws:autoscaling:groupName'], 'asg-tf-nodes');
      assert.equal(tags.team, undefined);
    }

    // terraform drains the group (min/max/desired 0), waits for it to empty, deletes it, then the
    // launch template, subnets and VPC (which EC2 refuses while instances still hold addresses).
    const destroy = await tf.destroy(['-var', 'desired=3']);
    assert.equal(destroy.code, 0, `destroy failed:\n${tfErrorLines(destroy)}`);
    assert.deepEqual((await aws('autoscaling', 'describe-auto-scaling-groups')).AutoScalingGroups, []);
    const left = (await aws('ec2', 'describe-instances', '--instance-ids', ...ids)).Reservations.flatMap((r: any) => r.Instances);
    assert.ok(left.every((i: any) => i.State.Name === 'terminated'), JSON.stringify(left.map((i: any) => i.State.Name)));
    assert.deepEqual((await aws('ec2', 'describe-vpcs', '--filters', 'Name=tag:Name,Values=asg-tf')).Vpcs, []);
    const acts = (await aws('autoscaling', 'describe-scaling-activities', '--include-deleted-groups')).Activities;
    assert.ok(acts.filter((a: any) => a.Description.startsWith('Terminating EC2 instance')).length >= 3);
  });
});
