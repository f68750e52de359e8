/**
 * Rendering hooks in tests without a DOM: react-test-renderer (React 19's concurrent root), no `act` — the
 * hooks update from real sockets, so tests wait for what was committed, as a user would see it.
 */
import { createElement, StrictMode, useEffect, type ReactElement, type ReactNode } from 'react';
import TestRenderer, { type ReactTestRenderer } from 'react-test-renderer';
import { waitFor } from './deferred.js';

export interface RenderedHook<R> {
  /** The value of the last committed render. */
  readonly current: R | undefined;
  /** Every committed value, in order. */
  readonly history: readonly R[];
  waitFor(check: (value: R) => boolean, what: string, timeoutMs?: number): Promise<R>;
  unmount(): void;
}

/** react-test-renderer logs a deprecation notice on each `create()`: keep test output to what matters. */
function quietCreate(element: ReactElement): ReactTestRenderer {
  const original = console.error;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith('react-test-renderer is deprecated')) return;
    original(...args);
  };
  try {
    return TestRenderer.create(element);
  } finally {
    console.error = original;
  }
}

/**
 * Renders `useHook` inside `wrap` (e.g. a provider), in StrictMode unless `strict: false`.
 * @example const hook = renderHook(() => useHeraldStatus(), (c) => createElement(HeraldProvider, { client }, c));
 */
export function renderHook<R>(useHook: () => R, wrap: (children: ReactNode) => ReactElement, options: { strict?: boolean } = {}): RenderedHook<R> {
  const history: R[] = [];
  function Probe() {
    const value = useHook();
    useEffect(() => {
      history.push(value);
    });
    return null;
  }
  const tree = wrap(createElement(Probe));
  const renderer = quietCreate(options.strict === false ? tree : createElement(StrictMode, null, tree));
  const hook: RenderedHook<R> = {
    get current() {
      return history[history.length - 1];
    },
    history,
    async waitFor(check, what, timeoutMs = 10_000) {
      await waitFor(() => hook.current !== undefined && check(hook.current), timeoutMs, what);
      return hook.current!;
    },
    unmount: () => renderer.unmount(),
  };
  return hook;
}
