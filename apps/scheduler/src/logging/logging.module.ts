import { Module, type DynamicModule } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { stdTimeFunctions, type Level } from 'pino';
import type { SchedulerConfig } from '../config.js';

/** LOG_LEVEL keeps Nest's names; pino's equivalents. */
const pinoLevel: Record<SchedulerConfig['LOG_LEVEL'], Level> = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

/** Routes polled by probes and scrapers: not worth a log line per call. */
const quietPaths = new Set(['/api/health', '/api/ready', '/metrics']);

const pathOf = (url: string | undefined) => (url ?? '/').split('?')[0]!;

/** A caller's X-Request-Id is kept when it is short and plain; otherwise one is made. */
export function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', id);
  return id;
}

/**
 * JSON logs, one line per event, through pino (nestjs-pino + pino-http: maintained, and the
 * fastest Node logger). Each request gets one line with its id, method, path (no query string:
 * it may carry secrets), status and duration. Bodies and headers are never logged; the
 * authorization header is redacted should a serializer ever include headers.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: Pick<SchedulerConfig, 'LOG_LEVEL'>): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: pinoLevel[config.LOG_LEVEL],
            messageKey: 'message',
            timestamp: stdTimeFunctions.isoTime,
            formatters: { level: (label) => ({ level: label }) },
            base: { service: 'scheduler' },
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization'], censor: '[redacted]' },
            genReqId: requestIdFor,
            customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
            quietReqLogger: true,
            serializers: {
              req: (req: { method?: string; url?: string }) => ({ method: req.method, path: pathOf(req.url) }),
              res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
            },
            customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
            customSuccessObject: (_req, _res, value) => ({ context: 'HTTP', ...value }),
            customErrorObject: (_req, _res, _err, value) => ({ context: 'HTTP', ...value }),
            customSuccessMessage: (req, res) => `${req.method} ${pathOf(req.url)} ${res.statusCode}`,
            customErrorMessage: (req, res) => `${req.method} ${pathOf(req.url)} ${res.statusCode}`,
            autoLogging: { ignore: (req) => quietPaths.has(pathOf(req.url)) },
          },
        }),
      ],
    };
  }
}
