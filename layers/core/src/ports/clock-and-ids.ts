/** Time and identity are injected so tests and replays are deterministic (CONVENTIONS: Ours). */
export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A UUIDv7: time-ordered, so ids sort by creation and index inserts stay local. */
  next(): string;
}
