//! The HTTP surface: /metrics (Prometheus text), /ready, /targets (the status page for browsers, JSON
//! otherwise) and /targets.json. node:http is enough for a few read-only routes.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { prefersHtml, renderStatusPage, statusPageCsp } from './status-page.js';

const { createServer } = process.getBuiltinModule('node:http');

export interface HttpServerOptions {
  address: string;
  port: number;
  metrics: Metrics;
  logger: Logger;
  /** Ready: first discovery done, and no client has failed every try for a minute. */
  ready: () => { ready: boolean; reasons: string[] };
  /** The /targets document (JSON-serialisable). */
  targets: () => unknown;
  /** Runs before /metrics renders (gauges computed at scrape time). */
  beforeScrape: () => void;
}

export class HttpServer {
  readonly #o: HttpServerOptions;
  readonly #server: Server;

  constructor(options: HttpServerOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(err => {
        this.#o.logger.error('http handler failed', { err });
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  /** Listens; resolves with the port actually bound (port 0 picks a free one). */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.address || undefined, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>(resolve => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path, query = ''] = (req.url ?? '/').split('?', 2);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    switch (path) {
      case '/metrics': {
        this.#o.beforeScrape();
        const body = await this.#o.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': this.#o.metrics.registry.contentType }).end(body);
        return;
      }
      case '/ready': {
        const r = this.#o.ready();
        res
          .writeHead(r.ready ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' })
          .end(r.ready ? 'Ready\n' : `Not ready: ${r.reasons.join('; ')}\n`);
        return;
      }
      case '/targets':
      case '/targets.json': {
        // /targets.json and ?format=json are always JSON (scripts); /targets negotiates on Accept.
        const format = new URLSearchParams(query).get('format');
        const html =
          path === '/targets' && format !== 'json' && (format === 'html' || prefersHtml(req.headers.accept));
        const document = this.#o.targets();
        const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
        if (path === '/targets') headers.Vary = 'Accept';
        if (!html) {
          headers['Content-Type'] = 'application/json; charset=utf-8';
          res.writeHead(200, headers).end(`${JSON.stringify(document, null, 2)}\n`);
          return;
        }
        // node:crypto is loaded by the first page served, not with the module.
        const nonce = process.getBuiltinModule('node:crypto').randomBytes(16).toString('base64');
        headers['Content-Type'] = 'text/html; charset=utf-8';
        headers['Content-Security-Policy'] = statusPageCsp(nonce);
        headers['X-Content-Type-Options'] = 'nosniff';
        res.writeHead(200, headers).end(renderStatusPage({ document, nonce }));
        return;
      }
      case '/':
        res.writeHead(302, { Location: '/targets' }).end();
        return;
      default:
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found\n');
    }
  }
}
