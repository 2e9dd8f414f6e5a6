/**
 * Phrasal verbs whose particle may stand apart from the verb: "reel the cable in", "turn the led
 * on", "put the object down", "let the rope out". The particle is folded into the verb (so "in"
 * and "out" carry a direction for the winch, "down" in "put ... down" is not "lower"), and
 * particles that only intensify ("open up the gripper") disappear.
 */

/** verb -> particle -> replacement tokens (looked up like single words). */
export const PHRASAL: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  reel: { in: ['reel', 'reel_in'], out: ['reel', 'reel_out'], up: ['reel', 'reel_in'] },
  winch: { in: ['winch', 'reel_in'], out: ['winch', 'reel_out'], up: ['winch', 'reel_in'], down: ['winch', 'reel_out'] },
  wind: { in: ['wind_in'], up: ['reel', 'reel_in'], out: ['unwind'] },
  spool: { in: ['reel', 'reel_in'], out: ['reel', 'reel_out'] },
  pull: { in: ['pull_in'] },
  haul: { in: ['pull_in'], up: ['pull_in'] },
  draw: { in: ['pull_in'] },
  let: { out: ['let_out'], go: ['release'], down: ['move', 'down'] },
  pay: { out: ['pay_out'] },
  feed: { out: ['pay_out'] },
  put: { down: ['put_down'], up: ['move', 'up'], on: ['switch', 'on'], off: ['switch', 'off'] },
  set: { down: ['set_down'] },
  lay: { down: ['lay_down'] },
  place: { down: ['place_down'] },
  pick: { up: ['pick_up'] },
  turn: { on: ['turn_switch', 'on'], off: ['turn_switch', 'off'] },
  switch: { on: ['switch', 'on'], off: ['switch', 'off'] },
  flip: { on: ['switch', 'on'], off: ['switch', 'off'] },
  power: { on: ['switch', 'on'], off: ['switch', 'off'], up: ['switch', 'on'], down: ['switch', 'off'] },
  shut: { off: ['switch', 'off'], down: ['switch', 'off'] },
  light: { up: ['led', 'on'] },
  bring: { down: ['move', 'down'], up: ['move', 'up'], home: ['return', 'home'], back: ['return'] },
  send: { home: ['return', 'home'], back: ['return'] },
  move: { down: ['move', 'down'], up: ['move', 'up'] },
  open: { up: ['open'] },
  close: { up: ['close'] },
  clamp: { down: ['clamp'] },
  lift: { up: ['lift'] },
  raise: { up: ['raise'] },
  lower: { down: ['lower'] },
};

/** Words that may stand between a verb and its particle: articles, pronouns, nouns. */
const BETWEEN_STOP = new Set(['for', 'to', 'at', 'by', 'with', 'from', 'into', 'onto', 'and', 'then', 'until', 'while', 'of', 'in', 'out', 'on', 'off', 'up', 'down']);
const NUMBER_RE = /^[-+]?(\d+(\.\d+)?|\.\d+)$/;
const DETERMINERS = new Set(['the', 'a', 'an', 'my', 'your', 'its', 'this', 'that', 'top']);
const SWITCH_VERBS = new Set(['turn', 'switch', 'power', 'put', 'flip', 'light', 'leave', 'keep', 'stay']);
const ARM_WORDS = new Set(['arm', 'arms', 'shoulder', 'boom', 'limb']);
const OBJECT_WORDS = new Set(['object', 'item', 'ball', 'block', 'cube', 'payload', 'load', 'cargo', 'package', 'thing', 'box', 'it', 'them']);
const GRIPPER_WORDS = new Set(['gripper', 'claw', 'hand', 'grabber', 'pincer', 'pincers', 'jaw', 'jaws']);

/** Folds separated particles into their verbs ("reel the cable in" -> "reel reel_in the cable"). */
export function foldPhrasal(tokens: readonly string[]): string[] {
  const out = [...tokens];
  // "clamp down on the object": "on" before an object is a preposition, not "switched on".
  for (let i = 1; i < out.length - 1; i++) {
    if (out[i] === 'on' && DETERMINERS.has(out[i + 1] as string) && !SWITCH_VERBS.has(out[i - 1] as string)) out[i] = 'upon';
  }
  for (let i = 0; i < out.length; i++) {
    const particles = Object.hasOwn(PHRASAL, out[i] as string) ? PHRASAL[out[i] as string] : undefined;
    if (!particles) continue;
    for (let k = i + 1; k < out.length && k <= i + 4; k++) { // at most three words between
      const t = out[k] as string;
      if (Object.hasOwn(particles, t)) {
        out.splice(k, 1);
        out.splice(i, 1, ...(particles[t] as readonly string[]));
        break;
      }
      if (BETWEEN_STOP.has(t) || NUMBER_RE.test(t)) break;
    }
  }
  // Verbs whose sense depends on their object: "put the arm down" lowers it, "drop the arm" too.
  const hasArm = out.some((t) => ARM_WORDS.has(t));
  const hasObject = out.some((t) => OBJECT_WORDS.has(t) || GRIPPER_WORDS.has(t));
  if (hasArm && !hasObject) {
    for (let i = 0; i < out.length; i++) {
      if (out[i] === 'put_down' || out[i] === 'set_down' || out[i] === 'drop') out.splice(i, 1, 'move', 'down');
    }
  }
  // "lift the ball" picks it up, "lower the object" puts it down (no arm named).
  const hasThing = out.some((t) => OBJECT_WORDS.has(t) && t !== 'it' && t !== 'them');
  if (hasThing && !hasArm && !out.some((t) => GRIPPER_WORDS.has(t))) {
    for (let i = 0; i < out.length; i++) {
      if (out[i] === 'lift' || out[i] === 'raise' || out[i] === 'hoist') out[i] = 'pick_up';
      else if (out[i] === 'lower') out[i] = 'put_down';
    }
  }
  return out;
}
