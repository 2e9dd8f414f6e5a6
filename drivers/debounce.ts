/**
 * The input filter for an e-stop button (and bumpers): a press is reported on the first active
 * sample, never delayed, so a short press or a chattering contact cannot hide it; only the
 * release is debounced (reported once the input has stayed inactive for `ms`). Samples that
 * repeat the current level change nothing.
 */
export interface PressFilter {
  sample(active: boolean): void;
  stop(): void;
}

export function pressFilter(onChange: (active: boolean) => void, ms: number): PressFilter {
  let reported: boolean | undefined;
  let releaseTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  const clear = (): void => {
    if (releaseTimer) clearTimeout(releaseTimer);
    releaseTimer = undefined;
  };
  return {
    sample(active) {
      if (stopped) return;
      if (active) {
        clear();
        if (reported !== true) { reported = true; onChange(true); }
        return;
      }
      if (reported === undefined || ms <= 0) {
        if (reported !== false) { reported = false; onChange(false); }
        return;
      }
      if (reported === false || releaseTimer) return;
      releaseTimer = setTimeout(() => {
        releaseTimer = undefined;
        if (!stopped && reported === true) { reported = false; onChange(false); }
      }, ms);
    },
    stop() {
      stopped = true;
      clear();
    },
  };
}
