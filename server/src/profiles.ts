import { loadProfiles, type Profile } from '@gaswatch/shared';

let builtin: ReadonlyMap<string, Profile> | undefined;

/**
 * The built-in detector profiles (shared/profiles), read from disk once for the whole server: the
 * device view's full scales and the meaning of an interlock's outputs come from them. Empty when
 * they cannot be read (they ship with the server): values are then shown as reported and output
 * positions as unknown, never as a failed request.
 */
export function builtinProfiles(): ReadonlyMap<string, Profile> {
  if (builtin === undefined) {
    try {
      builtin = loadProfiles();
    } catch {
      builtin = new Map();
    }
  }
  return builtin;
}
