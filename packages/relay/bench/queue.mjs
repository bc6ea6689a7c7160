// A message as the gateway queues it (`MessageStore.enqueueMany`), for the benches that fill
// a store directly: number i of a burst, one recipient, queued at `now`.
import { randomBytes } from 'node:crypto';

export const queuedMessage = (i, now) => ({
  id: `sms_${String(i).padStart(26, '0')}`,
  idempotencyKey: null,
  requestHash: randomBytes(32).toString('hex'),
  account: 'main',
  route: [],
  mobiles: [`13${String(i).padStart(9, '0')}`],
  content: `【测试】${randomBytes(8).toString('hex')}`,
  sendAt: null,
  extNo: '',
  metadata: null,
  callbackUrl: null,
  expiresAt: null,
  now,
});
