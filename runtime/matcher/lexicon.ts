/**
 * The matcher's vocabulary: which words mean the same thing (concepts), which words are
 * critical opposites (polarity classes), which carry no meaning (stopwords), multiword phrases,
 * number words and units. Data only; runtime/matcher/analyze.ts applies it.
 *
 * Weights say how much a concept matters to intent: 1.5 for critical polarity words, 1 for
 * actions and objects, 0.5 for actuator nouns that goals often leave implicit, ~0.15 for
 * generic verbs and nouns ("make", "tool", "robot").
 */

import { dict } from '../../lib/dict.js';
import { TOOLS } from '../../safety/tools/index.js';

export interface ConceptGroup {
  id: string;
  weight: number;
  words: readonly string[];
  /** Other concepts this word also implies ("raise" = move + up). */
  also?: readonly string[];
}

/** Opposite poles: goals with different poles of one class never pair. */
export interface PolarityClass {
  id: string;
  poles: Readonly<Record<string, readonly string[]>>;
}

export const POLARITY_WEIGHT = 1.5;
export const UNKNOWN_WORD_WEIGHT = 0.7;
/** A quantity's kind (Q:length, Q:angle, ...): shared when goal and trace both give one. */
export const QUANTITY_WEIGHT = 0.5;

export const POLARITY: readonly PolarityClass[] = [
  { id: 'LR', poles: {
    L: ['left', 'counterclockwise', 'anticlockwise', 'ccw', 'port', 'leftward', 'leftwards'],
    R: ['right', 'clockwise', 'cw', 'starboard', 'rightward', 'rightwards'],
  } },
  { id: 'FB', poles: {
    F: ['forward', 'forwards', 'fwd', 'forth', 'straight', 'ahead', 'onward', 'onwards', 'front', 'frontward', 'frontwards', 'advance', 'advancing'],
    B: ['backward', 'backwards', 'bwd', 'back', 'reverse', 'reversing', 'rearward', 'rearwards', 'behind', 'retreat', 'backup'],
  } },
  { id: 'UD', poles: {
    U: ['up', 'upward', 'upwards', 'raise', 'raised', 'lift', 'lifted', 'elevate', 'higher', 'ascend', 'rise', 'hoist', 'skyward', 'uppermost'],
    D: ['down', 'downward', 'downwards', 'lower', 'lowered', 'descend', 'sink', 'lowest'],
  } },
  { id: 'OC', poles: {
    O: ['open', 'opened', 'opening', 'release', 'unclamp', 'ungrip', 'loosen', 'spread', 'widen', 'unlock', 'unclench', 'drop'],
    C: ['close', 'closed', 'closing', 'shut', 'tight', 'tightly', 'grab', 'grip', 'grasp', 'clamp', 'squeeze', 'pinch', 'clench', 'tighten', 'clasp', 'seize', 'grabbed'],
  } },
  // on/off and start/stop share one class: "stop the winch" = "turn the winch off".
  { id: 'ACT', poles: {
    ON: ['on', 'illuminate', 'start', 'started', 'begin', 'enable', 'enabled', 'activate', 'engage', 'launch', 'commence', 'resume', 'ignite'],
    OFF: ['off', 'douse', 'stop', 'stopped', 'halt', 'disable', 'disabled', 'deactivate', 'cease', 'kill', 'freeze', 'brake', 'silence', 'mute', 'extinguish', 'quit'],
  } },
  { id: 'IO', poles: {
    IN: ['retract', 'retracted', 'withdraw', 'inward', 'inwards', 'reel_in', 'pull_in', 'wind_in'],
    OUT: ['extend', 'extended', 'outward', 'outwards', 'unwind', 'unreel', 'unspool', 'reel_out', 'let_out', 'pay_out'],
  } },
  { id: 'SPD', poles: {
    FAST: ['fast', 'faster', 'quick', 'quickly', 'rapid', 'rapidly', 'swift', 'swiftly', 'hurry', 'speedy', 'full_speed', 'max_speed'],
    SLOW: ['slow', 'slower', 'slowly', 'gently', 'gentle', 'carefully', 'gradually', 'cautiously', 'softly', 'leisurely'],
  } },
  { id: 'INC', poles: {
    MORE: ['increase', 'more', 'louder', 'brighter', 'boost', 'amplify', 'maximize', 'maximise'],
    LESS: ['decrease', 'reduce', 'less', 'quieter', 'dimmer', 'dim', 'minimize', 'minimise', 'lessen'],
  } },
];

