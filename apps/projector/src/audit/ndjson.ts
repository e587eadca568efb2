import { Logger } from '@nestjs/common';
import { RecordedEvent } from '@lib/event-store';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { toAuditLine } from './audit-line';
import { AuditScan } from './audit-scan';

export const NDJSON = 'application/x-ndjson; charset=utf-8';
export const HEAD_POSITION_HEADER = 'x-head-position';

type Pages = AsyncGenerator<readonly RecordedEvent[]>;

/** One chunk per page scanned, so each page is flushed as soon as it is read. */
async function* chunks(first: IteratorResult<readonly RecordedEvent[]>, rest: Pages, logger: Logger): AsyncGenerator<string> {
  if (first.done) return;
  try {
    if (first.value.length > 0) yield first.value.map(toAuditLine).join('');
    for await (const page of rest) if (page.length > 0) yield page.map(toAuditLine).join('');
  } catch (error) {
    // The status is sent: the client sees the response end without its last chunk.
    logger.error(`audit stream cut short: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

/**
 * Streams an audit scan as NDJSON. The first page is read before the status is sent, so a store
 * that fails at once still gets a problem response. When the client goes away, Fastify destroys the
 * body, which returns the generators and so stops reading the log.
 */
export const sendNdjson = async (reply: FastifyReply, scan: AuditScan, logger: Logger): Promise<void> => {
  const first = await scan.pages.next();
  const body = Readable.from(chunks(first, scan.pages, logger), { objectMode: false });
  void reply
    .status(200)
    .header('content-type', NDJSON)
    .header('cache-control', 'no-store')
    .header(HEAD_POSITION_HEADER, String(scan.headPosition))
    .send(body);
};
