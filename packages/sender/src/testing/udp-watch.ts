import { createSocket, Socket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { networkInterfaces } from 'node:os';

/** One UDP datagram this process sent. */
export interface SentDatagram {
  address: string;
  port: number;
  /** The sending socket's local port. */
  fromPort: number;
}

/**
 * Watches every UDP datagram this process sends (`dgram.Socket.prototype.send`, which werift's ICE,
 * STUN and TURN clients all use), by destination, and every name werift would resolve first
 * (`dns.promises.lookup`: a STUN server given by name is looked up before any datagram, and the
 * question itself leaves the machine). `stop()` restores both.
 */
export function watchUdp(): { sent: SentDatagram[]; lookups: string[]; stop(): void } {
  const sent: SentDatagram[] = [];
  const lookups: string[] = [];
  const original = Socket.prototype.send;
  const originalLookup = dns.lookup;
  // send(msg, [offset, length,] port, address[, callback]) — a connected socket (no port) is not used here.
  Socket.prototype.send = function (this: UdpSocket, ...args: unknown[]) {
    const rest = args.slice(1);
    const at = typeof rest[0] === 'number' && typeof rest[1] === 'number' && typeof rest[2] === 'number' ? 2 : 0;
    let fromPort = 0;
    try {
      fromPort = this.address().port;
    } catch {
      // not bound yet
    }
    if (typeof rest[at] === 'number') sent.push({ port: rest[at] as number, address: String(rest[at + 1] ?? ''), fromPort });
    return (original as (...a: unknown[]) => void).apply(this, args);
  } as typeof Socket.prototype.send;
  dns.lookup = ((host: string, ...rest: unknown[]) => {
    lookups.push(host);
    return (originalLookup as (...a: unknown[]) => unknown)(host, ...rest);
  }) as typeof dns.lookup;
  return {
    sent,
    lookups,
    stop: () => {
      Socket.prototype.send = original;
      dns.lookup = originalLookup;
    },
  };
}

/** Every address of this machine's interfaces (loopback included). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  return out;
}

/**
 * A STUN server on 127.0.0.1 that answers every Binding request with the sender's address
 * (XOR-MAPPED-ADDRESS, RFC 5389) and counts the requests.
 */
export async function fakeStunServer(): Promise<{ port: number; requests: () => number; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  let requests = 0;
  socket.on('message', (msg, from) => {
    if (msg.length < 20 || msg.readUInt16BE(0) !== 0x0001 || msg.readUInt32BE(4) !== 0x2112a442) return;
    requests++;
    const res = Buffer.alloc(32);
    res.writeUInt16BE(0x0101, 0); // Binding success
    res.writeUInt16BE(12, 2);
    msg.copy(res, 4, 4, 20); // magic cookie and transaction id
    res.writeUInt16BE(0x0020, 20); // XOR-MAPPED-ADDRESS
    res.writeUInt16BE(8, 22);
    res.writeUInt8(0x01, 25); // IPv4
    res.writeUInt16BE(from.port ^ 0x2112, 26);
    const ip = from.address.split('.').map(Number);
    res.writeUInt32BE(((((ip[0] ?? 0) << 24) | ((ip[1] ?? 0) << 16) | ((ip[2] ?? 0) << 8) | (ip[3] ?? 0)) ^ 0x2112a442) >>> 0, 28);
    socket.send(res, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: socket.address().port,
    requests: () => requests,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}
