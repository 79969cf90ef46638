/**
 * Webhooks for analytics events (docs/analytics.md, "Webhooks"; config `outputs.webhooks`): each event of the
 * cameras' results whose type the webhook wants is POSTed as JSON, the wire's analytics event message
 * (toWireAnalyticsEventMessage), with fetch (undici).
 *
 *   const hooks = new WebhookSink(options);  // one per `outputs.webhooks` entry
 *   hooks.attach(cameras);                  // a CameraRegistry's 'result' events
 *   …
 *   await hooks.close(1000);                // waits up to 1 s for what is queued, then drops it (counted)
 *
 * Delivery: one POST in flight at a time, in event order. A POST that fails with a network error, a timeout
 * (`timeoutMs`), 408, 429 or a 5xx is retried after `backoffMs`, doubled at each retry up to `maxBackoffMs`, at most
 * `retries` times, then dropped (`failed`); another 4xx is dropped at once (`rejected`). Events wait in a bounded
 * queue (`maxPending`); when it is full the oldest is dropped (`dropped`). The 'result' listener only filters,
 * serialises and queues: a slow or dead receiver never holds the pipeline.
 *
 * Secrets: `secret` goes in the `secretHeader` header only; the URL is shown without credentials and query in stats
 * and warnings. Warnings ('warning' events, CamtrackError ERR_CAMTRACK_WEBHOOK) come at most once per outage: the
 * first failure after a success.
 */
import { EventEmitter } from 'node:events';

import type { AnalyticsEvent } from '../analytics.js';
import type { CameraRegistry } from '../cameras/registry.js';
import type { WebhookOptions } from '../config.js';
import { CamtrackError } from '../errors.js';
import { safeEmit } from '../safe-emit.js';
import type { FrameResult } from '../types.js';
import { toWireAnalyticsEventMessage } from '../wire/index.js';

export interface WebhookStats {
  /** The URL without credentials or query. */
  url: string;
  /** Events the receiver accepted (2xx). */
  sent: number;
  /** POSTs tried again after a failure. */
  retried: number;
  /** Events dropped after `retries` failed retries. */
  failed: number;
  /** Events the receiver refused with a 4xx other than 408/429 (not retried). */
  rejected: number;
  /** Events dropped because the queue was full (oldest first). */
  dropped: number;
  /** Events dropped at close() (not delivered within its timeout). */
  closed: number;
  /** Events waiting now. */
  pending: number;
}

/** `url` without user:password and without its query and fragment (they may hold tokens). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

const RETRIABLE = (status: number): boolean => status === 408 || status === 429 || status >= 500;

export class WebhookSink extends EventEmitter {
  readonly options: WebhookOptions;
  readonly #shown: string;
  readonly #wanted: ReadonlySet<string>;
  readonly #queue: string[] = [];
  #head = 0;
  readonly #stats: Omit<WebhookStats, 'pending' | 'url'> = { sent: 0, retried: 0, failed: 0, rejected: 0, dropped: 0, closed: 0 };
  #running: Promise<void> | undefined;
  #closed = false;
  #abort = new AbortController();
  #healthy = true;
  #wake: (() => void) | undefined;
  readonly #detachers: (() => void)[] = [];

  constructor(options: WebhookOptions) {
    super();
    this.options = options;
    this.#shown = shownUrl(options.url);
    this.#wanted = new Set(options.events);
  }

  /** Listens to `registry`'s results; returns detach(). */
  attach(registry: CameraRegistry): () => void {
    const onResult = (r: FrameResult, model: string): void => {
      const events = r.analytics?.events;
      if (!events || events.length === 0) return;
      let labels: readonly string[] | undefined;
      for (const e of events) {
        if (!this.#wanted.has(e.type)) continue;
        labels ??= registry.pipeline(model)?.model.classNames ?? [];
        this.write(e, r, labels);
      }
    };
    registry.on('result', onResult);
    const detach = (): void => void registry.off('result', onResult);
    this.#detachers.push(detach);
    return detach;
  }

  /** Queues one event of result `r` (filtered by `events`). */
  write(e: AnalyticsEvent, r: FrameResult, labels: readonly string[] = []): void {
    if (this.#closed || !this.#wanted.has(e.type)) return;
    this.#push(JSON.stringify(toWireAnalyticsEventMessage(e, r, labels)));
  }

  stats(): WebhookStats {
    return { url: this.#shown, ...this.#stats, pending: this.#queue.length - this.#head };
  }

  /** Stops taking events; waits up to `timeoutMs` for the queue to be sent, then drops the rest (counted). */
  async close(timeoutMs = 0): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.#detachers.splice(0)) d();
    if (this.#running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.#running, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    this.#wake?.();
    await this.#running;
    this.#stats.closed += this.#queue.length - this.#head;
    this.#queue.length = 0;
    this.#head = 0;
  }

  #push(body: string): void {
    if (this.#queue.length - this.#head >= this.options.maxPending) {
      this.#head++;
      this.#stats.dropped++;
    }
    this.#queue.push(body);
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
  }

  async #run(): Promise<void> {
    while (this.#head < this.#queue.length && !this.#abort.signal.aborted) {
      const body = this.#queue[this.#head]!;
      let attempt = 0;
      for (;;) {
        const outcome = await this.#post(body);
        if (this.#abort.signal.aborted) return;
        if (outcome === 'ok' || outcome === 'rejected') break;
        if (attempt >= this.options.retries) {
          this.#stats.failed++;
          break;
        }
        await this.#sleep(Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt));
        if (this.#abort.signal.aborted) return;
        attempt++;
        this.#stats.retried++;
        // The queue may have dropped this event for room meanwhile: then go on with the new head.
        if (this.#queue[this.#head] !== body) break;
      }
      if (this.#queue[this.#head] === body) this.#head++;
    }
  }

  async #post(body: string): Promise<'ok' | 'retry' | 'rejected'> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.options.secret !== undefined) headers[this.options.secretHeader] = this.options.secret;
    try {
      const res = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await res.arrayBuffer().catch(() => undefined); // let the connection be reused
      if (res.ok) {
        this.#stats.sent++;
        this.#healthy = true;
        return 'ok';
      }
      if (RETRIABLE(res.status)) {
        this.#warn(`answered ${res.status}`);
        return 'retry';
      }
      this.#stats.rejected++;
      this.#warn(`refused an event with ${res.status}; it is dropped`);
      return 'rejected';
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no response within ${this.options.timeoutMs} ms` : (e.cause?.code ?? e.name);
      this.#warn(`failed: ${why}`);
      return 'retry';
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => (this.#wake = undefined));
  }

  /** One warning per outage (the first failure after a success); never with the secret or the URL's query. */
  #warn(what: string): void {
    if (!this.#healthy) return;
    this.#healthy = false;
    safeEmit(
      this,
      'warning',
      new CamtrackError(`webhook ${this.#shown} ${what}`, 'ERR_CAMTRACK_WEBHOOK', {
        stage: 'webhook',
        hint: 'the receiver is retried with backoff; events beyond outputs.webhooks[].maxPending are dropped (webhook stats)',
      }),
    );
  }
}
