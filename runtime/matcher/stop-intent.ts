/**
 * Stop requests in the words people shout at a moving robot, beyond the fixed phrases: "wait,
 * stop!", "no no no, stop", "stop the robot", "brake", "kill it", "hold position", "don't move",
 * "hit the e-stop", "kill switch", "cut the power". A miss here is worse than a false hit: a
 * stop request the runtime does not recognise lets the running goal go on, while stopping on a
 * sentence that only looked like one costs a restart. So the grammar is generous about what
 * surrounds a stop verb and strict about negation ("don't stop" is never a stop).
 *
 *  - `general`: a stop of all motion (or, with `estop`, the latched e-stop);
 *  - `device`: a stop verb on a named device ("stop the arm"): the board may have a trace for
 *    it ("stop the winch" brakes it), so the caller matches first and stops all motion only
 *    when no trace fits.
 */

export type StopIntent = { kind: 'general'; estop: boolean } | { kind: 'device' };

/** Words shouted before or after the request that change nothing ("wait, no, stop!"). */
const INTERJECTIONS = new Set([
  'wait', 'no', 'nope', 'whoa', 'woah', 'woa', 'hey', 'oh', 'oops', 'uh', 'um', 'ah', 'careful', 'dude', 'man',
  'please', 'now', 'immediately', 'right', 'away', 'at', 'once', 'robot', 'ok', 'okay', 'quickly', 'quick', 'asap', 'instantly',
  'there', 'again', 'already', 'just', 'for', 'god', 'sake', 'sakes', 'damn', 'dammit', 'look', 'watch', 'out', 'danger',
]);
const STOP_VERBS = new Set(['stop', 'halt', 'freeze', 'abort', 'cease', 'brake', 'kill', 'cut', 'quit', 'cancel', 'end']);
/** What a general stop may name: the robot or motion in general, not one device. */
const GENERAL_OBJECTS = new Set([
  'it', 'that', 'this', 'everything', 'all', 'the', 'robot', 'rover', 'bot', 'machine', 'motors', 'motor', 'wheels', 'wheel', 'base',
  'motion', 'movement', 'movements', 'moving', 'actuators', 'actuator', 'engines', 'engine', 'drive', 'drives', 'run', 'goal', 'task',
  'command', 'program', 'whole', 'thing', 'things', 'current', 'your', 'my', 'of', 'them', 'those', 'these', 'going', 'position',
]);
const MOTION_NOUNS = new Set(['motors', 'motor', 'wheels', 'engines', 'engine', 'drive', 'drives', 'actuators', 'motion', 'movement']);
/** Nouns of single devices: "stop the arm" may be a trace of its own. */
const DEVICE_OBJECTS = new Set([
  'arm', 'gripper', 'claw', 'hand', 'grabber', 'winch', 'cable', 'rope', 'buzzer', 'alarm', 'led', 'light', 'lights', 'lamp', 'servo',
  'servos', 'pump', 'fan', 'conveyor', 'belt', 'turret', 'head', 'camera', 'spindle', 'blade', 'relay', 'heater',
]);
/** Things whose pressing is the e-stop. */
const ESTOP_NAMES = new Set([
  'emergency stop', 'e stop', 'estop', 'kill switch', 'killswitch', 'panic button', 'emergency button', 'emergency stop button',
  'e stop button', 'estop button', 'big red button', 'red button', 'emergency', 'emergency brake', 'emergency halt', 'panic stop',
  'emergency shutdown', 'emergency off',
]);
const ESTOP_VERBS = new Set(['hit', 'press', 'push', 'engage', 'trigger', 'activate', 'pull', 'slam', 'use', 'smash', 'throw', 'flip', 'do']);
/** "hold it", "hold position", "stay still", "don't move": requests to be still. */
const STILL = new Set(['hold it', 'hold position', 'hold your position', 'hold still', 'stay still', 'stand still', 'stay put', 'keep still',
  'dont move', 'do not move', 'stop there', 'full stop', 'all stop', 'stop stop', 'enough', 'thats enough', 'that is enough', 'brakes', 'hit the brakes',
  'hit the brake', 'apply the brakes', 'slam the brakes', 'shut it down', 'shut it off', 'cut it out', 'knock it off']);
/** "no" is not here: "no, stop!" is a stop. */
const NEGATIONS = new Set(['dont', 'not', 'never', 'without', 'cannot', 'cant']);
const POWER_WORDS = new Set(['the', 'all', 'power', 'plug', 'motor', 'motors', 'main', 'its', 'your', 'to']);

