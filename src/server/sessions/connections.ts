/**
 * The two connections a session writes to (SessionWriter): a WebSocket (`ws`, through @fastify/websocket) and an SSE
 * response. Each says how many bytes it holds that the client has not taken yet, so the session writes no further
 * while that is over its bound, and calls the session's flush() again when the socket drains.
 */
import type { ServerResponse } from 'node:http';

import type { RawData, WebSocket } from 'ws';

import type { OutboxEntry } from './outbox.js';
import type { Session, SessionWriter } from './session.js';

/** ws close code for a session closed by the server (idle, deleted, shutting down): 1000 normal closure. */
const CLOSE_NORMAL = 1000;

/** A WebSocket as a session's writer. */
export function webSocketWriter(socket: WebSocket, session: Session): SessionWriter {
  return {
    write(e: OutboxEntry) {
      // The callback runs once ws has handed the bytes to the socket: a chance to write what waits.
      socket.send(e.text, (err) => {
        if (!err) session.flush();
      });
    },
    buffered: () => socket.bufferedAmount,
    close(reason: string) {
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) {
        socket.close(CLOSE_NORMAL, Buffer.from(reason).subarray(0, 120).toString());
      }
    },
  };
}

/** Server-sent events on `res` (already given its 200 and headers) as a session's writer, with keep-alive comments. */
export function sseWriter(res: ServerResponse, session: Session, keepAliveMs: number): SessionWriter {
  const keepAlive = setInterval(() => {
    if (!res.destroyed) res.write(': keep-alive\n\n');
  }, keepAliveMs);
  keepAlive.unref();
  const writer: SessionWriter = {
    write(e: OutboxEntry) {
      res.write(`id: ${e.id}\ndata: ${e.text}\n\n`);
    },
    buffered: () => res.writableLength,
    close() {
      clearInterval(keepAlive);
      if (!res.writableEnded) res.end();
    },
  };
  res.on('drain', () => session.flush());
  res.on('close', () => {
    clearInterval(keepAlive);
    session.detach(writer);
  });
  return writer;
}

/** A ws message's bytes as one Buffer. */
export function messageBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
