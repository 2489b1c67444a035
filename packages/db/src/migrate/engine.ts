// Prisma's schema engine (the Rust engine behind `prisma migrate`), compiled to WebAssembly and
// driven through @prisma/adapter-pg: the same engine, SQL rendering and `_prisma_migrations`
// bookkeeping as the native `schema-engine` binary, which cannot be downloaded on our machines.
//
// Three adaptations of adapter-pg, each because the native engine behaves differently:
//  - migration scripts run in ONE simple-protocol round trip (PostgreSQL then runs the whole
//    script as one implicit transaction, as with the native engine); adapter-pg's executeScript
//    splits on ';' (breaking dollar-quoted bodies) and leaves a failed migration half-applied;
//  - the engine's catalog queries return PostgreSQL's `"char"` (OID 18), which adapter-pg rejects
//    as an unsupported column type: results report it as text instead (the values are one-char
//    strings either way);
//  - the shadow database is the URL we are given, emptied before use (as the native engine's
//    best-effort reset of a configured shadowDatabaseUrl does), never adapter-pg's
//    connectToShadowDb, whose `{ ...config, database }` loses to a connection string: it would
//    hand the engine the main database as "shadow".
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  isDriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from '@prisma/driver-adapter-utils';
import type { SchemaEngine, SchemaFilter } from '@prisma/schema-engine-wasm';
import pg from 'pg';
import { MigrationError } from './errors.js';

/** No external tables or enums: the engine manages everything in the schema. */
export const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

type EngineRuntime = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

/** The part of the WebAssembly global we use (lib "es2023" and @types/node 20 do not declare it). */
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, unknown>): Promise<{ exports: Record<string, unknown> }>;
  RuntimeError: new (...args: never[]) => Error;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let runtime: Promise<EngineRuntime> | undefined;
let panicked: string | undefined;
let lastPanicMessage: string | undefined;

/**
 * Instantiates the engine's WebAssembly module once per process (wasm-bindgen glue keeps
 * module-level state, so a second instance of the same glue would corrupt the first). The
 * package's own entry point imports the .wasm as an ES module, which Node 20 cannot do without
 * --experimental-wasm-modules: we wire the glue and the module by hand, as Prisma's CLI does.
 */
function loadRuntime(): Promise<EngineRuntime> {
  runtime ??= (async () => {
    const glue = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmPath = createRequire(import.meta.url)
      .resolve('@prisma/schema-engine-wasm/schema_engine_bg')
      .replace(/\.js$/, '.wasm');
    const module = await wasm.compile(await readFile(wasmPath));
    const instance = await wasm.instantiate(module, { './schema_engine_bg.js': withTrackedTimers(glue) });
    installPanicRegistry();
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  runtime.catch(() => (runtime = undefined));
  return runtime;
}

/**
 * The engine arms timers it never clears (e.g. the 10 s advisory-lock timeout, raced against the
 * lock query): each would keep a short-lived process such as the CLI alive for 10 s after its
 * work. We route the glue's setTimeout through a registry and clear what is left once no engine
 * is running any more (then nothing can be waiting on them).
 */
const pendingTimers = new Set<ReturnType<typeof setTimeout>>();
let runningEngines = 0;

function withTrackedTimers(glue: EngineRuntime): Record<string, unknown> {
  const imports: Record<string, unknown> = { ...glue };
  for (const key of Object.keys(glue).filter((k) => k.startsWith('__wbg_setTimeout_'))) {
    imports[key] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        callback();
      }, ms >>> 0);
      pendingTimers.add(timer);
      return timer;
    };
  }
  return imports;
}

function clearIdleTimers(): void {
  if (runningEngines > 0) return;
  for (const timer of pendingTimers) clearTimeout(timer);
  pendingTimers.clear();
}

/** The engine reports Rust panics through this global before trapping; keep the message. */
function installPanicRegistry(): void {
  const g = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: { set_message(message: string): void } };
  const previous = g.PRISMA_WASM_PANIC_REGISTRY;
  g.PRISMA_WASM_PANIC_REGISTRY = {
    set_message(message: string) {
      lastPanicMessage = message;
      previous?.set_message(message);
    },
  };
}