export const NEGATIONS: readonly string[] = ['not', 'no', 'never', 'without', 'dont', 'nor', 'neither', 'cannot', 'avoid'];

export const STOPWORDS: readonly string[] = [
  'a', 'an', 'the', 'this', 'that', 'these', 'those', 'my', 'your', 'our', 'its', 'his', 'her', 'their', 'me', 'you', 'it',
  'us', 'them', 'i', 'we', 'he', 'she', 'they', 'please', 'kindly', 'can', 'could', 'would', 'will', 'shall', 'should', 'may',
  'might', 'must', 'just', 'now', 'then', 'to', 'of', 'for', 'by', 'with', 'using', 'use', 'in', 'into', 'onto', 'at', 'from',
  'via', 'as', 'and', 'or', 'so', 'do', 'does', 'did', 'done', 'doing', 'be', 'is', 'are', 'was', 'were', 'been', 'being', 'am',
  'have', 'has', 'had', 'let', 'lets', 'want', 'need', 'like', 'some', 'any', 'all', 'very', 'really', 'quite', 'also', 'ok',
  'okay', 'try', 'attempt', 'about', 'there', 'here', 'over', 'out', 'say', 'says', 'said', 'make', 'makes', 'made', 'making',
  'perform', 'performs', 'execute', 'executes', 'carry', 'get', 'go_ahead', 'same', 'again', 'time_now', 'right_now', 'right_away',
  'immediately', 'upon', 'way', 'still', 'moment', 'play', 'away', 'bit', 'little', 'slightly', 'real', 'new', 'simple', 'basic', 'small', 'quick_', 'which',
  'what', 'how', 'whats', 'is_left', 'through', 'up_to', 'until', 'after', 'before', 'while', 'when', 'if', 'its', 'own', 'one_',
  'kind', 'sort', 'type', 'current', 'currently', 'present', 'tell', 'show', 'give', 'report', 'let_me_know', 'know', 'if_', 'either',
  'ask', 'request', 'take', 'emit', 'around', 'pls', 'plz', 'u', 'ya', 'short', 'brief', 'tiny', 'everyone', 'everybody', 'people', 'folks',
];

