import { CommandMetadata } from '@lib/domain';
import type { RequestContext } from '../http/request-context';
import { Clock } from '../ports/clock';
import { IdGenerator } from '../ports/ids';

/** Who sent a command and in which conversation: what every event it produces records besides its id and time. */
export type CommandOrigin = Pick<CommandMetadata, 'actor' | 'correlationId' | 'causationId'>;

/** The origin of a command an HTTP request sends: its principal, its correlation id, caused by the request. */
export const originOf = (context: RequestContext): CommandOrigin => ({ actor: context.actor, correlationId: context.correlationId, causationId: context.requestId });

/** The metadata of a command an HTTP request sends: a fresh event id and the time now, with the request's origin. */
export const commandMetadataFor = (context: RequestContext, clock: Clock, ids: IdGenerator): CommandMetadata => ({
  eventId: ids.random(),
  occurredAt: clock.now().toISOString(),
  ...originOf(context),
});
