import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, createReadStream, createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SCHEDULER_CONFIG, type SchedulerConfig } from '../config.js';
import { BadRequestError, PayloadTooLargeError } from '../common/errors.js';

/** An upload that has fully arrived in the quarantine but is not trusted yet. */
export interface QuarantinedUpload {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/**
 * The content-addressed image store. Uploads stream into `quarantine/` while being counted and
 * hashed (never buffered in memory); once intake accepts them they are renamed to
 * `sha256/<digest>` and made read-only, otherwise deleted. Nothing half-written is ever visible.
 */
@Injectable()
export class ImageStore {
  private readonly quarantineDir: string;
  private readonly blobDir: string;

  constructor(@Inject(SCHEDULER_CONFIG) private readonly config: SchedulerConfig) {
    this.quarantineDir = join(config.IMAGE_STORE_DIR, 'quarantine');
    this.blobDir = join(config.IMAGE_STORE_DIR, 'sha256');
    // 0711: the unprivileged inspector may open a quarantined file by its (random) name, not list them.
    mkdirSync(this.quarantineDir, { recursive: true, mode: 0o711 });
    chmodSync(this.quarantineDir, 0o711);
    mkdirSync(this.blobDir, { recursive: true, mode: 0o755 });
  }

  /** Streams `body` into the quarantine, enforcing the byte cap and the idle timeout. */
  async receive(body: Readable): Promise<QuarantinedUpload> {
    const path = join(this.quarantineDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let size = 0;
    const cap = this.config.UPLOAD_MAX_BYTES;
    const idle = new IdleGuard(body, this.config.UPLOAD_IDLE_TIMEOUT_MS);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        idle.touch();
        size += chunk.length;
        if (size > cap) return done(new PayloadTooLargeError(`the upload exceeds the limit of ${cap} bytes`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      // The request is piped, not handed to pipeline(): a refused upload must leave the request
      // open so the server can still answer it (pipeline would destroy it, and with it the socket).
      body.once('error', (err) => meter.destroy(err));
      body.once('close', () => {
        if (!body.readableEnded) meter.destroy(new BadRequestError('the upload was aborted by the client'));
      });
      body.pipe(meter);
      try {
        // Readable by the unprivileged inspector, writable by nobody but the scheduler.
        await pipeline(meter, createWriteStream(path, { flags: 'wx', mode: 0o644 }));
      } finally {
        body.unpipe(meter);
      }
      return { path, sha256: hash.digest('hex'), sizeBytes: size };
    } catch (err) {
      await unlink(path).catch(() => {});
      throw idle.fired ? new BadRequestError(`the upload stalled for ${this.config.UPLOAD_IDLE_TIMEOUT_MS} ms`) : normalise(err);
    } finally {
      idle.clear();
    }
  }

  /** Moves an accepted upload into the store, read-only; the same bytes stored twice are kept once. */
  async commit(upload: QuarantinedUpload): Promise<void> {
    const finalPath = this.pathOf(upload.sha256);
    if (existsSync(finalPath)) {
      await unlink(upload.path);
      return;
    }
    await chmod(upload.path, 0o444);
    await rename(upload.path, finalPath);
  }

  /** Deletes a refused upload. */
  async discard(upload: QuarantinedUpload): Promise<void> {
    await unlink(upload.path).catch(() => {});
  }

  /** A read stream of a stored image, or null when the digest is not in the store. */
  async open(sha256: string): Promise<{ stream: Readable; sizeBytes: number } | null> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
    const path = this.pathOf(sha256);
    const info = await stat(path).catch(() => null);
    return info ? { stream: createReadStream(path), sizeBytes: info.size } : null;
  }

  private pathOf(sha256: string): string {
    return join(this.blobDir, sha256);
  }
}

function normalise(err: unknown): unknown {
  // A client that disconnects mid-upload surfaces as a premature-close stream error.
  if ((err as NodeJS.ErrnoException)?.code === 'ERR_STREAM_PREMATURE_CLOSE') return new BadRequestError('the upload was aborted by the client');
  return err;
}

/** Destroys a request stream that sends nothing for `ms` (slow-loris uploads). */
class IdleGuard {
  fired = false;
  private readonly timer: NodeJS.Timeout;

  constructor(stream: Readable, ms: number) {
    this.timer = setTimeout(() => {
      this.fired = true;
      stream.destroy(new Error('idle'));
    }, ms);
  }

  touch(): void {
    this.timer.refresh();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}
