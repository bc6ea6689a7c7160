import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import {
  isSmsError,
  type Reply,
  type SmsClient,
  type SmsRouter,
  type StatusReport,
} from '@sms/core';
import {
  getSmsClientToken,
  SMS_HANDLER_METADATA,
  SMS_MODULE_CONTEXT,
  SMS_MODULE_OPTIONS,
  type SmsModuleContext,
} from './constants.js';
import type { SmsHandlerKind, SmsHandlerMetadata } from './decorators.js';
import {
  abortableDelay,
  type BoundHandler,
  describeError,
  RecordDispatcher,
} from './dispatcher.js';
import type { SmsModuleOptions, SmsRecordKind } from './options.js';

const DEFAULT_INTERVAL_MS = 10_000;
const LABELS = {
  report: { option: 'reports', decorator: '@OnSmsReport' },
  reply: { option: 'replies', decorator: '@OnSmsReply' },
} as const;
/** The platform's default `statusNum`: a batch this large may mean more reports are waiting. */
const PLATFORM_STATUS_NUM = 4000;

/**
 * One per `SmsModule` instance: runs the opt-in pollers and, at shutdown, stops them and
 * closes the client. Records are pull-once: a fetched batch is always dispatched to the
 * end (or dead-lettered), even while shutting down.
 */
