import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DockerError } from '../../src/core/errors.js';
import { ResponseParser } from '../../src/docker/http-response.js';
import { type EngineEndpoint, EngineStream } from '../../src/docker/logs-stream.js';

/** Feeds `raw` to a parser in pieces of the given sizes (cycled); returns the body bytes and the parser. */
function parse(raw: Buffer, pieces: readonly number[]): { body: Buffer; parser: ResponseParser } {
  const parser = new ResponseParser();
  const out: Buffer[] = [];
  let pos = 0;
  let i = 0;
  while (pos < raw.length) {
    const n = Math.min(pieces[i++ % pieces.length]!, raw.length - pos);
    // A copy per piece, as a socket read would be: the parser compacts it in place.
    const chunk = Buffer.from(raw.subarray(pos, pos + n));
    const end = parser.feed(chunk, 0, n);
    out.push(Buffer.from(chunk.subarray(parser.bodyStart, end)));
    pos += n;
  }
  return { body: Buffer.concat(out), parser };
}

function chunked(parts: readonly string[], trailer = ''): Buffer {
  const body = parts.map(p => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('');
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n${body}0\r\n${trailer}\r\n`,
  );
}

const PIECES: ReadonlyArray<readonly number[]> = [[1], [2, 3, 5], [7, 1, 64], [4096]];

describe('ResponseParser', () => {
  const frames = Array.from(
    { length: 50 },
    (_, i) => `\u0001\u0000\u0000\u0000frame ${i} ${'x'.repeat(i)}\n`,
  );
  const cases: Array<{ name: string; raw: Buffer; body: string; done: boolean; finish: boolean }> = [
    { name: 'chunked', raw: chunked(frames), body: frames.join(''), done: true, finish: true },
    {
      name: 'chunked with extensions and a trailer',
      raw: Buffer.from(
        'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n',
      ),
      body: 'abc0123456789',
      done: true,
      finish: true,
    },
    {
      name: 'content-length',
      raw: Buffer.from(
        'HTTP/1.1 404 Not Found\r\nContent-Length: 26\r\n\r\n{"message":"No such thing"}ignored',
      ),
      body: '{"message":"No such thing"',
      done: true,
      finish: true,
    },
    {
      name: 'read to the close',
      raw: Buffer.from('HTTP/1.0 200 OK\r\nServer: x\r\n\r\nraw bytes until close'),
      body: 'raw bytes until close',
      done: false,
      finish: true,
    },
    {
      name: 'chunked, cut short',
      raw: Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nab'),
      body: 'abcdeab',
      done: false,
      finish: false,
    },
    {
      name: '204 has no body',
      raw: Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'),
      body: '',
      done: true,
      finish: true,
    },
  ];
  for (const c of cases) {
    for (const pieces of PIECES) {
      test(`${c.name}, fed in pieces of ${pieces.join('/')}`, () => {
        const { body, parser } = parse(c.raw, pieces);
        assert.equal(body.toString('latin1'), c.body);
        assert.equal(parser.done, c.done);
        assert.equal(parser.finish(), c.finish);
      });
    }
  }

  test('reads the status and headers (names lower-cased, repeats joined)', () => {
    const { parser } = parse(
      Buffer.from(
        'HTTP/1.1 501 Not Implemented\r\nA: 1\r\nA: 2\r\nApi-Version: 1.41\r\nContent-Length: 0\r\n\r\n',
      ),
      [3],
    );
    assert.deepEqual(parser.head, {
      status: 501,
      headers: { a: '1, 2', 'api-version': '1.41', 'content-length': '0' },
    });
  });

  const malformed: Array<[string, string]> = [
    ['not HTTP', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['a bad header line', 'HTTP/1.1 200 OK\r\nno colon\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['no CRLF after a chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX'],
  ];
  for (const [name, raw] of malformed) {
    test(`refuses ${name} with a DockerError`, () => {
      assert.throws(() => parse(Buffer.from(raw), [4096]), DockerError);
    });
  }

  test('refuses a head over 64 KiB', () => {
    const raw = Buffer.from(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70 * 1024)}`);
    assert.throws(() => parse(raw, [1024]), /over 65536 bytes/);
  });
});

