import { formatCapabilities, probeCapabilities } from '../capabilities.js';

/** `camtrack doctor [--json]`: exit 0 when the CPU path works (native addon + onnxruntime), else 1. */
export async function runDoctor(options: { json?: boolean }): Promise<number> {
  const caps = await probeCapabilities();
  if (options.json) console.log(JSON.stringify(caps, null, 2));
  else console.log(formatCapabilities(caps));
  return caps.native.loaded && caps.onnxruntime.available ? 0 : 1;
}
