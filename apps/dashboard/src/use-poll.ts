import { useEffect, useState } from 'react';

/** Loads `load()` now and again every `intervalMs` while `active(result)` is true. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], intervalMs: number, active: (value: T) => boolean) {
  const [state, setState] = useState<{ value?: T; error?: Error; loading: boolean }>({ loading: true });
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const value = await load();
        if (stopped) return;
        setState({ value, loading: false });
        if (active(value)) timer = setTimeout(tick, intervalMs);
      } catch (error) {
        if (!stopped) setState((s) => ({ ...s, error: error as Error, loading: false }));
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
