/**
 * @herald/react on the server: `renderToString` of a page using every live hook and a generated query hook
 * creates no client, opens no socket and sends no request; the hooks render their empty state.
 */
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { HeraldProvider, useDeliveryTracking, useEventsLogQuery, useHeraldEvents, useHeraldStatus } from '../../clients/react/src/index.js';
import { sleep } from '../utils/deferred.js';
import { WebSocket } from '../utils/sdk.js';

describe('@herald/react server rendering', () => {
  it('renders the empty state without creating a connection', async () => {
    let sockets = 0;
    let requests = 0;
    class CountingWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets++;
      }
    }
    function Page() {
      const { events, status } = useHeraldEvents('*');
      const tracking = useDeliveryTracking('dlv_ssr');
      const log = useEventsLogQuery({ first: 5 });
      const { state } = useHeraldStatus();
      return createElement('p', null, `${status.state}/${state}:${events.length}:${tracking.step ?? 'none'}:${log.loading}`);
    }
    const html = renderToString(
      createElement(HeraldProvider, {
        options: {
          url: 'http://127.0.0.1:9/graphql', // nothing listens there: any attempt would show up as a count
          token: 'never-sent',
          webSocketImpl: CountingWebSocket,
          fetch: async () => {
            requests++;
            throw new Error('no request expected');
          },
        },
        children: createElement(Page),
      }),
    );
    expect(html).toBe('<p>disconnected/disconnected:0:none:true</p>');
    await sleep(200);
    expect({ sockets, requests }).toEqual({ sockets: 0, requests: 0 });
  });

  it('tells what is missing when a hook has no provider above it', () => {
    function Orphan() {
      useHeraldStatus();
      return null;
    }
    expect(() => renderToString(createElement(Orphan))).toThrow(/HeraldProvider/);
  });
});
