/**
 * Analytics events and counts to an MQTT broker (docs/analytics.md, "MQTT"; config `outputs.mqtt`), as Frigate
 * publishes its events and zone counts, with the `mqtt` package (v5):
 *
 *   <prefix>/<camera>/events          each analytics event (the wire's analytics event message), not retained
 *   <prefix>/<camera>/lines/<line>    { in, out, per_class } after each crossing of that line, retained
 *   <prefix>/<camera>/zones/<zone>    { occupancy } after each change of the zone's occupancy, retained
 *   <prefix>/available                'online' once connected, 'offline' (retained; the will, and at close())
 *
 *   const out = await MqttSink.create(options);   // connects in the background; never throws for a broker away
 *   out.attach(cameras);
 *   …
 *   await out.close();
 *
 * Broker away: events wait in one bounded queue (`maxPending`, oldest dropped and counted as `dropped`); retained
 * topics keep only their newest value (a state, not a history). The client reconnects every `reconnectMs`, forever,
 * and the waiting messages go out in order once it is back. Nothing is handed to the client while it is offline, so
 * its own queue stays empty. The 'result' listener only filters, serialises and queues.
 * Secrets: the URL's credentials are never shown (stats, warnings: mqtt://host:port).
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';

import mqtt, { type MqttClient } from 'mqtt';

import type { CameraRegistry } from '../cameras/registry.js';
import type { MqttOptions } from '../config.js';
import { CamtrackError, redactSecretsIn } from '../errors.js';
import { safeEmit } from '../safe-emit.js';
import type { FrameResult } from '../types.js';
import { labelOf, toWireAnalyticsEventMessage } from '../wire/index.js';
import { shownUrl } from './webhook.js';

export interface MqttSinkStats {
  url: string;
  connected: boolean;
  /** Messages handed to the connected client (events and retained counts). */
  published: number;
  /** Events dropped because the queue was full while the broker was away (oldest first). */
  dropped: number;
  /** Retained values replaced by a newer one before they could be published. */
  superseded: number;
  /** Messages waiting for the broker now. */
  pending: number;
  /** Connections made after a loss. */
  reconnects: number;
}

