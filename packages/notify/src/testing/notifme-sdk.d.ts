// notifme-sdk ships Flow types only; this is the slice the tests use.
declare module 'notifme-sdk' {
  export interface NotifmeResult {
    status: 'success' | 'error';
    channels?: Record<string, { id: string | undefined; providerId: string | undefined }>;
    errors?: Record<string, string>;
  }
  export default class NotifmeSdk {
    constructor(options: {
      channels?: Record<string, { providers: unknown[]; multiProviderStrategy?: string }>;
      useNotificationCatcher?: boolean;
    });
    send(request: Record<string, unknown>): Promise<NotifmeResult>;
    /** A shared winston wrapper. */
    logger: { innerLogger: { silent: boolean } };
  }
}
