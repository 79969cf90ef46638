// Runs one stream through a camtrack Pipeline in its own process, so a test can read what the process writes on
// stderr (onnxruntime's and FFmpeg's own logs). Usage: node run-stream.mjs <config-json>, where the JSON is
// { pipeline: PipelineConfig, stream: StreamOptions, seconds?: number }. Runs until the stream ends, or `seconds`
// pass (then removes nothing: it reads stats first, then closes). Prints one JSON line on stdout:
// { final: state | null, results, warnings: [{ code, message }], stream: StreamStats, pipeline: PipelineStats }.
import { Pipeline } from '../../dist/index.js';

const { pipeline: config, stream: options, seconds } = JSON.parse(process.argv[2]);
const p = await Pipeline.create(config);
const warnings = [];
p.on('warning', (e) => warnings.push({ code: e.code, message: e.message }));
p.on('error', () => {});
let results = 0;
p.on('result', () => results++);
const s = p.addStream(options);
let timer;
const final = await Promise.race([
  s.whenEnded(),
  new Promise((resolve) => (timer = setTimeout(() => resolve(null), (seconds ?? 60) * 1000))),
]);
clearTimeout(timer);
const pipelineStats = p.stats();
console.log(JSON.stringify({ final, results, warnings, stream: pipelineStats.streams[0], pipeline: pipelineStats }));
await p.close();
