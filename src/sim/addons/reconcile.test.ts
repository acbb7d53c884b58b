import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addonObjects } from './manifests.ts';
import { conflictMessage, conflictPaths, mergeManifest } from './reconcile.ts';
import { addonImages, registryFor } from './images.ts';

const facts = { name: 'demo', region: 'us-west-2', serviceIpv4Cidr: '172.20.0.0/16' };
const ds = (version: string, config?: string) => addonObjects('vpc-cni', version, facts, config).find((o) => o.resource === 'daemonsets')!.obj;

test('images come from the region\'s EKS registry with the add-on version\'s tags', () => {
  assert.equal(registryFor('us-west-2'), '602401143452.dkr.ecr.us-west-2.amazonaws.com');
  assert.equal(registryFor('af-south-1'), '877085696533.dkr.ecr.af-south-1.amazonaws.com');
  assert.equal(registryFor('cn-north-1'), '918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn');
  assert.equal(addonImages('kube-proxy', 'v1.31.10-eksbuild.12', 'us-west-2')['kube-proxy'], '602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.31.10-minimal-eksbuild.12');
  assert.equal(ds('v1.20.4-eksbuild.2').spec.template.spec.containers[0].image, '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.20.4-eksbuild.2');
});

test('configuration values reach the objects', () => {
  const d = ds('v1.20.4-eksbuild.2', '{"env":{"WARM_IP_TARGET":"5","WARM_ENI_TARGET":"0"}}');
  const env = d.spec.template.spec.containers[0].env;
  assert.equal(env.find((e: any) => e.name === 'WARM_IP_TARGET').value, '5');
  assert.equal(env.find((e: any) => e.name === 'WARM_ENI_TARGET').value, '0');
  const dns = addonObjects('coredns', 'v1.11.4-eksbuild.14', facts, 'replicaCount: 3');
  assert.equal(dns.find((o) => o.resource === 'deployments')!.obj.spec.replicas, 3);
  assert.equal(dns.find((o) => o.resource === 'services')!.obj.spec.clusterIP, '172.20.0.10');
  assert.ok(dns.some((o) => o.resource === 'poddisruptionbudgets'));
  // computeType: Fargate (the Fargate-only cluster setting) drops the EC2-only annotation of the pod template.
  const tpl = (config?: string) => addonObjects('coredns', 'v1.11.4-eksbuild.14', facts, config).find((o) => o.resource === 'deployments')!.obj.spec.template;
  assert.equal(tpl().metadata.annotations['eks.amazonaws.com/compute-type'], 'ec2');
  assert.equal(tpl('{"computeType":"Fargate"}').metadata.annotations, undefined);
});

test('creation: a field another manager holds with another value is a conflict, in EKS notation', () => {
  const want = ds('v1.20.4-eksbuild.2');
  const existing = structuredClone(ds('v1.19.6-eksbuild.7'));
  const paths = conflictPaths(want, existing);
  assert.ok(paths.includes('.spec.template.spec.containers[name="aws-node"].image'), paths.join('\n'));
  assert.deepEqual(conflictPaths(want, structuredClone(want)), []);
  // Extra fields and extra env items on the cluster are not conflicts.
  const extra = structuredClone(want);
  extra.spec.template.spec.containers[0].env.push({ name: 'WARM_IP_TARGET', value: '2' });
  extra.spec.revisionHistoryLimit = 10;
  assert.deepEqual(conflictPaths(want, extra), []);
  assert.match(conflictMessage([{ ref: 'DaemonSet.apps aws-node', path: paths[0]! }]), /^Conflicts found when trying to apply\. Will not continue due to resolve conflicts mode\. Conflicts:\nDaemonSet\.apps aws-node - \./);
});

test('update: only fields changed since the last apply conflict; OVERWRITE and PRESERVE merges', () => {
  const prev = ds('v1.19.6-eksbuild.7');
  const want = ds('v1.20.4-eksbuild.2');
  const cluster = structuredClone(prev);
  assert.deepEqual(conflictPaths(want, cluster, prev), []);
  const env = cluster.spec.template.spec.containers[0].env;
  env.find((e: any) => e.name === 'WARM_ENI_TARGET').value = '2';
  env.push({ name: 'WARM_IP_TARGET', value: '3' });
  const paths = conflictPaths(want, cluster, prev);
  assert.deepEqual(paths, ['.spec.template.spec.containers[name="aws-node"].env[name="WARM_ENI_TARGET"].value']);
  const over = mergeManifest(cluster, want);
  const oenv = over.spec.template.spec.containers[0].env;
  assert.equal(oenv.find((e: any) => e.name === 'WARM_ENI_TARGET').value, '1');
  assert.equal(oenv.find((e: any) => e.name === 'WARM_IP_TARGET').value, '3');
  assert.equal(over.spec.template.spec.containers[0].image, want.spec.template.spec.containers[0].image);
  const kept = mergeManifest(cluster, want, paths);
  assert.equal(kept.spec.template.spec.containers[0].env.find((e: any) => e.name === 'WARM_ENI_TARGET').value, '2');
  assert.equal(kept.spec.template.spec.containers[0].image, want.spec.template.spec.containers[0].image);
});

test('what the previous apply set and this one does not is removed (configuration values cleared)', () => {
  const prev = ds('v1.20.4-eksbuild.2', '{"nodeSelector":{"pool":"a"},"env":{"WARM_IP_TARGET":"5"}}');
  const want = ds('v1.20.4-eksbuild.2');
  const cluster = structuredClone(prev);
  const merged = mergeManifest(cluster, want, [], prev);
  assert.equal(merged.spec.template.spec.nodeSelector, undefined);
  assert.equal(merged.spec.template.spec.containers[0].env.find((e: any) => e.name === 'WARM_IP_TARGET'), undefined);
  // A value someone changed since stays.
  cluster.spec.template.spec.nodeSelector = { pool: 'b' };
  assert.deepEqual(mergeManifest(cluster, want, [], prev).spec.template.spec.nodeSelector, { pool: 'b' });
});