export const CONCEPTS: readonly ConceptGroup[] = [
  // Generic actions: they say little about intent.
  { id: 'MOVE', weight: 0.35, words: ['move', 'moving', 'moved', 'go', 'goes', 'going', 'went', 'drive', 'driving', 'drove', 'travel', 'roll', 'proceed', 'head', 'navigate', 'ride', 'walk', 'step', 'scoot', 'cruise', 'position', 'place', 'point', 'bring', 'aim', 'orient', 'shift', 'swing', 'motion', 'locomote', 'come', 'trace', 'creep', 'crawl', 'glide', 'steer_to'] },
  { id: 'SET', weight: 0.15, words: ['set', 'put', 'adjust', 'configure', 'change', 'make_set'] },
  { id: 'SHAPE', weight: 0.1, words: ['pattern', 'shape', 'path', 'route', 'trajectory', 'course', 'figure'] },
  { id: 'YES', weight: 0.1, words: ['yes', 'yeah', 'yep', 'agree', 'agreement'] },
  { id: 'CHARGE', weight: 1, words: ['charge_verb', 'recharge', 'dock', 'charging'] },
  { id: 'CREATE', weight: 0.15, words: ['create', 'build', 'built', 'write', 'wrote', 'written', 'save', 'store', 'generate', 'develop', 'code', 'implement', 'produce', 'craft', 'construct', 'author', 'scaffold', 'design', 'setup'] },
  { id: 'PROGRAM', weight: 0.15, words: ['program', 'app', 'application', 'tool', 'script', 'utility', 'software', 'project', 'routine', 'function', 'module'] },
  { id: 'SWITCH', weight: 0.15, words: ['switch', 'toggle', 'flip', 'power', 'turn_switch'] },
  { id: 'ROBOT', weight: 0.3, words: ['robot', 'rover', 'base', 'bot', 'car', 'vehicle', 'chassis', 'yourself', 'itself', 'wheels', 'wheel', 'buggy', 'machine', 'platform'] },
  { id: 'READ', weight: 0.5, words: ['read', 'reading', 'check', 'measure', 'measurement', 'sense', 'sample', 'query', 'poll', 'obtain', 'monitor', 'detect', 'inspect', 'look', 'determine', 'find', 'estimate', 'gauge'] },
  { id: 'LEVEL', weight: 0.15, words: ['level', 'value', 'percentage', 'amount', 'remaining', 'status_level', 'left_over', 'much', 'many'] },
  // Where and what about: words that name the setting of an action more than the action.
  { id: 'PLACE', weight: 0.15, words: ['area', 'room', 'surroundings', 'surrounding', 'environment', 'vicinity', 'space', 'zone', 'region', 'place_noun', 'scene', 'neighborhood', 'neighbourhood'] },
  { id: 'GENERIC', weight: 0.1, words: ['angle', 'volume', 'loudness', 'setting', 'settings', 'output', 'signal', 'command_word'] },
  { id: 'SENSOR', weight: 0.25, words: ['sensor', 'sensors', 'sensing', 'meter_device'] },

  // Robot actions.
  { id: 'TURN', weight: 1, words: ['turn', 'turning', 'turned', 'rotate', 'rotation', 'spin', 'spun', 'pivot', 'swivel', 'yaw', 'twist', 'revolve', 'steer', 'face', 'veer'] },
  { id: 'WAVE', weight: 1, words: ['wave', 'waving', 'waved', 'wag'], also: ['GREET'] },
  { id: 'GREET', weight: 0.25, words: ['hello', 'hi', 'hey', 'greet', 'greeting', 'salute', 'welcome', 'howdy', 'hiya'] },
  { id: 'FAREWELL', weight: 0.6, words: ['goodbye', 'bye', 'farewell', 'adieu', 'cya'] },
  { id: 'BLINK', weight: 1, words: ['blink', 'flash', 'flicker', 'strobe', 'wink', 'blinker'] },
  { id: 'BEEP', weight: 1, words: ['beep', 'buzz', 'honk', 'chirp', 'bleep', 'sound', 'tone', 'ring', 'toot', 'noise', 'alarm', 'alert'] },
  { id: 'DANCE', weight: 1, words: ['dance', 'wiggle', 'jiggle', 'shimmy', 'boogie', 'groove', 'party'] },
  { id: 'NOD', weight: 1, words: ['nod', 'nodding', 'yes_gesture'] },
  { id: 'SHAKE', weight: 1, words: ['shake', 'shaking', 'wobble', 'rattle'] },
  { id: 'HOME', weight: 1, words: ['home', 'return', 'origin', 'park', 'neutral', 'center', 'centre', 'middle', 'default', 'initial', 'reset', 'start_position', 'zero', 'idle_position', 'stow', 'tuck'] },
  { id: 'CALIBRATE', weight: 1, words: ['calibrate', 'calibration', 'tune_up'] },
  { id: 'SCAN', weight: 1, words: ['scan', 'sweep', 'survey', 'look_around', 'explore', 'patrol'] },
  { id: 'SQUARE', weight: 1, words: ['square', 'box', 'rectangle'] },
  { id: 'CIRCLE', weight: 1, words: ['circle', 'loop', 'orbit', 'round'] },
  { id: 'PICKUP', weight: 1, words: ['pick', 'pickup', 'pick_up', 'fetch', 'collect', 'retrieve', 'gather'] },
  { id: 'PUTDOWN', weight: 1, words: ['put_down', 'set_down', 'deposit', 'place_down', 'lay_down'] },
  { id: 'WAIT', weight: 1, words: ['wait', 'waiting', 'pause', 'sleep', 'delay', 'idle', 'rest', 'hold_on', 'standby', 'do_nothing', 'stand_by', 'linger', 'stay'] },
  { id: 'SEND', weight: 0.5, words: ['send', 'transmit', 'message', 'command'] },
  { id: 'PING', weight: 1, words: ['ping', 'pong', 'heartbeat'] },
  { id: 'STATUS', weight: 1, words: ['status', 'state', 'health', 'diagnostics', 'diagnostic', 'condition'] },
  { id: 'VERSION', weight: 1, words: ['version', 'firmware', 'revision'] },
  { id: 'ESTOP', weight: 1, words: ['emergency', 'estop', 'e_stop', 'panic'] },
  { id: 'SPEED', weight: 0.5, words: ['speed', 'velocity', 'pace'] },
  { id: 'MAX', weight: 0.15, words: ['maximum', 'max', 'full', 'fully', 'all_the_way', 'completely', 'wide'] },
  { id: 'HALF', weight: 1, words: ['halfway', 'half_way', 'partially', 'partly'] },

  // Robot objects. Actuator nouns weigh less: goals often leave them implicit.
  { id: 'ARM', weight: 0.5, words: ['arm', 'shoulder', 'boom', 'limb', 'manipulator'] },
  { id: 'GRIPPER', weight: 0.5, words: ['gripper', 'claw', 'hand', 'grabber', 'pincer', 'pincers', 'jaw', 'jaws', 'effector', 'end_effector', 'fingers'] },
  { id: 'LED', weight: 0.5, words: ['led', 'leds', 'light', 'lights', 'lamp', 'indicator', 'bulb', 'lantern', 'beacon'] },
  { id: 'BUZZER', weight: 0.5, words: ['buzzer', 'speaker', 'horn', 'beeper', 'piezo', 'siren'], also: [] },
  { id: 'WINCH', weight: 0.5, words: ['winch', 'reel', 'spool', 'windlass', 'cable', 'rope', 'tether', 'line_spool'] },
  { id: 'SERIAL', weight: 0.5, words: ['uart', 'serial', 'controller', 'board', 'microcontroller', 'mcu', 'arduino', 'device', 'peripheral'] },
  { id: 'DISTANCE', weight: 1, words: ['distance', 'range', 'proximity', 'obstacle', 'obstacles', 'far', 'ultrasonic', 'sonar', 'lidar', 'rangefinder', 'clearance', 'gap', 'nearest', 'closest', 'wall'] },
  { id: 'BATTERY', weight: 1, words: ['battery', 'batteries', 'charge', 'voltage', 'juice', 'energy', 'power_level'] },
  { id: 'CAMERA', weight: 1, words: ['camera', 'photo', 'picture', 'snapshot', 'image'] },
  { id: 'OBJECT', weight: 0.4, words: ['object', 'item', 'ball', 'block', 'cube', 'thing', 'thing_object', 'payload', 'load', 'cargo', 'package', 'box_object'] },

  // Software (the seed's own example goals).
  { id: 'CALCULATOR', weight: 1, words: ['calculator', 'calc', 'adder', 'arithmetic'] },
  { id: 'PYTHON', weight: 1, words: ['python', 'py', 'python3', 'pythonic'] },
  { id: 'JAVASCRIPT', weight: 1, words: ['javascript', 'js', 'node', 'nodejs', 'typescript', 'ts'] },
  { id: 'RUN', weight: 0.3, words: ['run', 'running', 'ran', 'invoke', 'exec'] },
  { id: 'TEST', weight: 1, words: ['test', 'tests', 'testing', 'unittest', 'spec', 'specs'] },
  { id: 'FILE', weight: 0.5, words: ['file', 'files', 'document', 'doc'] },
  { id: 'DELETE', weight: 1, words: ['delete', 'remove', 'erase', 'clean', 'purge', 'wipe'] },
  { id: 'LIST', weight: 1, words: ['list', 'enumerate', 'listing'] },
  { id: 'WEB', weight: 1, words: ['web', 'website', 'webpage', 'site', 'html', 'http'] },
  { id: 'SERVER', weight: 1, words: ['server', 'service', 'backend', 'api', 'endpoint'] },
  { id: 'TODO', weight: 1, words: ['todo', 'task_list', 'checklist'] },
];

