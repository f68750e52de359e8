/** The SDK's pieces without I/O: the event-stream parser, backoff, close policy. */
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseMessage } from '../../clients/sdk/src/sse-parser.js';
import { backoffDelay } from '../../clients/sdk/src/backoff.js';
import { closeAction, looksBlocked } from '../../clients/sdk/src/close-policy.js';

const parse = (chunks: string[]) => {
  const messages: SseMessage[] = [];
  const parser = createSseParser((m) => messages.push(m));
  for (const chunk of chunks) parser.push(chunk);
  return messages;
};

describe('SSE parser', () => {
  it('reads Herald frames: comments skipped, id: kept as the cursor, the final error event', () => {
    const text = ':\n\nid: 41\nevent: next\ndata: {"data":{"events":{"id":"a"}}}\n\n: heartbeat\n\nevent: error\ndata: {"code":4401,"reason":"Unauthorized: token expired"}\n\n';
    expect(parse([text])).toEqual([
      { event: 'next', data: '{"data":{"events":{"id":"a"}}}', id: '41' },
      { event: 'error', data: '{"code":4401,"reason":"Unauthorized: token expired"}', id: '41' },
    ]);
  });

  it('gives the same events whatever the chunking, with CRLF, CR and multi-line data', () => {
    const text = 'id: 1\r\nevent: next\r\ndata: one\r\ndata: two\r\n\r\nid: 2\rdata:three\r\r';
    const whole = parse([text]);
    expect(whole).toEqual([
      { event: 'next', data: 'one\ntwo', id: '1' },
      { event: 'message', data: 'three', id: '2' },
    ]);
    for (let size = 1; size <= 7; size++) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(parse(chunks)).toEqual(whole);
    }
  });

  it('dispatches nothing for a block without data, and ignores retry: and unknown fields', () => {
    expect(parse(['event: next\nretry: 10\nfoo: bar\n\n'])).toEqual([]);
  });
});

describe('backoff and close policy', () => {
  it('stays within full-jitter bounds: [0, min(cap, initial * 2^n)]', () => {
    expect(backoffDelay(0, { random: () => 0.999 })).toBe(999);
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(4000);
    expect(backoffDelay(50, { random: () => 0.999999 })).toBeLessThan(30_000);
    expect(backoffDelay(5, { random: () => 0 })).toBe(0);
  });

  it('resumes on restart, slow consumer and a refreshable expiry; stops on forbidden and revoked', () => {
    const info = (code: number) => ({ code, reason: '', beforeReady: false });
    expect(closeAction(info(1012), false)).toBe('resume');
    expect(closeAction(info(4030), false)).toBe('resume');
    expect(closeAction(info(4401), true)).toBe('resume');
    expect(closeAction(info(4401), false)).toBe('stop');
    expect(closeAction(info(4403), true)).toBe('stop');
    expect(closeAction(info(4031), true)).toBe('stop');
    expect(closeAction(info(1006), true)).toBe('retry');
    expect(closeAction(info(4029), true)).toBe('retry');
    expect(looksBlocked({ code: 1006, reason: '', beforeReady: true })).toBe(true);
    expect(looksBlocked({ code: 4401, reason: '', beforeReady: true })).toBe(false);
    expect(looksBlocked({ code: 1006, reason: '', beforeReady: false })).toBe(false);
  });
});
