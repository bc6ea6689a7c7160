/** Counts a batch reports to its progress bar. */
export interface ProgressState {
  chunksDone: number;
  chunksTotal: number;
  numbersDone: number;
  numbersTotal: number;
  failed: number;
}

export interface ProgressBar {
  update(state: ProgressState): void;
  /** Erases the bar (before printing anything else, and at the end). */
  clear(): void;
}

/** Nothing to draw: stderr is not a terminal. */
export const silentProgress: ProgressBar = { update() {}, clear() {} };

/** One line on stderr, redrawn in place (`\r` + erase line), at most every `intervalMs`. */
export function terminalProgress(
  stream: NodeJS.WritableStream & { columns?: number },
  { intervalMs = 80, now = () => Date.now() }: { intervalMs?: number; now?: () => number } = {},
): ProgressBar {
  const started = now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(state) {
      const time = now();
      const finished = state.chunksDone === state.chunksTotal;
      if (!finished && time - lastDraw < intervalMs) return;
      lastDraw = time;
      stream.write(`\r\x1b[2K${renderProgress(state, stream.columns || 80, time - started)}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** `[#######.......]  45%  450/1000 numbers  1/2 chunks  0 failed  3s`, fitted to the width. */
export function renderProgress(state: ProgressState, columns: number, elapsedMs: number): string {
  const ratio = state.numbersTotal === 0 ? 1 : state.numbersDone / state.numbersTotal;
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  const tail =
    ` ${percent}  ${state.numbersDone}/${state.numbersTotal} numbers  ` +
    `${state.chunksDone}/${state.chunksTotal} chunks  ${state.failed} failed  ${Math.round(elapsedMs / 1000)}s`;
  const barWidth = Math.max(10, Math.min(40, columns - tail.length - 3));
  const filled = Math.round(ratio * barWidth);
  return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`.slice(
    0,
    Math.max(20, columns - 1),
  );
}
