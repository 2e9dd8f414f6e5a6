/**
 * A lookup table without a prototype: looking up a key that came from outside (a goal word, a
 * topic level, a file name) never finds Object.prototype's `constructor`, `toString` or
 * `__proto__`.
 */
export function dict<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}
