import { HouseholdInputSchema } from '@gaswatch/shared/households';
import type { HouseholdContact, HouseholdInput, OccupantFlag } from '../api/types';

/**
 * The household form (issue 13) as typed, the body it sends, and what is wrong with it in the
 * form's terms: shared/'s own HouseholdInputSchema (the server runs the very same), each problem
 * put on the field it is about as a key of `households.form.errors` with its numbers, so the page
 * says it in its own language before anything is sent.
 */

/** The form as typed: numbers as text until sent, a choice not made as ''. */
export interface HouseholdDraft {
  id: string;
  area: string;
  address: string;
  lat: string;
  lon: string;
  dwelling: NonNullable<HouseholdInput['dwelling']> | '';
  count: string;
  flags: OccupantFlag[];
  heating: HouseholdInput['heating'];
  /** In call order; `key` keeps a row's inputs with it when rows move. */
  contacts: Array<{ key: number; name: string; relation: HouseholdContact['relation'] | ''; phone: string }>;
  notes: string;
}

/** Where a problem shows: a field, one contact's field (`contact:0:phone`), or the form as a whole. */
export type ProblemField =
  | 'id'
  | 'area'
  | 'address'
  | 'lat'
  | 'lon'
  | 'count'
  | 'contacts'
  | 'notes'
  | 'form'
  | `contact:${number}:${'name' | 'relation' | 'phone'}`;

export interface FormProblem {
  field: ProblemField;
  /** A key of `households.form.errors`. */
  key: string;
  params: Record<string, string | number>;
}

/** What people type in a number field: full-width digits (１２３．５) read as digits. */
const numberOf = (s: string): number => Number(s.normalize('NFKC').trim());

let contactKeys = 0;
/** A key for a new contact row. */
export const contactKey = (): number => ++contactKeys;

/** A household's form, empty or filled with it. */
export function draftOf(h?: HouseholdInput): HouseholdDraft {
  return {
    id: h?.id ?? '',
    area: h?.area ?? '',
    address: h?.address ?? '',
    lat: h?.lat == null ? '' : String(h.lat),
    lon: h?.lon == null ? '' : String(h.lon),
    dwelling: h?.dwelling ?? '',
    count: h === undefined ? '' : String(h.occupants.count),
    flags: [...(h?.occupants.flags ?? [])],
    heating: [...(h?.heating ?? [])],
    contacts: (h?.contacts ?? []).map((c) => ({ key: contactKey(), ...c })),
    notes: h?.notes ?? '',
  };
}

/**
 * The body the form sends (POST; PATCH without the id). The household number is read in lower
 * case, as the import reads it (`LJ-3-12` is `lj-3-12`); blank numbers are none (position) or 0
 * (occupants); flags and heating in the catalogue's order.
 */
export function bodyOf(d: HouseholdDraft, order: { flags: readonly string[]; heating: readonly string[] }) {
  const inOrder = <T extends string>(xs: readonly T[], all: readonly string[]): T[] =>
    [...xs].sort((a, b) => all.indexOf(a) - all.indexOf(b));
  return {
    id: d.id.trim().toLowerCase(),
    area: d.area,
    address: d.address.trim(),
    lat: d.lat.trim() === '' ? null : numberOf(d.lat),
    lon: d.lon.trim() === '' ? null : numberOf(d.lon),
    dwelling: d.dwelling === '' ? null : d.dwelling,
    occupants: { count: d.count.trim() === '' ? 0 : numberOf(d.count), flags: inOrder(d.flags, order.flags) },
    heating: inOrder(d.heating, order.heating),
    contacts: d.contacts.map((c) => ({
      name: c.name.trim(),
      relation: c.relation as HouseholdContact['relation'],
      phone: c.phone.trim(),
    })),
    notes: d.notes.trim(),
  } satisfies HouseholdInput;
}
export type HouseholdBody = ReturnType<typeof bodyOf>;

/** One problem as the schema or the server says it. */
interface Issue {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  maximum?: unknown;
}

/** An issue's field and words. The value decides which words (an empty field is missing, not malformed). */
function wordsOf(issue: Issue, body: HouseholdBody): FormProblem {
  const [head, a, b] = issue.path;
  const max = typeof issue.maximum === 'number' ? issue.maximum : undefined;
  const why = { why: `${issue.path.map(String).join('.')}: ${issue.message}` };
  const big = issue.code === 'too_big';
  switch (head) {
    case 'id':
      return { field: 'id', key: body.id === '' ? 'idRequired' : 'badId', params: {} };
    case 'area':
      return { field: 'area', key: 'areaRequired', params: {} };
    case 'address':
      return big
        ? { field: 'address', key: 'tooLong', params: { max: max ?? 256 } }
        : { field: 'address', key: 'addressRequired', params: {} };
    case 'lat':
    case 'lon': {
      const v = body[head];
      if (typeof v !== 'number' || Number.isNaN(v)) return { field: head, key: 'notNumber', params: {} };
      return { field: head, key: head === 'lat' ? 'latRange' : 'lonRange', params: {} };
    }
    case 'occupants':
      if (a === 'count') return { field: 'count', key: 'countRange', params: { max: 99 } };
      return { field: 'form', key: 'invalid', params: why };
    case 'contacts': {
      if (a === undefined) return { field: 'contacts', key: 'contactsTooMany', params: { max: max ?? 10 } };
      if (typeof a !== 'number') return { field: 'form', key: 'invalid', params: why };
      const c = body.contacts[a];
      if (b === 'name')
        return big
          ? { field: `contact:${a}:name`, key: 'tooLong', params: { max: max ?? 64 } }
          : { field: `contact:${a}:name`, key: 'nameRequired', params: {} };
      if (b === 'relation') return { field: `contact:${a}:relation`, key: 'relationRequired', params: {} };
      if (b === 'phone')
        return {
          field: `contact:${a}:phone`,
          key: c?.phone === '' ? 'phoneRequired' : 'badPhone',
          params: {},
        };
      return { field: 'form', key: 'invalid', params: why };
    }
    case 'notes':
      return { field: 'notes', key: 'tooLong', params: { max: max ?? 2000 } };
    default:
      return { field: 'form', key: 'invalid', params: why };
  }
}

/** One problem per field at most: the first. */
function perField(problems: FormProblem[]): FormProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.field) && seen.add(p.field));
}

/** Everything wrong with `body` (an edit's carries the household's own number). */
export function formProblems(body: HouseholdBody): FormProblem[] {
  const parsed = HouseholdInputSchema.safeParse(body);
  return parsed.success ? [] : perField(parsed.error.issues.map((i) => wordsOf(i, body)));
}

/**
 * A 400 `bad_request` of the server (`path: message; …`, as its schema said it) in the form's
 * terms; null when it does not read that way.
 */
export function serverProblems(message: string, body: HouseholdBody): FormProblem[] | null {
  const issues: Issue[] = [];
  for (const part of message.split('; ')) {
    const m = /^([\w.]+): (.*)$/s.exec(part);
    if (m === null) return null;
    const path = (m[1] ?? '').split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    issues.push({ path, code: /too big/i.test(m[2] ?? '') ? 'too_big' : 'custom', message: m[2] ?? '' });
  }
  return issues.length === 0 ? null : perField(issues.map((i) => wordsOf(i, body)));
}
