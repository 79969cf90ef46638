/**
 * `camtrack` command line: demo, run, serve, worker, publish, doctor, bench, eval, track, models, config. Every command and its options are
 * declared here, once (commander): `camtrack --help` lists the commands, `camtrack <command> --help` prints its options.
 * Every command returns an exit code: 0 done, 1 failed, 2 bad command line (unknown option or command, missing or bad
 * value: ERR_CAMTRACK_INVALID_ARGUMENT naming it). Errors print their code and hint, never a stack (unless
 * CAMTRACK_DEBUG=1).
 */
import { Argument, Command, CommanderError, Option } from 'commander';

import { TRIAL_NAMES, TRIALS } from '../bench/runner.js';
import { StandaloneTrackerOptionsSchema, TRACKER_TYPES, TrackerFields } from '../config.js';
import { MODELS } from '../models/registry.js';
import { intOption, listOption, numOption, redisOption, UsageError } from './args.js';
import { runBench } from './bench.js';
import { runBuildNative } from './build-native.js';
import { runConfigSchema } from './config.js';
import { runDemo } from './demo.js';
import { runDoctor } from './doctor.js';
import { runPublish } from './publish.js';
import { runRun } from './run.js';
import { runServe } from './serve.js';
import { runEval, runModelsFetch, runModelsInfo, runModelsList } from './tools.js';
import { runTrack } from './track.js';
import { runWorker } from './worker.js';

/** The ranges of `camtrack track`'s tracker options: the Tracker's (src/config/schema.ts). */
const { frameRate } = StandaloneTrackerOptionsSchema.properties;
const bufferSeconds = TrackerFields.trackBufferSeconds;

/** The largest --duration: setTimeout's limit (2^31-1 ms). */
const MAX_SECONDS = 2147483;

