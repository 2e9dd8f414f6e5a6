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

/** Device words a later part may refer back to with "it" ("turn on the led, then turn it off"). */
const DEVICE_WORDS: Readonly<Record<string, string>> = {
  gripper: 'gripper', claw: 'gripper', grabber: 'gripper', arm: 'arm', led: 'led', light: 'led', lamp: 'led', buzzer: 'buzzer',
  winch: 'winch', cable: 'winch', rope: 'winch', controller: 'controller',
};

function deviceOf(part: string): string | undefined {
  let found: string | undefined;
  for (const w of part.toLowerCase().split(/[^a-z]+/)) if (Object.hasOwn(DEVICE_WORDS, w)) found = DEVICE_WORDS[w];
  return found;
}

/** "it"/"them" in a part that names no device means the device of the parts before it. */
function resolvePronouns(parts: string[]): string[] {
  let last: string | undefined;
  return parts.map((part) => {
    const own = deviceOf(part);
    const out = !own && last !== undefined ? part.replace(/\b(it|them)\b/i, `the ${last}`) : part;
    last = own ?? last;
    return out;
  });
}

/** "open the gripper, then raise the arm; beep" -> three parts. */
export function splitParts(goal: string): string[] {
  const strong = goal.split(STRONG_RE).map(clean).filter((p) => p.length > 0);
  const parts = strong.flatMap(splitWeak);
  return parts.length > 1 ? resolvePronouns(parts) : parts;
}
