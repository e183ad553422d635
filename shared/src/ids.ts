import { z } from 'zod';

/** Gateway and device ids (SPEC §2): lowercase, digits, `_` and `-`, at most 64 characters. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const IdSchema = z
  .string()
  .regex(ID_PATTERN, 'must match ^[a-z0-9][a-z0-9_-]{0,63}$')
  .describe('Gateway or device id: lowercase letters, digits, _ and -, 1 to 64 characters');
