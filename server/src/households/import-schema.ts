import { z } from 'zod';

// The household import's answer (issue 13) apart from the routes and the importer, as
// alarms/detail-schema.ts, so the console takes its types from here: the console says each
// issue in its own words by `code` and `field`, and keeps no copy of the codes.

/** Largest file an import takes: 20 000 households are some 3 MB of XLSX. */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
/** Most households one file may hold: a county's list is split by township. */
export const IMPORT_MAX_ROWS = 20_000;
/** Most errors an answer lists (errorCount says how many there are in all). */
export const MAX_ERRORS_LISTED = 1_000;

/** Why a cell is refused; docs/server.md "Households: import and export" says when each comes. */
export const IMPORT_ISSUE_CODES = [
  'required',
  'bad_id',
  'bad_address',
  'bad_number',
  'unknown_word',
  'unknown_area',
  'ambiguous_area',
  'bad_name',
  'bad_phone',
  'bad_date',
  'too_long',
  'cell_error',
  'no_detector',
  'detector_count',
  'duplicate_id',
  'duplicate_device',
  'household_outside',
  'detector_elsewhere',
  'missing_column',
  'duplicate_column',
  'invalid',
] as const;
export type ImportIssueCode = (typeof IMPORT_ISSUE_CODES)[number];

export const ImportIssueSchema = z.object({
  row: z.number().describe('The row as the spreadsheet numbers it (the header is usually 1)'),
  column: z.string().describe('The header of the column as the file writes it'),
  field: z
    .string()
    .describe(
      "The column's key, whatever the file calls it: id, area, address, lat, lon, dwelling, count, flag.<flag>, heating, contact.<n>.name|relation|phone, device, location, installedOn, expiresOn, notes",
    ),
  value: z.string().describe('What the cell holds (at most 200 characters)'),
  code: z.enum(IMPORT_ISSUE_CODES),
  message: z.string().describe('The reason in English'),
  about: z
    .object({
      row: z.number().optional().describe('duplicate_id, duplicate_device: the row that has it first'),
      household: z
        .string()
        .optional()
        .describe('detector_elsewhere: the household it is installed in (absent: one outside your area)'),
      areas: z.array(z.string()).optional().describe('ambiguous_area: the ids of the areas of that name'),
    })
    .optional()
    .describe('What the reason refers to, for words other than the English message'),
});
/** One bad cell: its row and column as the spreadsheet shows them, what it holds and why it is refused. */
export type ImportIssue = z.infer<typeof ImportIssueSchema>;

const common = {
  mode: z.enum(['dry-run', 'apply']),
  format: z.enum(['xlsx', 'csv']).describe('What the file was read as'),
  rows: z.number().describe('Households in the file (header and empty rows not counted)'),
  ignoredColumns: z
    .array(z.string())
    .describe('Headers not read (not a column of the sheet): check the spelling'),
};

/** The fields of a refusal: every bad cell, by row. */
export const ImportRefusedFields = {
  ok: z.literal(false),
  ...common,
  errors: z.array(ImportIssueSchema).describe(`Every bad cell, by row (the first ${MAX_ERRORS_LISTED})`),
  errorCount: z.number(),
};

export const ImportAnswerSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    ...common,
    create: z.number().describe('New households'),
    update: z.number().describe('Households (or their detectors) changed'),
    unchanged: z.number(),
  }),
  z.object(ImportRefusedFields),
]);
/** What POST /api/households/import answers with 200 (and, refused, with 400 import_invalid). */
export type ImportAnswer = z.infer<typeof ImportAnswerSchema>;