/**
 * Multiword phrases, matched on tokens before anything else. The replacement tokens are looked
 * up like single words ("turn on" is a switch, not a rotation; "how far" asks for a distance).
 */
export const PHRASES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['turn on', ['turn_switch', 'on']], ['turn off', ['turn_switch', 'off']],
  ['switch on', ['switch', 'on']], ['switch off', ['switch', 'off']],
  ['power on', ['switch', 'on']], ['power off', ['switch', 'off']], ['power up', ['switch', 'on']], ['power down', ['switch', 'off']],
  ['shut off', ['switch', 'off']], ['shut down', ['switch', 'off']], ['light up', ['led', 'on']], ['fire up', ['on']],
  ['kick off', ['start']], ['let go', ['release']], ['let go of', ['release']],
  ['pick up', ['pick_up']], ['put down', ['put_down']], ['set down', ['set_down']], ['lay down', ['lay_down']], ['place down', ['place_down']],
  ['back up', ['move', 'backward']], ['go back', ['move', 'backward']], ['move back', ['move', 'backward']], ['drive back', ['move', 'backward']],
  ['turn around', ['turn', '#180', 'degrees']], ['spin around', ['turn', '#180', 'degrees']], ['about face', ['turn', '#180', 'degrees']],
  ['turn back around', ['turn', '#180', 'degrees']], ['flip around', ['turn', '#180', 'degrees']], ['do a 180', ['turn', '#180', 'degrees']], ['make a 180', ['turn', '#180', 'degrees']],
  ['turn round', ['turn', '#180', 'degrees']], ['spin round', ['turn', '#180', 'degrees']], ['about turn', ['turn', '#180', 'degrees']],
  ['u turn', ['turn', '#180', 'degrees']], ['look around', ['look_around']],
  ['reel in', ['reel', 'reel_in']], ['pull in', ['pull_in']], ['wind in', ['wind_in']], ['wind up', ['reel', 'reel_in']],
  ['reel out', ['reel', 'reel_out']], ['let out', ['let_out']], ['pay out', ['pay_out']],
  ['how far', ['distance']], ['how close', ['distance']], ['how much battery', ['battery']],
  ['is left', ['is_left']], ['are left', ['is_left']], ['have left', ['is_left']], ['has left', ['is_left']], ['left over', ['left_over']],
  ['right now', ['right_now']], ['right away', ['right_away']], ['all right', ['okay']], ['alright', ['okay']],
  ['go ahead and', ['go_ahead']], ['carry out', ['carry']],
  ['counter clockwise', ['counterclockwise']], ['anti clockwise', ['anticlockwise']],
  ['full speed', ['full_speed']], ['top speed', ['full_speed']], ['max speed', ['max_speed']],
  ['start position', ['start_position']], ['starting position', ['start_position']], ['home position', ['home']],
  ['rest position', ['home']], ['neutral position', ['neutral']],
  ['full turn', ['#360', 'degrees']], ['full rotation', ['#360', 'degrees']], ['full circle', ['#360', 'degrees']], ['full revolution', ['#360', 'degrees']],
  ['half turn', ['#180', 'degrees']], ['half a turn', ['#180', 'degrees']], ['quarter turn', ['#90', 'degrees']], ['quarter of a turn', ['#90', 'degrees']],
  ['face the other way', ['turn', '#180', 'degrees']], ['face the opposite way', ['turn', '#180', 'degrees']], ['face the opposite direction', ['turn', '#180', 'degrees']],
  ['turn the other way', ['turn', '#180', 'degrees']], ['half open', ['open', 'halfway']], ['half close', ['close', 'halfway']], ['scan around', ['scan', 'area']],
  ['range finder', ['rangefinder']], ['distance sensor', ['distance', 'sensor']],
  ['release your grip', ['release']], ['loosen your grip', ['release']], ['relax your grip', ['release']], ['relax the gripper', ['release']],
  ['take hold of', ['grab']], ['hang a left', ['turn', 'left']], ['hang a right', ['turn', 'right']], ['back off', ['move', 'backward']], ['back away', ['move', 'backward']],
  ['take in', ['pull_in']], ['do nothing', ['do_nothing']], ['hold still', ['stay']], ['hold for', ['wait']], ['stand still', ['stay']],
  ['e stop', ['e_stop']], ['emergency stop', ['emergency', 'stop']],
  ['all the way', ['all_the_way']], ['half way', ['half_way']],
  ['power level', ['power_level']], ['charge level', ['battery', 'level']],
  ['battery status', ['battery', 'level']], ['battery state', ['battery', 'level']], ['battery health', ['battery', 'level']],
  ['end effector', ['end_effector']], ['stand by', ['stand_by']], ['hold on', ['hold_on']],
  ['to do', ['todo']], ['task list', ['task_list']],
  ['let me know', ['let_me_know']], ['tell me', ['tell']],
];

