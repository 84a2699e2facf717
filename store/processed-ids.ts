/**
 * The inbound ids one conversation has recorded, held in memory by its active actor so that a new message
 * needs no store lookup to be known as new (see `ConversationRepository.processedIds`).
 *
 * Each id is kept as a 31-bit fingerprint of its blind index (an HMAC, so its bits are uniform): small
 * integers, about 30 bytes each in a `Set`. Two ids share a fingerprint with odds of about n / 2^31 (one
 * in 200,000 with 10,000 ids kept); then the store is asked, as for an id that was seen.
 */
export class ProcessedIds {
  readonly #fingerprints = new Set<number>();
  #complete = true;
  /** The last id asked about, and its fingerprint: `add` follows `mayHave` for the same id. */
  #last: { id: string; fingerprint: number } | undefined;

  /**
   * @param indexes the blind indexes of the conversation's recorded inbound messages
   * @param indexOf an idempotency id's blind index
   * @param maxIds past this many ids, the set stops keeping them and `mayHave` answers true: every
   *   message of a conversation that long is looked up in the store, as before there was a set.
   */
  constructor(
    indexes: Iterable<Uint8Array>,
    private readonly indexOf: (idempotencyId: string) => Uint8Array,
    private readonly maxIds: number,
  ) {
    for (const index of indexes) this.#add(fingerprint(index));
  }

  /**
   * False when no inbound message with this id has been recorded in the conversation, before the set was
   * loaded or since (`add`); true when one may have been: ask the store.
   */
  mayHave(idempotencyId: string): boolean {
    return !this.#complete || this.#fingerprints.has(this.#fingerprintOf(idempotencyId));
  }

  /** Notes an inbound message recorded since the set was loaded. */
  add(idempotencyId: string): void {
    if (this.#complete) this.#add(this.#fingerprintOf(idempotencyId));
  }

  #add(print: number): void {
    if (this.#fingerprints.size < this.maxIds) {
      this.#fingerprints.add(print);
      return;
    }
    this.#complete = false;
    this.#fingerprints.clear();
  }

  #fingerprintOf(id: string): number {
    if (this.#last?.id !== id) this.#last = { id, fingerprint: fingerprint(this.indexOf(id)) };
    return this.#last.fingerprint;
  }
}

/** The first 31 bits of a blind index: a small integer, kept unboxed by V8. */
function fingerprint(index: Uint8Array): number {
  return (index[0]! << 23) | (index[1]! << 15) | (index[2]! << 7) | (index[3]! >>> 1);
}
