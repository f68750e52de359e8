/** `userActivityHeatmap`: sparse weekday×hour cells as a dense 7×24 matrix (row 0 = Sunday, column = UTC hour). */
import type { ActivityCell } from './analytics-store.js';

export interface ActivityHeatmap {
  readonly userId: string;
  readonly from: number;
  readonly total: number;
  /** `matrix[weekday][hour]`, weekday 0 = Sunday, hours in UTC. */
  readonly matrix: number[][];
}

export function toHeatmap(userId: string, from: number, cells: readonly ActivityCell[]): ActivityHeatmap {
  const matrix = Array.from({ length: 7 }, () => new Array<number>(24).fill(0));
  let total = 0;
  for (const { weekday, hour, count } of cells) {
    const row = matrix[weekday];
    if (!row || hour < 0 || hour > 23) continue; // corrupt bucket fields: never crash a dashboard on them
    row[hour]! += count;
    total += count;
  }
  return { userId, from, total, matrix };
}
