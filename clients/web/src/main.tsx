/**
 * Entry: takes the token out of the address (`#token=…`), unlocks Web Audio on the first interaction (browsers
 * keep it suspended until then), and renders the page under StrictMode.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { unlockAudio } from './alerts/chime.js';
import { initialToken, parseToken, storeToken } from './session/session.js';
import './styles.css';

let storage: Storage | undefined;
try {
  storage = sessionStorage;
} catch {
  storage = undefined;
}

const raw = initialToken(location, history, storage);
const parsed = raw ? parseToken(raw) : null;
const session = parsed && !('error' in parsed) ? parsed : null;
storeToken(storage, session?.token ?? null);

for (const type of ['pointerdown', 'keydown'] as const) window.addEventListener(type, unlockAudio, { once: true, capture: true });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App initial={session} notice={parsed && 'error' in parsed ? parsed.error : null} />
  </StrictMode>,
);
