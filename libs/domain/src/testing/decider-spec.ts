import { Decider } from '../build.decider';

/**
 * Given/When/Then for any decider (STYLE.md rule 21, after emmett's `DeciderSpecification`):
 *
 *   DeciderSpecification.for(buildDecider).given([queued]).when(startBuild()).then([started]);
 *   DeciderSpecification.for(buildDecider).given([]).when(startBuild()).thenThrows(BuildNotFoundError);
 *
 * The given events are folded with `evolve` from `initialState()`, then `decide` is applied once.
 * Uses jest's global `expect`, so it is for test files only.
 */

type ErrorClass<E extends Error> = new (...args: never[]) => E;

/** Either the properties the error must have, or a check that throws (an `expect`) or returns false. */
export type ErrorMatcher<E extends Error> = Partial<E> | ((error: E) => boolean | void);

export type ThenClause<Event> = Readonly<{
  /** `decide` returns exactly these events, in this order (strict equality: no extra or undefined fields). */
  then: (expectedEvents: readonly Event[]) => void;
  /** `decide` throws an instance of `errorClass` that satisfies `matcher`. */
  thenThrows: <E extends Error>(errorClass: ErrorClass<E>, matcher?: ErrorMatcher<E>) => void;
}>;

export type WhenClause<Command, Event> = Readonly<{ when: (command: Command) => ThenClause<Event> }>;
export type GivenClause<Command, Event> = Readonly<{ given: (events: readonly Event[]) => WhenClause<Command, Event> }>;

type Outcome<Event> = { kind: 'events'; events: Event[] } | { kind: 'error'; error: unknown };

const checkError = <E extends Error>(error: unknown, errorClass: ErrorClass<E>, matcher?: ErrorMatcher<E>): void => {
  expect(error).toBeInstanceOf(errorClass);
  if (matcher === undefined) return;
  if (typeof matcher === 'function') {
    if (matcher(error as E) === false) throw new Error(`the ${errorClass.name} thrown did not match: ${String(error)}`);
    return;
  }
  expect(error).toMatchObject(matcher);
};

export const DeciderSpecification = {
  for: <Command, Event, State>(decider: Decider<Command, Event, State>): GivenClause<Command, Event> => ({
    given: (givenEvents) => ({
      when: (command) => {
        // Folding happens outside the try: a broken history is a broken test, never the expected error.
        const state = givenEvents.reduce<State>((current, event) => decider.evolve(current, event), decider.initialState());
        const decideOnce = (): Outcome<Event> => {
          try {
            return { kind: 'events', events: decider.decide(command, state) };
          } catch (error) {
            return { kind: 'error', error };
          }
        };
        return {
          then: (expectedEvents) => {
            const outcome = decideOnce();
            if (outcome.kind === 'error') throw outcome.error;
            expect(outcome.events).toStrictEqual(expectedEvents);
          },
          thenThrows: (errorClass, matcher) => {
            const outcome = decideOnce();
            if (outcome.kind === 'events') {
              throw new Error(`expected decide to throw ${errorClass.name}, but it emitted ${JSON.stringify(outcome.events)}`);
            }
            checkError(outcome.error, errorClass, matcher);
          },
        };
      },
    }),
  }),
};

/** The metadata every event a command produces must carry: the command's own, plus the schema version. Written out, not taken from the code under test. */
export const metadataOf = ({ metadata }: { metadata: { eventId: string; occurredAt: string; actor: string; correlationId: string; causationId: string } }) => ({
  eventId: metadata.eventId,
  occurredAt: metadata.occurredAt,
  actor: metadata.actor,
  correlationId: metadata.correlationId,
  causationId: metadata.causationId,
  schemaVersion: 2,
});

/** Freezes a value and everything in it: evolve must build new states, never patch the given ones. */
export const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
};
