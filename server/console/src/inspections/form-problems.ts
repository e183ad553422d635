import { InspectionInputSchema, inspectionProblems } from '@gaswatch/shared/inspections';
import type { InspectionInput } from '../api/types';

/**
 * What is wrong with a visit before it is sent, in the form's terms: shared/'s own schema and
 * `inspectionProblems()` (the server runs the very same), each problem put on the field it is
 * about, as a locale key of `inspections.errors` and its numbers. The phone says what is wrong
 * without a round trip, and says it in the page's language, not the schema's English.
 */

/** Where a problem shows: a field of the form, a checklist item's note, or the form as a whole. */
export type ProblemField = 'date' | 'inspectors' | 'deadline' | 'note' | 'form' | `item:${string}`;

export interface FormProblem {
  field: ProblemField;
  /** A key of `inspections.errors`. */
  key: string;
  params: Record<string, string | number>;
}

/** One problem as the schema or the server says it. */
interface Issue {
  path: readonly PropertyKey[];
  code: string;
  message: string;
  maximum?: unknown;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const isDay = (d: string | undefined) => d !== undefined && DAY.test(d);

/** An issue's field and words. The value decides which words (the schema's codes overlap). */
function wordsOf(issue: Issue, body: InspectionInput): FormProblem {
  const [head, a, b] = issue.path;
  const max = typeof issue.maximum === 'number' ? issue.maximum : undefined;
  const why = { why: `${issue.path.map(String).join('.')}: ${issue.message}` };
  const tooLong = (field: ProblemField): FormProblem =>
    max === undefined ? { field, key: 'invalid', params: why } : { field, key: 'tooLong', params: { max } };
  switch (head) {
    case 'date':
      // A well-formed day can only be refused for being after today.
      return { field: 'date', key: isDay(body.date) ? 'dateFuture' : 'dateRequired', params: {} };
    case 'inspectors':
      if (a === undefined)
        return issue.code === 'too_big'
          ? { field: 'inspectors', key: 'inspectorsTooMany', params: { max: max ?? 10 } }
          : { field: 'inspectors', key: 'inspectorsRequired', params: {} };
      return issue.code === 'too_big'
        ? tooLong('inspectors')
        : { field: 'inspectors', key: 'inspectorsRequired', params: {} };
    case 'items': {
      const item = typeof a === 'number' ? body.items[a]?.item : undefined;
      if (item !== undefined && b === 'note') return tooLong(`item:${item}`);
      return { field: 'form', key: 'invalid', params: why };
    }
    case 'rectification': {
      const r = body.rectification;
      if (a === undefined)
        return {
          field: 'deadline',
          key: body.items.some((x) => x.result === 'found') ? 'deadlineRequired' : 'nothingToRectify',
          params: {},
        };
      if (a === 'deadline')
        return {
          field: 'deadline',
          key: isDay(r?.deadline) ? 'deadlineBeforeVisit' : 'deadlineRequired',
          params: {},
        };
      if (a === 'note') return tooLong('deadline');
      return { field: 'deadline', key: 'invalid', params: why };
    }
    case 'note':
      return tooLong('note');
    default:
      return { field: 'form', key: 'invalid', params: why };
  }
}

/** One problem per field at most (a date can be both malformed and not a real day): the first. */
function perField(problems: FormProblem[]): FormProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => !seen.has(p.field) && seen.add(p.field));
}

/** Everything wrong with `body`, today being `today` (YYYY-MM-DD, this device's day). */
export function formProblems(body: InspectionInput, today: string): FormProblem[] {
  const parsed = InspectionInputSchema.safeParse(body);
  const issues: Issue[] = parsed.success ? [] : parsed.error.issues;
  // The schema checks without a today (it cannot know the server's): what today adds.
  const without = new Set(inspectionProblems(body).map((p) => `${p.path.join('.')}|${p.message}`));
  for (const p of inspectionProblems(body, today))
    if (!without.has(`${p.path.join('.')}|${p.message}`)) issues.push({ ...p, code: 'custom' });
  return perField(issues.map((i) => wordsOf(i, body)));
}

/**
 * A 400 `bad_request` of the server (`path: message; …`, as its schema or inspectionProblems()
 * said it) in the form's terms; null when it does not read that way.
 */
export function serverProblems(message: string, body: InspectionInput): FormProblem[] | null {
  const issues: Issue[] = [];
  for (const part of message.split('; ')) {
    const m = /^([\w.]+): (.*)$/s.exec(part);
    if (m === null) return null;
    const path = (m[1] ?? '').split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    issues.push({ path, code: 'custom', message: m[2] ?? '' });
  }
  return issues.length === 0 ? null : perField(issues.map((i) => wordsOf(i, body)));
}
