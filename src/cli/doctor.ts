import { formatCapabilities, probeCapabilities } from '../capabilities.js';
import { parseArgs } from './args.js';

/** `camtrack doctor [--json]`: exit 0 when the CPU path works (native addon + onnxruntime), else 1. */
export async function runDoctor(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const caps = await probeCapabilities();
  if (args.flags.has('json')) console.log(JSON.stringify(caps, null, 2));
  else console.log(formatCapabilities(caps));
  return caps.native.loaded && caps.onnxruntime.available ? 0 : 1;
}
