/**
 * The Kubernetes API of one cluster end to end with real clients: kubectl
 * (discovery, create/apply client- and server-side, get -o yaml/jsonpath/wide,
 * label, annotate, patch of all three types, scale, delete, wait, get -w,
 * api-resources/api-versions) and @kubernetes/client-node (list, watch,
 * informer resuming after a disconnect).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { type KubeHarness, startKubeHarness } from './kube-harness.ts';

let h: KubeHarness;

before(async () => {
  h = await startKubeHarness('e2e');
});
after(async () => {
  await h.close();
});

const ok = (args: string[], input?: string): Promise<string> => h.ok(args, input);

const fails = (args: string[], input?: string): Promise<string> => h.fails(args, input);

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, name: http}, {port: 443, name: https}]
`;

describe('kubectl', () => {
  test('version, discovery, bootstrap objects', async () => {
    const v = JSON.parse(await ok(['version', '-o', 'json']));
    assert.match(v.serverVersion.gitVersion, /^v1\.31\.\d+-eks-[0-9a-f]{7}$/);
    assert.equal(v.serverVersion.platform, 'linux/amd64');
    const ns = await ok(['get', 'ns']);
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.match(ns, new RegExp(`^${n}\\s+Active`, 'm'));
    const versions = (await ok(['api-versions'])).split('\n');
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'autoscaling/v2', 'rbac.authorization.k8s.io/v1', 'flowcontrol.apiserver.k8s.io/v1']) assert.ok(versions.includes(gv), gv);
    const res = await ok(['api-resources', '-o', 'name']);
    for (const r of ['pods', 'deployments.apps', 'customresourcedefinitions.apiextensions.k8s.io', 'leases.coordination.k8s.io']) assert.match(res, new RegExp(`^${r.replace(/\./g, '\\.')}$`, 'm'));
    const svc = JSON.parse(await ok(['get', 'svc', 'kubernetes', '-o', 'json']));
    assert.equal(svc.spec.clusterIP, '172.20.0.1');
    assert.ok(await ok(['get', 'sa', 'default', '-n', 'kube-system']));
    assert.match(await ok(['get', 'clusterrole', 'cluster-admin', 'view', 'edit', 'admin', '-o', 'name']), /clusterrole.rbac.authorization.k8s.io\/view/);
  });

  test('apply (client side, then server side), get -o wide/yaml/jsonpath, defaults', async () => {
    await ok(['create', 'ns', 'apps1']);
    assert.match(await ok(['apply', '-n', 'apps1', '-f', '-'], DEPLOY), /deployment.apps\/web created/);
    assert.match(await ok(['apply', '-n', 'apps1', '-f', '-'], DEPLOY), /deployment.apps\/web unchanged/);
    const wide = await ok(['get', 'deploy', 'web', '-n', 'apps1', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/m);
    assert.match(wide, /web\s+0\/2\s+0\s+0\s+\S+\s+nginx,sidecar\s+nginx:1.25,busybox\s+app=web/);
    const d = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'apps1', '-o', 'json']));
    assert.equal(d.spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(d.spec.template.spec.containers[1].imagePullPolicy, 'Always');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
    assert.equal(d.metadata.generation, 1);
    assert.match(d.metadata.uid, /^[0-9a-f-]{36}$/);
    const svcIp = await ok(['get', 'svc', 'web', '-n', 'apps1', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[1].targetPort}']);
    assert.match(svcIp, /^172\.20\.\d+\.\d+ 443$/);
    const changed = DEPLOY.replace('replicas: 2', 'replicas: 4');
    assert.match(await ok(['apply', '--server-side', '-n', 'apps1', '-f', '-'], changed), /serverside-applied/);
    const d2 = JSON.parse(await ok(['get', 'deploy', 'web', '-n', 'apps1', '-o', 'json', '--show-managed-fields']));
    assert.equal(d2.spec.replicas, 4);
    assert.equal(d2.metadata.generation, 2);
    assert.ok(d2.metadata.managedFields.some((m: any) => m.manager === 'kubectl' && m.operation === 'Apply'), JSON.stringify(d2.metadata.managedFields));
    const yaml = await ok(['get', 'deploy', 'web', '-n', 'apps1', '-o', 'yaml']);
    assert.match(yaml, /^kind: Deployment$/m);
  });

  test('label, annotate, scale, three patch types, optimistic concurrency', async () => {
    await ok(['create', 'deployment', 'p', '--image=nginx:1.25', '-n', 'default']);
    await ok(['label', 'deploy', 'p', 'tier=front']);
    await ok(['annotate', 'deploy', 'p', 'note=hello']);
    await ok(['scale', 'deploy', 'p', '--replicas=3']);
    await ok(['patch', 'deploy', 'p', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"}]}}}}']);
    await ok(['patch', 'deploy', 'p', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}}}']);
    await ok(['patch', 'deploy', 'p', '--type=json', '-p', '[{"op":"add","path":"/metadata/annotations/j","value":"2"}]']);
    const d = JSON.parse(await ok(['get', 'deploy', 'p', '-o', 'json']));
    assert.equal(d.spec.replicas, 3);
    assert.equal(d.spec.template.spec.containers.length, 1);
    assert.equal(d.spec.template.spec.containers[0].image, 'nginx:1.26');
    assert.equal(d.metadata.labels.tier, 'front');
    assert.equal(d.metadata.labels.m, '1');
    assert.equal(d.metadata.annotations.note, 'hello');
    assert.equal(d.metadata.annotations.j, '2');
    assert.equal(d.metadata.generation, 3); // scale and the image change
    // A stale resourceVersion is a 409 with upstream's message.
    const stale = { ...d, metadata: { ...d.metadata, resourceVersion: String(Number(d.metadata.resourceVersion) - 1) } };
    const err = await fails(['replace', '-f', '-'], JSON.stringify(stale));
    assert.match(err, /Operation cannot be fulfilled on deployments.apps "p": the object has been modified; please apply your changes to the latest version and try again/);
    // JSON patch test failure.
    assert.match(await fails(['patch', 'deploy', 'p', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":9}]']), /test/);
  });

  test('create configmap/secret/job, validation errors, delete and wait', async () => {
    await ok(['create', 'configmap', 'c1', '--from-literal=a=b']);
    await ok(['create', 'secret', 'generic', 's1', '--from-literal=p=q']);
    await ok(['create', 'job', 'j1', '--image=busybox', '--', 'echo', 'hi']);
    assert.equal(await ok(['get', 'secret', 's1', '-o', 'jsonpath={.data.p}']), Buffer.from('q').toString('base64'));
    const job = JSON.parse(await ok(['get', 'job', 'j1', '-o', 'json']));
    assert.equal(job.spec.template.metadata.labels['batch.kubernetes.io/job-name'], 'j1');
    assert.equal(job.spec.backoffLimit, 6);
    assert.match(await fails(['create', 'configmap', 'c1', '--from-literal=a=b']), /AlreadyExists|already exists/);
    assert.match(await fails(['create', 'configmap', 'Bad_Name']), /metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.match(await fails(['get', 'configmap', 'nope']), /configmaps "nope" not found/);
    assert.match(await fails(['create', 'configmap', 'x', '-n', 'missing-ns']), /namespaces "missing-ns" not found/);
    await ok(['delete', 'cm', 'c1']);
    await ok(['wait', '--for=delete', 'cm/c1', '--timeout=10s']);
    const bad = `apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  restartPolicy: Sometimes
  containers: [{name: a}]
`;
    const e = await fails(['apply', '-f', '-'], bad);
    assert.match(e, /spec.containers\[0\].image: Required value/);
    assert.match(e, /spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"/);
    const unknown = `apiVersion: v1
kind: ConfigMap
metadata: {name: u1}
dta: {a: b}
`;
    assert.match(await fails(['apply', '-f', '-'], unknown), /unknown field "dta"/);
  });

  test('get -w streams events', async () => {
    await ok(['create', 'ns', 'watched']);
    const p = spawn('kubectl', ['--kubeconfig', h.kubeconfig, 'get', 'cm', '-n', 'watched', '-w', '--output-watch-events']);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    try {
      // Whether the watch starts before or after the create, --output-watch-events shows the object as ADDED.
      await ok(['create', 'configmap', 'w1', '-n', 'watched', '--from-literal=a=b']);
      await until('ADDED w1', () => (/ADDED\s+w1/.test(out) ? true : undefined));
      await ok(['label', 'cm', 'w1', '-n', 'watched', 'x=y']);
      await until('MODIFIED w1', () => (/MODIFIED\s+w1/.test(out) ? true : undefined));
      await ok(['delete', 'cm', 'w1', '-n', 'watched']);
      await until('DELETED w1', () => (/DELETED\s+w1/.test(out) ? true : undefined));
    } finally {
      p.kill();
    }
  });

  test('namespace deletion removes its content, then the namespace', async () => {
    await ok(['create', 'ns', 'doomed']);
    await ok(['create', 'configmap', 'x', '-n', 'doomed']);
    await until('default service account', async () => ((await h.kubectl(['get', 'sa', 'default', '-n', 'doomed'])).code === 0 ? true : undefined));
    await ok(['delete', 'ns', 'doomed']);
    await ok(['wait', '--for=delete', 'ns/doomed', '--timeout=15s']);
    assert.match(await fails(['get', 'cm', 'x', '-n', 'doomed']), /not found/);
  });
});

describe('@kubernetes/client-node', () => {
  const kc = () => {
    const c = new k8s.KubeConfig();
    c.loadFromFile(h.kubeconfig);
    return c;
  };

  test('list with selectors and pagination', async () => {
    const core = kc().makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'paged' } } });
    for (let i = 0; i < 25; i++) {
      await core.createNamespacedConfigMap({ namespace: 'paged', body: { metadata: { name: `cm-${String(i).padStart(2, '0')}`, labels: { parity: i % 2 ? 'odd' : 'even' } }, data: { i: String(i) } } });
    }
    const odd = await core.listNamespacedConfigMap({ namespace: 'paged', labelSelector: 'parity=odd' });
    assert.equal(odd.items.length, 12);
    const inSel = await core.listNamespacedConfigMap({ namespace: 'paged', labelSelector: 'parity in (odd,even),parity!=odd' });
    assert.equal(inSel.items.length, 13);
    const byName = await core.listNamespacedConfigMap({ namespace: 'paged', fieldSelector: 'metadata.name=cm-03' });
    assert.deepEqual(byName.items.map((c) => c.metadata!.name), ['cm-03']);
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    let rv: string | undefined;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: 'paged', limit: 10, _continue: cont });
      pages++;
      if (rv === undefined) rv = page.metadata!.resourceVersion;
      else assert.equal(page.metadata!.resourceVersion, rv, 'pages are read at one revision');
      if (pages === 1) {
        assert.equal(page.metadata!.remainingItemCount, 15);
        // A write between pages does not show up: the list is a snapshot.
        await core.createNamespacedConfigMap({ namespace: 'paged', body: { metadata: { name: 'cm-00a' } } });
      }
      names.push(...page.items.map((c) => c.metadata!.name!));
      cont = page.metadata!._continue;
    } while (cont);
    assert.equal(pages, 3);
    assert.equal(names.length, 25);
    assert.ok(!names.includes('cm-00a'));
    // An expired continue token is 410 Expired.
    const first = await core.listNamespacedConfigMap({ namespace: 'paged', limit: 5 });
    for (let i = 0; i < 3; i++) await core.createNamespacedConfigMap({ namespace: 'paged', body: { metadata: { generateName: 'x-' } } });
    await h.backend.compact(await h.backend.currentRevision());
    await assert.rejects(core.listNamespacedConfigMap({ namespace: 'paged', limit: 5, _continue: first.metadata!._continue }), (e: any) => e.code === 410);
    const bad = await core.listNamespacedConfigMap({ namespace: 'paged', fieldSelector: 'data.i=1' }).catch((e) => e);
    assert.equal(bad.code, 400);
  });

  test('watch with label selector: objects moving in and out of the selector', async () => {
    const c = kc();
    const core = c.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const events: string[] = [];
    const w = new k8s.Watch(c);
    const req = await w.watch('/api/v1/namespaces/sel/configmaps', { labelSelector: 'app=a', allowWatchBookmarks: true }, (type, obj) => events.push(`${type} ${obj.metadata?.name ?? ''}`), () => {});
    try {
      await core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { name: 'm1', labels: { app: 'a' } } } });
      await core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { name: 'm2', labels: { app: 'b' } } } });
      await core.patchNamespacedConfigMap({ namespace: 'sel', name: 'm2', body: { metadata: { labels: { app: 'a' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.patchNamespacedConfigMap({ namespace: 'sel', name: 'm1', body: { metadata: { labels: { app: 'c' } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: 'sel', name: 'm2' });
      await until('watch events', () => (events.length >= 4 ? true : undefined));
      assert.deepEqual(events, ['ADDED m1', 'ADDED m2', 'DELETED m1', 'DELETED m2']);
    } finally {
      req.abort();
    }
  });

  test('informer lists, watches and resumes after a disconnect without missing events', async () => {
    const c = kc();
    const core = c.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'inf' } } });
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'pre' } } });
    const informer = k8s.makeInformer(c, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
    const seen = new Map<string, string>();
    const deleted = new Set<string>();
    informer.on('add', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('update', (o) => seen.set(o.metadata!.name!, o.data?.v ?? ''));
    informer.on('delete', (o) => deleted.add(o.metadata!.name!));
    await informer.start();
    try {
      await until('initial list', () => (seen.has('pre') ? true : undefined));
      for (let round = 0; round < 3; round++) {
        h.api.closeWatches(h.cluster.uid);
        // Writes while the informer is re-watching must all be delivered.
        for (let i = 0; i < 5; i++) await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: `r${round}-${i}` }, data: { v: '1' } } });
        await core.replaceNamespacedConfigMap({ namespace: 'inf', name: `r${round}-0`, body: { metadata: { name: `r${round}-0` }, data: { v: '2' } } });
        await core.deleteNamespacedConfigMap({ namespace: 'inf', name: `r${round}-1` });
      }
      await until('all events', () => {
        for (let round = 0; round < 3; round++) {
          if (seen.get(`r${round}-0`) !== '2' || !deleted.has(`r${round}-1`)) return undefined;
          for (let i = 2; i < 5; i++) if (!seen.has(`r${round}-${i}`)) return undefined;
        }
        return true;
      });
      assert.equal(informer.list('inf').length, 1 + 3 * 4);
    } finally {
      await informer.stop();
    }
  });

  test('watch from a compacted resourceVersion gets 410 Expired', async () => {
    const c = kc();
    const core = c.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before-compaction' } } });
    const l = await core.listNamespacedConfigMap({ namespace: 'default' });
    const old = Number(l.metadata!.resourceVersion);
    // Revision 1 is compacted away: older than anything the store still has.
    await h.backend.compact(old);
    const events: Array<[string, any]> = [];
    const w = new k8s.Watch(c);
    let done = false;
    await w.watch('/api/v1/namespaces/default/configmaps', { resourceVersion: '1' }, (t, o) => events.push([t, o]), () => (done = true));
    await until('watch end', () => (done ? true : undefined));
    assert.equal(events[0]?.[0], 'ERROR');
    assert.equal(events[0]?.[1].code, 410);
    assert.equal(events[0]?.[1].reason, 'Expired');
  });
});

describe('CustomResourceDefinitions', () => {
  const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [color]
            properties:
              color: {type: string, enum: [red, blue]}
              replicas: {type: integer, minimum: 0, default: 1}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              replicas: {type: integer}
`;
  test('custom resource round trip: discovery, defaulting, pruning, validation, printer columns, scale, cleanup', async () => {
    await ok(['apply', '-f', '-'], CRD);
    await ok(['wait', '--for=condition=established', 'crd/widgets.example.com', '--timeout=10s']);
    assert.match(await ok(['api-resources', '--api-group=example.com']), /widgets\s+wd\s+example.com\/v1\s+true\s+Widget/);
    await ok(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {color: red, extra: {any: thing}}\n');
    assert.match(await ok(['get', 'wd']), /^NAME\s+COLOR\s+REPLICAS\s*\nw1\s+red\s+1/m);
    const w = JSON.parse(await ok(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(w.spec.replicas, 1, 'defaulted');
    assert.deepEqual(w.spec.extra, { any: 'thing' }, 'preserved');
    assert.match(await fails(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {color: red, bogus: 1}\n'), /unknown field "spec.bogus"/);
    await ok(['apply', '--validate=false', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {color: blue, bogus: 1}\n');
    assert.equal((JSON.parse(await ok(['get', 'widget', 'w3', '-o', 'json'])).spec.bogus), undefined, 'pruned');
    const bad = await fails(['apply', '-f', '-'], 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w4}\nspec: {color: pink, replicas: -1}\n');
    assert.match(bad, /spec.color: Unsupported value: "pink": supported values: "red", "blue"/);
    assert.match(bad, /spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0/);
    await ok(['scale', 'widget', 'w1', '--replicas=3']);
    assert.equal(await ok(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.replicas}/{.metadata.generation}']), '3/2');
    await ok(['delete', 'crd', 'widgets.example.com']);
    await ok(['wait', '--for=delete', 'crd/widgets.example.com', '--timeout=10s']);
    assert.match(await fails(['get', 'widgets']), /the server doesn't have a resource type "widgets"|the server could not find the requested resource/);
    assert.equal((await h.backend.range({ prefix: `/k8s/${h.cluster.uid}/registry/example.com/` })).count, 0, 'custom resources deleted with their CRD');
  });
});

describe('pods: admission, eviction, bookmarks', () => {
  const kc = () => {
    const c = new k8s.KubeConfig();
    c.loadFromFile(h.kubeconfig);
    return c;
  };

  test('service account, default tolerations and priority are admitted onto pods', async () => {
    await ok(['run', 'adm', '--image=nginx']);
    const p = JSON.parse(await ok(['get', 'pod', 'adm', '-o', 'json']));
    assert.equal(p.spec.serviceAccountName, 'default');
    assert.ok(p.spec.volumes.some((v: any) => /^kube-api-access-/.test(v.name) && v.projected));
    assert.ok(p.spec.containers[0].volumeMounts.some((m: any) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'));
    assert.deepEqual(p.spec.tolerations.map((t: any) => t.key), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    assert.equal(p.spec.priority, 0);
    assert.equal(p.status.phase, 'Pending');
    assert.equal(p.status.qosClass, 'BestEffort');
    const e = await fails(['run', 'adm2', '--image=nginx', '--overrides={"spec":{"serviceAccountName":"ghost"}}']);
    assert.match(e, /error looking up service account default\/ghost: serviceaccount "ghost" not found/);
    assert.match(await ok(['describe', 'pod', 'adm']), /Service Account:\s+default/);
  });

  test('eviction honours PodDisruptionBudgets (429)', async () => {
    const c = kc();
    const core = c.makeApiClient(k8s.CoreV1Api);
    const policy = c.makeApiClient(k8s.PolicyV1Api);
    await core.createNamespace({ body: { metadata: { name: 'evict' } } });
    await until('default sa', async () => ((await h.kubectl(['get', 'sa', 'default', '-n', 'evict'])).code === 0 ? true : undefined));
    for (const n of ['e1', 'e2']) {
      await core.createNamespacedPod({ namespace: 'evict', body: { metadata: { name: n, labels: { app: 'e' } }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] } } });
      const cur = await core.readNamespacedPod({ namespace: 'evict', name: n });
      cur.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
      await core.replaceNamespacedPodStatus({ namespace: 'evict', name: n, body: cur });
    }
    await policy.createNamespacedPodDisruptionBudget({ namespace: 'evict', body: { metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'e' } } } } });
    await core.createNamespacedPodEviction({ namespace: 'evict', name: 'e1', body: { metadata: { name: 'e1' } } });
    const blocked = await core.createNamespacedPodEviction({ namespace: 'evict', name: 'e2', body: { metadata: { name: 'e2' } } }).catch((e) => e);
    assert.equal(blocked.code, 429);
    const body = JSON.parse(blocked.body);
    assert.equal(body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(body.details.causes[0].reason, 'DisruptionBudget');
    const pdb = await policy.readNamespacedPodDisruptionBudget({ namespace: 'evict', name: 'pdb' });
    assert.ok(pdb.status?.disruptedPods?.e1);
  });

  test('watch bookmarks and sendInitialEvents (watch-list)', async () => {
    const c = kc();
    const core = c.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'wl' } } });
    await core.createNamespacedConfigMap({ namespace: 'wl', body: { metadata: { name: 'a' } } });
    const events: Array<{ type: string; obj: any }> = [];
    const w = new k8s.Watch(c);
    const req = await w.watch('/api/v1/namespaces/wl/configmaps', { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, resourceVersion: '' }, (type, obj) => events.push({ type, obj }), () => {});
    try {
      await until('initial events end', () => (events.some((e) => e.type === 'BOOKMARK') ? true : undefined));
      assert.equal(events[0]!.type, 'ADDED');
      assert.equal(events[0]!.obj.metadata.name, 'a');
      const bm = events.find((e) => e.type === 'BOOKMARK')!;
      assert.equal(bm.obj.metadata.annotations['k8s.io/initial-events-end'], 'true');
      assert.ok(Number(bm.obj.metadata.resourceVersion) > 0);
      await core.createNamespacedConfigMap({ namespace: 'wl', body: { metadata: { name: 'b' } } });
      await until('live event', () => (events.some((e) => e.type === 'ADDED' && e.obj.metadata.name === 'b') ? true : undefined));
    } finally {
      req.abort();
    }
    const bad = await fetch(`${h.url}/api/v1/namespaces/wl/configmaps?watch=true&sendInitialEvents=true`).then((r) => r.json() as Promise<{ code: number }>);
    assert.equal(bad.code, 422);
  });
});

describe('garbage collection', () => {
  async function family(ns: string, owner: string, n: number): Promise<void> {
    await ok(['create', 'configmap', owner, '-n', ns]);
    const uid = (await ok(['get', 'cm', owner, '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).trim();
    for (let i = 0; i < n; i++) {
      await ok(['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${owner}-dep${i}`, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, blockOwnerDeletion: true }] } }));
    }
  }
  const names = async (ns: string) => (await ok(['get', 'cm', '-n', ns, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter((x) => x && x !== 'kube-root-ca.crt');

  test('background, orphan and foreground cascading deletion', async () => {
    await ok(['create', 'ns', 'gc']);
    await family('gc', 'bg', 2);
    await family('gc', 'or', 2);
    await family('gc', 'fg', 2);
    await ok(['delete', 'cm', 'bg', '-n', 'gc']);
    await until('background dependents gone', async () => ((await names('gc')).some((n) => n.startsWith('bg')) ? undefined : true));
    await ok(['delete', 'cm', 'or', '-n', 'gc', '--cascade=orphan']);
    await until('orphan owner gone', async () => ((await names('gc')).includes('or') ? undefined : true));
    const orphan = JSON.parse(await ok(['get', 'cm', 'or-dep0', '-n', 'gc', '-o', 'json']));
    assert.equal(orphan.metadata.ownerReferences, undefined);
    await ok(['delete', 'cm', 'fg', '-n', 'gc', '--cascade=foreground', '--wait=true', '--timeout=15s']);
    await until('foreground family gone', async () => ((await names('gc')).some((n) => n.startsWith('fg')) ? undefined : true));
    assert.deepEqual((await names('gc')).sort(), ['or-dep0', 'or-dep1']);
  });
});

describe('openapi', () => {
  test('kubectl explain works from the served OpenAPI v3 schemas', async () => {
    const out = await ok(['explain', 'deployment.spec.strategy']);
    assert.match(out, /KIND:\s+Deployment/);
    assert.match(out, /rollingUpdate\s+<RollingUpdateDeployment>/);
    const doc = (await fetch(`${h.url}/openapi/v3/api/v1`).then((r) => r.json())) as any;
    const spec = doc.components.schemas['io.k8s.api.core.v1.PodSpec'];
    assert.equal(spec.properties.containers['x-kubernetes-patch-merge-key'], 'name');
    assert.equal(spec.properties.tolerations['x-kubernetes-list-type'], 'atomic');
    const pod = doc.components.schemas['io.k8s.api.core.v1.Pod'];
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
  });

  test('unknown fields: Strict rejects, Warn warns and drops', async () => {
    await ok(['create', 'deployment', 'uf', '--image=nginx']);
    const r = await h.kubectl(['patch', 'deploy', 'uf', '-p', '{"spec":{"bogus":1}}']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /Warning: unknown field "spec.bogus"/);
    assert.equal(await ok(['get', 'deploy', 'uf', '-o', 'jsonpath={.spec.bogus}']), '');
    const e = await fails(['apply', '-f', '-'], 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: uf2}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i, imagee: typo}]\n');
    assert.match(e, /Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers\[0\].imagee"/);
  });
});

describe('pod security admission', () => {
  test('restricted namespaces reject non-conforming pods and warn on workloads', async () => {
    await ok(['create', 'ns', 'psa']);
    await ok(['label', 'ns', 'psa', 'pod-security.kubernetes.io/enforce=restricted']);
    const e = await fails(['run', 'p', '--image=nginx', '-n', 'psa']);
    assert.match(e, /pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "p" must set securityContext.allowPrivilegeEscalation=false\)/);
    const r = await h.kubectl(['create', 'deployment', 'd', '--image=nginx', '-n', 'psa']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /Warning: would violate PodSecurity "restricted:latest"/);
    const okPod = {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'good', namespace: 'psa' },
      spec: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [{ name: 'c', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      },
    };
    await ok(['apply', '-f', '-'], JSON.stringify(okPod));
  });
});

describe('limit ranges and resource quotas', () => {
  test('LimitRange defaults and max, ResourceQuota limits and status', async () => {
    await ok(['create', 'ns', 'qt']);
    await ok(['apply', '-f', '-'], `apiVersion: v1
kind: ResourceQuota
metadata: {name: q1, namespace: qt}
spec:
  hard: {pods: "2", requests.cpu: "1"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: qt}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 128Mi}
    defaultRequest: {cpu: 250m, memory: 64Mi}
    max: {cpu: "1"}
`);
    await until('default sa', async () => ((await h.kubectl(['get', 'sa', 'default', '-n', 'qt'])).code === 0 ? true : undefined));
    await ok(['run', 'a', '--image=nginx', '-n', 'qt']);
    const a = JSON.parse(await ok(['get', 'pod', 'a', '-n', 'qt', '-o', 'json']));
    assert.deepEqual(a.spec.containers[0].resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } });
    assert.match(a.metadata.annotations['kubernetes.io/limit-ranger'], /LimitRanger plugin set: cpu, memory request for container a; cpu, memory limit for container a/);
    assert.match(await fails(['run', 'big', '--image=nginx', '-n', 'qt', '--overrides={"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"cpu":"2"}}}]}}']), /pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2/);
    await ok(['run', 'b', '--image=nginx', '-n', 'qt']);
    assert.match(await fails(['run', 'c', '--image=nginx', '-n', 'qt']), /pods "c" is forbidden: exceeded quota: q1, requested: pods=1, used: pods=2, limited: pods=2/);
    await until('quota status', async () => {
      const q = JSON.parse(await ok(['get', 'quota', 'q1', '-n', 'qt', '-o', 'json']));
      return q.status?.used?.pods === '2' && q.status.used['requests.cpu'] === '500m' ? true : undefined;
    });
  });
});

describe('admission webhooks', () => {
  test('mutating and validating webhooks at a URL are called', async () => {
    const { createServer } = await import('node:http');
    const reviews: any[] = [];
    const srv = createServer((req, res) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => {
        const review = JSON.parse(b);
        reviews.push(review);
        const obj = review.request.object;
        const response: any = { uid: review.request.uid, allowed: true };
        if (req.url === '/mutate') {
          response.patchType = 'JSONPatch';
          const ops = obj.metadata.labels ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }] : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }];
          response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
        } else if (obj?.metadata?.labels?.deny === 'true') {
          response.allowed = false;
          response.status = { code: 403, message: 'configmaps labelled deny=true are not allowed' };
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as any).port;
    try {
      await ok(['create', 'ns', 'wh']);
      await ok(['label', 'ns', 'wh', 'webhooks=on']);
      const rules = [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }];
      const sel = { matchLabels: { webhooks: 'on' } };
      await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'm' }, webhooks: [{ name: 'm.example.com', clientConfig: { url: `http://127.0.0.1:${port}/mutate` }, rules, namespaceSelector: sel, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }));
      await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'v' }, webhooks: [{ name: 'v.example.com', clientConfig: { url: `http://127.0.0.1:${port}/validate` }, rules, namespaceSelector: sel, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }));
      await ok(['create', 'configmap', 'c1', '-n', 'wh']);
      assert.equal(await ok(['get', 'cm', 'c1', '-n', 'wh', '-o', 'jsonpath={.metadata.labels.mutated}']), 'yes');
      const e = await fails(['apply', '-n', 'wh', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c2, labels: {deny: "true"}}\n');
      assert.match(e, /admission webhook "v.example.com" denied the request: configmaps labelled deny=true are not allowed/);
      await ok(['create', 'configmap', 'c3', '-n', 'default']);
      assert.equal(await ok(['get', 'cm', 'c3', '-n', 'default', '-o', 'jsonpath={.metadata.labels.mutated}']), '', 'namespaceSelector limits the webhooks');
      assert.ok(reviews.some((r) => r.request.operation === 'CREATE' && r.request.resource.resource === 'configmaps'));
      await ok(['delete', 'mutatingwebhookconfiguration', 'm']);
      await ok(['delete', 'validatingwebhookconfiguration', 'v']);
    } finally {
      srv.close();
    }
  });
});

describe('versions sharing storage', () => {
  test('events.k8s.io/v1 and core/v1 Events, autoscaling v1 and v2 HPAs, are one object each', async () => {
    await ok(['apply', '-f', '-'], `apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: ev1}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: example.com/ctl
reportingInstance: i1
action: Testing
reason: Tested
note: hello world
type: Normal
regarding: {kind: Pod, name: p1, namespace: default}
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: h1}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  targetCPUUtilizationPercentage: 70
`);
    const core = (await fetch(`${h.url}/api/v1/namespaces/default/events/ev1`).then((r) => r.json())) as any;
    assert.equal(core.message, 'hello world');
    assert.equal(core.involvedObject.name, 'p1');
    assert.equal(core.reportingComponent, 'example.com/ctl');
    assert.match(await ok(['get', 'events', '--field-selector', 'involvedObject.name=p1']), /Tested\s+pod\/p1\s+hello world/);
    const v2 = (await fetch(`${h.url}/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h1`).then((r) => r.json())) as any;
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    const v1 = (await fetch(`${h.url}/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h1`).then((r) => r.json())) as any;
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 70);
  });
});

describe('service account tokens and bindings', () => {
  test('kubectl create token issues a bound token; bindings assign pods to nodes', async () => {
    const tok = (await ok(['create', 'token', 'default', '--duration=1h'])).trim();
    const claims = JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString('utf8'));
    assert.equal(claims.sub, 'system:serviceaccount:default:default');
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc']);
    assert.equal(claims.exp - claims.iat, 3600);
    assert.match(await fails(['create', 'token', 'default', '--duration=1m']), /spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/);
    assert.match(await fails(['create', 'token', 'nobody']), /serviceaccounts "nobody" not found/);
    await ok(['run', 'tobind', '--image=nginx']);
    const r = await fetch(`${h.url}/api/v1/namespaces/default/bindings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'node-a' } }) });
    assert.equal(r.status, 201);
    assert.equal(await ok(['get', 'pod', 'tobind', '-o', 'jsonpath={.spec.nodeName}']), 'node-a');
    assert.equal(await ok(['get', 'pod', 'tobind', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].status}']), 'True');
    const again = await fetch(`${h.url}/api/v1/namespaces/default/pods/tobind/binding`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'tobind' }, target: { kind: 'Node', name: 'node-b' } }) });
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as any).message, /pod tobind is already assigned to node "node-a"/);
  });
});
