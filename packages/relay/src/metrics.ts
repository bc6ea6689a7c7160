/** Prometheus text exposition, hand-written: a few counters, one gauge, one histogram. */

type Labels = Record<string, string>;

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([key, value]) =>
      `${key}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`,
  );
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

class Counter {
  readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [labels, value] of this.values) out += `${this.name}${labels} ${value}\n`;
    return out;
  }
}

class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  observe(value: number): void {
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (value <= LATENCY_BUCKETS[i]!) this.counts[i]!++;
    }
    this.sum += value;
    this.count++;
  }
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    LATENCY_BUCKETS.forEach((bound, i) => {
      out += `${this.name}_bucket{le="${bound}"} ${this.counts[i]}\n`;
    });
    out += `${this.name}_bucket{le="+Inf"} ${this.count}\n`;
    out += `${this.name}_sum ${this.sum}\n${this.name}_count ${this.count}\n`;
    return out;
  }
}

export class RelayMetrics {
  readonly fetched = new Counter(
    'sms_relay_events_fetched_total',
    'Reports and replies pulled from the platform.',
  );
  readonly stored = new Counter('sms_relay_events_stored_total', 'Events committed to the store.');
  readonly delivered = new Counter(
    'sms_relay_deliveries_delivered_total',
    'Webhooks answered with 2xx.',
  );
  readonly retried = new Counter(
    'sms_relay_deliveries_retried_total',
    'Failed attempts scheduled for a retry.',
  );
  readonly dead = new Counter(
    'sms_relay_deliveries_dead_total',
    'Deliveries dead-lettered after the last attempt.',
  );
  readonly pollErrors = new Counter(
    'sms_relay_poll_errors_total',
    'Failed pulls, by account and code.',
  );
  readonly quarantined = new Counter(
    'sms_relay_quarantined_total',
    'Unparseable pull responses kept as raw bytes.',
  );
  readonly recovered = new Counter(
    'sms_relay_journal_recovered_total',
    'Pull answers recovered from the journal at start (left by a crash or a refused commit).',
  );
  readonly storeErrors = new Counter(
    'sms_relay_store_errors_total',
    'Failed writes of pulled answers, by operation (journal, commit); the answer is kept and retried.',
  );
  readonly latency = new Histogram(
    'sms_relay_delivery_latency_seconds',
    'From an event being stored to its webhook being answered 2xx.',
  );

  /** The full exposition; `queueDepth` is read from the store at scrape time. */
  render(gauges: { queueDepth: number; dead: number; polling: Record<string, boolean> }): string {
    let out = '';
    for (const metric of [
      this.fetched,
      this.stored,
      this.delivered,
      this.retried,
      this.dead,
      this.pollErrors,
      this.quarantined,
      this.recovered,
      this.storeErrors,
    ]) {
      out += metric.render();
    }
    out += this.latency.render();
    out +=
      '# HELP sms_relay_queue_depth Deliveries waiting to be delivered.\n# TYPE sms_relay_queue_depth gauge\n';
    out += `sms_relay_queue_depth ${gauges.queueDepth}\n`;
    out +=
      '# HELP sms_relay_dead_letters Deliveries in the dead-letter queue.\n# TYPE sms_relay_dead_letters gauge\n';
    out += `sms_relay_dead_letters ${gauges.dead}\n`;
    out +=
      '# HELP sms_relay_polling Whether this process holds the poll lock of an account.\n# TYPE sms_relay_polling gauge\n';
    for (const [account, polling] of Object.entries(gauges.polling)) {
      out += `sms_relay_polling${labelText({ account })} ${polling ? 1 : 0}\n`;
    }
    return out;
  }
}
