/**
 * Actuator values against time as a standalone SVG: one panel per series (an actuator, or a
 * channel of one), drawn as steps because an output holds its value until the next write.
 * Booleans plot as 0/1; text writes (serial lines) as ticks on their panel.
 */
import { seriesOf, type SimLogContents, type SimWriteLine } from './sim-log.js';

const W = 900;
const PANEL = 110;
const LEFT = 130;
const RIGHT = 20;
const TOP = 30;
const GAP = 16;

const esc = (s: string): string => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number): string => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(1) : n.toFixed(2));

function numeric(w: SimWriteLine): number | undefined {
  if (typeof w.value === 'number') return w.value;
  if (typeof w.value === 'boolean') return w.value ? 1 : 0;
  return undefined;
}

export function plotSvg(log: SimLogContents, title = 'actuator values'): { svg: string; series: string[] } {
  const groups = new Map<string, SimWriteLine[]>();
  for (const w of log.writes) {
    const key = seriesOf(w);
    const g = groups.get(key);
    if (g) g.push(w); else groups.set(key, [w]);
  }
  const names = [...groups.keys()].sort();
  // Loops, not Math.max(...array): a long run has more writes than a call may take arguments.
  let tMax = 1;
  for (const w of log.writes) if (w.t > tMax) tMax = w.t;
  for (const o of log.other) if (o.t > tMax) tMax = o.t;
  const plotW = W - LEFT - RIGHT;
  const x = (t: number): number => LEFT + (t / tMax) * plotW;
  const height = TOP + names.length * (PANEL + GAP) + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${LEFT}" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  names.forEach((name, i) => {
    const writes = groups.get(name) as SimWriteLine[];
    const top = TOP + i * (PANEL + GAP);
    let lo = 0;
    let hi = 0;
    for (const w of writes) {
      const v = numeric(w);
      if (v !== undefined) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    if (hi === lo) hi = lo + 1;
    const pad = (hi - lo) * 0.05;
    lo -= pad; hi += pad;
    const y = (v: number): number => top + PANEL - ((v - lo) / (hi - lo)) * PANEL;
    parts.push(`<g class="series" data-series="${esc(name)}">`);
    parts.push(`<rect x="${LEFT}" y="${top}" width="${plotW}" height="${PANEL}" fill="#f7f7f7" stroke="#ccc"/>`);
    parts.push(`<text x="${LEFT - 8}" y="${top + PANEL / 2}" text-anchor="end" font-weight="bold">${esc(name)}</text>`);
    parts.push(`<text x="${LEFT - 8}" y="${top + 10}" text-anchor="end" fill="#666">${fmt(hi - pad)}</text>`);
    parts.push(`<text x="${LEFT - 8}" y="${top + PANEL}" text-anchor="end" fill="#666">${fmt(lo + pad)}</text>`);
    if (lo < 0 && hi > 0) parts.push(`<line x1="${LEFT}" x2="${LEFT + plotW}" y1="${y(0).toFixed(1)}" y2="${y(0).toFixed(1)}" stroke="#bbb" stroke-dasharray="4 3"/>`);
    const pts: string[] = [];
    let last: number | undefined;
    for (const w of writes) {
      const v = numeric(w);
      if (v === undefined) {
        parts.push(`<line x1="${x(w.t).toFixed(1)}" x2="${x(w.t).toFixed(1)}" y1="${top}" y2="${top + PANEL}" stroke="#d62"><title>${esc(`${fmt(w.t)} ms: ${String(w.value)}`)}</title></line>`);
        continue;
      }
      if (last !== undefined) pts.push(`${x(w.t).toFixed(1)},${y(last).toFixed(1)}`);
      pts.push(`${x(w.t).toFixed(1)},${y(v).toFixed(1)}`);
      last = v;
    }
    if (last !== undefined) pts.push(`${x(tMax).toFixed(1)},${y(last).toFixed(1)}`);
    if (pts.length) parts.push(`<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="${pts.join(' ')}"/>`);
    parts.push('</g>');
  });
  for (const o of log.other) {
    parts.push(`<line x1="${x(o.t).toFixed(1)}" x2="${x(o.t).toFixed(1)}" y1="${TOP}" y2="${TOP + names.length * (PANEL + GAP) - GAP}" stroke="#c00" stroke-width="2"><title>${esc(`${fmt(o.t)} ms: ${o.kind}`)}</title></line>`);
  }
  const axisY = TOP + names.length * (PANEL + GAP);
  for (let k = 0; k <= 5; k++) {
    const t = (tMax * k) / 5;
    parts.push(`<text x="${x(t).toFixed(1)}" y="${axisY + 12}" text-anchor="middle" fill="#444">${(t / 1000).toFixed(2)} s</text>`);
  }
  parts.push('</svg>');
  return { svg: `${parts.join('\n')}\n`, series: names };
}
