import { MAX_CONTENT_LENGTH } from './request.js';

const VERSION_OF_API = '1.0.0';

/** What a client may put in `metadata` and gets back: any JSON object (or null). */
const metadata = {
  type: ['object', 'null'],
  additionalProperties: true,
} as const;

const error = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      oneOf: [
        {
          type: 'string',
          description: 'The HTTP layer (401, a body that is not JSON or too large) says only this',
        },
        { $ref: '#/components/schemas/ErrorDetail' },
      ],
    },
  },
} as const;

const errorDetail = {
  type: 'object',
  required: ['code', 'message'],
  additionalProperties: false,
  properties: {
    code: {
      type: 'string',
      description:
        "@sms/core's SmsError code (VALIDATION, ...) or the API's own (IDEMPOTENCY_CONFLICT, NOT_FOUND, NOT_RESENDABLE, NOT_FAILABLE)",
    },
    field: {
      type: 'string',
      description: 'The request field at fault (to, content, sendAt, extNo, account, ...)',
    },
    message: { type: 'string' },
  },
} as const;

const accepted = {
  type: 'object',
  required: ['id', 'status'],
  additionalProperties: false,
  properties: { id: { type: 'string' }, status: { $ref: '#/components/schemas/Status' } },
} as const;

const status = {
  type: 'string',
  enum: ['queued', 'sending', 'sent', 'failed', 'unknown', 'expired'],
  description:
    'sending: claimed and possibly on its way; unknown: it may have reached the platform (an operator decides: resend or fail); expired: not sent before its ttl',
} as const;

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const idParameter = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^sms_[0-9A-HJKMNP-TV-Z]{26}$' },
} as const;

