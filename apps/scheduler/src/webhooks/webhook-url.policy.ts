import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** A webhook URL the farm will not call, with the reason. */
export class WebhookUrlRefusedError extends Error {
  override readonly name = 'WebhookUrlRefusedError';
}

// Where a vendor's URL must not lead: the farm's own host and networks (SSRF).
const internal = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  internal.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) internal.addSubnet(net, prefix, 'ipv6');

function isInternal(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1]!, 'ipv4');
  return internal.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Checks that `url` is http(s) without credentials and that every address its host resolves to
 * is public (unless `allowPrivate`). Run when the webhook is created and again before each
 * delivery, since DNS may change in between.
 */
export async function assertDeliverableUrl(url: string, opts: { allowPrivate: boolean }): Promise<URL> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WebhookUrlRefusedError('not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new WebhookUrlRefusedError('only http and https URLs are called');
  if (u.username || u.password) throw new WebhookUrlRefusedError('credentials do not belong in the URL; verify the signature instead');
  if (opts.allowPrivate) return u;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch (err) {
    throw new WebhookUrlRefusedError(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const bad = addresses.find(isInternal);
  if (bad) throw new WebhookUrlRefusedError(`${host} resolves to ${bad}, an address of a private, loopback or link-local network`);
  return u;
}
