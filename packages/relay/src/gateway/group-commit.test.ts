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
});