/** The OpenAPI 3.1 document of the gateway, served at `GET /v1/openapi.json` (open). */
export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'sms-relay gateway',
      version: VERSION_OF_API,
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        "Send SMS through the relay and get each message's reports back by its id. Report and reply webhooks of a gateway message carry data.messageId and data.metadata.",
    },
    // The relay serves this document on the port it describes: paths are relative to it.
    servers: [{ url: '/', description: "The relay's HTTP port (http.port)" }],
    security: [{ bearer: [] }],
    paths: {
      '/v1/messages': {
        post: {
          operationId: 'sendMessage',
          summary: 'Queue a message (durably) and get its id',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', minLength: 1, maxLength: 255 },
              description:
                'The same key with the same body answers the same id and sends nothing more; with another body: 409',
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/SendRequest' } },
            },
          },
          responses: {
            '202': {
              description: 'Queued (committed to the store)',
              headers: {
                Location: { schema: { type: 'string' }, description: '/v1/messages/{id}' },
                'Idempotent-Replayed': {
                  schema: { type: 'string', enum: ['true'] },
                  description:
                    'On a repeat of an Idempotency-Key: the message queued the first time',
                },
              },
              content: { 'application/json': { schema: accepted } },
            },
            '400': errorResponse('Not JSON, or a bad or repeated Idempotency-Key header'),
            '401': errorResponse('No or a wrong bearer token'),
            '409': errorResponse('The Idempotency-Key was used with another body'),
            '413': errorResponse('The body is too large'),
            '422': errorResponse('Invalid: nothing was queued'),
          },
        },
      },
      '/v1/messages/{id}': {
        get: {
          operationId: 'getMessage',
          summary: 'A message, its platform taskId and the status of each number',
          parameters: [idParameter],
          responses: {
            '200': {
              description: 'The message',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } },
            },
            '401': errorResponse('No or a wrong bearer token'),
            '404': errorResponse('No such message'),
          },
        },
      },
      '/v1/messages/{id}/resend': {
        post: {
          operationId: 'resendMessage',
          summary:
            'Operator: queue an unknown, failed or expired message again (it may then reach a number twice)',
          parameters: [idParameter],
          responses: {
            '200': {
              description: 'Queued again',
              content: { 'application/json': { schema: accepted } },
            },
            '401': errorResponse('No or a wrong bearer token'),
            '404': errorResponse('No such message'),
            '409': errorResponse('Its status does not allow it'),
          },
        },
      },
      '/v1/messages/{id}/fail': {
        post: {
          operationId: 'failMessage',
          summary: 'Operator: mark a queued or unknown message failed (the relay will not send it)',
          parameters: [idParameter],
          requestBody: {
            required: false,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { reason: { type: 'string' } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'Failed',
              content: { 'application/json': { schema: accepted } },
            },
            '401': errorResponse('No or a wrong bearer token'),
            '404': errorResponse('No such message'),
            '409': errorResponse('Its status does not allow it'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'http.token of the relay config' },
      },
      schemas: {
        Error: error,
        ErrorDetail: errorDetail,
        Status: status,
        SendRequest: {
          type: 'object',
          required: ['to', 'content'],
          additionalProperties: false,
          properties: {
            to: {
              oneOf: [
                { type: 'string' },
                { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 1000 },
              ],
              description:
                'Mainland mobile numbers (+86/0086/86 prefixes, spaces and dashes are normalised; duplicates are sent once), an array or a comma list',
            },
            content: {
              type: 'string',
              minLength: 1,
              maxLength: MAX_CONTENT_LENGTH,
              description: 'The text, with its 【签名】 (characters are code points, as billed)',
            },
            sendAt: {
              type: ['string', 'null'],
              description:
                'Scheduled time: ISO 8601 with a zone, or "YYYY-MM-DD HH:mm:ss" in Asia/Shanghai; sent as the platform\'s sendTime',
            },
            extNo: { type: 'string', pattern: '^\\d{1,10}$' },
            account: {
              type: ['string', 'null'],
              description:
                'A configured account name. Without it the message goes through gateway.route (default: every account, in order) and moves to the next account only when its send surely did not go out',
            },
            metadata: {
              ...metadata,
              description:
                'Anything (JSON, at most 4 KiB): returned as data.metadata on its reports and replies',
            },
            callbackUrl: {
              type: ['string', 'null'],
              format: 'uri',
              pattern: '^https?://',
              description:
                "This message's report and reply webhooks also go here, signed with the gateway's callback secret (http: or https:, no credentials in it; a public address unless the relay's gateway.callbackAllow opens others: loopback, private, link-local and similar addresses are a 422)",
            },
            ttl: {
              oneOf: [
                { type: 'number', exclusiveMinimum: 0, maximum: 366 * 86_400 },
                { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' },
                { type: 'null' },
              ],
              description:
                'Seconds, or a duration (at most 366 days): not sent by then, the message is expired',
            },
          },
        },
        Message: {
          type: 'object',
          additionalProperties: false,
          required: [
            'id',
            'status',
            'account',
            'to',
            'content',
            'sendAt',
            'extNo',
            'metadata',
            'callbackUrl',
            'taskId',
            'attempts',
            'failovers',
            'error',
            'createdAt',
            'updatedAt',
            'sentAt',
            'expiresAt',
            'recipients',
          ],
          properties: {
            id: { type: 'string' },
            status: { $ref: '#/components/schemas/Status' },
            account: { type: 'string' },
            to: { type: 'array', items: { type: 'string' } },
            content: { type: 'string' },
            sendAt: { type: ['string', 'null'], format: 'date-time' },
            extNo: { type: 'string' },
            metadata,
            callbackUrl: { type: ['string', 'null'] },
            taskId: { type: ['string', 'null'], description: "The platform's taskID once sent" },
            attempts: { type: 'integer' },
            failovers: {
              type: 'array',
              description:
                'Sent without an account: the accounts it moved on from, in order, each because its send there surely did not go out (code; CIRCUIT_OPEN: skipped before any send, its circuit breaker was open)',
              items: {
                type: 'object',
                required: ['account', 'code'],
                additionalProperties: false,
                properties: { account: { type: 'string' }, code: { type: 'string' } },
              },
            },
            error: {
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  required: ['code', 'message'],
                  additionalProperties: false,
                  properties: {
                    code: { type: 'string' },
                    message: { type: ['string', 'null'] },
                  },
                },
              ],
            },
            createdAt: { type: 'string', format: 'date-time' },
            updatedAt: { type: 'string', format: 'date-time' },
            sentAt: { type: ['string', 'null'], format: 'date-time' },
            expiresAt: { type: ['string', 'null'], format: 'date-time' },
            recipients: {
              type: 'array',
              items: {
                type: 'object',
                required: ['mobile', 'status', 'code', 'reportedAt', 'updatedAt'],
                additionalProperties: false,
                properties: {
                  mobile: { type: 'string' },
                  status: {
                    type: 'string',
                    enum: ['queued', 'sent', 'delivered', 'failed', 'unknown', 'expired'],
                  },
                  code: {
                    type: ['string', 'null'],
                    description:
                      "The report's gateway code (DELIVRD, UNDELIV, ...) or the message's error code",
                  },
                  reportedAt: { type: ['string', 'null'], format: 'date-time' },
                  updatedAt: { type: 'string', format: 'date-time' },
                },
              },
            },
          },
        },
      },
    },
  };
}
