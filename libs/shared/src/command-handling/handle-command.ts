import { Decider } from '@lib/domain';
import { EventStore, NewEvent, RecordedEvent, RevisionConflictError } from '@lib/event-store';

export type CommandOutcome<Event, State> = Readonly<{
  /** The events this command produced (empty for an idempotent repeat). */
  events: Event[];
  state: State;
  nextExpectedRevision: number;
  lastPosition: number;
  written: boolean;
}>;

/**
 * The one generic command handler (STYLE.md rule 12): read the stream, fold it, decide, append at
 * the revision that was read. A revision conflict means someone else wrote in between: decide again
 * on the fresh state, a bounded number of times.
 */
export const handleCommand = async <Command, Event extends NewEvent, State>(
  store: EventStore,
  decider: Decider<Command, Event, State>,
  streamName: string,
  command: Command,
  options: {
    maxAttempts?: number;
    /** Runs on the folded state before deciding: the place to refuse a caller who may not touch this stream (it throws). */
    authorize?: (state: State) => void;
  } = {},
): Promise<CommandOutcome<Event, State>> => {
  const maxAttempts = options.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const recorded = (await store.readStream(streamName)) as unknown as RecordedEvent<Event>[];
    const state = recorded.reduce<State>((current, event) => decider.evolve(current, event), decider.initialState());
    options.authorize?.(state);
    const events = decider.decide(command, state);
    if (events.length === 0) {
      const last = recorded[recorded.length - 1];
      return { events, state, nextExpectedRevision: last?.streamRevision ?? -1, lastPosition: last?.globalPosition ?? 0, written: false };
    }
    const expected = recorded.length === 0 ? 'no-stream' : recorded[recorded.length - 1].streamRevision;
    try {
      const result = await store.append(streamName, events, expected);
      const next = events.reduce<State>((current, event) => decider.evolve(current, event), state);
      return { events, state: next, ...result };
    } catch (error) {
      if (!(error instanceof RevisionConflictError) || attempt >= maxAttempts) throw error;
    }
  }
};
