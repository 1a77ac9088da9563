// Folding a burst of events into one call: `fn` runs once `ms` after the last bump. The datastore watch
// and the kernel watch both wake the agent this way.
export interface Debounced {
  bump(): void;
  cancel(): void;
}

export function debounce(fn: () => void, ms: number): Debounced {
  let timer: NodeJS.Timeout | null = null;
  return {
    bump() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, ms);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