/** The program with every command; `setExitCode` receives the exit code of the command that ran. */
function buildProgram(setExitCode: (code: number) => void): Command {
  /** A command's action: its runner gets the parsed options (then the positional arguments); its result is the exit code. */
  const action =
    <O>(run: (options: O, ...args: string[]) => Promise<number>) =>
    async (...received: unknown[]): Promise<void> => {
      const cmd = received.at(-1) as Command;
      setExitCode(await run(cmd.opts() as O, ...(cmd.processedArgs as string[])));
    };
  const program = new Command('camtrack')
    .description('real-time detection and tracking on many camera streams (docs: README.md, docs/)')
    .exitOverride()
    .configureOutput({ outputError: () => {} }) // runCli prints the error, with its code and hint
    .showSuggestionAfterError();

  program
    .command('demo')
    .summary('built-in scene with known ground truth (no GPU, no internet), or a model on your sources')
    .description(
      'With no --source: a synthetic scene per stream with known ground truth, scored with MOT metrics at the end.\n' +
        'With --model and --source: the pipeline on real inputs (scored when --gt files are given); a live source runs\n' +
        'until Ctrl-C or --duration seconds.',
    )
    .addOption(intOption('--streams <n>', 'built-in scene: number of streams', 1, 64, 4))
    .addOption(intOption('--frames <n>', 'built-in scene: frames per stream', 10, 100000, 250))
    .option('--model <file.onnx>', 'detector (needed with --source)')
    .addOption(listOption('--source <url|file>', 'a source (repeatable)'))
    .addOption(listOption('--gt <gt.txt>', 'MOTChallenge ground truth of the source at the same position (repeatable)'))
    .addOption(numOption('--duration <s>', 'stop after S seconds (0 = when every source ends)', 0, MAX_SECONDS, 0))
    .option('--json', 'summary as JSON')
    .option('--quiet', 'no progress lines')
    .action(action(runDemo));

  program
    .command('run')
    .summary('the cameras of a config file, one pipeline per model; results as JSON lines on stdout')
    .requiredOption(
      '--config <file.json|yaml>',
      'pipeline options, `model` and/or named `models`, `streams` (each may name its `model`); `camtrack config schema` prints its JSON Schema',
    )
    .addOption(intOption('--max-frames <n>', 'stop after N results (0 = no limit)', 0, Number.MAX_SAFE_INTEGER, 0))
    .addOption(numOption('--duration <s>', 'stop after S seconds (0 = no limit)', 0, MAX_SECONDS, 0))
    .addOption(redisOption('write results to Redis Streams (camera_{id}_output) instead of stdout; the config\'s `redis` section sets the rest'))
    .addHelpText(
      'after',
      [
        '',
        "Pushed frames (input 'push', docs/push.md): a camera can take compressed frames instead of a url, fed by",
        'camtrack run from a directory or from standard input:',
        "  { id: 'dock', input: 'push', codec: 'jpeg', live: false, feed: { dir: './frames', fps: 10 } }",
        '      every .jpg/.jpeg file of ./frames (relative to the config file), in name order, one frame each',
        "  { id: 'pipe', input: 'push', codec: 'jpeg', feed: { stdin: 'mjpeg' } }",
        '      JPEGs back to back on stdin:  ffmpeg -i clip.mp4 -c:v mjpeg -q:v 3 -f mjpeg - | camtrack run --config c.yaml',
        "  feed: { stdin: 'length-prefixed' }: each frame preceded by its length (4-byte big-endian), any codec",
        "live: false pushes every frame (waiting for the camera: 'drain'); live true/'auto' keeps the newest. The camera",
        "ends when its feed does. Results carry frame_id (the frame's position) and, from a directory, metadata.file.",
      ].join('\n'),
    )
    .action(action(runRun));

  program
    .command('worker')
    .summary('read camera frames from Redis Streams, write each result back and acknowledge its input (docs/redis.md)')
    .description(
      'Reads camera_{id}_input with consumer group inference_consumer_{id}, processes each frame, writes its result to ' +
        'camera_{id}_output and acknowledges the input entry after that write; several workers share the cameras ' +
        'through leases in Redis. Runs until SIGINT/SIGTERM or --duration, lets the frames in flight finish, then ' +
        'prints one summary line (JSON with --json).',
    )
    .addOption(redisOption('the Redis server (default: the config\'s redis.url, else redis://127.0.0.1:6379)'))
    .option('--model <file.onnx>', 'detector of every camera')
    .option(
      '--config <file.json|yaml>',
      "models, pipeline options, the `redis` section, and `streams`: input 'push' ones are cameras read from Redis (their options), the others cameras the workers pull (RTSP, files)",
    )
    .option('--no-inference', 'no model: results without detections (the frame size from its JPEG header); tests the Redis path')
    .addOption(new Option('--cameras <a,b>', 'camera ids to read').argParser(parseIds))
    .option('--discover [pattern]', 'also read every stream matching the key pattern (default camera_{id}_input), looking again every 10 s')
    .option('--group <name>', 'consumer group ({id} = the camera id; default inference_consumer_{id})')
    .option('--consumer <name>', 'this worker\'s name in the groups (default <hostname>-<pid>)')
    .addOption(numOption('--max-frame-age <s>', 'skip (acknowledge, count) frames older than S seconds when read; 0 = off', 0, 86400))
    .addOption(numOption('--duration <s>', 'stop after S seconds (0 = until SIGINT/SIGTERM)', 0, MAX_SECONDS, 0))
    .addOption(intOption('--delay-ms <ms>', 'with --no-inference: each result this long after its frame, as a model that slow would', 0, 600000, 0))
    .option('--json', 'summary as JSON')
    .action(action(runWorker));

  program
    .command('serve')
    .summary('the service: cameras over REST, results over SSE/WebSocket, detection sessions, Prometheus /metrics, health probes (docs/serve.md)')
    .option('--config <file.json|yaml>', 'models, pipeline options, cameras started at boot (`streams`), the `serve` and `redis` sections')
    .option('--model <file.onnx>', 'detector (the top-level `model`)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1; anything but loopback needs a token)')
    .addOption(intOption('--port <n>', 'TCP port (default 8080; 0 = any free port)', 0, 65535))
    .option('--token <token>', 'bearer token every route but /health/* needs (default: env CAMTRACK_TOKEN, then serve.token)')
    .option('--tls-cert <file.pem>', 'serve HTTPS with this certificate (with --tls-key)')
    .option('--tls-key <file.pem>', 'private key of --tls-cert')
    .addOption(intOption('--grpc-port <n>', 'also serve gRPC (camtrack.v1.VisionCoreService, AnalyticsService, grpc.health.v1; docs/grpc.md) on this port (serve.grpc.port; 0 = any free port)', 0, 65535))
    .addOption(redisOption('Redis: readiness pings it, the REST camera list is kept there, and the cameras of its redis.input section are worked as camtrack worker does'))
    .addHelpText('after', '\nPrecedence: flags, then the environment (CAMTRACK_TOKEN), then the config file\'s `serve` section, then defaults.')
    .action(action(runServe));

  program
    .command('publish')
    .summary('publish a file or RTSP camera to Redis as JPEG frames (camera_{id}_input), as the seed\'s camera worker does')
    .addOption(redisOption('the Redis server').makeOptionMandatory())
    .requiredOption('--camera <id>', 'camera id (the stream is camera_{id}_input)')
    .requiredOption('--source <file|rtsp>', 'video file or rtsp:// URL (decoded and JPEG-encoded by ffmpeg)')
    .addOption(numOption('--fps <n>', 'frames per second published (0 = the source\'s rate)', 0, 1000, 0))
    .addOption(numOption('--duration <s>', 'stop after S seconds of source (0 = its end)', 0, MAX_SECONDS, 0))
    .addOption(intOption('--max-frames <n>', 'stop after N frames (0 = no limit)', 0, Number.MAX_SAFE_INTEGER, 0))
    .addOption(intOption('--max-len <n>', 'XADD MAXLEN ~ of the input stream (0 = no trimming)', 0, 1e9, 10000))
    .addOption(intOption('--quality <q>', 'JPEG quality, ffmpeg -q:v: 2 (best) … 31', 2, 31, 5))
    .option('--no-realtime', 'read a file as fast as Redis takes it (default: at its own frame rate)')
    .option('--json', 'summary as JSON')
    .action(action(runPublish));

  program
    .command('doctor')
    .summary('what this machine and build support (CUDA, NVDEC, TensorRT, FFmpeg, onnxruntime)')
    .option('--json', 'as JSON')
    .action(action(runDoctor));

  program
    .command('build-native')
    .summary('build the addon from source where no prebuilt fits (needs FFmpeg dev files, cmake, a C++ compiler)')
    .description(
      'Builds build/Release/camtrack.node in the camtrack package with cmake-js (scripts/build-native.mjs); the\n' +
        "loader then prefers it to the prebuilt addon. Without FFmpeg's development files, cmake or a compiler it\n" +
        'says which are missing and the command that installs them.',
    )
    .action(action(runBuildNative));

  program
    .command('bench')
    .summary('pipeline fps vs raw onnxruntime, as a JSON report')
    .option('--model <file.onnx>', 'detector (default: yolox_nano.onnx of the shared assets)')
    .option('--source <file>', 'video (default: walking.mp4 of the shared assets)')
    .addOption(intOption('--frames <n>', 'measured frames per trial', 1, 10_000_000, 400))
    .addOption(intOption('--warmup <n>', 'frames before measuring', 1, 1_000_000, 20))
    .addOption(
      new Option('--trials <list>', `comma-separated: ${TRIAL_NAMES.join(', ')}`).default(['ort-raw', 'pipeline'], 'ort-raw,pipeline').argParser(parseTrials),
    )
    .addOption(intOption('--repeat <n>', 'rounds; the report gives medians', 1, 100, 1))
    .addOption(intOption('--streams <n>', 'streams of the multi-stream trials', 1, 256, 4))
    .addOption(intOption('--workers <n>', 'inference workers (default: the pipeline default)', 1, 64))
    .addOption(intOption('--intra-op-threads <n>', 'onnxruntime intra-op threads', 1, 256))
    .addOption(intOption('--max-wait-ms <n>', 'batching.maxWaitMs', 0, 10000))
    .addOption(intOption('--max-batch-size <n>', 'batching.maxBatchSize', 1, 256))
    .addOption(intOption('--decoder-threads <n>', 'decoder threads per stream', 1, 16))
    .addOption(intOption('--raw-inflight <n>', 'raw onnxruntime: runs in flight', 1, 64, 2))
    .addOption(intOption('--timeout-s <s>', 'limit per trial run', 1, 86400, 300))
    .option('--out <file.json>', 'report file (default: bench/results/e2e-<time>.json)')
    .option('--quiet', 'no progress on stderr')
    .addHelpText('after', `\nTrials:\n${TRIAL_NAMES.map((t) => `  ${t.padEnd(14)} ${TRIALS[t]}`).join('\n')}`)
    .action(action(runBench));

  program
    .command('eval')
    .summary('MOT metrics (MOTA, MOTP, IDF1, HOTA, …) of MOTChallenge results')
    .requiredOption('--gt <gt.txt>', 'ground truth')
    .requiredOption('--res <res.txt>', 'tracker results')
    .addOption(numOption('--min-gt-conf <c>', 'gt rows with a lower conf are not scored; -1 keeps every row', -1, 1, 1))
    .option('--json', 'as JSON')
    .action(action(runEval));

  program
    .command('track')
    .summary('track MOTChallenge detections, write MOTChallenge results')
    .requiredOption('--det <det.txt>', 'detections (frame,-1,x,y,w,h,score,…)')
    .requiredOption('--out <res.txt>', 'results file')
    .addOption(new Option('--tracker <type>', 'tracker').choices(TRACKER_TYPES).default('bytetrack'))
    .addOption(numOption('--min-score <s>', 'drop detections scored below S', -Infinity, Infinity))
    .addOption(numOption('--frame-rate <fps>', 'frame rate of the detections (default 30)', frameRate.minimum!, frameRate.maximum!))
    .addOption(numOption('--track-buffer-seconds <s>', 'how long a lost track is kept', bufferSeconds.minimum!, bufferSeconds.maximum!))
    .option('--class-aware', 'match detections only to tracks of their class')
    .action(action(runTrack));

  const models = program.command('models').summary('model files: inspect, list and fetch well-known ones');
  models
    .command('info')
    .description('inputs, outputs, layout and classes of a model, and how camtrack reads it')
    .argument('<file.onnx>')
    .action(action(runModelsInfo));
  models.command('list').description('the well-known models `models fetch` downloads: origin, license, size, sha256').action(action(runModelsList));
  models
    .command('fetch')
    .description('download a well-known model, verify its size and sha256, then move it into place')
    .addArgument(new Argument('<name>', 'model name (camtrack models list)').choices(Object.keys(MODELS)))
    .option('--out <dir>', 'folder to write <name>.onnx into', '.')
    .option('--force', 'replace an existing file')
    .option('--base-url <url>', 'a mirror holding the files as <url>/<file> (default: env CAMTRACK_MODELS_BASE_URL, else each model\'s origin)')
    .action(action(runModelsFetch));

  const config = program.command('config').summary('the configuration schema');
  config
    .command('schema')
    .description('the config file of `camtrack run` (pipeline options, `model`/`models`, `streams`) as JSON Schema, draft-07: types, defaults, ranges, docs')
    .option('--out <file>', 'write it to FILE instead of stdout')
    .action(action(runConfigSchema));
  return program;
}

