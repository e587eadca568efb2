/** Org and repository names: lower-case letters and digits, single . _ or - separators inside (like a registry namespace). */
export const SLUG = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
