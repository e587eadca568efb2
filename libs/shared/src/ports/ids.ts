import { createHash, randomBytes, randomUUID } from 'node:crypto';

const format = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
};

/** Name-based ids (RFC 9562 UUIDv5-style, SHA-1) so the same name always gives the same id. */
export const nameBasedUuid = (namespace: string, name: string): string => {
  const bytes = createHash('sha1').update(namespace).update('\u0000').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return format(bytes);
};

/** Id generation behind a port (STYLE.md rule 20). */
export abstract class IdGenerator {
  /** A random id for events and requests. */
  abstract random(): string;
  /** A time-ordered id (UUIDv7) for entities listed by creation, such as builds. */
  abstract timeOrdered(at: Date): string;
}

export class CryptoIdGenerator extends IdGenerator {
  random(): string {
    return randomUUID();
  }

  timeOrdered(at: Date): string {
    const bytes = randomBytes(16);
    bytes.writeUIntBE(at.getTime(), 0, 6);
    bytes[6] = (bytes[6] & 0x0f) | 0x70;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    return format(bytes);
  }
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
