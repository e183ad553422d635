import { onScopeDispose, ref } from 'vue';

/** The phone layout's width (the shell's tab bar comes at the same width). */
const QUERY = '(max-width: 600px)';

/**
 * True at phone width, following the window: for what CSS alone cannot change (a two-month date
 * range panel 646 px wide; a table that becomes lines).
 */
export function useNarrow() {
  const mq = window.matchMedia(QUERY);
  const narrow = ref(mq.matches);
  const onChange = (e: MediaQueryListEvent) => {
    narrow.value = e.matches;
  };
  mq.addEventListener('change', onChange);
  onScopeDispose(() => mq.removeEventListener('change', onChange));
  return narrow;
}
