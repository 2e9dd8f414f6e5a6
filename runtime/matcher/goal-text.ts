/**
 * What a goal's characters mean, before any word is read: text pasted from a phone or a chat
 * carries full-width letters ("ＳＴＯＰ"), zero-width joiners and spaces inside words ("st\u200bop"),
 * and a stop sign emoji. Left as they are, a stop request would not be recognised (a miss lets
 * the running goal go on) and a command would not match. Superscripts and other scripts' digits
 * are left alone: "² meters" is no number of meters.
 */
import { sha256Hex } from '../../lib/hash.js';

const FULL_WIDTH = /[\uFF01-\uFF5E]/g;
const INVISIBLE = /[\p{Cf}\u00AD]/gu;
const STOP_SIGNS = /[\u{1F6D1}\u26D4\u{1F6AB}]\uFE0F?/gu;

export function canonicalGoalText(goal: string): string {
  return goal
    .replace(INVISIBLE, '')
    .replace(FULL_WIDTH, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/\u3000/g, ' ')
    .replace(STOP_SIGNS, ' stop ');
}
/** Lower case, punctuation and symbols to spaces, whitespace collapsed (DESIGN.md). */
export function normalizeGoal(goal: string): string {
  return goal.toLowerCase().replace(/[\p{P}\p{S}]/gu, ' ').replace(/\s+/g, ' ').trim();
}

/** First 16 hex chars of sha256 of the normalized goal. */
export function goalSignature(goal: string): string {
  return sha256Hex(normalizeGoal(goal)).slice(0, 16);
}