/** An MQTT topic level from an id: `/`, `+`, `#` and NUL replaced by `_`. */
let clients = 0;
const level = (id: string): string => id.replace(/[/+#\u0000]/g, '_');

export class MqttSink extends EventEmitter {
  readonly options: MqttOptions;
  readonly #client: MqttClient;
  readonly #shown: string;
  readonly #wanted: ReadonlySet<string>;
  readonly #events: { topic: string; payload: string }[] = [];
  readonly #retained = new Map<string, string>();
  readonly #occupancy = new Map<string, number>();
  readonly #stats = { published: 0, dropped: 0, superseded: 0, reconnects: 0 };
  #connectedOnce = false;
  #closed = false;
  readonly #detachers: (() => void)[] = [];

  private constructor(options: MqttOptions) {
    super();
    this.options = options;
    this.#shown = shownUrl(options.url);
    this.#wanted = new Set(options.events);
    this.#client = mqtt.connect(options.url, {
      clientId: options.clientId ?? `camtrack-${os.hostname()}-${process.pid}-${++clients}`,
      connectTimeout: options.connectTimeoutMs,
      reconnectPeriod: options.reconnectMs,
      queueQoSZero: false,
      will: { topic: `${options.topicPrefix}/available`, payload: Buffer.from('offline'), qos: 0, retain: true },
    });
    this.#client.on('connect', () => {
      if (this.#connectedOnce) this.#stats.reconnects++;
      this.#connectedOnce = true;
      this.#client.publish(`${options.topicPrefix}/available`, 'online', { qos: 0, retain: true });
      this.#flush();
    });
    let warned = false;
    this.#client.on('error', (err) => {
      if (warned) return;
      warned = true;
      safeEmit(this, 'warning', this.#error(`error: ${redactSecretsIn((err as Error).message)}`));
    });
    this.#client.on('offline', () => {
      if (!warned) safeEmit(this, 'warning', this.#error('broker unreachable; reconnecting'));
      warned = true;
    });
    this.#client.on('connect', () => (warned = false));
  }

  /** Starts connecting (in the background; a broker away is retried forever, with warnings). */
  static create(options: MqttOptions): MqttSink {
    return new MqttSink(options);
  }

  get connected(): boolean {
    return this.#client.connected;
  }

  /** Listens to `registry`'s results; returns detach(). */
  attach(registry: CameraRegistry): () => void {
    const onResult = (r: FrameResult, model: string): void => {
      if (r.analytics && r.analytics.events.length > 0) this.write(r, registry.pipeline(model)?.model.classNames ?? []);
    };
    registry.on('result', onResult);
    const detach = (): void => void registry.off('result', onResult);
    this.#detachers.push(detach);
    return detach;
  }

  /** Publishes result `r`'s analytics events (filtered by `events`) and the counts they changed. */
  write(r: FrameResult, labels: readonly string[] = []): void {
    const a = r.analytics;
    if (this.#closed || !a || a.events.length === 0) return;
    const base = `${this.options.topicPrefix}/${level(r.streamId)}`;
    for (const e of a.events) {
      if (this.#wanted.has(e.type)) this.#event(`${base}/events`, JSON.stringify(toWireAnalyticsEventMessage(e, r, labels)));
      if (e.type === 'line-cross') {
        const l = a.lines[e.line];
        if (l) {
          const perClass = l.perClass.map((c) => ({ class_id: c.classId, label: labelOf(labels, c.classId), in: c.in, out: c.out }));
          this.#retain(`${base}/lines/${level(e.line)}`, JSON.stringify({ in: l.in, out: l.out, per_class: perClass }));
        }
      } else if (e.type === 'zone-enter' || e.type === 'zone-exit') {
        const occupancy = a.zones[e.zone]?.occupancy ?? 0;
        const topic = `${base}/zones/${level(e.zone)}`;
        if (this.#occupancy.get(topic) !== occupancy) {
          this.#occupancy.set(topic, occupancy);
          this.#retain(topic, JSON.stringify({ occupancy }));
        }
      }
    }
    this.#flush();
  }

  stats(): MqttSinkStats {
    return { url: this.#shown, connected: this.#client.connected, ...this.#stats, pending: this.#events.length + this.#retained.size };
  }

  /** Publishes 'offline' (when connected) and disconnects; what still waits is dropped (counted in pending). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const d of this.#detachers.splice(0)) d();
    if (this.#client.connected) {
      await new Promise<void>((resolve) => this.#client.publish(`${this.options.topicPrefix}/available`, 'offline', { qos: 0, retain: true }, () => resolve()));
    }
    await this.#client.endAsync().catch(() => undefined);
  }

  #event(topic: string, payload: string): void {
    if (this.#events.length >= this.options.maxPending) {
      this.#events.shift();
      this.#stats.dropped++;
    }
    this.#events.push({ topic, payload });
  }

  #retain(topic: string, payload: string): void {
    if (this.#retained.has(topic)) this.#stats.superseded++;
    this.#retained.delete(topic); // re-inserted last: published after the events before it
    this.#retained.set(topic, payload);
  }

  #flush(): void {
    if (!this.#client.connected || this.#closed) return;
    const qos = this.options.qos;
    for (const { topic, payload } of this.#events.splice(0)) {
      this.#client.publish(topic, payload, { qos });
      this.#stats.published++;
    }
    for (const [topic, payload] of this.#retained) {
      this.#client.publish(topic, payload, { qos, retain: true });
      this.#stats.published++;
    }
    this.#retained.clear();
  }

  #error(what: string): CamtrackError {
    return new CamtrackError(`MQTT ${this.#shown}: ${what}`, 'ERR_CAMTRACK_MQTT', {
      stage: 'mqtt',
      hint: `reconnecting every ${this.options.reconnectMs} ms; events beyond outputs.mqtt.maxPending are dropped (counted)`,
    });
  }
}
