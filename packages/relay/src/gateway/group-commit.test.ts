import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

/** A store that records each commit's items and answers each item doubled. */
function recordingStore() {
  const commits: number[][] = [];
  const commit = async (items: number[]) => {
    commits.push([...items]);
    return items.map((n) => n * 2);
  };
  return { commits, commit };
}

describe('GroupCommit', () => {
  it('commits what came in the same turn together, and answers each item with its own result', async () => {
    const store = recordingStore();
    const group = new GroupCommit(store.commit);
    const answers = await Promise.all([group.add(1), group.add(2), group.add(3)]);
    expect(answers).toEqual([2, 4, 6]);
    expect(store.commits).toEqual([[1, 2, 3]]);
  });

  it('tries a failed commit item by item, so only the item the store refuses fails', async () => {
    const commits: number[][] = [];
    const group = new GroupCommit(async (items: number[]) => {
      commits.push([...items]);
      if (items.includes(2)) throw new Error('refused 2');
      return items.map((n) => n * 2);
    });
    const results = await Promise.allSettled([group.add(1), group.add(2), group.add(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(commits).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('gathers items that come in turns of their own into one commit, up to `gather`', async () => {
    const store = recordingStore();
    const group = new GroupCommit(store.commit, { gather: 3, gatherMs: 60_000 });
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const answers = [group.add(1)];
    await turn();
    answers.push(group.add(2));
    await turn();
    expect(store.commits).toEqual([]);
    answers.push(group.add(3), group.add(4));
    expect(await Promise.all(answers)).toEqual([2, 4, 6, 8]);
    expect(store.commits).toEqual([[1, 2, 3, 4]]);
  });

  it('commits fewer than `gather` once the oldest waited `gatherMs`', async () => {
    const store = recordingStore();
    const group = new GroupCommit(store.commit, { gather: 8, gatherMs: 40 });
    const started = performance.now();
    const answer = group.add(1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(store.commits).toEqual([]);
    expect(await answer).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(store.commits).toEqual([[1]]);
  });

  it('settled() commits what is gathering at once', async () => {
    const store = recordingStore();
    const group = new GroupCommit(store.commit, { gather: 8, gatherMs: 60_000 });
    const answers = Promise.all([group.add(1), group.add(2)]);
    const started = performance.now();
    await group.settled();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await answers).toEqual([2, 4]);
    expect(store.commits).toEqual([[1, 2]]);
  });
});
