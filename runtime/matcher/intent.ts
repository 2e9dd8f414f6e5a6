/**
 * What kind of utterance a goal is, before any matching: only imperatives may replay a trace.
 *  - stop words ("stop", "halt", "freeze", "stop moving", "stop everything") stop motion, and
 *    "emergency stop" / "e-stop" engage the latched e-stop: built in, never matched to a trace;
 *  - questions (yes/no and wh-), statements about the past, requests for information ("how do
 *    I...", "what does ... do") and conditional or deferred goals ("if", "when", "until", "once
 *    the ...", "as soon as", "after X", "when I say go", "in 5 minutes") are not commands;
 *  - polite requests are commands: "could you open the gripper?", "please ...", "I want you to ...".
 * Rules on the first words and a few markers, deterministic and cheap (no model on the board).
 */

import { isEnglishWord } from './english.js';
import { canonicalGoalText } from './goal-text.js';
import { stopIntentOf } from './stop-intent.js';
import { editDistance } from './typos.js';

export type GoalIntent =
  /** `stopFallback`: a stop verb on a device ("stop the arm"): all motion stops when no trace fits. */
  | { kind: 'command'; goal: string; stopFallback?: true }
  | { kind: 'stop'; estop: boolean }
  | { kind: 'not_command'; what: 'question' | 'information request' | 'statement' | 'conditional or deferred goal' | 'operator command'; why: string };

const STOP_FILLER = new Set(['please', 'now', 'immediately', 'right', 'away', 'at', 'once', 'hey', 'robot', 'ok', 'okay', 'quickly', 'asap', 'instantly', 'there']);
/** Operator words that are not goals: no goal text releases an e-stop or powers the board off. */
const OPERATOR = /^(?:release|resume|unlatch|reset|clear|disengage|cancel)(?: the)?(?: (?:e stop|estop|emergency stop|emergency|latch|stop))?$|^(?:power off|power down|shut down|shutdown|reboot|restart|turn off|switch off)(?: the robot| yourself| everything)?$/;

const WH = new Set(['what', 'whats', 'where', 'wheres', 'when', 'why', 'who', 'whom', 'whose', 'which', 'how', 'hows']);
const AUX = new Set(['is', 'are', 'was', 'were', 'am', 'does', 'did', 'has', 'had', 'isnt', 'arent', 'wasnt', 'werent', 'doesnt', 'didnt', 'hasnt', 'hadnt']);
const MODAL = new Set(['can', 'could', 'would', 'will', 'should', 'shall', 'may', 'might', 'must', 'cant', 'couldnt', 'wouldnt', 'wont', 'shouldnt']);
const SUBJECT = new Set(['i', 'you', 'we', 'they', 'he', 'she', 'it', 'someone', 'somebody']);
const DETERMINER = new Set(['the', 'my', 'your', 'our', 'his', 'her', 'their', 'this', 'that', 'these', 'those', 'its']);
const NOUN_FIRST = new Set(['gripper', 'claw', 'hand', 'grabber', 'arm', 'led', 'light', 'lights', 'lamp', 'buzzer', 'winch', 'cable', 'rope', 'battery', 'distance',
  'controller', 'robot', 'rover', 'base', 'motor', 'motors', 'sensor', 'everything', 'all', 'object']);
/** After a noun phrase, these describe a state or a wish ("the led is on", "the arm should be up"). */
const STATE_VERBS = new Set(['is', 'are', 's', 'isnt', 'arent', 'should', 'must', 'needs', 'need', 'ought', 'has', 'have', 'looks', 'seems', 'appears', 'stays', 'remains']);
const PAST_MARKERS = new Set(['yesterday', 'ago', 'already', 'earlier', 'previously', 'was', 'were', 'been', 'last']);
const DEFERRED = new Set(['later', 'tomorrow', 'tonight', 'eventually', 'someday', 'afterward']);
const TIME_UNITS = new Set(['second', 'seconds', 'sec', 'secs', 's', 'minute', 'minutes', 'min', 'mins', 'hour', 'hours', 'h', 'hr', 'ms']);
const IRREGULAR_PAST = new Set([
  'drove', 'went', 'took', 'did', 'made', 'spun', 'brought', 'ran', 'swung', 'shook', 'threw', 'rose', 'sank', 'began', 'held', 'got',
  'gave', 'put', 'set', 'told', 'said', 'saw', 'left', 'wound', 'lifted', 'moved', 'stopped', 'started',
]);
const NOT_PAST = new Set(['speed', 'need', 'feed', 'proceed', 'exceed', 'succeed', 'embed', 'hundred', 'indeed', 'bed', 'red', 'led', 'shed', 'seed', 'weed', 'fred']);
/** Verbs that take "in" as their particle ("reel in 2 seconds" is not "in 2 seconds"). */
const IN_VERBS = new Set(['reel', 'winch', 'wind', 'pull', 'haul', 'draw', 'bring', 'retract', 'spool']);

