/**
 * Where a problem of the permit form shows (issue 14): the field it is about, from a path of
 * shared/'s PermitInputSchema (the server runs the very same) or from a refusal of the server
 * (`path: message; …` for its schema and its own form checks, or a code that names its field), so
 * a draft changed and refused says so under the field, not only in a list at the bottom.
 */

/** A field of the form; `form` is the form as a whole. */
export type PermitField =
  | 'level'
  | 'space'
  | 'area'
  | 'site'
  | 'location'
  | 'work'
  | 'applicant'
  | 'applicant.phone'
  | 'crew'
  | 'attendant'
  | 'attendant.phone'
  | 'measures'
  | 'plannedStart'
  | 'plannedEnd'
  | 'notes'
  | 'form';

const PLAIN: readonly string[] = [
  'level',
  'space',
  'area',
  'site',
  'location',
  'work',
  'crew',
  'measures',
  'plannedStart',
  'plannedEnd',
  'notes',
];

/** The field a path of the form's body is about (`attendant.phone`, `crew.0.name`). */
export function fieldOf(path: readonly PropertyKey[]): PermitField {
  const [head, sub] = path.map(String);
  if (head === 'applicant' || head === 'attendant') return sub === 'phone' ? `${head}.phone` : head;
  return head !== undefined && PLAIN.includes(head) ? (head as PermitField) : 'form';
}

/** One problem the server named: its field, the server's words (English) and what it is, when known. */
export interface ServerProblem {
  field: PermitField;
  detail: string;
  /** A problem the console has its own words for (a key of `permits.form.server`). */
  known: 'windowOver' | 'badPhone' | 'unknownArea' | 'unknownSpace' | null;
}

/**
 * A refusal of POST or PATCH /api/permits in the form's terms; null when it names no field (the
 * permit is no longer a draft, the session ended…): then it is said above the button.
 */
export function serverProblems(code: string | undefined, message: string): ServerProblem[] | null {
  if (code === 'unknown_area') return [{ field: 'area', detail: message, known: 'unknownArea' }];
  if (code === 'space_not_found') return [{ field: 'space', detail: message, known: 'unknownSpace' }];
  if (code !== 'bad_request') return null;
  const out: ServerProblem[] = [];
  for (const part of message.split('; ')) {
    const m = /^([\w.]+): (.*)$/s.exec(part);
    if (m === null) return null;
    const [, path = '', detail = ''] = m;
    const field = fieldOf(path.split('.'));
    const known =
      field === 'plannedEnd' && /over already/.test(detail)
        ? 'windowOver'
        : field.endsWith('.phone')
          ? 'badPhone'
          : null;
    out.push({ field, detail, known });
  }
  return out.length === 0 ? null : out;
}
