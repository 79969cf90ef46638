/**
 * The config sections of issue 13's outputs: `outputs` (webhooks, MQTT: off by default) and `redis.counts`, in the
 * one schema (src/config/schema.ts) that `camtrack run`, `worker` and `serve` read, next to the cameras' `analytics`
 * section. Pure TypeScript, no addon.
 */
import { describe, expect, it } from 'vitest';

import { normaliseRedisOptions, normaliseRegistryConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';

const ALL_EVENTS = ['line-cross', 'zone-enter', 'zone-exit', 'loiter', 'overcrowd', 'speed'];

function pathOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).path;
  }
  throw new Error('expected a ConfigError');
}

describe('outputs and redis.counts', () => {
  it('are off by default (no webhook, no MQTT); counts kept in Redis when Redis is configured', () => {
    const c = normaliseRegistryConfig({ model: 'm.onnx' });
    expect(c.outputs).toEqual({ webhooks: [] });
    expect(normaliseRedisOptions({}).counts).toEqual({ enabled: true, key: 'camera_{id}_analytics', intervalMs: 1000 });
  });

  it('fill the defaults of a webhook and of MQTT', () => {
    const c = normaliseRegistryConfig({ model: 'm.onnx', outputs: { webhooks: [{ url: 'https://h/x', events: ['line-cross'] }], mqtt: { url: 'mqtt://b' } } });
    expect(c.outputs.webhooks[0]).toEqual({
      url: 'https://h/x',
      events: ['line-cross'],
      secretHeader: 'x-camtrack-secret',
      timeoutMs: 5000,
      retries: 5,
      backoffMs: 500,
      maxBackoffMs: 30000,
      maxPending: 1000,
    });
    expect(c.outputs.mqtt).toEqual({ url: 'mqtt://b', topicPrefix: 'camtrack', events: ALL_EVENTS, qos: 0, maxPending: 1000, connectTimeoutMs: 10000, reconnectMs: 1000 });
  });

  it.each([
    [{ webhooks: [{ url: 'ftp://h' }] }, 'outputs.webhooks[0].url'],
    [{ webhooks: [{ url: 'http://h', events: ['crossing'] }] }, 'outputs.webhooks[0].events'],
    [{ webhooks: [{ url: 'http://h', retries: -1 }] }, 'outputs.webhooks[0].retries'],
    [{ webhooks: [{ url: 'http://h', secretHeader: 'bad header' }] }, 'outputs.webhooks[0].secretHeader'],
    [{ mqtt: { url: 'http://b' } }, 'outputs.mqtt.url'],
    [{ mqtt: { url: 'mqtt://b', topicPrefix: 'a/#' } }, 'outputs.mqtt.topicPrefix'],
    [{ kafka: {} }, 'outputs.kafka'],
  ])('a bad outputs section is a ConfigError naming the field (%j → %s)', (outputs, path) => {
    expect(pathOf(() => normaliseRegistryConfig({ model: 'm.onnx', outputs } as never))).toBe(path);
  });

  it('redis.counts is validated (key pattern with {id}, interval bounds)', () => {
    expect(pathOf(() => normaliseRedisOptions({ counts: { key: 'counts' } }))).toBe('redis.counts.key');
    expect(pathOf(() => normaliseRedisOptions({ counts: { intervalMs: 1 } }))).toBe('redis.counts.intervalMs');
  });

  it('the cameras of run, worker and serve take the same analytics section (one CameraOptions schema)', () => {
    const analytics = { lines: [{ id: 'door', start: [0, 0], end: [10, 0] }], zones: [{ id: 'bay', polygon: [[0, 0], [5, 0], [5, 5]] }] };
    const c = normaliseRegistryConfig({
      model: 'm.onnx',
      streams: [
        { id: 'file', url: 'a.mp4', analytics },
        { id: 'pushed', input: 'push', codec: 'jpeg', analytics },
      ],
    });
    expect(c.cameras.map((x) => x.stream.analytics?.lines[0]?.id)).toEqual(['door', 'door']);
    expect(pathOf(() => normaliseRegistryConfig({ model: 'm.onnx', streams: [{ id: 'x', url: 'a.mp4', analytics: { lines: [{ id: 'd', start: [0, 0] }] } }] } as never))).toMatch(
      /^streams\[0\]\.analytics\.lines\[0\]/,
    );
  });
});
