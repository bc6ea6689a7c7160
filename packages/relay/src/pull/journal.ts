import { mkdirSync, readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The pull journal: the bytes of every pull answer, written synchronously as they come off
 * the socket (by the pull thread, pull-worker.ts), before they are parsed or committed. The
 * platform hands each record out once; with the bytes on disk a crash at any moment after
 * they were read loses nothing: the next start recovers every entry the store has not
 * committed. One file per answer: `<entry id>.jrn` = one JSON header line, then the body
 * exactly as received. This module reads entries back and removes them.
 */

export type PullKind = 'reports' | 'replies';

/** What the header line of an entry holds. */
export interface JournalHead {
  /** `jrn_` + ULID: event ids are derived from it, so no replay mints new ones. */
  id: string;
  account: string;
  kind: PullKind;
  /** When the answer's headers arrived (ms since the epoch). */
  receivedAt: number;
  status: number;
  contentType: string | undefined;
}

/** An entry read back from disk. */
export interface JournalEntry extends JournalHead {
  /** The body bytes that reached the file (all of them unless the process died mid-answer). */
  body: Buffer;
}

export interface JournalOptions {
  /** The folder (created if missing). One per relay process: replicas do not share it. */
  dir: string;
  /**
   * `fdatasync` each answer before it is parsed (default true): the entry then also
   * survives a power loss. Without it, it survives a killed process, not a crashed kernel.
   */
  fsync?: boolean;
}

const SUFFIX = '.jrn';

export class Journal {
  readonly dir: string;
  readonly fsync: boolean;

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    this.fsync = options.fsync ?? true;
  }

  /** Creates the folder (the pull thread writes the entries: see pull-worker.ts). */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}${SUFFIX}`);
  }

  /** Every entry on disk, oldest first (ids sort by time). Unreadable headers are reported, not thrown. */
  entries(): { entries: JournalEntry[]; unreadable: Array<{ path: string; reason: string }> } {
    const names = readdirSync(this.dir)
      .filter((name) => name.endsWith(SUFFIX))
      .sort();
    const entries: JournalEntry[] = [];
    const unreadable: Array<{ path: string; reason: string }> = [];
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        entries.push(readEntry(path, name.slice(0, -SUFFIX.length)));
      } catch (error) {
        unreadable.push({ path, reason: (error as Error).message });
      }
    }
    return { entries, unreadable };
  }

  /** Removes an entry once everything it held is committed. */
  remove(id: string): void {
    try {
      unlinkSync(this.pathOf(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Reads one entry file: the header line, then the raw body. */
export function readEntry(path: string, id: string): JournalEntry {
  const bytes = readFileSync(path);
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) throw new Error('no header line (the process died while creating it)');
  const header = JSON.parse(bytes.subarray(0, newline).toString('utf8')) as Record<string, unknown>;
  const { account, kind, receivedAt, status, contentType } = header;
  if (
    typeof account !== 'string' ||
    (kind !== 'reports' && kind !== 'replies') ||
    typeof receivedAt !== 'number' ||
    typeof status !== 'number'
  ) {
    throw new Error('header line is not a journal header');
  }
  return {
    id,
    account,
    kind,
    receivedAt,
    status,
    contentType: typeof contentType === 'string' ? contentType : undefined,
    body: bytes.subarray(newline + 1),
  };
}
