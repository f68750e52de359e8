/**
 * Alert preferences, per event type: toast, sound, browser notification (kept in this browser), grouped by
 * domain, for the types the viewer's role may receive. Also where browser notifications are allowed — only
 * from this click, as browsers require — and the chime can be tried.
 */
import { useState } from 'react';
import { DOMAIN_LABEL, TYPE_VIEW, domainsFor, typesOf } from '../events/describe.js';
import { chime, unlockAudio } from './chime.js';
import { permission, requestPermission, type Permission } from './browser-notifications.js';
import type { PreferenceKind, usePreferences } from './preferences.js';

const KINDS: Array<[PreferenceKind, string]> = [
  ['toast', 'Toast'],
  ['sound', 'Sound'],
  ['browser', 'Browser'],
];

export function PreferencesPanel({ role, preferences }: { role: string; preferences: ReturnType<typeof usePreferences> }) {
  const { prefs, set, reset } = preferences;
  const [allowed, setAllowed] = useState<Permission>(permission);
  return (
    <section className="card prefs" aria-labelledby="prefs-title">
      <header className="card__header">
        <h2 id="prefs-title">🔧 Alerts</h2>
        <button type="button" className="link-button" onClick={reset}>
          Reset
        </button>
      </header>
      <div className="prefs__tools">
        {allowed === 'granted' ? (
          <span className="chip chip--ok">Browser notifications on</span>
        ) : allowed === 'denied' ? (
          <span className="chip">Browser notifications blocked in this browser’s settings</span>
        ) : allowed === 'unsupported' ? (
          <span className="chip">No browser notifications here</span>
        ) : (
          <button type="button" className="button button--ghost" onClick={() => void requestPermission().then(setAllowed)}>
            Allow browser notifications
          </button>
        )}
        <button
          type="button"
          className="button button--ghost"
          onClick={() => {
            unlockAudio();
            setTimeout(chime, 50);
          }}
        >
          🔊 Test sound
        </button>
      </div>
      <details className="prefs__details">
        <summary>Per event type ({domainsFor(role).reduce((n, d) => n + typesOf(d, role).length, 0)} types)</summary>
      <div className="prefs__table-wrap">
        <table className="prefs__table">
          <thead>
            <tr>
              <th scope="col">Event</th>
              {KINDS.map(([, label]) => (
                <th key={label} scope="col">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          {domainsFor(role).map((domain) => (
            <tbody key={domain}>
              <tr className="prefs__domain">
                <th colSpan={4} scope="colgroup">
                  {DOMAIN_LABEL[domain]}
                </th>
              </tr>
              {typesOf(domain, role).map((type) => (
                <tr key={type}>
                  <th scope="row">
                    <span aria-hidden="true">{TYPE_VIEW[type].icon}</span> {TYPE_VIEW[type].title}
                  </th>
                  {KINDS.map(([kind, label]) => (
                    <td key={kind}>
                      <input
                        type="checkbox"
                        checked={prefs[type][kind]}
                        aria-label={`${label} for “${TYPE_VIEW[type].title}”`}
                        onChange={(e) => set(type, kind, e.target.checked)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      </div>
      </details>
    </section>
  );
}
