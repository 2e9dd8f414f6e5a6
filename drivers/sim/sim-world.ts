/**
 * The sim board's world: a rectangular room centred on the origin, optional box and circle
 * obstacles, and a rover treated as a point at its range finder (heading 0 = +x, counter-clockwise
 * positive). The rover cannot pass through anything: driving into a wall or an obstacle leaves it
 * at the contact point and reports one collision, with its pose and speed, until it moves away.
 *
 * A world file (YAML or JSON, schemas/sim-world.schema.json) is given per run with
 * `--sim-world FILE` or `sim.world` in the config:
 *
 *   room: { width_m: 4, depth_m: 3 }
 *   start: { x: 0, y: 0, heading_deg: 90 }
 *   obstacles:
 *     - { type: box, x: 1.2, y: 0, width_m: 0.4, depth_m: 0.4 }
 *     - { type: circle, x: -1, y: 0.8, radius_m: 0.2 }
 */
import { LlmosError } from '../../lib/errors.js';
import { assertValid } from '../../lib/validate.js';
import { readYamlFile } from '../../lib/yaml-file.js';

export interface SimObstacle {
  type: 'box' | 'circle';
  x: number;
  y: number;
  width_m?: number;
  depth_m?: number;
  radius_m?: number;
}

export interface SimWorldSpec {
  room?: { width_m?: number; depth_m?: number };
  start?: { x?: number; y?: number; heading_deg?: number };
  battery?: number;
  obstacles?: SimObstacle[];
}

export interface Pose { x: number; y: number; heading: number }

export interface Collision {
  pose: { x: number; y: number; heading_deg: number };
  speed_mps: number;
  /** What was hit: "wall" or "obstacle <index>". */
  with: string;
}

/** Reads and checks a world file; errors name the file and the failing field. */
export function loadSimWorld(file: string): SimWorldSpec {
  const doc = readYamlFile(file, 'ERR_CONFIG_INVALID');
  assertValid('simWorld', doc ?? {}, file, 'ERR_CONFIG_INVALID');
  const spec = (doc ?? {}) as SimWorldSpec;
  const world = new SimWorld(spec);
  const { x, y } = world.pose;
  if (world.clearance(x, y) <= 0) throw new LlmosError('ERR_CONFIG_INVALID', `${file}: /start: (${x}, ${y}) is not free space (outside the room or inside an obstacle)`);
  return spec;
}

const SUBSTEP_S = 0.01;

export class SimWorld {
  readonly pose: Pose;
  private readonly hw: number;
  private readonly hd: number;
  private readonly obstacles: readonly SimObstacle[];
  /** In contact with something (no new collision is reported until the rover moves off it). */
  private touching = false;

  constructor(spec: SimWorldSpec = {}) {
    this.hw = (spec.room?.width_m ?? 5) / 2;
    this.hd = (spec.room?.depth_m ?? 5) / 2;
    this.obstacles = spec.obstacles ?? [];
    this.pose = { x: spec.start?.x ?? 0, y: spec.start?.y ?? 0, heading: ((spec.start?.heading_deg ?? 0) * Math.PI) / 180 };
  }

  /** Free distance along the heading (what a forward range finder sees). */
  distanceAhead(): number {
    return this.ray(this.pose.x, this.pose.y, Math.cos(this.pose.heading), Math.sin(this.pose.heading));
  }

  /**
   * Moves the rover for `dt` seconds at `v` m/s along its heading while it turns at `omega`
   * rad/s. Returns the collision when it reaches something while moving towards it.
   */
  advance(v: number, omega: number, dt: number): Collision | undefined {
    let collision: Collision | undefined;
    for (let left = dt; left > 1e-12; left -= SUBSTEP_S) {
      const h = Math.min(SUBSTEP_S, left);
      this.pose.heading += omega * h;
      if (Math.abs(v) < 1e-12) continue;
      const s = Math.sign(v);
      const dx = s * Math.cos(this.pose.heading);
      const dy = s * Math.sin(this.pose.heading);
      const free = this.ray(this.pose.x, this.pose.y, dx, dy);
      const step = Math.abs(v) * h;
      if (step < free) {
        this.pose.x += dx * step;
        this.pose.y += dy * step;
        if (free - step > 1e-6) this.touching = false;
        continue;
      }
      // Contact: stop at the surface; it stays blocked in this direction.
      this.pose.x += dx * free;
      this.pose.y += dy * free;
      if (!this.touching) {
        this.touching = true;
        collision ??= {
          pose: { x: round(this.pose.x), y: round(this.pose.y), heading_deg: round((this.pose.heading * 180) / Math.PI) },
          speed_mps: round(Math.abs(v)),
          with: this.hitName(this.pose.x, this.pose.y),
        };
      }
    }
    return collision;
  }

