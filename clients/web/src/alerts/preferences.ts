/**
 * Per-type alert preferences (show a toast, play a sound, send a browser notification), kept in localStorage
 * for this browser and shared live between its tabs (the `storage` event). Defaults: toasts for everything but
 * the high-volume tracking pings, the chime for the types the old system chimed for, browser notifications for
 * what needs attention (critical and high by default level).
 */
import { useCallback, useEffect, useState } from 'react';
import type { EventType } from '../generated/graphql.js';
import { CATALOGUE } from '../generated/catalogue.js';

export interface TypePreferences {
  readonly toast: boolean;
  readonly sound: boolean;
  readonly browser: boolean;
}

export type Preferences = Readonly<Record<EventType, TypePreferences>>;
export type PreferenceKind = keyof TypePreferences;

/** The types the old system played a sound for. */
export const CHIME_TYPES: ReadonlySet<EventType> = new Set(['EARNING_RECORDED', 'PAYOUT_COMPLETED', 'DELIVERY_COMPLETED', 'PAYMENT_COMPLETED']);

const QUIET_TYPES: ReadonlySet<EventType> = new Set(['LOCATION_UPDATED', 'ETA_UPDATED']);

const STORAGE_KEY = 'herald:preferences:v1';

export const ALL_TYPES = Object.keys(CATALOGUE) as EventType[];

export function defaultPreferences(): Preferences {
  return Object.fromEntries(
    ALL_TYPES.map((type) => {
      const level = CATALOGUE[type].defaultLevel;
      return [type, { toast: !QUIET_TYPES.has(type), sound: CHIME_TYPES.has(type), browser: level === 'CRITICAL' || level === 'HIGH' }];
    }),
  ) as Record<EventType, TypePreferences>;
}

function read(storage: Storage | undefined): Preferences {
  const defaults = defaultPreferences();
  try {
    const stored = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}') as Partial<Record<string, Partial<TypePreferences>>>;
    return Object.fromEntries(ALL_TYPES.map((t) => [t, { ...defaults[t], ...pick(stored[t]) }])) as Record<EventType, TypePreferences>;
  } catch {
    return defaults;
  }
}

const pick = (value: Partial<TypePreferences> | undefined): Partial<TypePreferences> => {
  if (!value || typeof value !== 'object') return {};
  const out: Partial<Record<PreferenceKind, boolean>> = {};
  for (const key of ['toast', 'sound', 'browser'] as const) if (typeof value[key] === 'boolean') out[key] = value[key];
  return out;
};

const storage = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export function usePreferences() {
  const [prefs, setPrefs] = useState<Preferences>(() => read(storage()));
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEY || e.key === null) setPrefs(read(storage()));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  const write = (next: Preferences) => {
    try {
      storage()?.setItem(STORAGE_KEY, JSON.stringify(next));
    } catch {
      // storage full or blocked: the change lasts for this page
    }
    return next;
  };
  const set = useCallback((type: EventType, kind: PreferenceKind, value: boolean) => {
    setPrefs((prev) => write({ ...prev, [type]: { ...prev[type], [kind]: value } }));
  }, []);
  const setAll = useCallback((kind: PreferenceKind, value: boolean) => {
    setPrefs((prev) => write(Object.fromEntries(ALL_TYPES.map((t) => [t, { ...prev[t], [kind]: value }])) as Record<EventType, TypePreferences>));
  }, []);
  const reset = useCallback(() => setPrefs(write(defaultPreferences())), []);
  return { prefs, set, setAll, reset };
}
