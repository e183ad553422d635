import type { ImportIssue, ImportIssueCode } from '../api/types';

/**
 * Why the import refused a cell, in the console's words: the server says it by `code` and
 * `field` (and `about`: the row or household it refers to) with an English message; this picks
 * the key of `households.import.issues` and its numbers. A code the server adds does not compile
 * here until it has words (the switch is exhaustive).
 */

/** A key of `households.import.issues`, and which list of words `{words}` is, if any. */
export interface IssueWords {
  key: string;
  params: Record<string, string | number>;
  /** `{words}` is the list of these words of the catalogue, in the page's language. */
  words?: 'dwellings' | 'heating' | 'relations';
}

export function issueWords(issue: ImportIssue): IssueWords {
  const f = issue.field;
  const code: ImportIssueCode = issue.code;
  switch (code) {
    case 'required':
      return { key: f.startsWith('contact.') ? 'requiredContact' : 'required', params: {} };
    case 'bad_id':
      return { key: f === 'device' ? 'badDeviceId' : 'badId', params: {} };
    case 'bad_address':
      return { key: 'badAddress', params: {} };
    case 'bad_number':
      return { key: f === 'lat' ? 'badLat' : f === 'lon' ? 'badLon' : 'badCount', params: {} };
    case 'unknown_word':
      if (f === 'dwelling') return { key: 'unknownDwelling', params: {}, words: 'dwellings' };
      if (f === 'heating') return { key: 'unknownHeating', params: {}, words: 'heating' };
      if (f.endsWith('.relation')) return { key: 'unknownRelation', params: {}, words: 'relations' };
      return { key: 'unknownYesNo', params: {} };
    case 'unknown_area':
      return { key: 'unknownArea', params: {} };
    case 'ambiguous_area':
      return { key: 'ambiguousArea', params: { areas: (issue.about?.areas ?? []).join(', ') } };
    case 'bad_name':
      return { key: 'badName', params: {} };
    case 'bad_phone':
      return { key: 'badPhone', params: {} };
    case 'bad_date':
      return { key: 'badDate', params: {} };
    case 'too_long':
      return {
        key: f === 'location' ? 'locationTooLong' : f === 'notes' ? 'notesTooLong' : 'tooLong',
        params: {},
      };
    case 'cell_error':
      return { key: 'cellError', params: {} };
    case 'no_detector':
      return { key: 'noDetector', params: {} };
    case 'detector_count':
      return { key: 'detectorCount', params: {} };
    case 'duplicate_id':
      return issue.about?.row === undefined
        ? { key: 'duplicateIdSomewhere', params: {} }
        : { key: 'duplicateId', params: { row: issue.about.row } };
    case 'duplicate_device':
      return issue.about?.row === undefined
        ? { key: 'duplicateDeviceInRow', params: {} }
        : { key: 'duplicateDevice', params: { row: issue.about.row } };
    case 'household_outside':
      return { key: 'householdOutside', params: {} };
    case 'detector_elsewhere':
      return issue.about?.household === undefined
        ? { key: 'detectorOutside', params: {} }
        : { key: 'detectorElsewhere', params: { household: issue.about.household } };
    case 'missing_column':
      return { key: 'missingColumn', params: {} };
    case 'duplicate_column':
      return { key: 'duplicateColumn', params: {} };
    case 'invalid':
      return { key: 'invalid', params: { message: issue.message } };
    default:
      code satisfies never;
      return { key: 'invalid', params: { message: issue.message } };
  }
}