/** Where the engine connects: a PostgreSQL URL (libpq style, as pg understands it). */
export interface EngineTarget {
  /** Main database: the one migrated, diagnosed or (for diffs) merely connected to. */
  readonly url: string;
  /** Shadow database, wiped and used to replay the migration history (create/diff only). */
  readonly shadowUrl?: string;
  /** Prisma schema files given to the engine at start-up (for multi-schema namespaces). */
  readonly datamodels?: ReadonlyArray<readonly [path: string, content: string]>;
  readonly connectTimeoutMs: number;
  /** Receives the engine's log lines (`INFO Applying ...`). */
  readonly log?: (line: string) => void;
}

/**
 * Runs `fn` with a schema engine connected to `target`, then frees the engine and closes every
 * connection it opened (which also releases the engine's session advisory lock).
 */
export async function withSchemaEngine<T>(target: EngineTarget, fn: (engine: SchemaEngine, factory: MigratorAdapterFactory) => Promise<T>): Promise<T> {
  if (panicked !== undefined) {
    throw new MigrationError('ENGINE_ERROR', `the schema engine panicked earlier in this process and cannot be reused: ${panicked}`);
  }
  const glue = await loadRuntime();
  const factory = new MigratorAdapterFactory(target);
  let engine: SchemaEngine | undefined;
  runningEngines += 1;
  try {
    engine = await glue.SchemaEngine.new(
      { datamodels: target.datamodels?.map(([path, content]) => [path, content] as [string, string]) },
      (line: string) => forwardLog(line, target.log),
      bindMigrationAwareSqlAdapterFactory(factory),
    );
    return await fn(engine, factory);
  } catch (err) {
    throw toMigrationError(err, factory);
  } finally {
    engine?.free();
    await factory.close();
    runningEngines -= 1;
    clearIdleTimers();
  }
}

function forwardLog(line: string, log: ((line: string) => void) | undefined): void {
  if (!log) return;
  try {
    const entry = JSON.parse(line) as { level?: string; fields?: { message?: string } };
    if (entry.fields?.message && entry.level !== 'DEBUG' && entry.level !== 'TRACE') log(`${entry.level} ${entry.fields.message}`);
  } catch {
    log(line);
  }
}

/** Engine errors carry Prisma's user-facing code (`P3009`) when there is one. */
export function engineErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^P\d{4}$/.test(code) ? code : undefined;
}

/** The human part of an engine message, without the Rust span trace that follows it. */
export function engineMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const lines = message.split('\n');
  const trace = lines.findIndex((l) => /^\s+\d+: \S/.test(l));
  return (trace === -1 ? lines : lines.slice(0, trace)).join('\n').trim();
}

const ENGINE_CODES: Record<string, MigrationError['code']> = {
  P3005: 'DATABASE_NOT_EMPTY',
  P3006: 'SHADOW_APPLY_FAILED',
  P3009: 'MIGRATION_FAILED',
  P3015: 'MIGRATION_FILE_MISSING',
  P3019: 'PROVIDER_MISMATCH',
  P1012: 'SCHEMA_INVALID',
};

