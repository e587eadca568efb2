import { createHash } from 'node:crypto';

/**
 * Ids derived from what they identify, so that replaying the log gives the same incidents and the
 * same event ids: an append of a replayed emission is then an idempotent repeat, not a duplicate.
 */

/**
 * A UUID-shaped id from the SHA-256 of the parts: RFC 4122 layout, version 8 ("custom") and the
 * RFC 4122 variant. The parts are hashed as a JSON array, so ['a-b', 'c'] and ['a', 'b-c'] differ.
 */
export const deterministicUuid = (...parts: string[]): string => {
  const bytes = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/** The id of the incident that `triggerEventId` made rule `ruleName` open for the group `value`. */
export const incidentIdOf = (ruleName: string, value: string, triggerEventId: string): string =>
  deterministicUuid('incident', ruleName, value, triggerEventId);

/** The id of the `index`-th event (0: the first) the detector writes in reaction to `triggerEventId`, over all incidents. */
export const incidentEventIdOf = (triggerEventId: string, index: number): string =>
  deterministicUuid('incident-event', triggerEventId, String(index));
