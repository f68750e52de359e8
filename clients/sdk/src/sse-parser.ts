/**
 * A `text/event-stream` parser (the WHATWG "event stream interpretation", without reconnection, which the
 * client does itself): feed it decoded text in any chunking, it calls back once per dispatched event.
 * Comments (`: heartbeat`) are skipped; `id:` sets the event's id (Herald's cursor).
 */

export interface SseMessage {
  /** `event:` field; `message` when absent. */
  readonly event: string;
  readonly data: string;
  /** The last `id:` seen on the stream (as EventSource's `lastEventId`); '' before any. */
  readonly id: string;
}

export function createSseParser(onMessage: (message: SseMessage) => void): { push(text: string): void } {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let lastId = '';
  let sawData = false;

  const line = (text: string) => {
    if (text === '') {
      if (sawData) onMessage({ event: event || 'message', data: data.join('\n'), id: lastId });
      event = '';
      data = [];
      sawData = false;
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        event = value;
        break;
      case 'data':
        data.push(value);
        sawData = true;
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      default:
      // `retry:` and unknown fields: ignored (the client owns its reconnect schedule)
    }
  };

  /** The last chunk ended with CR: an LF opening the next one is the same line break. */
  let afterCR = false;
  return {
    push(text) {
      if (afterCR && text.charCodeAt(0) === 10) text = text.slice(1);
      afterCR = false;
      buffer += text;
      let start = 0;
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        line(buffer.slice(start, i));
        if (c === 13) {
          if (i === buffer.length - 1) afterCR = true;
          else if (buffer.charCodeAt(i + 1) === 10) i++;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
  };
}
