import { computed, ref } from 'vue';
import { ApiError, api } from '../api/client';
import type { Who } from '../api/types';
import { roleAtLeastIn } from '../roles';

/** Who is logged in; null while nobody is (or not yet known: see `known`). */
const who = ref<Who | null>(null);
/** The server answered GET /api/session at least once (in or out). */
const known = ref(false);
/** Why the login form is shown (a locale key), if not simply at start. */
const reason = ref<string | null>(null);

/** The login shared by every page: check, log in, log out, and end on any 401. */
export function useSession() {
  async function check(): Promise<void> {
    try {
      who.value = await api.session();
    } catch (err) {
      // No answer is not a logout: ask again shortly.
      if (!(err instanceof ApiError) || err.status !== 401) {
        setTimeout(() => void check(), 2000);
        return;
      }
      who.value = null;
    }
    known.value = true;
  }
  async function login(username: string, password: string): Promise<void> {
    who.value = await api.login(username, password);
    reason.value = null;
    known.value = true;
  }
  async function logout(): Promise<void> {
    try {
      await api.logout(who.value?.csrfToken ?? null);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
    ended('login.loggedOut');
  }
  /** The login is over (expired, ended elsewhere, logged out): everything it showed goes. */
  function ended(why: string): void {
    who.value = null;
    reason.value = why;
  }
  const canAck = computed(() => who.value !== null && roleAtLeastIn(who.value.user.role, 'operator'));
  /** May change the household registry: register, edit, import, install and remove detectors (SPEC §9). */
  const canEditHouseholds = computed(
    () => who.value !== null && roleAtLeastIn(who.value.user.role, 'supervisor'),
  );
  return { who, known, reason, check, login, logout, ended, canAck, canEditHouseholds };
}
