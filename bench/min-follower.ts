//! The cheapest possible follower, for the fleet phase's floor: follows the given containers' logs
//! (`follow=1&timestamps=1`, from now) on plain sockets reading into one shared buffer, and discards
//! the bytes. Its CPU, following a fleet of the same shape as docktail's, is what the per-line reads
//! alone cost on this machine. Usage: min-follower.ts <socket> <api version> <id>…

import net from 'node:net';

const [socketPath, api, ...ids] = process.argv.slice(2);
const buffer = Buffer.allocUnsafe(64 * 1024);
const since = (Date.now() / 1000).toFixed(3);
for (const id of ids) {
  const socket = net.connect({ path: socketPath!, onread: { buffer, callback: () => true } });
  socket.on('error', () => {});
  socket.write(
    `GET /v${api}/containers/${id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&since=${since} HTTP/1.1\r\n` +
      'Host: docker\r\nConnection: close\r\n\r\n',
  );
}
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });
