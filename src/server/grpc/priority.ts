/**
 * The `priority` fields of VisionCoreService requests (proto/camtrack/v1/vision.proto `Priority`, docs/grpc.md): the
 * proto enum (loaded as its names, src/server/grpc/proto.ts) to a pushed frame's priority (Stream#push's `priority`).
 * PRIORITY_UNSPECIFIED (unset) defers to the enclosing message's priority, else normal. A number that is not one of
 * the enum's values (a client built from a newer proto, or a hand-made message) is refused with
 * ERR_CAMTRACK_INVALID_ARGUMENT (INVALID_ARGUMENT), naming the field and the accepted values.
 */
import { CamtrackError } from '../../errors.js';

export type FramePriority = 'normal' | 'high';

const NAMES: Record<string, FramePriority | undefined> = {
  PRIORITY_UNSPECIFIED: undefined,
  PRIORITY_NORMAL: 'normal',
  PRIORITY_HIGH: 'high',
};
const NUMBERS: (FramePriority | undefined)[] = [undefined, 'normal', 'high'];

/** The priority a field asks for: undefined when unset (defer to the enclosing one), else 'normal' or 'high'. */
export function priorityOf(value: unknown, field: string): FramePriority | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && Object.prototype.hasOwnProperty.call(NAMES, value)) return NAMES[value];
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < NUMBERS.length) return NUMBERS[value];
  throw new CamtrackError(`invalid ${field} ${JSON.stringify(value)}`, 'ERR_CAMTRACK_INVALID_ARGUMENT', {
    stage: 'grpc',
    hint: `${field}: PRIORITY_UNSPECIFIED (0), PRIORITY_NORMAL (1) or PRIORITY_HIGH (2)`,
  });
}
