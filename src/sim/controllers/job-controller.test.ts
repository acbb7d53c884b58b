import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs, matchSuccessPolicy, completionIndex, delaysTerminalCondition, formatIndexes, jobFinished, matchPodFailurePolicy, parseIndexes, pastBackoffLimitOnFailure, ttlExpiry } from './job-controller.ts';

describe('job controller accounting', () => {
  it('formats and parses completed indexes as upstream', () => {
    assert.equal(formatIndexes([4, 0, 1, 2, 7, 8]), '0-2,4,7-8');
    assert.equal(formatIndexes([]), '');
    assert.equal(formatIndexes([3]), '3');
    assert.deepEqual([...parseIndexes('0-2,4,7-8')].sort((a, b) => a - b), [0, 1, 2, 4, 7, 8]);
    assert.equal(parseIndexes(undefined).size, 0);
  });

  it('pod failure back-off doubles from 10 s up to 6 minutes', () => {
    assert.equal(backoffDelayMs(0), 0);
    assert.equal(backoffDelayMs(1), 10_000);
    assert.equal(backoffDelayMs(2), 20_000);
    assert.equal(backoffDelayMs(4), 80_000);
    assert.equal(backoffDelayMs(6), 320_000);
    assert.equal(backoffDelayMs(7), 360_000);
    assert.equal(backoffDelayMs(100), 360_000);
  });

  it('reads the completion index from the annotation or label', () => {
    assert.equal(completionIndex({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': '3' } } }), 3);
    assert.equal(completionIndex({ metadata: { labels: { 'batch.kubernetes.io/job-completion-index': '0' } } }), 0);
    assert.equal(completionIndex({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': 'x' } } }), undefined);
  });

  it('matches podFailurePolicy rules in order: exit codes (In/NotIn, container name) and pod conditions', () => {
    const pod = (code: number, conds: any[] = []) => ({ metadata: { name: 'p', namespace: 'ns' }, status: { conditions: conds, containerStatuses: [{ name: 'main', state: { terminated: { exitCode: code } } }] } });
    const policy = { rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [1] } },
    ] };
    assert.deepEqual(matchPodFailurePolicy(policy, pod(42)), { action: 'FailJob', message: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1' });
    assert.equal(matchPodFailurePolicy(policy, pod(1)), undefined);
    assert.equal(matchPodFailurePolicy(policy, pod(3))?.action, 'Count');
    assert.equal(matchPodFailurePolicy(policy, pod(42, [{ type: 'DisruptionTarget', status: 'True' }]))?.message, 'Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0');
    assert.equal(matchPodFailurePolicy({ rules: [{ action: 'FailJob', onExitCodes: { containerName: 'side', operator: 'In', values: [42] } }] }, pod(42)), undefined);
  });

  it('knows finished Jobs, their TTL expiry and which versions delay terminal conditions', () => {
    const done = { spec: { ttlSecondsAfterFinished: 100 }, status: { completionTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } };
    assert.equal(jobFinished(done), 'Complete');
    assert.equal(ttlExpiry(done), Date.parse('2026-01-01T00:00:00Z') + 100_000);
    const failed = { spec: { ttlSecondsAfterFinished: 0 }, status: { conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-01-01T00:00:10Z' }] } };
    assert.equal(ttlExpiry(failed), Date.parse('2026-01-01T00:00:10Z'));
    assert.equal(ttlExpiry({ spec: {}, status: done.status }), undefined);
    assert.equal(ttlExpiry({ spec: { ttlSecondsAfterFinished: 5 }, status: {} }), undefined);
    assert.equal(delaysTerminalCondition('1.30'), false);
    assert.equal(delaysTerminalCondition('1.31'), true);
    assert.equal(delaysTerminalCondition('1.32'), true);
  });

  it('matches successPolicy rules by indexes and counts', () => {
    const done = new Set([0, 1, 3]);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-1' }] }, done), 0);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '0-2' }, { succeededCount: 3 }] }, done), 1);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '2-4', succeededCount: 1 }] }, done), 0);
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: '2,4', succeededCount: 1 }] }, done), undefined);
    assert.equal(matchSuccessPolicy(undefined, done), undefined);
  });
});

it('pastBackoffLimitOnFailure counts the container restarts of running and pending pods of an OnFailure Job', () => {
  const job = (backoffLimit: number | undefined, restartPolicy = 'OnFailure') => ({ spec: { backoffLimit, template: { spec: { restartPolicy } } } });
  const pod = (phase: string, restarts: number[], init: number[] = []) => ({ status: { phase, containerStatuses: restarts.map((restartCount) => ({ restartCount })), initContainerStatuses: init.map((restartCount) => ({ restartCount })) } });
  assert.equal(pastBackoffLimitOnFailure(job(2), [pod('Running', [1])]), false);
  assert.equal(pastBackoffLimitOnFailure(job(2), [pod('Running', [1]), pod('Pending', [0], [1])]), true);
  assert.equal(pastBackoffLimitOnFailure(job(2), [pod('Failed', [5])]), false, 'finished pods do not count');
  assert.equal(pastBackoffLimitOnFailure(job(0), [pod('Running', [1])]), true);
  assert.equal(pastBackoffLimitOnFailure(job(0), [pod('Running', [0])]), false);
  assert.equal(pastBackoffLimitOnFailure(job(undefined), [pod('Running', [5])]), false, 'default limit 6');
  assert.equal(pastBackoffLimitOnFailure(job(1, 'Never'), [pod('Running', [3])]), false);
});
