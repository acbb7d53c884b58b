import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BindingIndex } from './rbac-index.ts';
import type { BindingLike } from './rbac.ts';

const b = (name: string, subjects: BindingLike['subjects'], ns?: string): BindingLike => ({ metadata: { name, ...(ns ? { namespace: ns } : {}) }, roleRef: { kind: 'ClusterRole', name: 'view' }, subjects });

describe('BindingIndex', () => {
  it('answers only the bindings naming the user, its groups or its service account, in list order', () => {
    let crbs: BindingLike[] = [b('a', [{ kind: 'Group', name: 'devs' }]), b('b', [{ kind: 'User', name: 'jane' }]), b('c', [{ kind: 'User', name: 'bob' }]), b('d', [{ kind: 'Group', name: 'system:authenticated' }])];
    const rbs = { ns1: [b('sa', [{ kind: 'ServiceAccount', name: 'builder' }], 'ns1'), b('other', [{ kind: 'ServiceAccount', name: 'builder', namespace: 'ns2' }], 'ns1')] } as Record<string, BindingLike[]>;
    const ix = new BindingIndex<BindingLike>((ns) => (ns === '' ? crbs : (rbs[ns] ?? [])), (x) => x);
    const names = (l: readonly BindingLike[]) => l.map((x) => x.metadata.name);
    assert.deepEqual(names(ix.clusterRoleBindingsFor({ name: 'jane', groups: ['system:authenticated', 'devs'] })), ['a', 'b', 'd']);
    assert.deepEqual(names(ix.clusterRoleBindingsFor({ name: 'nobody', groups: [] })), []);
    assert.deepEqual(names(ix.roleBindingsFor({ name: 'system:serviceaccount:ns1:builder', groups: [] }, 'ns1')), ['sa']);
    assert.deepEqual(names(ix.roleBindingsFor({ name: 'system:serviceaccount:ns2:builder', groups: [] }, 'ns1')), ['other']);
    // A new list (the watch cache replaces its array on change) is indexed again.
    crbs = [...crbs, b('e', [{ kind: 'User', name: 'jane' }])];
    assert.deepEqual(names(ix.clusterRoleBindingsFor({ name: 'jane', groups: ['system:authenticated', 'devs'] })), ['a', 'b', 'd', 'e']);
  });
});
