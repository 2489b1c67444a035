// A "second host" on this machine: a network namespace joined to ours by one veth pair, and TCP
// forwarders on our end of the link, so that a process inside reaches the farm's services only
// over that link (its own loopback has nothing behind it).
import { execFileSync } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface SecondHost {
  /** The namespace's name (`ip netns exec <name> ...`). */
  name: string;
  /** Our end of the link, where the forwarders listen. */
  hostAddress: string;
  /** The namespace's end of the link. */
  guestAddress: string;
  /** Forwards `hostAddress:<port>` to `target`; returns the port. Counts the bytes carried. */
  forward(target: { host: string; port: number }): Promise<number>;
  /** Bytes carried by all forwarders so far. */
  bytes(): number;
  /** The command prefix that runs a program inside. */
  launchPrefix: string[];
  remove(): Promise<void>;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * Creates the namespace and the link (needs root). Addresses are link-local, 169.254.<n>.0/30 with
 * n chosen at random: they exist only on this veth pair and are never routed anywhere.
 */
export function createSecondHost(): SecondHost {
  const tag = `${process.pid % 100_000}${Math.floor(Math.random() * 36).toString(36)}`;
  const name = `bf-host2-${tag}`;
  const [outer, inner] = [`bfo${tag}`, `bfi${tag}`];
  const subnet = 1 + Math.floor(Math.random() * 250);
  const hostAddress = `169.254.${subnet}.1`;
  const guestAddress = `169.254.${subnet}.2`;
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    ip('link', 'set', inner, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', outer);
    ip('link', 'set', outer, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${guestAddress}/30`, 'dev', inner);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inner, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    ip('netns', 'del', name);
    throw err;
  }
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let carried = 0;
  return {
    name,
    hostAddress,
    guestAddress,
    launchPrefix: ['ip', 'netns', 'exec', name],
    async forward(target) {
      const server = createServer((client) => {
        const upstream = createConnection(target);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {
            client.destroy();
            upstream.destroy();
          });
          s.on('data', (chunk: Buffer) => (carried += chunk.length));
        }
        client.pipe(upstream);
        upstream.pipe(client);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, hostAddress, () => resolve()));
      return (server.address() as { port: number }).port;
    },
    bytes: () => carried,
    async remove() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      try {
        ip('link', 'del', outer);
      } catch {
        // gone with the namespace already
      }
      ip('netns', 'del', name);
    },
  };
}
