// Parsing 4,000-record pull answers: @sms/core vs bare fast-xml-parser, same answer, same run.
// Each parser gets its own block of rounds (a slow parser's garbage must not land in a fast
// one's rounds); the median round's wall time counts, with the spread (first to third
// quartile) and the median CPU time of this process (which other processes do not inflate).
import { parseRepliesResponse, parseReportsResponse } from '@sms/core';
import { XMLParser } from 'fast-xml-parser';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 101);
const BARE_ROUNDS = Number(process.env.BENCH_BARE_ROUNDS ?? 21);
const GOAL_MS = 10;
const COUNT = 4000;

const time = (i) => `2026-11-25 10:00:${String(i % 60).padStart(2, '0')}`;
const reports = [];
const replies = [];
for (let i = 0; i < COUNT; i++) {
  reports.push(
    `<statusbox>\r\n<mobile>138${String(i).padStart(8, '0')}</mobile>\r\n<taskid>${1_000_000_000_000_000n + BigInt(i)}</taskid>\r\n<status>${i % 10 === 0 ? 20 : 10}</status>\r\n<receivetime>${time(i)}</receivetime>\r\n<errorcode>${i % 10 === 0 ? 'UNDELIV' : 'DELIVRD'}</errorcode>\r\n<extno>01</extno>\r\n</statusbox>`,
  );
  replies.push(
    `<callbox>\r\n<mobile>138${String(i).padStart(8, '0')}</mobile>\r\n<taskid>${1_000_000_000_000_000n + BigInt(i)}</taskid>\r\n<content>【回复】收到 ${i}，谢谢 &amp; 再见</content>\r\n<receivetime>${time(i)}</receivetime>\r\n<extno>01</extno>\r\n</callbox>`,
  );
}
const answer = (boxes) =>
  `<?xml version="1.0" encoding="utf-8" ?>\r\n<returnsms>\r\n${boxes.join('\r\n')}\r\n</returnsms>`;
const reportsXml = answer(reports);
const repliesXml = answer(replies);
const bare = new XMLParser({ parseTagValue: false });

/** Wall time per round (the goal), and this process's CPU time per round (steadier under load). */
function measure(fn, rounds) {
  for (let i = 0; i < 5; i++) fn();
  const wall = [];
  const cpu = [];
  for (let i = 0; i < rounds; i++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    fn();
    wall.push(performance.now() - start);
    const used = process.cpuUsage(cpuStart);
    cpu.push((used.user + used.system) / 1000);
  }
  const at = (samples, q) =>
    samples.sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(wall, 0.5), low: at(wall, 0.25), high: at(wall, 0.75), cpu: at(cpu, 0.5) };
}

function check(records) {
  if (records.length !== COUNT) throw new Error(`wrong count: ${records.length}`);
}

const core = measure(() => check(parseReportsResponse(reportsXml)), ROUNDS);
const coreReplies = measure(() => check(parseRepliesResponse(repliesXml)), ROUNDS);
const fxp = measure(() => check(bare.parse(reportsXml).returnsms.statusbox), BARE_ROUNDS);
const fxpReplies = measure(() => check(bare.parse(repliesXml).returnsms.callbox), BARE_ROUNDS);

const kib = (text) => `${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB`;
const row = (what, size, result, baseline, goal) => ({
  parser: what,
  answer: size,
  'median ms': result.median.toFixed(1),
  'IQR ms': `${result.low.toFixed(1)}-${result.high.toFixed(1)}`,
  'CPU ms': result.cpu.toFixed(1),
  'vs bare': `${(result.median / baseline.median).toFixed(2)}x`,
  goal: goal === undefined ? '' : `<= ${goal} ms`,
  met: goal === undefined ? '' : result.median <= goal ? 'yes' : 'NO',
});
console.log(
  `\nParsing ${COUNT} records: median of ${ROUNDS} rounds (bare fast-xml-parser: ${BARE_ROUNDS}), same run`,
);
console.table([
  row('bare fast-xml-parser (parseTagValue: false)', kib(reportsXml), fxp, fxp),
  row('@sms/core parseReportsResponse (typed records)', kib(reportsXml), core, fxp, GOAL_MS),
  row('bare fast-xml-parser (parseTagValue: false)', kib(repliesXml), fxpReplies, fxpReplies),
  row('@sms/core parseRepliesResponse (typed records)', kib(repliesXml), coreReplies, fxpReplies),
]);