describe('EngineStream', () => {
  let dir: string;
  let server: net.Server;
  let endpoint: EngineEndpoint;
  /** What the fake engine does with the next connection. */
  let behave: (socket: net.Socket, request: string) => void = () => {};
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'logs-stream-'));
    const path = join(dir, 'engine.sock');
    server = net.createServer(socket => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        const wasComplete = text.includes('\r\n\r\n');
        text += chunk.toString('latin1');
        if (!wasComplete && text.includes('\r\n\r\n')) {
          requests.push(text);
          behave(socket, text);
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>(r => server.listen(path, r));
    endpoint = { socketPath: path, hostHeader: 'docker', name: 'unix://fake' };
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>(r => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  const open = (signal = new AbortController().signal, headerTimeoutMs = 2000) =>
    EngineStream.open(endpoint, { path: '/v1.41/containers/x/logs?follow=1', headerTimeoutMs, signal });

  test('sends one GET and hands the de-chunked body over in runs, then ends', async () => {
    const frames = Array.from({ length: 200 }, (_, i) => `frame ${i}\n`);
    behave = socket => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      // Every frame its own chunk, as the engine flushes them; several writes so reads split anywhere.
      const raw = frames.map(f => `${f.length.toString(16)}\r\n${f}\r\n`).join('');
      socket.write(raw.slice(0, 333));
      setTimeout(() => socket.end(`${raw.slice(333)}0\r\n\r\n`), 20);
    };
    const stream = await open();
    assert.equal(stream.status, 200);
    const got: string[] = [];
    let runs = 0;
    assert.equal(
      await stream.pipe(chunk => {
        runs += 1;
        got.push(chunk.toString('latin1'));
        return true;
      }),
      'ended',
    );
    assert.equal(got.join(''), frames.join(''));
    assert.ok(runs < frames.length, `${runs} runs for ${frames.length} chunks`);
    assert.match(
      requests.at(-1)!,
      /^GET \/v1\.41\/containers\/x\/logs\?follow=1 HTTP\/1\.1\r\nHost: docker\r\n/,
    );
  });

  test('a consumer promise pauses reading until it settles, and nothing is lost', async () => {
    const total = 2000;
    behave = socket => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      let i = 0;
      const pump = () => {
        while (i < total) {
          const f = `line ${i++}\n`;
          if (!socket.write(`${f.length.toString(16)}\r\n${f}\r\n`)) return void socket.once('drain', pump);
        }
        socket.end('0\r\n\r\n');
      };
      pump();
    };
    const stream = await open();
    let text = '';
    let pauses = 0;
    const outcome = await stream.pipe(chunk => {
      text += chunk.toString('latin1');
      if (pauses < 5) {
        pauses += 1;
        return new Promise<void>(r => setTimeout(r, 10));
      }
      return true;
    });
    assert.equal(outcome, 'ended');
    assert.equal(text, Array.from({ length: total }, (_, i) => `line ${i}\n`).join(''));
  });

  test('false from the consumer stops reading and closes the connection', async () => {
    let closed!: Promise<void>;
    behave = socket => {
      closed = new Promise(r => socket.once('close', () => r()));
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n');
    };
    const stream = await open();
    assert.equal(await stream.pipe(() => false), 'stopped');
    await closed;
  });

  test('an error status keeps its body for the message', async () => {
    behave = socket => {
      socket.end(
        'HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 37\r\n\r\n{"message":"No such container: nope"}',
      );
    };
    const stream = await open();
    assert.equal(stream.status, 404);
    assert.equal(await stream.text(), '{"message":"No such container: nope"}');
  });

  test('a connection cut mid-body rejects pipe()', async () => {
    behave = socket => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc');
      setTimeout(() => socket.destroy(), 20);
    };
    const stream = await open();
    await assert.rejects(
      stream.pipe(() => true),
      (err: unknown) => err instanceof DockerError && /closed/.test(err.message),
    );
  });

  test('aborting ends pipe() with "aborted" and closes the connection', async () => {
    behave = socket => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
    const ac = new AbortController();
    const stream = await open(ac.signal);
    const closed = new Promise<void>(r => stream.whenClosed(r));
    const piped = stream.pipe(() => true);
    setTimeout(() => ac.abort(), 20);
    assert.equal(await piped, 'aborted');
    await closed;
  });

  test('an engine that never answers times out with a DockerError', async () => {
    behave = () => {};
    await assert.rejects(
      open(undefined, 100),
      (err: unknown) => err instanceof DockerError && /did not answer within 100 ms/.test(err.message),
    );
  });

  test('an engine that is not there is a DockerError naming it', async () => {
    await assert.rejects(
      EngineStream.open(
        { socketPath: join(dir, 'missing.sock'), hostHeader: 'docker', name: 'unix://missing' },
        { path: '/x', headerTimeoutMs: 1000, signal: new AbortController().signal },
      ),
      (err: unknown) =>
        err instanceof DockerError && /cannot reach the engine at unix:\/\/missing/.test(err.message),
    );
  });

  test('an abort before the answer rejects with the abort reason', async () => {
    behave = () => {};
    const ac = new AbortController();
    const opening = open(ac.signal);
    setTimeout(() => ac.abort(new Error('stop now')), 20);
    await assert.rejects(opening, /stop now/);
  });
});
