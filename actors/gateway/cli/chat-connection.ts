/**
 * A text conversation with Parley as the terminal chat sees it: send a line, get the reply texts.
 * Two implementations: {@link createInProcessChat} (same process, embedded mode) and
 * {@link connectWebSocketChat} (a running server's web-chat socket).
 */
export interface ChatConnection {
  /**
   * Sends one line and resolves with the texts of every reply to it (possibly none), in order.
   * Non-text replies come as their text rendering (`[image] caption`).
   * @throws {ChatRequestError} when the line is refused (empty, too long, answering failed)
   * @throws {ChatClosedError} when the connection is or becomes closed before the answer
   * @throws {ChatTimeoutError} when no answer arrives in time
   */
  send(text: string): Promise<readonly string[]>;
  /** Closes the connection; pending sends reject with ChatClosedError. Idempotent. */
  close(): Promise<void>;
}
