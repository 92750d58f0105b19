/**
 * The decider pattern (Jérémie Chassaing's "functional event sourcing decider"): an aggregate's behaviour
 * as three pure functions, so that its rules are tested without a database and stored anywhere.
 *
 *   initialState()          the state of an aggregate nothing has happened to yet
 *   evolve(state, event)    the state after one event; a fold over the history gives the current state
 *   decide(command, state)  the events a command produces in that state, or a thrown domain error;
 *                           an empty list means the command changes nothing
 *
 * Pure means no clock, no id generator and no I/O inside: a command carries the time it was issued, and the
 * event store adds the envelope (ids, times, correlation) to what `decide` returns. These are types only;
 * the runtime that reads, decides and appends is `handleCommand` in @shoal/eventstore.
 */
export interface Decider<State, Command, Event> {
  readonly initialState: () => State;
  readonly evolve: (state: State, event: Event) => State;
  readonly decide: (command: Command, state: State) => readonly Event[];
}
