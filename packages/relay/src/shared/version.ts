/** The relay's version, in its `User-Agent`, `sms-relay --version` and the console. */
export const VERSION = '0.1.0';
