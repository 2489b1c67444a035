/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured logger: one JSON object per line on stdout (what log shippers ingest as is). */
export interface WorkerLog {
  (message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

// Twenty lines of our own instead of pino: the worker logs a few lines per boot, never on a hot path.
export function createWorkerLog(workerId: string, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): WorkerLog {
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ time: new Date().toISOString(), level, worker: workerId, msg, ...fields }));
  const log = ((msg: string, fields?: Record<string, unknown>) => emit('info', msg, fields)) as WorkerLog;
  log.warn = (msg, fields) => emit('warn', msg, fields);
  log.error = (msg, fields) => emit('error', msg, fields);
  return log;
}
