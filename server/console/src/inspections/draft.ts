import type { InspectionItemId, InspectionResult } from '../api/types';

/**
 * A visit being filled in, kept in sessionStorage until the server has it and its photos: a
 * reload, a login that expired meanwhile, or a phone that dropped the page while the camera was
 * open brings it back. Per login and household. sessionStorage (not localStorage): the form dies
 * with its tab, so a shared duty-room computer does not keep a household's visit for the next
 * person.
 */
export interface DraftForm {
  v: 1;
  date: string;
  inspectors: string[];
  results: Partial<Record<InspectionItemId, InspectionResult>>;
  notes: Partial<Record<InspectionItemId, string>>;
  deadline: string;
  /** The deadline was set by hand: a change of date no longer moves it. */
  deadlineSet: boolean;
  note: string;
  /** The visit's id once the server recorded it: only photos remain to send. */
  visit: string | null;
  /**
   * Sent without an answer (no network, no reply in time): the ids of the household's visits
   * known before it was sent. The next try first looks for a new one of this login with the same
   * day and checklist, so a visit whose answer was lost is not recorded twice.
   */
  sent: { known: string[] } | null;
}

/** A photo kept with the draft: the JPEG as a data: URL, and its id once uploaded. */
export interface DraftPhoto {
  key: string;
  item: InspectionItemId;
  dataUrl: string;
  uploaded: string | null;
}

const key = (user: string, household: string, part: 'form' | 'photos') =>
  `gaswatch.inspection.${user}.${household}.${part}`;

function read<T>(k: string): T | null {
  try {
    const raw = sessionStorage.getItem(k);
    return raw === null ? null : (JSON.parse(raw) as T);
  } catch {
    return null;
  }
}

/** The kept draft of this login and household, if any. */
export function loadDraft(user: string, household: string): { form: DraftForm; photos: DraftPhoto[] } | null {
  const form = read<DraftForm>(key(user, household, 'form'));
  if (form === null || form.v !== 1) return null;
  return { form, photos: read<DraftPhoto[]>(key(user, household, 'photos')) ?? [] };
}

/** Keeps the form; false when the browser would not (private mode, no room). */
export function saveForm(user: string, household: string, form: DraftForm): boolean {
  try {
    sessionStorage.setItem(key(user, household, 'form'), JSON.stringify(form));
    return true;
  } catch {
    return false;
  }
}

/** Keeps the photos; false when they do not fit (sessionStorage holds about 5 MB). */
export function savePhotos(user: string, household: string, photos: DraftPhoto[]): boolean {
  try {
    sessionStorage.setItem(key(user, household, 'photos'), JSON.stringify(photos));
    return true;
  } catch {
    try {
      sessionStorage.removeItem(key(user, household, 'photos'));
    } catch {
      // Nothing kept either way.
    }
    return false;
  }
}

export function clearDraft(user: string, household: string): void {
  try {
    sessionStorage.removeItem(key(user, household, 'form'));
    sessionStorage.removeItem(key(user, household, 'photos'));
  } catch {
    // Private mode: nothing was kept.
  }
}
