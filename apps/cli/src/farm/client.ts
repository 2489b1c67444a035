/**
 * The farm's HTTP API from the terminal, typed and checked with the same contracts as the
 * dashboard. Every failure becomes a CliError that says what to do (exit code 2).
 */
import { ErrorDto, MeDto, RunDto, RunListDto, WorkerDto, type ComplianceProfile, type CreateRunRequest, type ImageDto, type ImageFormat } from '@bootfarm/contracts';
import { createReadStream, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { z } from 'zod';
import { CliError } from '../exit-codes.js';
import type { FarmLogin } from './config.js';

export class FarmClient {
  constructor(private readonly login: FarmLogin) {}

  me(): Promise<MeDto> {
    return this.json('/api/me', {}, MeDto);
  }

  /** Streams the image up (never buffered), reporting bytes sent. */
  async upload(path: string, name: string, format: ImageFormat, onProgress?: (sent: number, total: number) => void): Promise<ImageDto> {
    const total = statSync(path).size;
    let sent = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sent += chunk.length;
        onProgress?.(sent, total);
        done(null, chunk);
      },
    });
    const body = Readable.toWeb(createReadStream(path).pipe(counter)) as ReadableStream;
    const query = new URLSearchParams({ name, format });
    const res = await this.request(`/api/images?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
      body,
      duplex: 'half',
    } as RequestInit);
    return (await this.check(res)) as ImageDto;
  }

  createRun(body: CreateRunRequest): Promise<RunDto> {
    return this.json('/api/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, RunDto);
  }

  run(id: string): Promise<RunDto> {
    return this.json(`/api/runs/${encodeURIComponent(id)}`, {}, RunDto);
  }

  runs(limit: number): Promise<RunListDto> {
    return this.json(`/api/runs?limit=${limit}`, {}, RunListDto);
  }

  workers(): Promise<WorkerDto[]> {
    return this.json('/api/workers', {}, z.array(WorkerDto));
  }

  /** A run's report for one of its images: `json` (bootfarm.compliance/v1), `junit` (under a profile) or `html`. */
  async report(runId: string, kind: 'json' | 'junit' | 'html', opts: { profile?: ComplianceProfile; imageId?: string } = {}): Promise<string> {
    const query = new URLSearchParams({ ...(kind === 'junit' && opts.profile && { profile: opts.profile }), ...(opts.imageId && { image: opts.imageId }) }).toString();
    const path = `/api/runs/${encodeURIComponent(runId)}/compliance${kind === 'json' ? '' : `/${kind}`}${query ? `?${query}` : ''}`;
    const res = await this.request(path, {});
    if (!res.ok) await this.check(res);
    return res.text();
  }

  /** The live console (Server-Sent Events) of a cell, or its stored lines when `follow` is false. */
  console(cellId: string, follow: boolean): Promise<Response> {
    return this.request(`/api/cells/${encodeURIComponent(cellId)}/console${follow ? '/stream' : '?limit=5000'}`, { headers: { accept: follow ? 'text/event-stream' : 'application/json' } }).then(async (res) => {
      if (!res.ok) await this.check(res);
      return res;
    });
  }

  private async json<T>(path: string, init: RequestInit, schema: z.ZodType<T>): Promise<T> {
    const body = await this.check(await this.request(path, init));
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new CliError(`the farm answered ${path} with something this CLI does not understand (${parsed.error.issues[0]?.message}); is it the same Bootfarm version?`);
    return parsed.data;
  }

  private async request(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${this.login.token}`);
    try {
      return await fetch(`${this.login.server}${path}`, { ...init, headers });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the farm at ${this.login.server} (${cause?.code ?? cause?.message ?? (err as Error).message}): is the scheduler running, and is --server right?`);
    }
  }

  private async check(res: Response): Promise<unknown> {
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON
    }
    if (res.ok) return body;
    const error = ErrorDto.safeParse(body);
    const message = error.success ? error.data.message : text.slice(0, 200) || res.statusText;
    if (res.status === 401) throw new CliError(`the farm refused the token (${message}): run \`bootfarm login\` with a valid token`);
    if (res.status === 403) throw new CliError(`this token may not do that (${message})`);
    if (res.status === 404) throw new CliError(`not found: ${message}`);
    if (res.status === 429) throw new CliError(`the farm asks to slow down (${message}); retry after ${res.headers.get('retry-after') ?? 'a while'} s`);
    throw new CliError(`the farm answered ${res.status}: ${message}`);
  }
}
