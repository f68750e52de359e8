/**
 * The courier's route drawn as inline SVG: the positions seen, scaled to fit (longitude shrunk by the cosine of
 * the latitude, so the shape is not stretched), the start, and the last position. No map tiles: nothing to
 * fetch, works offline, and no third party learns where the customer lives.
 */
import type { DeliveryPosition } from '@herald/react';

const W = 320;
const H = 200;
const PAD = 18;

export function project(points: readonly DeliveryPosition[]): Array<{ x: number; y: number }> {
  if (points.length === 0) return [];
  const lat0 = points.reduce((s, p) => s + p.latitude, 0) / points.length;
  const k = Math.cos((lat0 * Math.PI) / 180);
  const xs = points.map((p) => p.longitude * k);
  const ys = points.map((p) => p.latitude);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const span = Math.max(maxX - minX, maxY - minY, 1e-4); // ~10 m: a courier standing still is a dot, not a division by zero
  const scale = Math.min((W - 2 * PAD) / span, (H - 2 * PAD) / span);
  const offX = (W - (maxX - minX) * scale) / 2;
  const offY = (H - (maxY - minY) * scale) / 2;
  return points.map((_, i) => ({ x: offX + (xs[i]! - minX) * scale, y: H - (offY + (ys[i]! - minY) * scale) }));
}

export function TrackMap({ trail, label }: { trail: readonly DeliveryPosition[]; label: string }) {
  const pts = project(trail);
  const last = pts[pts.length - 1];
  const first = pts[0];
  return (
    <svg className="track-map" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label}>
      <defs>
        <pattern id="track-grid" width="20" height="20" patternUnits="userSpaceOnUse">
          <path d="M 20 0 L 0 0 0 20" fill="none" className="track-map__grid" />
        </pattern>
      </defs>
      <rect width={W} height={H} rx="12" fill="url(#track-grid)" className="track-map__bg" />
      {pts.length > 1 && <polyline className="track-map__route" points={pts.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')} />}
      {first && pts.length > 1 && <circle className="track-map__start" cx={first.x} cy={first.y} r="5" />}
      {last && (
        <g className="track-map__courier" transform={`translate(${last.x.toFixed(1)} ${last.y.toFixed(1)})`}>
          <circle className="track-map__pulse" r="14" />
          <circle className="track-map__dot" r="7" />
        </g>
      )}
      {!last && (
        <text x={W / 2} y={H / 2} textAnchor="middle" className="track-map__empty">
          Waiting for the courier’s position…
        </text>
      )}
    </svg>
  );
}
