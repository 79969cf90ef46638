/**
 * The one readiness rule of `camtrack serve` (GET /health/ready; the gRPC health service of the scheduling issue
 * reuses {@link checkReadiness}): ready when every configured model is usable, no loaded model's inference circuit
 * breaker is open or half-open (docs/scheduling.md "Circuit breaker") and, with --redis, Redis answers PING.
 *
 * A model is usable when its pipeline runs ('loaded'), or when no camera uses it yet and its file was read as an ONNX
 * model at boot ('available'). It is not while its file is being checked ('checking'), while its pipeline starts
 * ('loading': a camera waits for it) or after its file or its pipeline failed ('failed', with the error; a later
 * successful start clears it).
 */
import type { BreakerState } from '../types.js';
import type { CameraRegistry } from '../cameras/registry.js';
import { CamtrackError, redactSecretsIn } from '../errors.js';
import { readModelInfo } from '../models/model-info.js';

export type ModelState = 'checking' | 'available' | 'loading' | 'loaded' | 'failed';

/** What a readiness check answers. */
export interface Readiness {
  ready: boolean;
  /** Why not (one line per failed check), empty when ready. */
  reasons: string[];
  models: Record<string, { state: ModelState; error: { code: string; message: string } | null; breaker?: BreakerState }>;
  /** With --redis: whether Redis answered PING; null without Redis. */
  redis: { ok: boolean; error: string | null } | null;
}

/** The readiness function a server context holds. */
export type ReadinessCheck = () => Promise<Readiness>;

/** Errors that mean the model itself cannot run (rather than a bad camera). */
const MODEL_FAILURES = new Set(['ERR_CAMTRACK_MODEL', 'ERR_CAMTRACK_BACKEND', 'ERR_CAMTRACK_NATIVE_LOAD', 'ERR_CAMTRACK_CUDA']);

/**
 * Tracks each configured model's state: its boot-time file check, the camera adds waiting for its pipeline, and its
 * last pipeline failure. {@link ModelBoard.add} is how the server adds a camera, so that the board sees every start.
 */
export class ModelBoard {
  readonly #registry: CameraRegistry;
  readonly #checked = new Map<string, CamtrackError | null>();
  readonly #waiting = new Map<string, number>();
  readonly #failed = new Map<string, CamtrackError>();

  constructor(registry: CameraRegistry) {
    this.#registry = registry;
  }

  /** Reads every model file that has a path (ONNX header only, no session); a bad one marks its model 'failed'. */
  async checkFiles(paths: Record<string, string>): Promise<void> {
    await Promise.all(
      Object.entries(paths).map(async ([name, file]) => {
        try {
          await readModelInfo(file);
          this.#checked.set(name, null);
        } catch (err) {
          this.#checked.set(name, asError(err));
        }
      }),
    );
  }

  /** Runs `start` (a camera add on `model`), recording a loading pipeline and a model failure. */
  async track<T>(model: string, start: () => Promise<T>): Promise<T> {
    this.#waiting.set(model, (this.#waiting.get(model) ?? 0) + 1);
    try {
      const result = await start();
      this.#failed.delete(model);
      return result;
    } catch (err) {
      if (err instanceof CamtrackError && MODEL_FAILURES.has(err.code)) this.#failed.set(model, err);
      throw err;
    } finally {
      this.#waiting.set(model, this.#waiting.get(model)! - 1);
    }
  }

  /** The circuit breaker state of `model`'s pipeline; undefined while it has none. */
  breaker(model: string): BreakerState | undefined {
    return this.#registry.pipeline(model)?.stats().breaker.state;
  }

  /** Whether `model`'s breaker has a fallback backend (inference.breaker.fallback 'cpu') that infers refused frames. */
  breakerFallback(model: string): boolean {
    return this.#registry.pipeline(model)?.stats().breaker.fallback === 'cpu';
  }

  state(model: string): { state: ModelState; error: CamtrackError | null } {
    if (this.#registry.pipeline(model)) return { state: 'loaded', error: null };
    const failed = this.#failed.get(model) ?? this.#checked.get(model);
    if (failed) return { state: 'failed', error: failed };
    if ((this.#waiting.get(model) ?? 0) > 0) return { state: 'loading', error: null };
    return this.#checked.has(model) ? { state: 'available', error: null } : { state: 'checking', error: null };
  }
}

function asError(err: unknown): CamtrackError {
  return err instanceof CamtrackError ? err : new CamtrackError(String((err as Error)?.message ?? err), 'ERR_CAMTRACK_MODEL');
}

/**
 * The readiness rule: every model of `models` 'available' or 'loaded', no loaded model's breaker open or half-open
 * (when `board` tells breakers), and `pingRedis` (when given) resolving within `redisTimeoutMs`.
 */
export async function checkReadiness(
  models: readonly string[],
  board: Pick<ModelBoard, 'state'> & Partial<Pick<ModelBoard, 'breaker' | 'breakerFallback'>>,
  pingRedis?: () => Promise<unknown>,
  redisTimeoutMs = 1000,
): Promise<Readiness> {
  const reasons: string[] = [];
  const out: Readiness['models'] = {};
  for (const name of models) {
    const { state, error } = board.state(name);
    out[name] = { state, error: error ? { code: error.code, message: redactSecretsIn(error.message) } : null };
    if (state === 'failed') reasons.push(`model ${name} failed: ${redactSecretsIn(error!.message)}`);
    else if (state === 'loading' || state === 'checking') reasons.push(`model ${name} is ${state}`);
    const breaker = state === 'loaded' ? board.breaker?.(name) : undefined;
    if (breaker !== undefined) {
      out[name]!.breaker = breaker;
      // Not ready even with a fallback serving the frames: the model's own backend is failing, and a balancer should
      // prefer an instance whose backend is healthy (docs/scheduling.md "Circuit breaker").
      if (breaker !== 'closed') {
        const fallback = board.breakerFallback?.(name) ? ' (its CPU fallback infers the frames meanwhile)' : '';
        reasons.push(`model ${name}: inference circuit breaker is ${breaker}${fallback}`);
      }
    }
  }
  let redis: Readiness['redis'] = null;
  if (pingRedis) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        pingRedis(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer to PING within ${redisTimeoutMs} ms`)), redisTimeoutMs);
        }),
      ]);
      redis = { ok: true, error: null };
    } catch (err) {
      const message = redactSecretsIn(String((err as Error)?.message ?? err));
      redis = { ok: false, error: message };
      reasons.push(`redis: ${message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { ready: reasons.length === 0, reasons, models: out, redis };
}
