/** `camtrack config schema [--out file]`: the config file of `camtrack run` as JSON Schema (draft-07). */
import { writeFile } from 'node:fs/promises';

import { configJsonSchema } from '../config.js';

/** Prints the schema, or writes it to `out`. */
export async function runConfigSchema(options: { out?: string }): Promise<number> {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  if (options.out === undefined) process.stdout.write(text);
  else await writeFile(options.out, text);
  return 0;
}
