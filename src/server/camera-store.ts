/**
 * Where `camtrack serve` keeps the cameras added over REST, so that they survive a restart (docs/serve.md,
 * "Persistence"): a JSON file (default: next to the config file, `<config>.cameras.json`), or, with --redis, a Redis
 * hash. The stored options are the camera's as posted (with later PATCHes merged), credentials included: the file
 * is written with mode 0600, atomically (a temp file in the same directory, then rename), one write at a time.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import type { Redis } from 'ioredis';

import type { CameraOptions } from '../config.js';
import { CamtrackError, redactSecretsIn } from '../errors.js';

/** A store of REST-added cameras, in the order they were added. */
export interface CameraStore {
  /** Where, for logs and docs (no secrets). */
  readonly where: string;
  load(): Promise<CameraOptions[]>;
  /** Replaces the stored list (file) or the changed entry (Redis). */
  put(camera: CameraOptions): Promise<void>;
  delete(id: string): Promise<void>;
}

/** The JSON file store: `{ "version": 1, "cameras": [ … ] }`. */
export class FileCameraStore implements CameraStore {
  readonly where: string;
  #cameras: CameraOptions[] | undefined;
  /** Writes are chained: each writes the whole list as it is when its turn comes. */
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.where = path.resolve(file);
  }

  async load(): Promise<CameraOptions[]> {
    let text: string;
    try {
      text = await readFile(this.where, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return (this.#cameras = []);
      throw new CamtrackError(`cannot read the camera state file ${this.where}: ${(err as Error).message}`, 'ERR_CAMTRACK_INVALID_CONFIG', {
        stage: 'serve',
        cause: err,
      });
    }
    let parsed: { cameras?: unknown };
    try {
      parsed = JSON.parse(text) as { cameras?: unknown };
    } catch (err) {
      throw new CamtrackError(
        `the camera state file ${this.where} is not JSON: ${redactSecretsIn((err as Error).message)}`,
        'ERR_CAMTRACK_INVALID_CONFIG',
        { stage: 'serve', hint: 'fix or remove the file (it lists the cameras added over REST)' },
      );
    }
    this.#cameras = Array.isArray(parsed.cameras) ? (parsed.cameras as CameraOptions[]) : [];
    return [...this.#cameras];
  }

  put(camera: CameraOptions): Promise<void> {
    const list = (this.#cameras ??= []);
    const i = list.findIndex((c) => c.id === camera.id);
    if (i === -1) list.push(camera);
    else list[i] = camera;
    return this.#write();
  }

  delete(id: string): Promise<void> {
    this.#cameras = (this.#cameras ?? []).filter((c) => c.id !== id);
    return this.#write();
  }

  #write(): Promise<void> {
    const next = this.#writing.then(async () => {
      const text = `${JSON.stringify({ version: 1, cameras: this.#cameras ?? [] }, null, 2)}\n`;
      const tmp = `${this.where}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await mkdir(path.dirname(this.where), { recursive: true });
      try {
        await writeFile(tmp, text, { mode: 0o600 });
        await rename(tmp, this.where);
      } catch (err) {
        await rm(tmp, { force: true });
        // The previous file is left as it was (the rename never happened); the caller reports the failure.
        const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
        throw new CamtrackError(`cannot write the camera state file ${this.where} (${code}): ${(err as Error).message}`, 'ERR_CAMTRACK_OUTPUT', {
          stage: 'serve',
          hint:
            code === 'ENOSPC' || code === 'EDQUOT'
              ? 'the disk of serve.stateFile is full: free space and repeat the request (the change was not stored)'
              : 'check that serve.stateFile is writable (the change was not stored)',
          cause: err,
        });
      }
    });
    // A failed write does not stop the next one.
    this.#writing = next.catch(() => {});
    return next;
  }
}

/** The Redis store: a hash `key` (default camtrack:serve:cameras), field = camera id, value = its JSON options. */
export class RedisCameraStore implements CameraStore {
  readonly where: string;
  readonly #client: Redis;
  readonly #key: string;

  constructor(client: Redis, key = 'camtrack:serve:cameras', shownUrl = 'redis') {
    this.#client = client;
    this.#key = key;
    this.where = `${shownUrl} hash ${key}`;
  }

  async load(): Promise<CameraOptions[]> {
    const all = await this.#client.hgetall(this.#key);
    const cameras: CameraOptions[] = [];
    for (const text of Object.values(all)) {
      try {
        cameras.push(JSON.parse(text) as CameraOptions);
      } catch {
        // A foreign or broken entry: skipped; the add of the others goes on.
      }
    }
    return cameras;
  }

  async put(camera: CameraOptions): Promise<void> {
    await this.#client.hset(this.#key, camera.id, JSON.stringify(camera));
  }

  async delete(id: string): Promise<void> {
    await this.#client.hdel(this.#key, id);
  }
}
