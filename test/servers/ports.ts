// Free loopback ports for test servers. Ports are taken below Linux's ephemeral range
// (32768-60999), so an outgoing connection cannot grab one between our bind test and the
// server's own bind, and away from Ceph's default OSD range 6800-7300.
import { createServer } from 'node:net';
import { randomInt } from 'node:crypto';

const LOW = 20_000;
const HIGH = 32_000;

/** Ports handed out by this process and not yet released: parallel starts never share one. */
const reserved = new Set<number>();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Reserves `count` consecutive free ports on 127.0.0.1 and returns the first. Consecutive so a
 * server that picks its own ports from a range (the Ceph OSD) can be given a private block.
 */
export async function reservePortBlock(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    // Aligned to the block size, so most clashes with our own blocks are whole-block repeats.
    const base = LOW + count * randomInt(Math.floor((HIGH - LOW) / count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if (ports.some((p) => reserved.has(p))) continue;
    for (const p of ports) reserved.add(p);
    const free = await Promise.all(ports.map(canBind));
    if (free.every(Boolean)) return base;
    releasePorts(base, count);
  }
  throw new Error(`no block of ${count} free loopback ports found in ${LOW}-${HIGH}`);
}

export async function reservePort(): Promise<number> {
  return reservePortBlock(1);
}

export function releasePorts(base: number, count = 1): void {
  for (let i = 0; i < count; i++) reserved.delete(base + i);
}
