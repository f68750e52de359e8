/** `analyticsSummary`: a day's counters as totals by type, source and level. */
import { isEventType, LEVELS, type EventLevel, type EventTypeName } from '../events/catalogue.js';
import type { DailyCount } from './analytics-store.js';

export interface DaySummary {
  /** UTC day, `YYYY-MM-DD`. */
  readonly date: string;
  readonly total: number;
  /** Types with events that day, most frequent first (ties by name). */
  readonly byType: { type: EventTypeName; count: number }[];
  /** Sources with events that day, most frequent first (ties by name). */
  readonly bySource: { source: string; count: number }[];
  /** Every level, most severe first, zeros included. */
  readonly byLevel: { level: EventLevel; count: number }[];
}

const byCountThenKey = (a: { key: string; count: number }, b: { key: string; count: number }) =>
  b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function toDaySummary(date: string, counts: readonly DailyCount[]): DaySummary {
  const of = (dimension: DailyCount['dimension']) => counts.filter((c) => c.dimension === dimension && c.count > 0).sort(byCountThenKey);
  const levels = new Map(of('level').map((c) => [c.key, c.count]));
  return {
    date,
    total: of('total').reduce((sum, c) => sum + c.count, 0),
    // A type renamed out of the catalogue cannot be shown as an EventType: its count stays in `total`.
    byType: of('type').flatMap((c) => (isEventType(c.key) ? [{ type: c.key, count: c.count }] : [])),
    bySource: of('source').map((c) => ({ source: c.key, count: c.count })),
    byLevel: LEVELS.map((level) => ({ level, count: levels.get(level) ?? 0 })),
  };
}
