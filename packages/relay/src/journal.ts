import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ResponseSink } from '@sms/core';
import { newJournalEntryId } from './ids.js';

/**
 * The pull journal: the bytes of every pull answer, written synchronously as they come off
 * the socket, before they are parsed or committed. The platform hands each record out once;
 * with the bytes on disk a crash at any moment after they were read loses nothing: the next
 * start recovers every entry the store has not committed. One file per answer:
 * `<entry id>.jrn` = one JSON header line, then the body exactly as received.
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

/**
 * One answer being written. It is the `ResponseSink` handed to core's pull: the file is
 * created when the headers arrive and each chunk is appended as it is read. A failed write
 * (disk full) is kept in `failure`; the pull then goes on in memory.
 */
export class JournalWriter implements ResponseSink {
  readonly id: string;
  private fd: number | undefined;
  private head_: JournalHead | undefined;
  /** The first write error, if any: the file is then incomplete. */
  failure: Error | undefined;

  constructor(
    private readonly journal: Journal,
    readonly account: string,
    readonly kind: PullKind,
  ) {
    this.id = newJournalEntryId();
  }

  /** The header, once an answer started arriving. */
  get started(): JournalHead | undefined {
    return this.head_;
  }

  /** True when every byte received so far is in the file. */
  get durable(): boolean {
    return this.head_ !== undefined && this.failure === undefined;
  }

  get path(): string {
    return this.journal.pathOf(this.id);
  }

  head(status: number, contentType: string | undefined): void {
    this.head_ = {
      id: this.id,
      account: this.account,
      kind: this.kind,
      receivedAt: Date.now(),
      status,
      contentType,
    };
    this.write(() => {
      this.fd = openSync(this.path, 'wx', 0o600);
      const { id: _id, ...header } = this.head_!;
      writeSync(this.fd, `${JSON.stringify({ v: 1, ...header })}\n`);
    });
  }

  chunk(bytes: Buffer): void {
    this.write(() => {
      if (this.fd === undefined) throw new Error('journal entry not open');
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset);
    });
  }

  /** Flushes (fdatasync) and closes the file. Call once the exchange ended, however it ended. */
  finish(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    this.write(() => {
      if (this.journal.fsync) {
        fdatasyncSync(fd);
        this.journal.syncDir();
      }
    });
    try {
      closeSync(fd);
    } catch {}
  }

  private write(action: () => void): void {
    if (this.failure) throw this.failure;
    try {
      action();
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
      throw this.failure;
    }
  }
}

export class Journal {
  readonly dir: string;
  readonly fsync: boolean;
  private dirFd: number | undefined;

  constructor(options: JournalOptions) {
    this.dir = options.dir;
    this.fsync = options.fsync ?? true;
  }

  /** Creates the folder; throws (with the path) if it cannot be created or written. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (this.fsync) this.dirFd = openSync(this.dir, 'r');
  }

  close(): void {
    if (this.dirFd === undefined) return;
    try {
      closeSync(this.dirFd);
    } catch {}
    this.dirFd = undefined;
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}${SUFFIX}`);
  }

  /** A writer for the next answer of one account's pull. */
  begin(account: string, kind: PullKind): JournalWriter {
    return new JournalWriter(this, account, kind);
  }

  /** Makes a new entry's name durable (the file's own data is synced by its writer). */
  syncDir(): void {
    if (this.dirFd !== undefined) fsyncSync(this.dirFd);
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
