// The followers' logs stream (src/docker/logs-stream.ts) against a scripted engine on a unix socket:
// the request it sends, its head parsing at every split, the body handed on whole, and clear errors.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { DockerClient, type DockerTlsOptions, type OpenLogsOptions } from '../../src/docker/client.js';
import {
  CLOSED_EARLY,
  FramedAnswerError,
  type LogsBody,
  MAX_HEAD_BYTES,
  openLogsStream,
  parseHead,
} from '../../src/docker/logs-stream.js';
import { tempDir } from '../harness/setup.js';

/** What the scripted engine does with one connection, given the request head it read. */
type Script = (socket: net.Socket, request: string) => void;

describe('openLogsStream', () => {
  let server: net.Server;
  let path: string;
  let script: Script = () => {};

  before(async () => {
    path = join(tempDir('logs-stream'), 'engine.sock');
    server = net.createServer(socket => {
      let text = '';
      const onData = (d: Buffer): void => {
        text += d.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        script(socket, text);
      };
      socket.on('data', onData);
      socket.on('error', () => {});
    });
    await new Promise<void>(resolve => server.listen(path, resolve));
  });

  after(async () => {
    await new Promise<void>(resolve => server.close(() => resolve()));
  });

  const open = (
    signal = new AbortController().signal,
    headerTimeoutMs = 5_000,
    connect: (onread: net.OnReadOpts) => net.Socket = onread => net.connect({ path, onread }),
  ): Promise<LogsBody> =>
    openLogsStream({
      connect,
      path: '/v1.41/containers/abc/logs?follow=1',
      host: 'localhost',
      name: 'unix:///test.sock',
      headerTimeoutMs,
      signal,
    });

  const readAll = (body: LogsBody): Promise<Buffer> => readBody(body);

  /** Writes `parts` one by one, each in its own write after a pause, then closes. */
  const sendInParts = (socket: net.Socket, parts: Buffer[]): void => {
    let i = 0;
    const next = (): void => {
      if (i === parts.length) {
        socket.end();
        return;
      }
      socket.write(parts[i++]!, () => setTimeout(next, 1));
    };
    next();
  };

  test('asks in HTTP/1.0 with Host and User-Agent, so the body comes without chunked framing', async () => {
    let request = '';
    script = (socket, req) => {
      request = req;
      socket.end('HTTP/1.0 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\n\r\n');
    };
    const body = await open();
    assert.equal((await readAll(body)).length, 0);
    assert.equal(
      request,
      'GET /v1.41/containers/abc/logs?follow=1 HTTP/1.0\r\nHost: localhost\r\nUser-Agent: docktail\r\n\r\n',
    );
  });

  test('the head split at every byte: the body after it arrives whole and in order', async () => {
    const head = Buffer.from(
      'HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24\r\n\r\n',
      'latin1',
    );
    const payload = randomBytes(3000);
    const whole = Buffer.concat([head, payload]);
    for (let cut = 1; cut < head.length + 40; cut += 1) {
      // Two cuts: one inside (or just past) the head, one later in the body.
      const second = cut + 1 + ((cut * 7919) % (whole.length - cut - 1));
      script = socket =>
        sendInParts(socket, [whole.subarray(0, cut), whole.subarray(cut, second), whole.subarray(second)]);
      const got = await readAll(await open());
      assert.ok(got.equals(payload), `cut at ${cut} and ${second}: body differs`);
    }
  });

  test('a head and its first body bytes in one read: nothing of the body is lost', async () => {
    const payload = Buffer.from('\u0001\0\0\0\0\0\0\u0005hello'.repeat(100), 'latin1');
    script = socket => socket.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\n\r\n'), payload]));
    assert.ok((await readAll(await open())).equals(payload));
  });

  test('an error status rejects with the engine message and the status', async () => {
    script = socket =>
      socket.end(
        'HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\n\r\n{"message":"No such container: abc"}\n',
      );
    await assert.rejects(open(), (err: unknown) => {
      assert.ok(err instanceof DockerError);
      assert.equal(err.status, 404);
      assert.equal(err.message, 'No such container: abc');
      return true;
    });
    script = socket => socket.end('HTTP/1.0 501 Not Implemented\r\n\r\n');
    await assert.rejects(open(), { status: 501, message: 'HTTP 501' });
  });

  test('bad answers are named clearly', async () => {
    script = socket => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
    await assert.rejects(open(), /answered with something else than HTTP\/1\.x: "SSH-2\.0-OpenSSH_9\.2"/);
    script = socket => socket.end('HTTP/1.0 200 OK\r\nno colon here\r\n\r\n');
    await assert.rejects(open(), /malformed response header "no colon here"/);
    script = socket =>
      socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    await assert.rejects(
      open(),
      (err: unknown) =>
        err instanceof FramedAnswerError &&
        /answered an HTTP\/1\.0 request with chunked framing/.test(err.message),
    );
    script = socket => socket.end(`HTTP/1.0 200 OK\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`);
    await assert.rejects(open(), /response head over 65536 bytes/);
    script = socket => socket.end('HTTP/1.0 200 OK\r\n');
    await assert.rejects(open(), /closed the connection before answering/);
    script = socket => socket.destroy();
    await assert.rejects(open(), /closed the connection before answering|cannot reach the engine/);
  });

  test('an engine that does not answer in time, and a connection refused', async () => {
    script = () => {};
    await assert.rejects(open(undefined, 100), /did not answer within 100 ms/);
    await assert.rejects(
      openLogsStream({
        connect: () => net.connect({ path: join(tempDir('logs-stream-none'), 'none.sock') }),
        path: '/x',
        host: 'localhost',
        name: 'unix:///none.sock',
        headerTimeoutMs: 1000,
        signal: new AbortController().signal,
      }),
      (err: unknown) =>
        err instanceof DockerError &&
        /cannot reach the engine at unix:\/\/\/none\.sock: .*ENOENT/.test(err.message),
    );
  });

  test('abort: before the head rejects with the reason; during the body ends the read with it', async () => {
    script = () => {};
    const early = new AbortController();
    const pending = open(early.signal);
    early.abort(new Error('stopping'));
    await assert.rejects(pending, /stopping/);

    script = socket => socket.write('HTTP/1.0 200 OK\r\n\r\nfirst');
    const late = new AbortController();
    const body = await open(late.signal);
    const seen: string[] = [];
    const closed = new Promise<void>(resolve => body.onClose(resolve));
    const outcome = await new Promise<Error | undefined>(resolve =>
      body.start({
        data: chunk => {
          seen.push(chunk.toString());
          late.abort();
        },
        done: resolve,
      }),
    );
    assert.equal(outcome?.name, 'AbortError');
    assert.deepEqual(seen, ['first']);
    await closed; // the connection is closed, not left open
  });

  test('reads land in one buffer shared by every connection: a reader copies what it keeps', async () => {
    const readViews = async (): Promise<{ views: Buffer[]; copies: string[] }> => {
      const body = await open();
      const views: Buffer[] = [];
      const copies: string[] = [];
      await new Promise<void>(resolve =>
        body.start({
          data: chunk => {
            views.push(chunk);
            copies.push(chunk.toString('latin1'));
          },
          done: () => resolve(),
        }),
      );
      return { views, copies };
    };
    // The later bytes come well after the head, so that they arrive in a read of their own.
    const later = (first: string, then: string) => (socket: net.Socket) => {
      socket.write(first);
      setTimeout(() => socket.end(then), 200);
    };
    script = later('HTTP/1.0 200 OK\r\n\r\nAAAA', 'BBBB');
    const first = await readViews();
    script = later('HTTP/1.0 200 OK\r\n\r\n', 'CCCC');
    const second = await readViews();
    // The head's read carried AAAA: held (copied) until start(). The other reads came as views.
    assert.deepEqual(first.copies, ['AAAA', 'BBBB']);
    assert.deepEqual(second.copies, ['CCCC']);
    assert.notEqual(first.views[0]!.buffer, first.views[1]!.buffer, 'the held bytes are a copy');
    assert.equal(first.views[1]!.buffer, second.views[0]!.buffer, 'two connections read into one buffer');
    assert.equal(first.views[1]!.toString('latin1'), 'CCCC', 'a view kept past its call is overwritten');
  });

  test('two connections read at once, each body whole and apart from the other', async () => {
    const a = Buffer.from('a'.repeat(5000));
    const b = Buffer.from('b'.repeat(7000));
    let n = 0;
    script = socket => {
      const payload = n++ === 0 ? a : b;
      const parts = [Buffer.from('HTTP/1.0 200 OK\r\n\r\n')];
      for (let i = 0; i < payload.length; i += 700) parts.push(payload.subarray(i, i + 700));
      sendInParts(socket, parts);
    };
    const first = await open();
    const second = await open();
    const [gotA, gotB] = await Promise.all([readAll(first), readAll(second)]);
    assert.ok(gotA.equals(a));
    assert.ok(gotB.equals(b));
  });

  test('pause holds the reads back until resume; the end comes after the rest', async () => {
    // `one` arrives with the head (held until start) or in a read of its own; `two` and the end later.
    const cases = {
      'with the head': (socket: net.Socket) => {
        socket.write('HTTP/1.0 200 OK\r\n\r\none');
        setTimeout(() => socket.end('two'), 50);
      },
      'after the head': (socket: net.Socket) => {
        socket.write('HTTP/1.0 200 OK\r\n\r\n');
        setTimeout(() => socket.write('one'), 50);
        setTimeout(() => socket.end('two'), 100);
      },
    };
    for (const [where, send] of Object.entries(cases)) {
      script = send;
      const body = await open();
      const events: string[] = [];
      let whilePaused = -1;
      await new Promise<void>(resolve =>
        body.start({
          data: chunk => {
            events.push(chunk.toString());
            if (events.length === 1) {
              body.pause();
              setTimeout(() => {
                whilePaused = events.length;
                body.resume();
              }, 250);
            }
          },
          done: err => {
            events.push(err === undefined ? 'end' : `error ${err.message}`);
            resolve();
          },
        }),
      );
      assert.equal(whilePaused, 1, `${where}: nothing was read while paused`);
      // (Reads may merge on a loaded machine: the bytes and their order are what count.)
      assert.equal(events.slice(0, -1).join(''), 'onetwo', where);
      assert.equal(events.at(-1), 'end', where);
    }
  });

  test('a body that ended before the reader started: its bytes, then its end', async () => {
    script = socket => socket.end('HTTP/1.0 200 OK\r\n\r\nall of it');
    const body = await open();
    await new Promise(r => setTimeout(r, 50));
    assert.equal((await readAll(body)).toString(), 'all of it');
  });

  test('a connection reset mid-body (TCP) ends the read with an error, not as an end', async () => {
    // A unix socket has no reset: its close is an end. Over TCP the engine's side can reset.
    const tcp = net.createServer(socket => {
      socket.once('data', () => {
        socket.write('HTTP/1.0 200 OK\r\n\r\npart');
        setTimeout(() => socket.resetAndDestroy(), 30);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>(resolve => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as net.AddressInfo).port;
    try {
      const body = await open(undefined, 5_000, onread => net.connect({ host: '127.0.0.1', port, onread }));
      const seen: string[] = [];
      const outcome = await new Promise<Error | undefined>(resolve =>
        body.start({ data: chunk => seen.push(chunk.toString()), done: resolve }),
      );
      assert.deepEqual(seen, ['part']);
      assert.match(String(outcome?.message), new RegExp(`ECONNRESET|${CLOSED_EARLY}`));
    } finally {
      await new Promise<void>(resolve => tcp.close(() => resolve()));
    }
  });

  test('a transport without read callbacks (as TLS) is read from its data events, the same way', async () => {
    script = socket => sendInParts(socket, [Buffer.from('HTTP/1.0 200 OK\r\n\r\nhe'), Buffer.from('llo')]);
    const body = await open(undefined, 5_000, () => net.connect({ path }));
    assert.equal((await readAll(body)).toString(), 'hello');
  });
});

describe('parseHead', () => {
  test('status and headers, names lower-cased, repeats joined', () => {
    assert.deepEqual(parseHead('HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nX-A: 1\r\nx-a:  2 '), {
      status: 200,
      headers: { 'api-version': '1.41', 'x-a': '1, 2' },
    });
    assert.deepEqual(parseHead('HTTP/1.0 500'), { status: 500, headers: {} });
    assert.throws(() => parseHead('HTTP/2 200'), /something else than HTTP\/1\.x/);
  });
});

/** A body read to its end (each read copied: its view is valid only during the call). */
function readBody(body: LogsBody): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.start({
      data: chunk => chunks.push(Buffer.from(chunk)),
      done: err => (err === undefined ? resolve(Buffer.concat(chunks)) : reject(err)),
    });
  });
}

/** Opens the logs of container `abc` through `client` and reads the body to its end, as latin1 text. */
async function readLogs(
  client: DockerClient,
  options: OpenLogsOptions = { since: '0', stdout: true, stderr: true },
): Promise<{ body: LogsBody; text: string }> {
  const body = await client.openLogs('abc', options, new AbortController().signal);
  return { body, text: await bodyText(body) };
}

/** A body read to its end, as latin1 text. */
async function bodyText(body: LogsBody): Promise<string> {
  return (await readBody(body)).toString('latin1');
}

/** Two stdout frames, as the engine sends a log of "hello" and "world". */
const TWO_FRAMES = '\u0001\0\0\0\0\0\0\u0006hello\n\u0001\0\0\0\0\0\0\u0006world\n';

/** Answers a logs request with TWO_FRAMES, the second frame 20 ms after the first. */
function answerTwoFrames(res: http.ServerResponse): void {
  // Node answers an HTTP/1.0 request without chunked framing and closes the connection at the end.
  res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
  res.write(TWO_FRAMES.slice(0, TWO_FRAMES.length / 2));
  setTimeout(() => res.end(TWO_FRAMES.slice(TWO_FRAMES.length / 2)), 20);
}

/** A client of an engine stand-in on 127.0.0.1:`port` (over TLS when `tls` is given), logging nothing. */
function localClient(port: number, tls?: DockerTlsOptions): DockerClient {
  return new DockerClient({
    host: `tcp://127.0.0.1:${port}`,
    ...(tls !== undefined && { tls }),
    logger: createLogger({ level: 'error', write: () => {} }),
  });
}

/** Listens on a free port of 127.0.0.1; returns the port. */
async function listenLocal(server: net.Server): Promise<number> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** An engine stand-in on node:http: answers /version itself and hands every other request to `logs`. */
function fakeEngine(logs: http.RequestListener): http.Server {
  return http.createServer((req, res) => {
    if (req.url?.endsWith('/version')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12' }));
      return;
    }
    logs(req, res);
  });
}

describe('DockerClient.openLogs behind a proxy that answers HTTP/1.0 chunked', () => {
  test('warns once, then reads every logs stream over HTTP/1.1, whole', async () => {
    const sock = join(tempDir('logs-proxy'), 'proxy.sock');
    const versions: string[] = [];
    const server = fakeEngine((req, res) => {
      versions.push(req.httpVersion);
      // A sloppy proxy: the upstream's framing header is passed on whatever the client spoke.
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      res.write('\u0001\0\0\0\0\0\0\u0006hello\n');
      res.end('\u0001\0\0\0\0\0\0\u0006world\n');
    });
    await new Promise<void>(resolve => server.listen(sock, resolve));
    const logged: string[] = [];
    const client = new DockerClient({
      host: `unix://${sock}`,
      logger: createLogger({ level: 'info', write: (line: string) => logged.push(line) }),
    });
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 3; i++) {
        bodies.push((await readLogs(client)).text);
      }
      assert.deepEqual(
        bodies,
        Array(3).fill('\u0001\0\0\0\0\0\0\u0006hello\n\u0001\0\0\0\0\0\0\u0006world\n'),
      );
      assert.deepEqual(versions, ['1.0', '1.1', '1.1', '1.1']);
      assert.equal(logged.filter(l => /logs streams go over HTTP\/1\.1/.test(l)).length, 1);
      assert.equal(client.follows.open, 0, 'every stream closed is counted closed');
    } finally {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    }
  });
});

