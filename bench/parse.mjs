// Parsing a 4000-report statusApi.aspx answer: @sms/core vs bare fast-xml-parser.
import { parseReportsResponse } from '@sms/core';
import { XMLParser } from 'fast-xml-parser';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const boxes = [];
for (let i = 0; i < 4000; i++) {
  boxes.push(
    `<statusbox>\r\n<mobile>138${String(i).padStart(8, '0')}</mobile>\r\n<taskid>${1_000_000_000_000_000n + BigInt(i)}</taskid>\r\n<status>${i % 10 === 0 ? 20 : 10}</status>\r\n<receivetime>2026-11-25 10:00:${String(i % 60).padStart(2, '0')}</receivetime>\r\n<errorcode>${i % 10 === 0 ? 'UNDELIV' : 'DELIVRD'}</errorcode>\r\n<extno>01</extno>\r\n</statusbox>`,
  );
}
const xml = `<?xml version="1.0" encoding="utf-8" ?>\r\n<returnsms>\r\n${boxes.join('\r\n')}\r\n</returnsms>`;
const bare = new XMLParser({ parseTagValue: false });

function time(fn) {
  for (let i = 0; i < 3; i++) fn();
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const core = time(() => {
  if (parseReportsResponse(xml).length !== 4000) throw new Error('wrong count');
});
const fxp = time(() => {
  if (bare.parse(xml).returnsms.statusbox.length !== 4000) throw new Error('wrong count');
});
console.log(
  `\nParsing a 4000-report answer (${(xml.length / 1024).toFixed(0)} KiB), median of ${ROUNDS}`,
);
console.table([
  { parser: 'bare fast-xml-parser (parseTagValue: false)', ms: fxp.toFixed(1), 'vs bare': '1.00x' },
  {
    parser: '@sms/core parseReportsResponse (typed records)',
    ms: core.toFixed(1),
    'vs bare': `${(core / fxp).toFixed(2)}x`,
  },
]);
