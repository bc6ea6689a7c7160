import {
  Counter,
  Gauge,
  Histogram,
  type Metric,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

/** How long a scrape waits for the store's counts before showing the last ones. */
const GAUGE_READ_TIMEOUT_MS = 5000;

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

const METRIC_NAMES = [
  'sms_relay_events_fetched_total',
  'sms_relay_events_stored_total',
  'sms_relay_deliveries_delivered_total',
  'sms_relay_deliveries_retried_total',
  'sms_relay_deliveries_dead_total',
  'sms_relay_poll_errors_total',
  'sms_relay_quarantined_total',
  'sms_relay_journal_recovered_total',
  'sms_relay_store_errors_total',
  'sms_relay_delivery_latency_seconds',
  'sms_relay_queue_depth',
  'sms_relay_dead_letters',
  'sms_relay_polling',
];

/** What the relay's gauges show, read at scrape time. */
export interface RelayGauges {
  /** Deliveries waiting to be delivered. */
  queueDepth: number;
  /** Deliveries in the dead-letter queue. */
  dead: number;
  /** Per account name: whether this process holds its poll lock. */
  polling: Record<string, boolean>;
}

export interface RelayMetricsOptions {
  /**
   * The prom-client `Registry` the relay's metrics join (your app's, or prom-client's global
   * `register`). Default: a registry of the relay's own. One relay per registry at a time:
   * `dispose()` (called by the relay's `stop()` for a registry you passed) removes them again.
   */
  registry?: Registry;
  /**
   * Adds prom-client's default process and Node metrics (`process_resident_memory_bytes`,
   * `nodejs_eventloop_lag_seconds`, GC, handles, ...). Default: yes, unless the registry has
   * them already (`collectDefaultMetrics({ register })` called before, with any prefix).
   */
  defaultMetrics?: boolean;
  /** Reads the gauges at scrape time; a failed read (store closed) keeps the last values. */
  gauges?: () => RelayGauges | Promise<RelayGauges>;
}

/**
 * Default metrics describe the process, not a relay: collected once per process into a
 * registry of their own, and the same metric objects registered into each relay's registry
 * (so ten relays in one test process do not start ten event-loop monitors).
 */
let processMetrics: Metric[] | undefined;
function defaultMetricObjects(): Metric[] {
  if (!processMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // prom-client's types say MetricObject; the array holds the metric objects themselves.
    processMetrics = registry.getMetricsAsArray() as unknown as Metric[];
  }
  return processMetrics;
}

function nameOf(metric: Metric): string {
  return (metric as unknown as { name: string }).name;
}

function hasDefaultMetrics(registry: Registry): boolean {
  return registry
    .getMetricsAsArray()
    .some((metric) => metric.name.endsWith('process_cpu_user_seconds_total'));
}

/** The relay's Prometheus metrics, on prom-client. */
export class RelayMetrics {
  /** Where the metrics are registered; `/metrics` serves this registry whole. */
  readonly registry: Registry;
  readonly fetched: Counter<'account' | 'type'>;
  readonly stored: Counter<'account' | 'type'>;
  readonly delivered: Counter<'target'>;
  readonly retried: Counter<'target'>;
  readonly dead: Counter<'target'>;
  readonly pollErrors: Counter<'account' | 'code'>;
  readonly quarantined: Counter<'account' | 'kind'>;
  readonly recovered: Counter<'account' | 'kind'>;
  readonly storeErrors: Counter<'op'>;
  readonly latency: Histogram;
  readonly #own: Metric[] = [];
  readonly #defaults: Metric[] = [];

  constructor(options: RelayMetricsOptions = {}) {
    const registry = options.registry ?? new Registry();
    this.registry = registry;
    const registers = [registry];
    const taken = METRIC_NAMES.find((name) => registry.getSingleMetric(name));
    if (taken) {
      throw new Error(
        `[sms] [relay] the metrics registry already has ${taken}: one relay per registry (stop() the other relay first, which removes its metrics)`,
      );
    }
    const claim = <M extends Metric>(metric: M): M => {
      this.#own.push(metric);
      return metric;
    };
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      claim(new Counter<L>({ name, help, labelNames, registers }));
    this.fetched = counter(
      'sms_relay_events_fetched_total',
      'Reports and replies pulled from the platform.',
      ['account', 'type'],
    );
    this.stored = counter('sms_relay_events_stored_total', 'Events committed to the store.', [
      'account',
      'type',
    ]);
    this.delivered = counter(
      'sms_relay_deliveries_delivered_total',
      'Webhooks answered with 2xx.',
      ['target'],
    );
    this.retried = counter(
      'sms_relay_deliveries_retried_total',
      'Failed attempts scheduled for a retry.',
      ['target'],
    );
    this.dead = counter(
      'sms_relay_deliveries_dead_total',
      'Deliveries dead-lettered after the last attempt.',
      ['target'],
    );
    this.pollErrors = counter('sms_relay_poll_errors_total', 'Failed pulls, by account and code.', [
      'account',
      'code',
    ]);
    this.quarantined = counter(
      'sms_relay_quarantined_total',
      'Unparseable pull responses kept as raw bytes.',
      ['account', 'kind'],
    );
    this.recovered = counter(
      'sms_relay_journal_recovered_total',
      'Pull answers recovered from the journal at start (left by a crash or a refused commit).',
      ['account', 'kind'],
    );
    this.storeErrors = counter(
      'sms_relay_store_errors_total',
      'Failed writes of pulled answers, by operation (journal, commit); the answer is kept and retried.',
      ['op'],
    );
    this.latency = claim(
      new Histogram({
        name: 'sms_relay_delivery_latency_seconds',
        help: 'From an event being stored to its webhook being answered 2xx.',
        buckets: LATENCY_BUCKETS,
        registers,
      }),
    );

    // The three gauges read one snapshot per scrape (the registry collects them together).
    const source = options.gauges;
    let reading: Promise<RelayGauges | undefined> | undefined;
    const read = (): Promise<RelayGauges | undefined> => {
      if (!source) return Promise.resolve(undefined);
      if (!reading) {
        let timer: NodeJS.Timeout | undefined;
        // A store that hangs must not hang the scrape (nor an app's whole registry with it).
        const late = new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, GAUGE_READ_TIMEOUT_MS, undefined);
          timer.unref();
        });
        reading = Promise.race([Promise.resolve().then(source), late])
          .catch(() => undefined)
          .finally(() => {
            clearTimeout(timer);
            reading = undefined;
          });
      }
      return reading;
    };
    claim(
      new Gauge({
        name: 'sms_relay_queue_depth',
        help: 'Deliveries waiting to be delivered.',
        registers,
        async collect() {
          const gauges = await read();
          if (gauges) this.set(gauges.queueDepth);
        },
      }),
    );
    claim(
      new Gauge({
        name: 'sms_relay_dead_letters',
        help: 'Deliveries in the dead-letter queue.',
        registers,
        async collect() {
          const gauges = await read();
          if (gauges) this.set(gauges.dead);
        },
      }),
    );
    claim(
      new Gauge({
        name: 'sms_relay_polling',
        help: 'Whether this process holds the poll lock of an account.',
        labelNames: ['account'],
        registers,
        async collect() {
          const gauges = await read();
          if (!gauges) return;
          this.reset();
          for (const [account, polling] of Object.entries(gauges.polling)) {
            this.set({ account }, polling ? 1 : 0);
          }
        },
      }),
    );

    if (options.defaultMetrics ?? !hasDefaultMetrics(registry)) {
      for (const metric of defaultMetricObjects()) {
        const name = nameOf(metric);
        if (registry.getSingleMetric(name)) continue;
        registry.registerMetric(metric);
        this.#defaults.push(metric);
      }
    }
  }

  /** The Prometheus text exposition of the whole registry, gauges read now. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition's content type, for a `/metrics` handler of your own. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Removes what this object registered (its metrics, and default metrics it added). */
  dispose(): void {
    for (const metric of [...this.#own, ...this.#defaults]) {
      const name = nameOf(metric);
      if (this.registry.getSingleMetric(name) === metric) this.registry.removeSingleMetric(name);
    }
    this.#own.length = 0;
    this.#defaults.length = 0;
  }
}