/** Concepts a polarity word implies besides its pole ("raise" moves something; "grab" uses the gripper). */
export const POLARITY_ALSO: Readonly<Record<string, readonly string[]>> = dict({
  raise: ['MOVE'], raised: ['MOVE'], lift: ['MOVE'], lifted: ['MOVE'], elevate: ['MOVE'], hoist: ['MOVE'], ascend: ['MOVE'], rise: ['MOVE'],
  lower: ['MOVE'], lowered: ['MOVE'], descend: ['MOVE'], sink: ['MOVE'],
  advance: ['MOVE'], advancing: ['MOVE'], retreat: ['MOVE'], reverse: ['MOVE'], reversing: ['MOVE'], backup: ['MOVE'],
  grab: ['GRIPPER'], grabbed: ['GRIPPER'], grip: ['GRIPPER'], grasp: ['GRIPPER'], clamp: ['GRIPPER'], pinch: ['GRIPPER'], clench: ['GRIPPER'], clasp: ['GRIPPER'], seize: ['GRIPPER'],
  release: ['GRIPPER'], unclamp: ['GRIPPER'], ungrip: ['GRIPPER'], unclench: ['GRIPPER'], drop: ['GRIPPER'],
  silence: ['BEEP'], mute: ['BEEP'], extinguish: ['LED'], illuminate: ['LED'], douse: ['LED'],
  reel_in: ['WINCH'], reel_out: ['WINCH'], pull_in: ['WINCH'], wind_in: ['WINCH'], let_out: ['WINCH'], pay_out: ['WINCH'], unreel: ['WINCH'], unspool: ['WINCH'],
});