  /** Distance from a point to the nearest surface (<= 0: outside the room or inside an obstacle). */
  clearance(x: number, y: number): number {
    let d = Math.min(this.hw - x, x + this.hw, this.hd - y, y + this.hd);
    for (const o of this.obstacles) {
      if (o.type === 'circle') d = Math.min(d, Math.hypot(x - o.x, y - o.y) - (o.radius_m ?? 0));
      else {
        const ex = Math.abs(x - o.x) - (o.width_m ?? 0) / 2;
        const ey = Math.abs(y - o.y) - (o.depth_m ?? 0) / 2;
        d = Math.min(d, ex > 0 || ey > 0 ? Math.hypot(Math.max(ex, 0), Math.max(ey, 0)) : Math.max(ex, ey));
      }
    }
    return d;
  }

  /** Distance along a unit direction to the first surface. */
  private ray(x: number, y: number, dx: number, dy: number): number {
    let best = Infinity;
    // Walls, seen from inside the room.
    if (dx > 1e-12) best = Math.min(best, (this.hw - x) / dx);
    if (dx < -1e-12) best = Math.min(best, (-this.hw - x) / dx);
    if (dy > 1e-12) best = Math.min(best, (this.hd - y) / dy);
    if (dy < -1e-12) best = Math.min(best, (-this.hd - y) / dy);
    for (const o of this.obstacles) best = Math.min(best, o.type === 'circle' ? rayCircle(x, y, dx, dy, o) : rayBox(x, y, dx, dy, o));
    return Math.max(0, best);
  }

  private hitName(x: number, y: number): string {
    let name = 'wall';
    let best = Math.min(this.hw - Math.abs(x), this.hd - Math.abs(y));
    for (const [i, o] of this.obstacles.entries()) {
      const d = Math.abs(new SimWorld({ room: { width_m: 1e6, depth_m: 1e6 }, obstacles: [o] }).clearance(x, y));
      if (d < best) { best = d; name = `obstacle ${i}`; }
    }
    return name;
  }
}

function rayCircle(x: number, y: number, dx: number, dy: number, o: SimObstacle): number {
  const r = o.radius_m ?? 0;
  const fx = x - o.x;
  const fy = y - o.y;
  const b = fx * dx + fy * dy;
  const c = fx * fx + fy * fy - r * r;
  const disc = b * b - c;
  if (disc < 0) return Infinity;
  const t = -b - Math.sqrt(disc);
  if (t >= 0) return t;
  // Inside or on the circle: blocked when moving inwards.
  return c <= 1e-9 && b < 0 ? 0 : Infinity;
}

function rayBox(x: number, y: number, dx: number, dy: number, o: SimObstacle): number {
  const hx = (o.width_m ?? 0) / 2;
  const hy = (o.depth_m ?? 0) / 2;
  let tmin = -Infinity;
  let tmax = Infinity;
  for (const [p, d, c, h] of [[x, dx, o.x, hx], [y, dy, o.y, hy]] as const) {
    if (Math.abs(d) < 1e-12) {
      if (p < c - h || p > c + h) return Infinity;
      continue;
    }
    const t1 = (c - h - p) / d;
    const t2 = (c + h - p) / d;
    tmin = Math.max(tmin, Math.min(t1, t2));
    tmax = Math.min(tmax, Math.max(t1, t2));
  }
  // Behind the rover, or only touching a face it moves away from.
  if (tmax < tmin || tmax <= 1e-9) return Infinity;
  return tmin >= 0 ? tmin : 0;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
