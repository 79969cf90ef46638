/**
 * The analytics event outputs of the config's `outputs` section (webhooks, MQTT; docs/analytics.md), attached to a
 * CameraRegistry where the Redis sink attaches, so `camtrack run`, `worker` and `serve` get them from one section.
 */
import type { CameraRegistry } from '../cameras/registry.js';
import type { NormalisedOutputsOptions } from '../config.js';
import type { CamtrackError } from '../errors.js';
import { MqttSink, type MqttSinkStats } from './mqtt.js';
import { WebhookSink, type WebhookStats } from './webhook.js';

export interface AnalyticsOutputsStats {
  webhooks: WebhookStats[];
  mqtt: MqttSinkStats | null;
}

export class AnalyticsOutputs {
  readonly webhooks: WebhookSink[];
  readonly mqtt: MqttSink | undefined;

  /** Starts the configured outputs (none: nothing runs); their warnings go to `warn`. */
  constructor(options: NormalisedOutputsOptions, warn: (err: CamtrackError) => void) {
    this.webhooks = options.webhooks.map((w) => new WebhookSink(w));
    this.mqtt = options.mqtt ? MqttSink.create(options.mqtt) : undefined;
    for (const w of this.webhooks) w.on('warning', warn);
    this.mqtt?.on('warning', warn);
  }

  get empty(): boolean {
    return this.webhooks.length === 0 && !this.mqtt;
  }

  /** Takes the analytics events of `registry`'s results (several registries may be attached). */
  attach(registry: CameraRegistry): void {
    for (const w of this.webhooks) w.attach(registry);
    this.mqtt?.attach(registry);
  }

  stats(): AnalyticsOutputsStats {
    return { webhooks: this.webhooks.map((w) => w.stats()), mqtt: this.mqtt?.stats() ?? null };
  }

  /** Gives the webhooks up to `timeoutMs` to send what waits, then closes everything. */
  async close(timeoutMs = 0): Promise<void> {
    await Promise.all([...this.webhooks.map((w) => w.close(timeoutMs)), this.mqtt?.close()]);
  }
}
