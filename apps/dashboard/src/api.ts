import { ConsoleDto, RunDto, RunListDto, type ErrorDto } from '@bootfarm/contracts';
import type { z } from 'zod';

/** An API error with the scheduler's message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function get<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, (body as ErrorDto | null)?.message ?? res.statusText);
  return schema.parse(body);
}

/** Typed calls to the scheduler API; responses are validated against the shared contracts. */
export const api = {
  runs: (cursor?: string) => get(`/api/runs${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, RunListDto),
  run: (id: string) => get(`/api/runs/${encodeURIComponent(id)}`, RunDto),
  console: (cellId: string, afterSeq = -1) => get(`/api/cells/${encodeURIComponent(cellId)}/console?afterSeq=${afterSeq}&limit=5000`, ConsoleDto),
};
