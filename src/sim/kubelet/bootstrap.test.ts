import assert from 'node:assert/strict';
import { it } from 'node:test';
import { kubeletMaxPods, parseBootstrap } from './bootstrap.ts';

it('bootstrap.sh with kubelet extra args (base64 as EC2 stores it)', () => {
  const ud = Buffer.from("#!/bin/bash\nset -o xtrace\n/etc/eks/bootstrap.sh prod --kubelet-extra-args '--node-labels=team=a,tier=web --register-with-taints=dedicated=web:NoSchedule'\n").toString('base64');
  assert.deepEqual(parseBootstrap(ud), { clusterName: 'prod', labels: { team: 'a', tier: 'web' }, taints: [{ key: 'dedicated', value: 'web', effect: 'NoSchedule' }] });
});

it('nodeadm NodeConfig in a MIME document', () => {
  const ud = [
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="BOUNDARY"',
    '',
    '--BOUNDARY',
    'Content-Type: application/node.eks.aws',
    '',
    'apiVersion: node.eks.aws/v1alpha1',
    'kind: NodeConfig',
    'spec:',
    '  cluster:',
    '    apiServerEndpoint: https://example.com',
    '    name: al2023',
    '  kubelet:',
    '    flags:',
    '      - --node-labels=role=batch',
    '',
    '--BOUNDARY--',
  ].join('\n');
  assert.deepEqual(parseBootstrap(ud), { clusterName: 'al2023', labels: { role: 'batch' }, taints: [] });
});

it('Bottlerocket settings; anything else joins nothing', () => {
  assert.equal(parseBootstrap('[settings.kubernetes]\ncluster-name = "br"\napi-server = "x"\n')?.clusterName, 'br');
  assert.equal(parseBootstrap('#!/bin/bash\necho hello\n'), undefined);
  assert.equal(parseBootstrap(undefined), undefined);
});

it('kubeletMaxPods: --max-pods in AL2 kubelet-extra-args and nodeadm flags, nodeadm config maxPods, Bottlerocket max-pods', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  assert.equal(kubeletMaxPods(b64("#!/bin/bash\n/etc/eks/bootstrap.sh demo --use-max-pods false --kubelet-extra-args '--node-labels=a=b --max-pods=20'\n")), 20);
  assert.equal(kubeletMaxPods(b64('apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    flags:\n      - "--max-pods=58"\n')), 58);
  assert.equal(kubeletMaxPods(b64('apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: 110\n')), 110);
  assert.equal(kubeletMaxPods('[settings.kubernetes]\ncluster-name = "demo"\nmax-pods = 42\n'), 42);
  assert.equal(kubeletMaxPods(b64('#!/bin/bash\n/etc/eks/bootstrap.sh demo\n')), undefined, 'no flag: the instance type decides');
  assert.equal(kubeletMaxPods(undefined), undefined);
});