function words(goal: string): string[] {
  return canonicalGoalText(goal).toLowerCase()
    .replace(/[’‘`´]/g, "'")
    .replace(/\b(what|where|how|who|that|it|there|here|let)'s\b/g, '$1s')
    .replace(/n't\b/g, 'nt')
    .replace(/'(re|ve|ll|d|m|s)\b/g, ' $1')
    .replace(/[^a-z0-9.\s]/g, ' ')
    .replace(/(\d)\.(?!\d)/g, '$1 ')
    .replace(/(^|\s)\.+|\.+(\s|$)/g, ' ')
    .split(/\s+/).filter(Boolean)
    .map((w) => (w === 'u' || w === 'ya' ? 'you' : w === 'pls' || w === 'plz' ? 'please' : w));
}

/** "stpo", "hlat", "freze": a lone word one slip from a stop word and no English word (stopping is always safe). */
function isMistypedStop(phrase: string): boolean {
  if (!/^[a-z]{3,7}$/.test(phrase) || !['stop', 'halt', 'freeze'].some((w) => editDistance(phrase, w, 1) <= 1)) return false;
  return !isEnglishWord(phrase);
}

function isPast(w: string): boolean {
  if (IRREGULAR_PAST.has(w)) return true;
  return w.length > 4 && w.endsWith('ed') && !NOT_PAST.has(w);
}

/** Strips "please", "could you", "I want you to" ...; returns the remaining words or undefined when not a request. */
function stripPolite(w: string[]): string[] {
  let i = 0;
  const skip = (...xs: string[]): boolean => {
    if (xs.every((x, k) => w[i + k] === x)) { i += xs.length; return true; }
    return false;
  };
  for (let guard = 0; guard < 6; guard++) {
    if (skip('please') || skip('kindly') || skip('ok') || skip('okay') || skip('hey') || skip('robot') || skip('now') || skip('so') || skip('and')) continue;
    // "could you (please) ...", "would you kindly ...", "will you ...", "can you ..."
    if (MODAL.has(w[i] ?? '') && w[i + 1] === 'you' && !AUX.has(w[i + 2] ?? '') && !['be', 'have', 'tell', 'explain', 'describe', 'show'].includes(w[i + 2] ?? '')) { i += 2; continue; }
    if (skip('would', 'you', 'mind') || skip('do', 'you', 'mind')) continue;
    if (skip('i', 'want', 'you', 'to') || skip('i', 'need', 'you', 'to') || skip('i', 'd', 'like', 'you', 'to') || skip('i', 'would', 'like', 'you', 'to') || skip('go', 'ahead', 'and') || skip('let', 'us') || skip('lets')) continue;
    break;
  }
  return w.slice(i);
}

const why = {
  question: 'it asks a question; run-follower executes only commands (say "open the gripper", not "is the gripper open?")',
  info: 'it asks for information, not for an action',
  statement: 'it is a statement (about what happened or what is), not a command; run-follower executes only commands',
  conditional: (marker: string) => `it is conditional or deferred ("${marker}"); run-follower executes a command at once or not at all`,
};

export function classifyGoal(goal: string): GoalIntent {
  const all = words(goal);
  // "could you stop?", "please stop now!": the stop word without politeness or filler.
  // Stop requests in the words people use (stop-intent.ts), and a lone stop word mistyped ("stpo").
  const polite = stripPolite(all);
  const stop = stopIntentOf(polite);
  if (stop?.kind === 'general') return { kind: 'stop', estop: stop.estop };
  if (isMistypedStop(polite.filter((w) => !STOP_FILLER.has(w)).join(' '))) return { kind: 'stop', estop: false };
  if (OPERATOR.test(all.filter((w) => w !== 'please' && w !== 'now').join(' '))) {
    return { kind: 'not_command', what: 'operator command', why: 'it is an operator command, not a goal: release the e-stop with ":release", cmd/estop or SIGUSR2, and stop the service with its own controls' };
  }
  const w = stripPolite(all);
  const first = w[0] ?? '';
  const second = w[1] ?? '';

  // Conditions and deferrals anywhere in the goal ("when" first with an auxiliary is a question).
  for (let i = 0; i < w.length; i++) {
    const t = w[i] as string;
    const next = w[i + 1] ?? '';
    const marker = t === 'if' || t === 'unless' || t === 'until' || t === 'till' || t === 'whenever'
      || (t === 'once' && next !== 'more' && next !== 'again' && (i === 0 || SUBJECT.has(next) || DETERMINER.has(next) || next === 'ready' || next === 'done'))
      || (t === 'when' && !(i === 0 && (AUX.has(next) || MODAL.has(next) || next === 'do')))
      || ((t === 'after' || t === 'before') && !['that', 'this', 'which'].includes(next));
    if (marker) return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional(t) };
    if (t === 'as' && next === 'soon' && w[i + 2] === 'as') return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional('as soon as') };
    if (t === 'in' && next === 'case') return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional('in case') };
    if (DEFERRED.has(t)) return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional(t) };
    if (t === 'on' && (next === 'my' || next === 'your') && ['signal', 'command', 'mark', 'cue', 'go', 'count'].includes(w[i + 2] ?? '')) {
      return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional(`on ${next} ${w[i + 2]}`) };
    }
    if (t === 'in' && i > 0 && !IN_VERBS.has(w[i - 1] ?? '') && (/^\d/.test(next) || ['a', 'an', 'one', 'two', 'three', 'five', 'ten', 'few', 'some', 'half'].includes(next))
      && (TIME_UNITS.has(w[i + 2] ?? '') || TIME_UNITS.has(w[i + 3] ?? ''))) {
      return { kind: 'not_command', what: 'conditional or deferred goal', why: why.conditional(`in ${next} ${w[i + 2]}`) };
    }
  }
  // Information requests.
  if (first === 'explain' || first === 'describe' || (first === 'help' && second === 'me' && (w[2] === 'understand' || w[2] === 'with')) || (w.includes('how') && w.indexOf('how') <= 2 && w[w.indexOf('how') + 1] === 'to')
    || ((first === 'tell' || first === 'show') && second === 'me' && WH.has(w[2] ?? ''))) {
    return { kind: 'not_command', what: 'information request', why: why.info };
  }
  if (WH.has(first)) {
    const info = first === 'how' && (['do', 'does', 'can', 'could', 'would', 'should', 'to'].includes(second)) || (first === 'what' && ['does', 'happens', 'would', 'is'].includes(second) && (second !== 'is' || w[2] === 'the' && w[3] === 'command'));
    return info ? { kind: 'not_command', what: 'information request', why: why.info } : { kind: 'not_command', what: 'question', why: why.question };
  }
  // Yes/no questions: an auxiliary or a modal first ("is the gripper open", "can the arm go higher").
  if (AUX.has(first) || MODAL.has(first) || (first === 'do' && (SUBJECT.has(second) || DETERMINER.has(second) && w.length > 2 && isQuestionTail(w)))
    || (first === 'have' && SUBJECT.has(second))) {
    return { kind: 'not_command', what: 'question', why: why.question };
  }
  // Telegraphic questions: a noun first and a question mark ("gripper open?", "led on?"); an
  // order with a question mark starts with its verb ("open the gripper?").
  if (goal.trim().endsWith('?') && (NOUN_FIRST.has(first) || DETERMINER.has(first))) {
    return { kind: 'not_command', what: 'question', why: why.question };
  }
  // Statements: a subject first, or markers of the past.
  if (SUBJECT.has(first) || (first === 'the' || first === 'my' || first === 'your' || first === 'our') && w.slice(1, 5).some(isPast)) {
    return { kind: 'not_command', what: 'statement', why: why.statement };
  }
  if (w.some((t) => PAST_MARKERS.has(t))) return { kind: 'not_command', what: 'statement', why: why.statement };
  // "gripper is open", "the led's on", "the arm should be up": a state described, not an order.
  if ((DETERMINER.has(first) || NOUN_FIRST.has(first)) && w.slice(1, 4).some((t) => STATE_VERBS.has(t))) {
    return { kind: 'not_command', what: 'statement', why: why.statement };
  }
  return { kind: 'command', goal: w.length === all.length ? goal : w.join(' '), ...(stop?.kind === 'device' ? { stopFallback: true as const } : {}) };
}

/** "do the dance" is a command, "do the lights blink?" a question: a verb after the noun phrase. */
function isQuestionTail(w: string[]): boolean {
  return w.slice(2, 5).some((t) => ['work', 'open', 'close', 'move', 'blink', 'beep', 'turn', 'go', 'have', 'need'].includes(t));
}
