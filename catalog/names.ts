// Names an operator types (sites, datasets, contracts), checked before they reach the database.
// The same rule is the `georep_name` domain of migration 1, which stays the last word; this copy
// lets the CLI refuse a bad name with a message about the name instead of a constraint violation.

export const GEOREP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const GEOREP_NAME_RULE = 'up to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit';

export function isGeorepName(name: string): boolean {
  return GEOREP_NAME.test(name);
}
