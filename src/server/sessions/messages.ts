/**
 * What a WebSocket session does with each client message (docs/sessions.md): a binary message is one image; a text
 * message is JSON, `{ type: 'frame', image_data, frame_id, timestamp, metadata }` or `{ type: 'config_update',
 * config }`. Anything wrong gets an `error` message (with its code, a hint and the frame_id when known) and the
 * socket stays open.
 */
import { CamtrackError } from '../../errors.js';
import { isObject } from '../../validate.js';
import { badFrame, checkImage, checkJsonFrame, frameIdOf } from './frames.js';
import type { Session } from './session.js';

/** Handles one WebSocket message of `session`; never throws. */
export function onSessionMessage(session: Session, bytes: Buffer, isBinary: boolean, maxFrameBytes: number, maxMessageBytes: number): void {
  let frameId: number | null = null;
  try {
    if (isBinary) {
      session.receive(() => {
        checkImage(bytes, session.codec, maxFrameBytes);
        return { bytes, frameId: undefined, metadata: undefined };
      });
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      if (bytes.length > maxMessageBytes) session.countInvalidFrame();
      else session.countRejectedMessage();
      throw badFrame(`malformed JSON: ${(err as Error).message}`, "send one JSON object per text message ({ type: 'frame', image_data, … }), or the image as a binary message");
    }
    frameId = frameIdOf(message);
    if (bytes.length > maxMessageBytes) {
      // Under the socket's maxPayload (ws would have closed it) but over what a frame may be: parsed only for its frame_id.
      session.countInvalidFrame();
      throw badFrame(`the message is ${bytes.length} bytes, over the limit of ${maxMessageBytes} (frames up to ${maxFrameBytes} bytes)`, 'send a smaller image');
    }
    const type = isObject(message) ? message.type : undefined;
    if (type === 'frame') {
      const m = message as Record<string, unknown>;
      // A frame over fps_limit is counted in the session's stats (dropped.rate); the design sends no message for it.
      session.receive(() => checkJsonFrame(m, session.codec, maxFrameBytes));
      return;
    }
    if (type === 'config_update') {
      try {
        session.configure((message as Record<string, unknown>).config);
      } catch (err) {
        session.countRejectedMessage();
        throw err;
      }
      session.send(session.greeting()); // the config now in effect
      return;
    }
    session.countRejectedMessage();
    throw badFrame(
      `unknown message type ${JSON.stringify(type)}`.slice(0, 200),
      "send { type: 'frame', image_data, frame_id, timestamp, metadata } or { type: 'config_update', config }",
    );
  } catch (err) {
    const e = err instanceof CamtrackError ? err : new CamtrackError(String((err as Error)?.message ?? err), 'ERR_CAMTRACK_BAD_FRAME');
    session.sendError(e, frameId);
  }
}
