//! The cheapest possible follower, for the fleet phase's floor: follows the given containers' logs
//! (`follow=1&timestamps=1`, from now) on plain sockets reading into one shared buffer, and discards
//! the bytes. Its CPU, following a fleet of the same shape as docktail's, is what the per-line reads
//! alone cost on this machine. With FLOOR_TICK_MS set, each socket pauses after a read and all of them
//! are resumed every FLOOR_TICK_MS, as docktail's read tick does with quiet streams: the floor of that
//! way of reading. Usage: min-follower.ts <socket> <api version> <id>…

import net from 'node:net';

const [socketPath, api, ...ids] = process.argv.slice(2);
const tickMs = Number(process.env.FLOOR_TICK_MS ?? 0);
const buffer = Buffer.allocUnsafe(64 * 1024);
const since = (Date.now() / 1000).toFixed(3);
const paused: net.Socket[] = [];
for (const id of ids) {
  const callback = (): boolean => {
    if (tickMs > 0) {
      socket.pause();
      paused.push(socket);
    }
    return true;
  };
  const socket: net.Socket = net.connect({ path: socketPath!, onread: { buffer, callback } });
  socket.on('error', () => {});
  socket.write(
    `GET /v${api}/containers/${id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=${since} HTTP/1.1\r\n` +
      'Host: docker\r\nConnection: close\r\n\r\n',
  );
}
if (tickMs > 0) {
  setInterval(() => {
    for (const socket of paused.splice(0)) socket.resume();
  }, tickMs);
}
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
