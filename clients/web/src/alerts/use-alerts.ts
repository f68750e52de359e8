/**
 * What a new live event does, by the viewer's preferences for its type: a toast, the chime (only in a visible
 * tab, so two open tabs do not ring twice), a browser notification (only while the page is hidden).
 */
import { useCallback, useRef } from 'react';
import { summary, titleOf, type NotificationEvent } from '../events/describe.js';
import { notify } from './browser-notifications.js';
import { chime } from './chime.js';
import type { Preferences } from './preferences.js';

export function useAlerts(options: { prefs: Preferences; toast: (event: NotificationEvent) => void; open: (event: NotificationEvent) => void }) {
  const latest = useRef(options);
  latest.current = options;
  return useCallback((event: NotificationEvent) => {
    const { prefs, toast, open } = latest.current;
    const p = prefs[event.type];
    if (p.toast) toast(event);
    if (p.sound && document.visibilityState === 'visible') chime();
    if (p.browser) notify({ id: event.id, title: titleOf(event), body: summary(event), onClick: () => open(event) });
  }, []);
}