function parseIds(value: string): string[] {
  const ids = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (ids.length === 0) throw new UsageError(`Expected camera ids separated by commas for --cameras but received ${JSON.stringify(value)}`);
  return ids;
}

function parseTrials(value: string): string[] {
  const trials = value.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of trials) {
    if (!(TRIAL_NAMES as readonly string[]).includes(t)) throw new UsageError(`Expected one of ${TRIAL_NAMES.join(', ')} for --trials but received ${JSON.stringify(t)}`);
  }
  if (trials.length === 0) throw new UsageError('Expected at least one trial for --trials but received none');
  return trials;
}

export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  // The command words of argv ('models fetch'), for messages and hints.
  const words: string[] = [];
  for (let cmd: Command | undefined = program; cmd; ) {
    cmd = cmd.commands.find((c) => c.name() === argv[words.length]);
    if (cmd) words.push(cmd.name());
  }
  const name = ['camtrack', ...words].join(' ');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    // Help and version end the parse with an exit code of their own (1 for the help `camtrack` alone prints).
    if (err instanceof CommanderError && err.code.startsWith('commander.help')) return err.exitCode;
    const usage = err instanceof CommanderError || err instanceof UsageError;
    const e = err as Error & { code?: string; hint?: string };
    const message = err instanceof CommanderError ? e.message.replace(/^error: /, '').replace(/\n/g, ' ') : e.message;
    const code = usage ? 'ERR_CAMTRACK_INVALID_ARGUMENT' : e.code;
    console.error(`${name}: ${code ? `[${code}] ` : ''}${message}`);
    const hint = usage ? `${name} --help lists ${words.length ? 'its options' : 'the commands'}` : e.hint;
    if (hint) console.error(`  hint: ${hint}`);
    if (process.env.CAMTRACK_DEBUG === '1') console.error(e.stack);
    return usage ? 2 : 1;
  }
}
