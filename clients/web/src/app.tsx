/**
 * The page: the sign-in box until there is a session, then the notification centre on a HeraldProvider —
 * header (connection indicator, bell, user), the tracking panel, alert preferences, the admins' dashboard,
 * toasts and the details dialog. Live events reach the bell through one `'*'` subscription; its `onLive`
 * decides toasts, sounds and browser notifications by the user's preferences.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import { HeraldProvider, useHeraldClient, useHeraldStatus } from '@herald/react';
import type { HeraldClientOptions } from '@herald/sdk';
import { Dashboard } from './admin/dashboard.js';
import { usePreferences } from './alerts/preferences.js';
import { PreferencesPanel } from './alerts/preferences-panel.js';
import { useAlerts } from './alerts/use-alerts.js';
import { EventDetails } from './details/event-details.js';
import type { NotificationEvent } from './events/describe.js';
import { Bell } from './notifications/bell.js';
import { Recent } from './notifications/recent.js';
import { createServerReadState } from './notifications/read-state.js';
import { useNotifications } from './notifications/use-notifications.js';
import { isExpired, ROLE_LABEL, storeToken, type Session } from './session/session.js';
import { SignIn } from './session/sign-in.js';
import { ConnectionIndicator } from './status/connection-indicator.js';
import { ToastStack, useToasts } from './toasts/toasts.js';
import { TrackingPanel } from './tracking/tracking-panel.js';

const graphqlUrl = () => `${location.origin}/graphql`;
const wsUrl = () => graphqlUrl().replace(/^http/, 'ws');
const tabStorage = () => {
  try {
    return sessionStorage;
  } catch {
    return undefined;
  }
};

export function App({ initial, notice }: { initial: Session | null; notice: string | null }) {
  const [session, setSession] = useState<Session | null>(initial);
  const [message, setMessage] = useState<string | null>(notice);
  const signOut = useCallback((why: string | null = null) => {
    storeToken(tabStorage(), null);
    setMessage(why);
    setSession(null);
  }, []);
  if (!session) {
    return (
      <SignIn
        notice={message}
        onSignIn={(s) => {
          storeToken(tabStorage(), s.token);
          setSession(s);
        }}
      />
    );
  }
  return <SignedIn key={session.token} session={session} onSignOut={signOut} />;
}

function SignedIn({ session, onSignOut }: { session: Session; onSignOut: (why?: string | null) => void }) {
  const options = useMemo<HeraldClientOptions>(
    () => ({
      url: graphqlUrl(),
      // Asked before every (re)connect: an expired token is not sent again, the page asks for a new one.
      getToken: () => {
        if (isExpired(session)) throw new Error('token expired');
        return session.token;
      },
    }),
    [session],
  );
  return (
    <HeraldProvider options={options}>
      <Centre session={session} onSignOut={onSignOut} />
    </HeraldProvider>
  );
}

function Centre({ session, onSignOut }: { session: Session; onSignOut: (why?: string | null) => void }) {
  const client = useHeraldClient();
  const status = useHeraldStatus();
  const backend = useMemo(
    () =>
      client &&
      createServerReadState({
        client,
        wsUrl: wsUrl(),
        getToken: () => session.token,
        onSseFallback: () => client.status().fallback,
      }),
    [client, session.token],
  );
  const preferences = usePreferences();
  const toasts = useToasts();
  const [details, setDetails] = useState<NotificationEvent | null>(null);
  const onLive = useAlerts({ prefs: preferences.prefs, toast: toasts.push, open: setDetails });
  const api = useNotifications({ backend, role: session.role, onLive });
  const open = useCallback(
    (event: NotificationEvent) => {
      api.markRead([event.id]);
      setDetails(event);
    },
    [api],
  );

  // The session ends when the token does (or the hub refuses it): say so on the sign-in box.
  useEffect(() => {
    if (session.expiresAt === null) return;
    const timer = setTimeout(() => onSignOut('Your session expired: sign in again.'), Math.max(0, session.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [session, onSignOut]);
  const refused = status.state === 'disconnected' && (status.error?.closeCode === 4401 || status.error?.code === 'UNAUTHENTICATED');
  useEffect(() => {
    if (refused) onSignOut('The hub did not accept this token: sign in again.');
  }, [refused, onSignOut]);

  return (
    <div className="shell">
      <header className="topbar">
        <div className="topbar__brand">
          <span aria-hidden="true">📣</span> Herald
        </div>
        <div className="topbar__right">
          <ConnectionIndicator />
          <Bell api={api} role={session.role} onOpen={open} />
          <div className="user">
            <span className="user__name" title={session.userId}>
              {session.userId}
            </span>
            <span className="user__role">{ROLE_LABEL[session.role] ?? session.role}</span>
          </div>
          <button type="button" className="link-button" onClick={() => onSignOut(null)}>
            Sign out
          </button>
        </div>
      </header>
      <main className="content">
        <h1 className="visually-hidden">Notification centre</h1>
        {session.role === 'ADMIN' && <Dashboard onOpen={open} />}
        <Recent api={api} onOpen={open} />
        <TrackingPanel deliveries={api.deliveries} />
        <PreferencesPanel role={session.role} preferences={preferences} />
      </main>
      <ToastStack toasts={toasts.toasts} onDismiss={toasts.dismiss} onOpen={(e) => (toasts.dismiss(e.id), open(e))} />
      <EventDetails event={details} onClose={() => setDetails(null)} />
    </div>
  );
}
