import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tagOperations } from './common.ts';
import type { Tag } from './model.ts';

test('tagOperations: Tag<kind> merges case-insensitively, Untag<kind> removes, List<kind>Tags pages', async () => {
  const docs = new Map<string, { Tags?: Tag[] }>([['a', {}]]);
  const load = (i: any) => {
    const d = docs.get(i.Name);
    if (!d) throw new Error('NoSuchEntity');
    return d;
  };
  const ops = tagOperations('Thing', { load, update: async (i, _ctx, fn) => fn(load(i)) });
  assert.deepEqual(Object.keys(ops).sort(), ['ListThingTags', 'TagThing', 'UntagThing']);
  const ctx = {} as any;
  await ops.TagThing!({ Name: 'a', Tags: [{ Key: 'Team', Value: 'x' }, { Key: 'env', Value: 'dev' }] }, ctx);
  await ops.TagThing!({ Name: 'a', Tags: [{ Key: 'team', Value: 'y' }] }, ctx);
  assert.deepEqual(docs.get('a')!.Tags, [{ Key: 'team', Value: 'y' }, { Key: 'env', Value: 'dev' }]);
  const first = await ops.ListThingTags!({ Name: 'a', MaxItems: 1 }, ctx);
  assert.equal(first.IsTruncated, true);
  assert.deepEqual(first.Tags, [{ Key: 'team', Value: 'y' }]);
  assert.deepEqual((await ops.ListThingTags!({ Name: 'a', Marker: first.Marker }, ctx)).Tags, [{ Key: 'env', Value: 'dev' }]);
  await ops.UntagThing!({ Name: 'a', TagKeys: ['TEAM'] }, ctx);
  assert.deepEqual(docs.get('a')!.Tags, [{ Key: 'env', Value: 'dev' }]);
  await assert.rejects(() => ops.TagThing!({ Name: 'a', Tags: Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }, ctx), /TagsPerEntity: 50/);
  assert.deepEqual(docs.get('a')!.Tags, [{ Key: 'env', Value: 'dev' }], 'a refused tag change writes nothing');
  await assert.rejects(() => ops.TagThing!({ Name: 'b', Tags: [] }, ctx), /NoSuchEntity/);
});
