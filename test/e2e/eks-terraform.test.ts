/**
 * terraform (hashicorp/aws 5.100 from the machine's filesystem mirror)
 * applies an EKS stack against localeks in API-only mode
 * (--no-reference-checks): aws_eks_cluster, aws_eks_node_group,
 * aws_eks_fargate_profile, aws_eks_addon, aws_eks_access_entry,
 * aws_eks_access_policy_association, aws_eks_identity_provider_config and
 * aws_eks_pod_identity_association; a second `plan -detailed-exitcode`
 * must show no drift; destroy must leave no cluster behind.
 * Skips, saying why, when terraform or the provider mirror is missing.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson } from '../helpers/aws-cli.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createTerraformWorkdir, type TerraformWorkdir, terraformSkipReason, tfErrorLines } from '../helpers/terraform.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'terraform', 'eks');
const toolSkip = await terraformSkipReason();

describe('terraform: EKS resources (apply, no drift, destroy)', { skip: toolSkip ?? false }, () => {
  let srv: TestServer;
  let tf: TerraformWorkdir;
  let applied = false;

  before(async () => {
    srv = await startTestServer({ referenceChecks: false });
    const files: Record<string, string> = {};
    for (const f of readdirSync(FIXTURE)) if (f.endsWith('.tf')) files[f] = readFileSync(join(FIXTURE, f), 'utf8');
    tf = createTerraformWorkdir({ endpoint: srv.awsEndpoint, files });
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
    assert.equal(out.endpoint!.value, `${srv.kubeEndpoint}/clusters/tf-eks`);
    // The issuer is https on the Kubernetes endpoint (IAM accepts only https OIDC provider URLs).
    assert.ok(out.oidc_issuer!.value.startsWith(`${srv.kubeEndpoint}/oidc/us-east-1/id/`), out.oidc_issuer!.value);
    assert.match(out.oidc_issuer!.value, /^https:\/\/.*\/oidc\/us-east-1\/id\/[0-9A-F]{32}$/);
    assert.match(out.node_group_asg!.value, /^eks-workers-[0-9a-f-]{36}$/);

    const c = (await aws('eks', 'describe-cluster', '--name', 'tf-eks')).cluster;
    assert.equal(c.status, 'ACTIVE');
    assert.deepEqual(c.logging.clusterLogging.find((l: any) => l.enabled).types, ['api', 'audit']);
    const entries = (await aws('eks', 'list-access-entries', '--cluster-name', 'tf-eks')).accessEntries;
    assert.ok(entries.includes('arn:aws:iam::000000000000:role/dev'));

    const plan = await tf.planDetailed();
    assert.equal(plan.code, 0, `second plan is not empty (exit ${plan.code}):\n${tfErrorLines(plan)}`);

    const destroy = await tf.destroy();
    assert.equal(destroy.code, 0, `terraform destroy failed:\n${tfErrorLines(destroy)}`);
    applied = false;
    assert.deepEqual((await aws('eks', 'list-clusters')).clusters, []);
  });
});
