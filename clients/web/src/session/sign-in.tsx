/**
 * The sign-in box, for when the page was opened without `#token=…`: paste a Herald JWT. Nothing is sent
 * anywhere until the page connects with it; a token that cannot be a session says why at once.
 */
import { useId, useState, type FormEvent } from 'react';
import { parseToken, type Session } from './session.js';

export function SignIn({ onSignIn, notice }: { onSignIn: (session: Session) => void; notice?: string | null }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseToken(value);
    if ('error' in parsed) return setError(parsed.error);
    onSignIn(parsed);
  };
  return (
    <main className="sign-in">
      <form className="card sign-in__card" onSubmit={submit} aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>
          <span aria-hidden="true">📣</span> Herald
        </h1>
        <p className="sign-in__lead">Your notifications, deliveries and alerts, live.</p>
        {notice && (
          <p className="sign-in__notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor={`${id}-token`}>Access token</label>
        <textarea
          id={`${id}-token`}
          value={value}
          onChange={(e) => (setValue(e.target.value), setError(null))}
          rows={4}
          spellCheck={false}
          autoComplete="off"
          placeholder="eyJhbGciOi…"
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-help ${error ? `${id}-error` : ''}`}
          required
        />
        {error && (
          <p id={`${id}-error`} className="sign-in__error" role="alert">
            {error}
          </p>
        )}
        <p id={`${id}-help`} className="sign-in__help">
          For a local hub: <code>npm run token -- --sub cus_5Tn4WbQ6 --role customer</code>, then open <code>/app#token=&lt;token&gt;</code> or paste it here.
        </p>
        <button type="submit" className="button">
          Sign in
        </button>
      </form>
    </main>
  );
}
