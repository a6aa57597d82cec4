import type { CorpusExchange } from '../../src/vendors/corpus.js';
import type { Transport } from '../../src/vendors/transport.js';

/** A request the client sent, as the contract runner's transport saw it. */
export interface SentRequest {
  method: string;
  url: URL;
  /** Parsed JSON, or undefined when none was sent. */
  body: unknown;
}

/** What the client made of an exchange's answer: the value its method returned, or what it threw. */
export type ClientRead = { value: unknown } | { err: unknown };

/** An answer of the vendor's simulator, read as a client would. */
export interface SimulatedAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text of a body that is not JSON. */
  body: unknown;
}

/**
 * What a vendor gives the contract runner (test/contract/vendors.test.ts), from `src/vendors/<vendor>/test/contract.ts`:
 * where its corpus is, how its client makes each exchange's request, and how its simulator is brought to each answer.
 * The runner holds client and simulator to every exchange alike; what only this vendor's answers carry is checked here.
 */
export interface VendorContract {
  /** The folder of the vendor's corpus: one exchange per JSON file. */
  corpus: string;
  /** An exchange's request path as a URL under the account's base URL the client is given. */
  url(path: string): URL;
  /**
   * Sends the exchange's request through the client method that makes it, answered by `answer`; a row call's value
   * is a CallResult.
   */
  replay(exchange: CorpusExchange, answer: Transport): Promise<unknown>;
  /** What else the request must be (its body, where the keys go), beyond method, path and query. */
  expectRequest?(sent: SentRequest, exchange: CorpusExchange): void;
  /** What else the client must make of the answer, beyond the failure kind, message and rows. */
  expectRead?(read: ClientRead, exchange: CorpusExchange): void;
  /** Absent for a vendor without a simulator. */
  simulator?: {
    /** The exchanges it can be brought to, by name: exactly those the corpus marks simulated. */
    arranged: readonly string[];
    /** A fresh simulator brought to the exchange's answer, asked its request, stopped: its answer. */
    answer(name: string, exchange: CorpusExchange): Promise<SimulatedAnswer>;
    /** Where a simulated body differs in shape from the recorded one; none when they match. */
    shapeDifferences(recorded: unknown, given: unknown): string[];
  };
}