describe('DockerClient.openLogs over tcp://', () => {
  test('connects to host:port, sends Host host:port, and reads the HTTP/1.0 body whole', async () => {
    const seen: Array<{ version: string; host: string | undefined; url: string | undefined }> = [];
    const server = fakeEngine((req, res) => {
      seen.push({ version: req.httpVersion, host: req.headers.host, url: req.url });
      answerTwoFrames(res);
    });
    const port = await listenLocal(server);
    const client = localClient(port);
    try {
      const { text } = await readLogs(client, { since: '1795258199.828749837', stdout: true, stderr: false });
      assert.equal(text, TWO_FRAMES);
      assert.deepEqual(seen, [
        {
          version: '1.0',
          host: `127.0.0.1:${port}`,
          url: '/v1.41/containers/abc/logs?follow=1&timestamps=1&stdout=1&stderr=0&since=1795258199.828749837',
        },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    }
  });
});

describe('DockerClient.openLogs over TLS', () => {
  test('tcp:// with a CA: the HTTP/1.0 body is read whole from the TLS socket', async () => {
    // A throwaway certificate for 127.0.0.1, made with the openssl command (provisioned by .ci/run).
    const dir = tempDir('logs-tls');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=docktail-test',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const versions: string[] = [];
    const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
      if (req.url?.endsWith('/version')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ApiVersion: '1.41', MinAPIVersion: '1.12' }));
        return;
      }
      versions.push(req.httpVersion);
      answerTwoFrames(res);
    });
    const port = await listenLocal(server);
    const client = localClient(port, { ca: cert });
    try {
      const { body, text } = await readLogs(client);
      assert.equal(text, TWO_FRAMES);
      assert.deepEqual(versions, ['1.0'], 'asked in HTTP/1.0 over TLS too');
      // The engine's close after the body closes the connection on this side too, and frees its slot.
      await new Promise<void>(resolve => body.onClose(resolve));
      assert.equal(client.follows.open, 0, 'the closed stream left the follow budget');
    } finally {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    }
  });
});
