/**
 * Splits a multi-step goal into its parts: on "then", "and then", ";", ", then", "after that",
 * "followed by" and sentence ends always; on "and" and "," only when both sides read as commands
 * ("turn on the led and beep", not "drive forward and back" or "read the distance and the battery").
 */

const STRONG_RE = /\s*(?:;|,?\s+and\s+then\s+|,?\s+then\s+|,\s*then\s*|,?\s+after\s+that,?\s+|,?\s+afterwards,?\s+|,?\s+followed\s+by\s+|\.\s+then\s+|\.\s+(?=[A-Za-z]))\s*/i;
const WEAK_RE = /\s*(?:,?\s+and\s+|,\s*)\s*/i;
const LEAD_RE = /^(?:first|firstly|then|and|finally|lastly|next|also)[,\s]+/i;
const NOT_A_START = new Set(['the', 'a', 'an', 'my', 'your', 'its', 'it', 'this', 'that', 'these', 'those', 'his', 'her', 'their', 'our', 'please', 'ok', 'okay', 'now', 'then', 'too', 'again', 'back', 'forth', 'down', 'up', 'left', 'right', 'forward', 'backward', 'on', 'off', 'in', 'out', 'slowly', 'quickly', 'carefully', 'gently', 'so', 'yes', 'no', 'thanks', 'thank', 'both', 'all']);
/** One-word commands that stand alone on a side of "and". */
const LONE_VERBS = new Set(['beep', 'wave', 'nod', 'honk', 'wait', 'pause', 'dance', 'jump', 'fly', 'sing', 'blink', 'buzz', 'chirp', 'grip', 'grab', 'scan', 'stop', 'halt', 'freeze', 'spin', 'shake', 'sleep', 'bow', 'run', 'walk', 'swim', 'speak', 'talk', 'whistle', 'clap', 'smile', 'laugh', 'cry', 'reverse', 'advance', 'retreat', 'ping', 'flash']);

function clean(part: string): string {
  return part.trim().replace(LEAD_RE, '').replace(/[.;,!]+$/, '').trim();
}

function commandLike(side: string): boolean {
  const words = side.toLowerCase().replace(/[^a-z0-9\s-]/g, ' ').split(/\s+/).filter(Boolean);
  const first = words[0];
  if (first === undefined || NOT_A_START.has(first) || /^\d/.test(first)) return false;
  return words.length > 1 || LONE_VERBS.has(first);
}

function splitWeak(piece: string): string[] {
  const sides = piece.split(WEAK_RE).map(clean).filter((p) => p.length > 0);
  if (sides.length < 2) return [piece];
  // Split only when every side is a command on its own ("forward and back" is one goal).
  return sides.every(commandLike) ? sides : [piece];
}

/** "open the gripper, then raise the arm; beep" -> three parts. */
export function splitParts(goal: string): string[] {
  const strong = goal.split(STRONG_RE).map(clean).filter((p) => p.length > 0);
  return strong.flatMap(splitWeak);
}
