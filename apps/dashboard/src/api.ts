import {
  CellDetailDto, ConsoleCompareDto, ConsoleDto, DifferentialDto, FleetQueuesDto, HistoryResultListDto, ImageDto, ImageHistoryDto, MeDto,
  NightlySummaryDto, NightlyTrendDto, RunDto, RunListDto, SearchResultDto, SignatureDto, SignatureListDto, WorkerDto,
  type CreateRunRequest, type ErrorDto, type ImageFormat, type RunStatus, type RunTrigger, type SearchQuery, type SignatureKind,
} from '@bootfarm/contracts';
import { z } from 'zod';
import { authHeaders, clearToken } from './auth.js';

/** An API error with the scheduler's message. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function parseResponse<S extends z.ZodType>(res: Response, schema: S, token?: string): Promise<z.infer<S>> {
  const body: unknown = await res.json().catch(() => null);
  // A token the scheduler no longer accepts (revoked): back to the sign-in form.
  if (res.status === 401 && token === undefined) clearToken();
  if (!res.ok) throw new ApiError(res.status, (body as ErrorDto | null)?.message ?? res.statusText);
  return schema.parse(body);
}

async function get<S extends z.ZodType>(path: string, schema: S, token?: string): Promise<z.infer<S>> {
  const res = await fetch(path, { headers: { accept: 'application/json', ...authHeaders(token) } });
  return parseResponse(res, schema, token);
}

async function post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.infer<S>> {
  const res = await fetch(path, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
  return parseResponse(res, schema);
}

/** Downloads an API resource (a report) with the token and saves it as a file. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) throw new ApiError(res.status, ((await res.json().catch(() => null)) as ErrorDto | null)?.message ?? res.statusText);
  // Saved, never rendered in the dashboard's origin: reports embed guest console text.
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Filters of the runs list (each one given narrows it). */
export interface RunFilter {
  status?: RunStatus | undefined;
  trigger?: RunTrigger | undefined;
  imageName?: string | undefined;
}

/** Filters of the signatures list. */
export interface SignatureFilter {
  kind?: SignatureKind | undefined;
  failureClass?: string | undefined;
  q?: string | undefined;
}

/** Filters of a search (GET /api/search); all optional, ANDed. */
export type SearchFilter = Omit<SearchQuery, 'cursor' | 'limit'>;

const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

const id = encodeURIComponent;

/**
 * Uploads an image as the request body (streamed by the browser), reporting progress. fetch()
 * cannot report upload progress, so this one call uses XMLHttpRequest.
 */
export function uploadImage(file: Blob, name: string, format: ImageFormat, onProgress: (sent: number, total: number) => void, signal?: AbortSignal): Promise<ImageDto> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/images${query({ name, format })}`);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiError(0, 'the upload failed: the connection was lost'));
    xhr.onabort = () => reject(new ApiError(0, 'the upload was canceled'));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON: reported by status below
      }
      if (xhr.status === 401) clearToken();
      if (xhr.status < 200 || xhr.status >= 300) reject(new ApiError(xhr.status, (body as ErrorDto | null)?.message ?? xhr.statusText));
      else {
        const parsed = ImageDto.safeParse(body);
        if (parsed.success) resolve(parsed.data);
        else reject(parsed.error);
      }
    };
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(file);
  });
}

/** Typed calls to the scheduler API; responses are validated against the shared contracts. */
export const api = {
  /** Who a token stands for; with `token`, checks that one (sign-in) instead of the stored one. */
  me: (token?: string) => get('/api/me', MeDto, token),
  runs: (filter: RunFilter = {}, cursor?: string) => get(`/api/runs${query({ ...filter, cursor })}`, RunListDto),
  run: (runId: string) => get(`/api/runs/${id(runId)}`, RunDto),
  createRun: (request: CreateRunRequest) => post('/api/runs', request, RunDto),
  cell: (cellId: string) => get(`/api/cells/${id(cellId)}`, CellDetailDto),
  console: (cellId: string, afterSeq = -1) => get(`/api/cells/${id(cellId)}/console${query({ afterSeq, limit: 5000 })}`, ConsoleDto),
  image: (imageId: string) => get(`/api/images/${id(imageId)}`, ImageDto),
  imageHistory: (imageId: string) => get(`/api/images/${id(imageId)}/history`, ImageHistoryDto),
  workers: () => get('/api/workers', z.array(WorkerDto)),
  queues: () => get('/api/workers/queues', FleetQueuesDto),
  signatures: (filter: SignatureFilter = {}, cursor?: string) => get(`/api/signatures${query({ ...filter, cursor })}`, SignatureListDto),
  signature: (signatureId: string) => get(`/api/signatures/${id(signatureId)}`, SignatureDto),
  occurrences: (signatureId: string, cursor?: string) => get(`/api/signatures/${id(signatureId)}/occurrences${query({ cursor, limit: 50 })}`, HistoryResultListDto),
  search: (filter: SearchFilter, cursor?: string) => get(`/api/search${query({ ...filter, cursor, limit: 50 })}`, SearchResultDto),
  compare: (a: string, b: string) => get(`/api/compare${query({ a, b })}`, ConsoleCompareDto),
  differential: (runId: string, imageId: string) => get(`/api/runs/${id(runId)}/differential${query({ image: imageId })}`, DifferentialDto),
  nightlyTrends: (days = 30) => get(`/api/nightly${query({ days })}`, NightlyTrendDto),
  night: (date: string) => get(`/api/nightly/${id(date)}`, NightlySummaryDto),
};
