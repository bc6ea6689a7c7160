const VERSION_OF_API = '1.0.0';

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
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
    },
  },
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
      description:
        "Send SMS through the relay and get each message's reports back by its id. Report and reply webhooks of a gateway message carry data.messageId and data.metadata.",
    },
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
              description: 'Queued (committed to the store). Idempotent-Replayed: true on a repeat',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['id', 'status'],
                    properties: { id: { type: 'string' }, status },
                  },
                },
              },
            },
            '400': errorResponse('Not JSON, or a bad Idempotency-Key'),
            '401': errorResponse('No or a wrong bearer token'),
            '409': errorResponse('The Idempotency-Key was used with another body'),
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
            '200': { description: 'Queued again' },
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
                schema: { type: 'object', properties: { reason: { type: 'string' } } },
              },
            },
          },
          responses: {
            '200': { description: 'Failed' },
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
            content: { type: 'string', minLength: 1, description: 'The text, with its 【签名】' },
            sendAt: {
              type: 'string',
              description:
                'Scheduled time: ISO 8601 with a zone, or "YYYY-MM-DD HH:mm:ss" in Asia/Shanghai; sent as the platform\'s sendTime',
            },
            extNo: { type: 'string', pattern: '^\\d{1,10}$' },
            account: {
              type: 'string',
              description: 'A configured account name (default: the first)',
            },
            metadata: {
              type: 'object',
              description:
                'Anything (JSON, at most 4 KiB): returned as data.metadata on its reports and replies',
            },
            callbackUrl: {
              type: 'string',
              format: 'uri',
              description:
                "This message's report and reply webhooks also go here, signed with the gateway's callback secret",
            },
            ttl: {
              oneOf: [
                { type: 'number', exclusiveMinimum: 0 },
                { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h|d)$' },
              ],
              description: 'Seconds, or a duration: not sent by then, the message is expired',
            },
          },
        },
        Message: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            status,
            account: { type: 'string' },
            to: { type: 'array', items: { type: 'string' } },
            content: { type: 'string' },
            sendAt: { type: ['string', 'null'], format: 'date-time' },
            extNo: { type: 'string' },
            metadata: { type: ['object', 'null'] },
            callbackUrl: { type: ['string', 'null'] },
            taskId: { type: ['string', 'null'], description: "The platform's taskID once sent" },
            attempts: { type: 'integer' },
            error: {
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  properties: { code: { type: 'string' }, message: { type: 'string' } },
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
