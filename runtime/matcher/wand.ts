/**
 * Candidate generation that prunes (weighted AND over sorted posting lists, top-k bounds), so a
 * match at 100k traces scores a few dozen traces instead of every trace sharing a concept.
 *
 * The bound: a trace whose matched goal weight is M has overlap <= 2M / (M + G) (G the goal's
 * total weight; its own extra words only lower it). To reach a floor f it needs M >= f·G / (2 - f).
 * Each goal concept is a posting list (traces whose text has it or whose tools imply it) weighing
 * the concept's weight; WAND walks the lists in doc order and only stops at documents whose
 * present lists can sum to the needed M, skipping the rest by binary search. Once `keep`
 * candidates are held, the floor rises to the keep-th best overlap (top-k), and a per-trace
 * bound with the trace's own weight skips more before the exact overlap is computed.
 */

export interface WandList {
  docs: ArrayLike<number>;
  weight: number;
}

/** First index >= from whose value is >= target (galloping, then binary search). */
export function lowerBound(a: ArrayLike<number>, target: number, from: number): number {
  let lo = from;
  let step = 1;
  let hi = from;
  while (hi < a.length && (a[hi] as number) < target) { lo = hi + 1; hi += step; step *= 2; }
  if (hi > a.length) hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((a[mid] as number) < target) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Matched weight a trace needs for its overlap to reach `floor`. */
export function neededWeight(goalTotal: number, floor: number): number {
  return (floor * goalTotal) / (2 - floor);
}

/**
 * Calls visit(doc, matchedWeight) for every document whose matched weight can reach the current
 * need; visit returns the new floor (the keep-th best overlap so far, or the initial floor).
 */
export function wand(lists: readonly WandList[], goalTotal: number, floor: number, visit: (doc: number, matched: number) => number): void {
  const n = lists.length;
  if (n === 0 || goalTotal <= 0) return;
  const pos = new Array<number>(n).fill(0);
  const order = Array.from({ length: n }, (_, i) => i);
  const docOf = (j: number): number => {
    const l = lists[j] as WandList;
    const p = pos[j] as number;
    return p < l.docs.length ? (l.docs[p] as number) : Infinity;
  };
  let need = neededWeight(goalTotal, floor) - 1e-9;
  for (;;) {
    // Lists ordered by their current document (insertion sort: a handful of lists).
    for (let i = 1; i < n; i++) {
      const j = order[i] as number;
      const d = docOf(j);
      let k = i - 1;
      while (k >= 0 && docOf(order[k] as number) > d) { order[k + 1] = order[k] as number; k--; }
      order[k + 1] = j;
    }
    let acc = 0;
    let pivot = -1;
    for (let i = 0; i < n; i++) {
      const j = order[i] as number;
      if (docOf(j) === Infinity) break;
      acc += (lists[j] as WandList).weight;
      if (acc >= need) { pivot = i; break; }
    }
    if (pivot < 0) return;
    const pivotDoc = docOf(order[pivot] as number);
    if (docOf(order[0] as number) === pivotDoc) {
      let matched = 0;
      for (let i = 0; i < n; i++) {
        const j = order[i] as number;
        if (docOf(j) !== pivotDoc) break;
        matched += (lists[j] as WandList).weight;
        pos[j] = (pos[j] as number) + 1;
      }
      const f = visit(pivotDoc, matched);
      need = Math.max(need, neededWeight(goalTotal, f) - 1e-9);
    } else {
      for (let i = 0; i < pivot; i++) {
        const j = order[i] as number;
        pos[j] = lowerBound((lists[j] as WandList).docs, pivotDoc, pos[j] as number);
      }
    }
  }
}

/** Sorted union of two sorted lists without duplicates. */
export function mergeSorted(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a as number[];
  if (a.length === 0) return b as number[];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? (a[i] as number) : Infinity;
    const y = j < b.length ? (b[j] as number) : Infinity;
    if (x === y) { out.push(x); i++; j++; } else if (x < y) { out.push(x); i++; } else { out.push(y); j++; }
  }
  return out;
}

/** Adds a doc under a key: a number while the key has one doc (most exact texts), else a list. */
export function pushDoc(map: Map<number, number | number[]>, key: number, doc: number): void {
  const prev = map.get(key);
  if (prev === undefined) map.set(key, doc);
  else if (typeof prev === 'number') map.set(key, [prev, doc]);
  else prev.push(doc);
}

/** Appends a doc to a key's posting list. */
export function push<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value); else map.set(key, [value]);
}
