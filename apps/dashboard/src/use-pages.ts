import { useCallback, useEffect, useRef, useState } from 'react';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A keyset-paged list: the first page on `deps` change, further pages on `loadMore()`. Pages of
 * an older query are dropped, so a quick change of filters cannot mix two lists.
 */
export function usePages<T>(load: (cursor?: string) => Promise<Page<T>>, deps: unknown[]) {
  const [state, setState] = useState<{ items: T[]; nextCursor: string | null; loading: boolean; loadingMore: boolean; error?: Error }>({ items: [], nextCursor: null, loading: true, loadingMore: false });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const g = ++generation.current;
    setState({ items: [], nextCursor: null, loading: true, loadingMore: false });
    loadRef.current().then(
      (page) => g === generation.current && setState({ items: page.items, nextCursor: page.nextCursor, loading: false, loadingMore: false }),
      (error: Error) => g === generation.current && setState({ items: [], nextCursor: null, loading: false, loadingMore: false, error }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  const loadMore = useCallback(() => {
    const g = generation.current;
    setState((s) => {
      if (!s.nextCursor || s.loadingMore) return s;
      loadRef.current(s.nextCursor).then(
        (page) => g === generation.current && setState((t) => ({ ...t, items: [...t.items, ...page.items], nextCursor: page.nextCursor, loadingMore: false, error: undefined })),
        (error: Error) => g === generation.current && setState((t) => ({ ...t, loadingMore: false, error })),
      );
      return { ...s, loadingMore: true };
    });
  }, []);
  return { ...state, loadMore };
}
