/** Table output for `run-follower --check-board` and `llmos board check`. */
import type { BoardCheckReport } from '../safety/board-check.js';

export { checkBoard } from '../safety/board-check.js';

export function formatBoardCheck(report: BoardCheckReport): string {
  if (report.error) return `board profile invalid\n  ${report.error.code}: ${report.error.message}`;
  const header = ['device', 'kind', 'type', 'driver', 'status', 'detail'];
  const rows = report.rows.map((r) => [r.name, r.kind, r.type, r.driver, r.ok ? 'ok' : 'MISSING', r.detail]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ');
  return [`board "${report.board}" (${report.source})`, line(header), ...rows.map(line), report.ok ? 'all devices found' : 'some devices were not found'].join('\n');
}