/** Maps whatever the engine or the adapter threw to a {@link MigrationError}. */
export function toMigrationError(err: unknown, factory?: MigratorAdapterFactory): MigrationError {
  if (err instanceof MigrationError) return err;
  const captured = factory?.takeCapturedError();
  if (captured instanceof MigrationError) return captured;
  if (err instanceof wasm.RuntimeError) {
    panicked = lastPanicMessage ?? err.message;
    return new MigrationError('ENGINE_ERROR', `the schema engine panicked: ${panicked}`, { cause: err });
  }
  const engineCode = engineErrorCode(err);
  const message = engineMessage(err);
  if (engineCode === 'P3009') {
    const names = [...message.matchAll(/The `([^`]+)` migration started at .* failed/g)].map((m) => m[1]!);
    return new MigrationError('MIGRATION_FAILED', message, { engineCode, migrations: names, cause: err });
  }
  const mapped = engineCode ? ENGINE_CODES[engineCode] : undefined;
  if (mapped) return new MigrationError(mapped, message, { engineCode, cause: err });
  const connection = factory?.connectionFailure(message);
  if (connection) return connection;
  return new MigrationError('ENGINE_ERROR', message, { ...(engineCode ? { engineCode } : {}), cause: err });
}

// ---------------------------------------------------------------------------------------------
// Driver adapter

/** PostgreSQL `"char"` and `name`, which the engine's catalog queries select. */
const CATALOG_TEXT_OIDS = new Set([18, 19]);
const TEXT_OID = 25;

type QueryResultLike = { fields?: Array<{ dataTypeID: number }> };

function reportCatalogTypesAsText<R>(result: R): R {
  for (const r of (Array.isArray(result) ? result : [result]) as QueryResultLike[]) {
    for (const field of r?.fields ?? []) if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
  return result;
}

/**
 * A pg client whose results describe `"char"` columns as text. Values are unaffected (pg already
 * parsed them as strings); only the type adapter-pg checks is rewritten. Both pg calling
 * conventions are covered: callbacks (pg.Pool#query) and promises (pool clients).
 */
class CatalogSafeClient extends pg.Client {
  override query(...args: unknown[]): any {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (err: unknown, res: unknown) => (callback as (e: unknown, r: unknown) => void)(err, err ? res : reportCatalogTypesAsText(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const ret = (super.query as (...a: unknown[]) => unknown)(...args);
    return ret instanceof Promise ? ret.then(reportCatalogTypesAsText) : ret;
  }
}

/** adapter-pg's adapter, with scripts run atomically in one round trip (see the file header). */
class MigratorPgAdapter implements SqlDriverAdapter {
  readonly provider = 'postgres' as const;
  readonly adapterName: string;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly onDispose: () => Promise<void>,
  ) {
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.inner.queryRaw(query);
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.inner.executeRaw(query);
  }

  /**
   * A query without parameters goes out in pg's simple protocol, where PostgreSQL accepts
   * several statements and runs them as one implicit transaction (unless the script manages its
   * own with BEGIN/COMMIT): a failing migration leaves nothing behind, as with the native engine.
   */
  async executeScript(script: string): Promise<void> {
    await this.inner.executeRaw({ sql: script, args: [], argTypes: [] });
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return this.inner.startTransaction(isolationLevel);
  }

  getConnectionInfo(): ConnectionInfo {
    return this.inner.getConnectionInfo?.() ?? { supportsRelationJoins: true };
  }

  async dispose(): Promise<void> {
    await this.inner.dispose();
    await this.onDispose();
  }
}

const CONNECTION_ERROR_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
  'TlsConnectionError',
  'ConnectionClosed',
  'SocketTimeout',
]);

/**
 * The driver adapter factory the engine connects through: main and shadow databases on pools we
 * own (closed by {@link close}), errors we raise kept for {@link toMigrationError}.
 */
export class MigratorAdapterFactory implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly pools = new Set<pg.Pool>();
  private captured: unknown;
  private scriptError: string | undefined;
  private connectionError: { url: string; error: unknown } | undefined;

  constructor(private readonly target: EngineTarget) {}

  connect(): Promise<SqlDriverAdapter> {
    return this.open(this.target.url);
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    try {
      const url = this.target.shadowUrl;
      if (!url) throw new MigrationError('ENGINE_ERROR', 'this operation needs a shadow database URL');
      await resetShadowDatabase(url, this.target.connectTimeoutMs);
      return await this.open(url);
    } catch (err) {
      this.captured = err;
      throw err;
    }
  }

  /** The error we threw inside a callback of the engine (it only sees an opaque id). */
  takeCapturedError(): unknown {
    const captured = this.captured;
    this.captured = undefined;
    return captured;
  }

  /** The database's own words for the last migration script that failed (`... (42P01)`). */
  takeScriptError(): string | undefined {
    const error = this.scriptError;
    this.scriptError = undefined;
    return error;
  }

  /** A typed error when the engine failed because a database could not be reached. */
  connectionFailure(engineMessage?: string): MigrationError | undefined {
    if (!this.connectionError) return undefined;
    const { url, error } = this.connectionError;
    const reason = engineMessage?.replace(/\s*\n\s*/g, ' ').trim() || describeError(error);
    return new MigrationError('DATABASE_UNREACHABLE', `cannot connect to ${redactUrl(url)}: ${reason}`, { cause: error });
  }

  /** Closes every pool (the engine does not always dispose its adapters before being freed). */
  async close(): Promise<void> {
    await Promise.all([...this.pools].map((pool) => endPool(pool)));
    this.pools.clear();
  }

  private async open(url: string): Promise<SqlDriverAdapter> {
    const pool = new pg.Pool({
      connectionString: url,
      Client: CatalogSafeClient,
      connectionTimeoutMillis: this.target.connectTimeoutMs,
      // The engine's advisory lock lives in one pooled session: never let it time out idle.
      idleTimeoutMillis: 0,
      max: 4,
    });
    pool.on('error', () => {}); // an idle connection dropped: the next query reports it
    this.pools.add(pool);
    const inner = await new PrismaPg(pool).connect();
    const adapter = new MigratorPgAdapter(inner, async () => {
      this.pools.delete(pool);
      await endPool(pool);
    });
    return this.watchConnectionErrors(adapter, url);
  }

  private watchConnectionErrors(adapter: MigratorPgAdapter, url: string): SqlDriverAdapter {
    const record = (err: unknown) => {
      if (isDriverAdapterError(err as Error) && CONNECTION_ERROR_KINDS.has((err as { cause: { kind: string } }).cause.kind)) {
        this.connectionError ??= { url, error: err };
      }
      throw err;
    };
    return {
      provider: adapter.provider,
      adapterName: adapter.adapterName,
      queryRaw: (q) => adapter.queryRaw(q).catch(record),
      executeRaw: (q) => adapter.executeRaw(q).catch(record),
      executeScript: (s) =>
        adapter.executeScript(s).catch((err: unknown) => {
          this.scriptError = describeError(err);
          return record(err);
        }),
      startTransaction: (l) => adapter.startTransaction(l).catch(record),
      getConnectionInfo: () => adapter.getConnectionInfo(),
      dispose: () => adapter.dispose(),
    };
  }
}

async function endPool(pool: pg.Pool): Promise<void> {
  if (pool.ended) return;
  // A client the engine left checked out would make end() wait forever: bound the wait.
  await Promise.race([pool.end().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]);
}

// ---------------------------------------------------------------------------------------------
// Plain connections (advisory lock, verification, shadow reset)

/** Opens a plain pg connection, mapping failures to `DATABASE_UNREACHABLE`. */
export async function connectClient(url: string, connectTimeoutMs: number, role = 'database'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => {}); // reported by the next query
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new MigrationError('DATABASE_UNREACHABLE', `cannot connect to the ${role} ${redactUrl(url)}: ${describeError(err)}`, { cause: err });
  }
  return client;
}

/**
 * Empties a shadow database the way the native engine resets a configured shadow database:
 * every user schema dropped, `public` recreated. Skipped when it is already empty.
 */
export async function resetShadowDatabase(url: string, connectTimeoutMs: number): Promise<void> {
  const client = await connectClient(url, connectTimeoutMs, 'shadow database');
  try {
    const { rows } = await client.query<{ nspname: string; objects: boolean }>(`
      SELECT n.nspname,
             EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = n.oid)
          OR EXISTS (SELECT 1 FROM pg_type t WHERE t.typnamespace = n.oid)
          OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = n.oid) AS objects
        FROM pg_namespace n
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
         AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'`);
    const dirty = rows.filter((r) => r.nspname !== 'public' || r.objects);
    if (dirty.length === 0) return;
    const drops = rows.map((r) => `DROP SCHEMA ${quoteIdent(r.nspname)} CASCADE;`).join('\n');
    await client.query(`${drops}\nCREATE SCHEMA public;`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Quotes a PostgreSQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<invalid database URL>';
  }
}

function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeError(err.errors[0]);
  if (isDriverAdapterError(err as Error)) {
    const cause = (err as { cause: Record<string, unknown> }).cause;
    const message = String(cause['originalMessage'] ?? cause['message'] ?? cause['kind']);
    const code = cause['originalCode'] ?? cause['code'];
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
  }
  const e = err as { code?: string; message?: string };
  return e?.message ? (e.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : e.message) : String(err);
}