/** Words whose meaning changes when they lead the goal as its verb ("charge the battery"). */
export const LEADING_VERB: Readonly<Record<string, string>> = dict({ charge: 'charge_verb' });

/** Number words. "a"/"an" count as 1 only directly before a unit ("a meter"). */
export const NUMBER_WORDS: Readonly<Record<string, number>> = dict({
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
  nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
  hundred: 100, dozen: 12, half: 0.5, quarter: 0.25,
});

/** Repetition words that carry their own count. */
export const COUNT_WORDS: Readonly<Record<string, number>> = dict({ once: 1, twice: 2, thrice: 3 });

export type QuantityKind = 'length' | 'angle' | 'time' | 'fraction' | 'count' | 'number';

export interface UnitInfo {
  kind: QuantityKind;
  /** Multiply by this to get SI-ish base units: m, deg, s, fraction (0..1), count. */
  toBase: number;
}

export const UNITS: Readonly<Record<string, UnitInfo>> = dict({
  m: { kind: 'length', toBase: 1 }, meter: { kind: 'length', toBase: 1 }, meters: { kind: 'length', toBase: 1 },
  metre: { kind: 'length', toBase: 1 }, metres: { kind: 'length', toBase: 1 }, mtr: { kind: 'length', toBase: 1 },
  cm: { kind: 'length', toBase: 0.01 }, centimeter: { kind: 'length', toBase: 0.01 }, centimeters: { kind: 'length', toBase: 0.01 },
  centimetre: { kind: 'length', toBase: 0.01 }, centimetres: { kind: 'length', toBase: 0.01 },
  mm: { kind: 'length', toBase: 0.001 }, millimeter: { kind: 'length', toBase: 0.001 }, millimeters: { kind: 'length', toBase: 0.001 },
  millimetre: { kind: 'length', toBase: 0.001 }, millimetres: { kind: 'length', toBase: 0.001 },
  km: { kind: 'length', toBase: 1000 }, kilometer: { kind: 'length', toBase: 1000 }, kilometers: { kind: 'length', toBase: 1000 },
  inch: { kind: 'length', toBase: 0.0254 }, inches: { kind: 'length', toBase: 0.0254 },
  ft: { kind: 'length', toBase: 0.3048 }, foot: { kind: 'length', toBase: 0.3048 }, feet: { kind: 'length', toBase: 0.3048 },
  yard: { kind: 'length', toBase: 0.9144 }, yards: { kind: 'length', toBase: 0.9144 },
  deg: { kind: 'angle', toBase: 1 }, degree: { kind: 'angle', toBase: 1 }, degrees: { kind: 'angle', toBase: 1 }, degs: { kind: 'angle', toBase: 1 },
  rad: { kind: 'angle', toBase: 180 / Math.PI }, radian: { kind: 'angle', toBase: 180 / Math.PI }, radians: { kind: 'angle', toBase: 180 / Math.PI },
  turn: { kind: 'angle', toBase: 360 }, turns: { kind: 'angle', toBase: 360 }, revolution: { kind: 'angle', toBase: 360 },
  revolutions: { kind: 'angle', toBase: 360 }, rev: { kind: 'angle', toBase: 360 }, revs: { kind: 'angle', toBase: 360 },
  rotation: { kind: 'angle', toBase: 360 }, rotations: { kind: 'angle', toBase: 360 },
  s: { kind: 'time', toBase: 1 }, sec: { kind: 'time', toBase: 1 }, secs: { kind: 'time', toBase: 1 }, second: { kind: 'time', toBase: 1 },
  seconds: { kind: 'time', toBase: 1 }, ms: { kind: 'time', toBase: 0.001 }, millisecond: { kind: 'time', toBase: 0.001 },
  milliseconds: { kind: 'time', toBase: 0.001 }, msec: { kind: 'time', toBase: 0.001 }, min: { kind: 'time', toBase: 60 },
  mins: { kind: 'time', toBase: 60 }, minute: { kind: 'time', toBase: 60 }, minutes: { kind: 'time', toBase: 60 },
  h: { kind: 'time', toBase: 3600 }, hr: { kind: 'time', toBase: 3600 }, hour: { kind: 'time', toBase: 3600 }, hours: { kind: 'time', toBase: 3600 },
  percent: { kind: 'fraction', toBase: 0.01 }, pct: { kind: 'fraction', toBase: 0.01 }, percentage: { kind: 'fraction', toBase: 0.01 },
  times: { kind: 'count', toBase: 1 }, time: { kind: 'count', toBase: 1 }, x: { kind: 'count', toBase: 1 }, reps: { kind: 'count', toBase: 1 },
  repetitions: { kind: 'count', toBase: 1 }, cycles: { kind: 'count', toBase: 1 }, rounds: { kind: 'count', toBase: 1 },
});

/** Concepts implied by an actuator or sensor a trace touches (the goal may name them or not): each tool's own (safety/tools/). */
export const IMPLIED_BY_TOOL: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  TOOLS.flatMap((t) => (t.concepts ? [[t.name, t.concepts] as const] : [])),
);
