/** The platform's answers, in the exact shape of the interface text. */
import { PULL_ERRORS, PayInfo, PlatformMessage, ReturnStatus } from '@sms/core';
import type { PayType, ReplyRecord, StatusReportRecord } from './types.js';

/** Real servers declare utf-8 even in the GB2312 bytes of smsGBK.aspx; the header carries the truth. */
const DECLARATION = '<?xml version="1.0" encoding="utf-8" ?>';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function element(name: string, value: string | number): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

export function returnSms(inner: string): string {
  return `${DECLARATION}\n<returnsms>${inner}</returnsms>`;
}

export interface SendAnswer {
  remainPoint: number;
  taskId: string;
  successCounts: number;
  message: string;
}

export function sendSuccess(answer: SendAnswer): string {
  return returnSms(
    element('returnstatus', ReturnStatus.success) +
      element('message', answer.message) +
      element('remainpoint', answer.remainPoint) +
      element('taskID', answer.taskId) +
      element('successCounts', answer.successCounts),
  );
}

/** A refused send: `Faild` (sic), the message, and the numeric fields zeroed, taskID empty. */
export function sendFailure(message: string): string {
  return returnSms(
    element('returnstatus', ReturnStatus.failed) +
      element('message', message) +
      element('remainpoint', 0) +
      element('taskID', '') +
      element('successCounts', 0),
  );
}

/** The balance answer: `Sucess` (sic) and an empty message. */
export function overageSuccess(payType: PayType, overage: number, sendTotal: number): string {
  return returnSms(
    element('returnstatus', ReturnStatus.balanceSuccess) +
      element('message', '') +
      element('payinfo', payType === 'prepaid' ? PayInfo.prepaid : PayInfo.postpaid) +
      element('overage', overage) +
      element('sendTotal', sendTotal),
  );
}

export function overageFailure(message: string): string {
  return returnSms(
    element('returnstatus', ReturnStatus.failed) +
      element('message', message) +
      element('payinfo', '') +
      element('overage', '') +
      element('sendTotal', ''),
  );
}

/** checkkeyword answers with a message only, success or not. */
export function messageOnly(message: string): string {
  return returnSms(element('message', message));
}

export function passwordChanged(): string {
  return returnSms(
    element('returnstatus', ReturnStatus.success) +
      element('message', PlatformMessage.passwordChanged) +
      element('checkCounts', ''),
  );
}

export function passwordFailure(message: string): string {
  return returnSms(
    element('returnstatus', ReturnStatus.failed) +
      element('message', message) +
      element('checkCounts', ''),
  );
}

/** Failure of an unknown action on sms.aspx / smsGBK.aspx. */
export function genericFailure(message: string): string {
  return returnSms(element('returnstatus', ReturnStatus.failed) + element('message', message));
}

/** `<errorstatus>` of the pull endpoints: 1 auth missing, 2 auth failed, 3 barred, 4 bad params. */
export function pullError(number: 1 | 2 | 3 | 4): string {
  const entry = PULL_ERRORS.find((candidate) => candidate.number === number);
  return returnSms(
    `<errorstatus>${element('error', number)}${element('remark', entry?.remark ?? '')}</errorstatus>`,
  );
}

export function statusBoxes(reports: readonly StatusReportRecord[]): string {
  let inner = '';
  for (const report of reports) {
    inner +=
      '<statusbox>' +
      element('mobile', report.mobile) +
      element('taskid', report.taskId) +
      element('status', report.status) +
      element('receivetime', report.receiveTime) +
      element('errorcode', report.errorCode) +
      element('extno', report.extNo) +
      '</statusbox>';
  }
  return returnSms(inner);
}

export function callBoxes(replies: readonly ReplyRecord[]): string {
  let inner = '';
  for (const reply of replies) {
    inner +=
      '<callbox>' +
      element('mobile', reply.mobile) +
      element('taskid', reply.taskId) +
      element('content', reply.content) +
      element('receivetime', reply.receiveTime) +
      element('extno', reply.extNo) +
      '</callbox>';
  }
  return returnSms(inner);
}

/** What an ASP.NET server answers on an unhandled exception. */
export function aspNetErrorPage(): string {
  return (
    '<!DOCTYPE html>\n<html><head><title>Runtime Error</title></head><body>' +
    "<h1>Server Error in '/' Application.</h1><h2><i>Runtime Error</i></h2>" +
    '<p>An application error occurred on the server.</p></body></html>'
  );
}

export function notFoundPage(): string {
  return (
    '<!DOCTYPE html>\n<html><head><title>The resource cannot be found.</title></head><body>' +
    "<h1>Server Error in '/' Application.</h1><h2><i>The resource cannot be found.</i></h2>" +
    '<p>HTTP 404.</p></body></html>'
  );
}

/** Breaks well-formed XML: the root never closes and a closing tag does not match its opening. */
export function malform(xml: string): string {
  const cut = xml.replace(/<\/returnsms>$/, '');
  return `${cut}<message>ok</mesage><returnstatus>`;
}
