import { createHmac, timingSafeEqual } from 'node:crypto';

// Deliveries are signed as `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: the
// timestamp is signed too, so a receiver that refuses old timestamps refuses replays.

/** The `bootfarm-signature` header for `body` sent at `nowSec`. */
export function signWebhook(secret: string, body: string, nowSec: number): string {
  return `t=${nowSec},v1=${hmac(secret, `${nowSec}.${body}`)}`;
}

/** What a receiver does: true when `header` signs `body` with `secret` and is at most `toleranceSec` old. */
export function verifyWebhookSignature(secret: string, header: string | null | undefined, body: string, nowSec: number, toleranceSec = 300): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec || !/^[0-9a-f]{64}$/.test(v1)) return false;
  return timingSafeEqual(Buffer.from(v1, 'hex'), Buffer.from(hmac(secret, `${t}.${body}`), 'hex'));
}

function hmac(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data).digest('hex');
}
