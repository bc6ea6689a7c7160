// Nodemailer, but the message goes out as an SMS: a local platform (the emulator), the
// SmsTransport, one sendMail(). Point baseUrl/account/password at a real platform and drop
// the emulator to go live.
import { startEmulator } from '@sms/emulator';
import { SmsTransport } from '@sms/nodemailer';
import nodemailer from 'nodemailer';

const emulator = await startEmulator({
  accounts: [{ userId: '12', account: 'demo', password: 'secret', balance: 100 }],
  requireSignature: true,
});
const transporter = nodemailer.createTransport(
  new SmsTransport({
    baseUrl: emulator.url,
    userId: '12',
    account: 'demo',
    password: 'secret',
    signature: '示例',
  }),
);

try {
  console.log('verify:', await transporter.verify());
  const info = await transporter.sendMail({
    to: '13800138000, 张三 <13800138001@sms>, someone@example.com',
    html: '<p>您的验证码是 <b>1234</b>，5 分钟内有效。</p>',
    headers: { 'X-SMS-Ext-No': '01' },
  });
  console.log('messageId (taskID):', info.messageId);
  console.log('accepted:', info.accepted, 'rejected:', info.rejected);
  console.log('response:', info.response);
  // The e-mail address is not a mobile number: rejected, the two numbers accepted.
  if (info.accepted.join() !== '13800138000,13800138001' || info.rejected.length !== 1) {
    throw new Error('expected the two numbers accepted and the e-mail address rejected');
  }

  const [recorded] = emulator.sent();
  console.log('the platform received:', {
    mobiles: recorded?.mobiles,
    content: recorded?.content,
    extNo: recorded?.extNo,
  });
  if (recorded?.taskId !== info.messageId) throw new Error('the emulator did not record the send');

  // Failures come back the Nodemailer way: a code, and the SmsError as cause.
  const refusal = await transporter.sendMail({ to: '13800138000', text: '赌博' }).then(
    () => {
      throw new Error('a message with a blocked word was sent');
    },
    (error) => error,
  );
  console.log('refused:', refusal.code, refusal.response, `(${refusal.cause?.code})`);
  if (refusal.cause?.code !== 'ILLEGAL_KEYWORD' || emulator.sent().length !== 1) {
    throw new Error('expected an ILLEGAL_KEYWORD refusal and nothing more sent');
  }
} catch (error) {
  console.error('failed:', error);
  process.exitCode = 1;
} finally {
  transporter.close();
  await emulator.close();
}