@Injectable()
export class SmsClientHost implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #dispatcher: RecordDispatcher | undefined;
  #handlers = new Map<SmsHandlerKind, BoundHandler[]>();
  /** Fetched records not yet handed to the dispatcher (pull-once: they exist only here). */
  #queued: Array<{ kind: SmsRecordKind; record: StatusReport | Reply }> = [];
  #shutdown: Promise<void> | undefined;

  constructor(
    @Inject(SMS_MODULE_OPTIONS) private readonly options: SmsModuleOptions,
    @Inject(SMS_MODULE_CONTEXT) private readonly context: SmsModuleContext,
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
  ) {
    this.#logger = new Logger(
      context.name === undefined ? 'SmsModule' : `SmsModule:${context.name}`,
    );
  }

  /** The client (or, with `accounts`, the router) this module provides (after any `overrideProvider`). */
  get client(): SmsClient | SmsRouter {
    return this.moduleRef.get<SmsClient | SmsRouter>(getSmsClientToken(this.context.name));
  }

  onApplicationBootstrap(): void {
    const polling = this.options.polling ?? {};
    const { handlers, unknownClients, first } = this.#discover();
    if (first) {
      for (const name of unknownClients) {
        this.#logger.warn(
          `SMS handlers exist for client '${name}' but no SmsModule is named '${name}'`,
        );
      }
    }
    const kinds: SmsRecordKind[] = [];
    for (const kind of ['report', 'reply'] as const) {
      const label = LABELS[kind];
      const count = (handlers.get(kind) ?? []).length;
      if (!polling[label.option]) {
        if (count > 0) {
          this.#logger.warn(
            `${label.decorator}(${this.#nameArg()}) handlers exist but polling.${label.option} is off: they receive nothing`,
          );
        }
        continue;
      }
      if (count === 0) {
        // Polling without a handler would pull records off the platform and lose them.
        this.#logger.warn(
          `polling.${label.option} is on but no ${label.decorator}(${this.#nameArg()}) handler exists: not polling ${label.option}`,
        );
        continue;
      }
      kinds.push(kind);
    }
    if (kinds.length === 0) return;
    const sinks = [...(handlers.get('dead-letter') ?? [])];
    if (polling.onDeadLetter) {
      const onDeadLetter = polling.onDeadLetter;
      sinks.unshift({
        name: 'polling.onDeadLetter',
        call: (letter) => onDeadLetter(letter as never),
      });
    }
    const dispatcher = new RecordDispatcher({
      client: this.context.name,
      retry: polling.retry,
      signal: this.#abort.signal,
      deadLetterSinks: sinks,
      logger: this.#logger,
    });
    this.#dispatcher = dispatcher;
    this.#handlers = handlers;
    this.#loop = this.#run(kinds, dispatcher, polling.intervalMs ?? DEFAULT_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /** Stops the pollers (letting a fetched batch finish) and closes the client. Idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      this.#abort.abort();
      if (
        this.#loop &&
        !(await settlesWithin(this.#loop, this.options.polling?.shutdownTimeoutMs ?? 10_000))
      ) {
        const queued = this.#queued;
        this.#queued = [];
        this.#logger.error(
          'handlers still running at shutdown: dead-lettering their records and the ones queued behind them',
        );
        await this.#dispatcher?.abandon(queued, (kind) => this.#handlers.get(kind) ?? []);
      }
      try {
        await this.client.close();
      } catch (error) {
        this.#logger.warn(`closing the client failed: ${describeError(error)}`);
      }
    })();
    return this.#shutdown;
  }

  async #run(
    kinds: SmsRecordKind[],
    dispatcher: RecordDispatcher,
    intervalMs: number,
  ): Promise<void> {
    const handlers = this.#handlers;
    const signal = this.#abort.signal;
    const maxReports = this.options.polling?.maxReports ?? PLATFORM_STATUS_NUM;
    let backlog = false;
    while (!signal.aborted) {
      for (const kind of kinds) {
        if (signal.aborted) break;
        let records: Array<StatusReport | Reply>;
        try {
          records =
            kind === 'report'
              ? await this.client.fetchReports(
                  this.options.polling?.maxReports === undefined
                    ? {}
                    : { max: this.options.polling.maxReports },
                )
              : await this.client.fetchReplies();
        } catch (error) {
          // Pull-once: an answer that failed anyway (cut off, over a limit, an error element
          // beside its records) may have handed out complete records: dispatch them, never drop.
          const salvaged = isSmsError(error) ? error.records : [];
          this.#logger.warn(
            `fetching ${LABELS[kind].option} failed: ${describeError(error)}` +
              (salvaged.length > 0
                ? `; dispatching the ${salvaged.length} complete record(s) it carried`
                : ''),
          );
          if (salvaged.length === 0) continue;
          records = [...salvaged];
        }
        // Pull-once: from here on these records exist only in this process.
        this.#queued = records.map((record) => ({ kind, record }));
        for (let next = this.#queued.shift(); next; next = this.#queued.shift()) {
          await dispatcher.dispatch(kind, next.record, handlers.get(kind) ?? []);
        }
        if (kind === 'report' && records.length >= maxReports) backlog = true;
      }
      // A full batch of reports means more are waiting: fetch again without pausing.
      if (backlog) backlog = false;
      else await abortableDelay(intervalMs, signal);
    }
  }

  #discover(): {
    handlers: Map<SmsHandlerKind, BoundHandler[]>;
    unknownClients: Set<string>;
    first: boolean;
  } {
    const found = new Map<SmsHandlerKind, BoundHandler[]>();
    const seen = new Set<object>();
    const providers = this.discovery.getProviders();
    const contexts = providers
      .filter((wrapper) => wrapper.token === SMS_MODULE_CONTEXT)
      .map((wrapper) => wrapper.instance as SmsModuleContext);
    const knownClients = new Set(contexts.map((context) => context.name));
    const unknownClients = new Set<string>();
    const wrappers = [...providers, ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
      if (!prototype) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName];
        if (typeof method !== 'function') continue;
        const metadata: SmsHandlerMetadata[] | undefined = Reflect.getMetadata(
          SMS_HANDLER_METADATA,
          method,
        );
        if (!metadata) continue;
        const className = (instance as object).constructor?.name ?? 'Anonymous';
        if (!wrapper.isDependencyTreeStatic()) {
          this.#logger.warn(
            `${className}.${methodName} is request- or transient-scoped: SMS handlers must be singletons, ignored`,
          );
          continue;
        }
        for (const entry of metadata) {
          if (entry.client !== undefined && !knownClients.has(entry.client)) {
            unknownClients.add(entry.client);
          }
          if (entry.client !== this.context.name) continue;
          const list = found.get(entry.kind) ?? [];
          list.push({
            name: `${className}.${methodName}`,
            call: (...args) => (method as (...a: unknown[]) => unknown).apply(instance, args),
          });
          found.set(entry.kind, list);
        }
      }
    }
    return { handlers: found, unknownClients, first: contexts[0] === this.context };
  }

  #nameArg(): string {
    return this.context.name === undefined ? '' : `'${this.context.name}'`;
  }
}

/** True when `promise` settles within `ms`; the timer never outlives the wait. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