const strip = (w: readonly string[]): string[] => {
  let a = 0;
  let b = w.length;
  while (a < b && INTERJECTIONS.has(w[a] as string)) a++;
  while (b > a && INTERJECTIONS.has(w[b - 1] as string)) b--;
  return w.slice(a, b);
};

/** "stop" repeated ("stop stop stop", "stop, stop!") is one stop. */
function dedupe(w: readonly string[]): string[] {
  return w.filter((t, i) => i === 0 || t !== w[i - 1]);
}

/**
 * The stop a goal's words ask for, or undefined. `w` is the goal's lower-case words without
 * punctuation, polite openings already removed ("could you", "I need you to").
 */
export function stopIntentOf(all: readonly string[]): StopIntent | undefined {
  // "hold on, stop!": "hold on" is an interjection; "hold it" and "hold position" are requests.
  const words = all.flatMap((t, i) => (t === 'hold' && all[i + 1] === 'on' && i + 2 < all.length) || (t === 'on' && all[i - 1] === 'hold' && i + 1 < all.length) ? [] : [t]);
  const w = dedupe(strip(dedupe(words)));
  if (w.length === 0) return undefined;
  const phrase = w.join(' ');
  // "don't stop", "never halt", "do not stop the robot" are never a stop; "don't move" is one.
  if (w.some((t) => NEGATIONS.has(t))) return phrase === 'dont move' || phrase === 'do not move' || phrase === 'dont you move' ? { kind: 'general', estop: false } : undefined;
  // The e-stop by name, alone or pressed: "e-stop", "hit the e-stop", "press the emergency stop button".
  const pressed = ESTOP_VERBS.has(w[0] as string) ? w.slice(w[1] === 'the' || w[1] === 'an' || w[1] === 'a' ? 2 : 1) : w;
  if (ESTOP_NAMES.has(pressed.join(' ')) || ESTOP_NAMES.has(phrase)) return { kind: 'general', estop: true };
  // "emergency stop the robot", "e-stop everything".
  const lead = w[0] === 'emergency' ? 1 : w[0] === 'e' && w[1] === 'stop' ? 2 : w[0] === 'estop' ? 1 : 0;
  if (lead > 0 && w.slice(lead).every((t) => STOP_VERBS.has(t) || GENERAL_OBJECTS.has(t))) return { kind: 'general', estop: true };
  // Power: "cut the power", "kill all power", "pull the plug" are the e-stop's job.
  if (['cut', 'kill', 'pull'].includes(w[0] as string) && (w.includes('power') || w.includes('plug')) && w.slice(1).every((t) => POWER_WORDS.has(t))) {
    return { kind: 'general', estop: true };
  }
  if (STILL.has(phrase)) return { kind: 'general', estop: false };
  // "all motors off", "turn the motors off", "switch off the wheels": motion off, not the board.
  const off = ['turn', 'switch', 'shut'].includes(w[0] as string) ? w.slice(1) : w;
  if (off.includes('off') && off.some((t) => MOTION_NOUNS.has(t)) && off.every((t) => t === 'off' || GENERAL_OBJECTS.has(t))) return { kind: 'general', estop: false };
  const verb = w[0] as string;
  if (!STOP_VERBS.has(verb)) return undefined;
  const rest = w.slice(1);
  // "cut", "kill" and "end" stop only with an object ("kill it"; "cut" alone is no request).
  if (rest.length === 0) return ['stop', 'halt', 'freeze', 'abort', 'brake', 'cease', 'cancel', 'quit'].includes(verb) ? { kind: 'general', estop: false } : undefined;
  // "stop driving forward", "stop beeping", "stop reeling in the winch": stop what is going on.
  if (verb !== 'cut' && verb !== 'kill' && /ing$/.test(rest[0] as string) && !DEVICE_OBJECTS.has(rest[0] as string) && (rest[0] as string).length > 4) return { kind: 'general', estop: false };
  if (rest.every((t) => GENERAL_OBJECTS.has(t))) {
    // "end the task" / "cancel the command" stop what runs; "end" and "quit" alone name nothing to stop.
    return { kind: 'general', estop: false };
  }
  if (['stop', 'halt', 'freeze', 'brake', 'kill', 'cut'].includes(verb) && rest.some((t) => DEVICE_OBJECTS.has(t)) && rest.every((t) => GENERAL_OBJECTS.has(t) || DEVICE_OBJECTS.has(t) || t === 'and')) {
    return { kind: 'device' };
  }
  return undefined;
}
