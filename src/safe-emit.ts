/**
 * Emits to user listeners from inside a native delivery (Pipeline and Stream events). A listener that throws must
 * not cut the delivery short — other streams' results and events, the end promises — so its error is rethrown
 * outside, as an uncaught exception where the user sees it. An event nobody listens to is not emitted: an 'error'
 * event without a listener would throw, and a broken camera must never crash the process.
 */
import type { EventEmitter } from 'node:events';

export function safeEmit(emitter: EventEmitter, name: string, ...args: unknown[]): void {
  if (emitter.listenerCount(name) === 0) return;
  try {
    emitter.emit(name, ...args);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}
