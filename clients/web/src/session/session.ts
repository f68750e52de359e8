/**
 * The signed-in user: a Herald JWT taken from the URL fragment (`/app#token=<jwt>`, never sent to a server in a
 * request line or a Referer, and removed from the address bar at once) or pasted in the sign-in box, and kept in
 * sessionStorage so a reload of this tab stays signed in while other tabs and restarts of the browser do not
 * inherit it. The claims are read for display only (name, role, expiry); the hub verifies the token.
 */

export type ViewerRole = 'CUSTOMER' | 'DELIVERY_PARTNER' | 'SUPPLIER' | 'ADMIN' | 'SERVICE';

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly role: ViewerRole;
  /** Expiry (epoch ms), when the token says. */
  readonly expiresAt: number | null;
}

const STORAGE_KEY = 'herald:token';

function base64UrlJson(part: string): unknown {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The session a token describes, or an error message saying why it cannot be one. */
export function parseToken(raw: string): Session | { readonly error: string } {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3) return { error: 'That is not a JWT (three dot-separated parts).' };
  let claims: Record<string, unknown>;
  try {
    claims = base64UrlJson(parts[1]!) as Record<string, unknown>;
  } catch {
    return { error: 'The token’s claims cannot be read.' };
  }
  const userId = typeof claims['sub'] === 'string' ? claims['sub'] : null;
  if (!userId) return { error: 'The token has no subject (sub).' };
  const role = String(claims['role'] ?? '').toUpperCase() as ViewerRole;
  const expiresAt = typeof claims['exp'] === 'number' ? claims['exp'] * 1000 : null;
  if (expiresAt !== null && expiresAt <= Date.now()) return { error: 'This token has expired: ask for a new one.' };
  return { token, userId, role, expiresAt };
}

/**
 * Takes `#token=…` out of the address (history.replaceState: no new history entry, nothing reloads) and
 * returns it; otherwise the token this tab stored. Fragment parameters other than `token` are kept.
 */
export function initialToken(location: Location, history: History, storage: Storage | undefined): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromUrl = params.get('token');
  if (fromUrl) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
    return fromUrl;
  }
  try {
    return storage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

export function storeToken(storage: Storage | undefined, token: string | null): void {
  try {
    if (token) storage?.setItem(STORAGE_KEY, token);
    else storage?.removeItem(STORAGE_KEY);
  } catch {
    // private mode or storage full: the session lasts as long as the page
  }
}

export const isExpired = (session: Session, now = Date.now()) => session.expiresAt !== null && session.expiresAt <= now;

export const ROLE_LABEL: Record<ViewerRole, string> = {
  CUSTOMER: 'Customer',
  DELIVERY_PARTNER: 'Courier',
  SUPPLIER: 'Supplier',
  ADMIN: 'Admin',
  SERVICE: 'Service',
};
