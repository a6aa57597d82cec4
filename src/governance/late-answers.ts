/**
 * Answer times kept per lane. The slowest of them is what an answer may take when nothing stalls: the calls of one
 * slot leave together and come back one after another (Enterprise's 24 single upserts span 100 ms and more), and
 * that spread was there when the vendor counted them on time.
 */
const LATENCY_SAMPLES = 32;
/** Moves older than this cannot crowd a window any lane still has ahead. */
const REMEMBER_MS = 5 * 60 * 1000;

/** A slot moved later, to where the vendor may have counted its call. `seq` orders moves as they were found. */
interface Move {
  seq: number;
  ledgers: readonly string[];
  from: number;
  to: number;
}

/**
 * What one worker process knows of its calls answered late. A call sent on time can still reach the vendor's count
 * late (the worker or the vendor stalled on the way), and then the governor's ledger holds it earlier than the
 * vendor does: the next window's calls, already granted, would be one too many. A call sent late, plus what its
 * answer took past the lane's slowest recent one, more than the margin after its slot moves that slot (the
 * governor hears of it), and every call of this process granted before the governor heard, whose slot the moved call
 * now crowds, asks again.
 *
 * Calls of other worker processes granted before the move are not asked again: a stall that holds up one process's
 * calls shows in that process's answers, and its own calls are the ones it crowds first.
 */
export class LateAnswers {
  private readonly latencies = new Map<string, number[]>();
  private moves: Move[] = [];
  private lastSeq = 0;
  /** Moves the governor has not acknowledged yet, and the signal that carries each. */
  private readonly unheard = new Map<number, Promise<void>>();

  /**
   * What an answer on the lane may take when nothing stalls, as it stands when a call is sent: the slowest of the
   * lane's recent answers, undefined before the first. Taken before the call, not when it answers: a slot's calls
   * answered one after another would each raise it by the little the one before took less, and a burst that reached
   * the vendor over 345 ms (a loaded worker after a server restart, with 24 calls to a slot) showed no excess at all.
   */
  usual(lane: string): number | undefined {
    const samples = this.latencies.get(lane);
    return samples && samples.length > 0 ? Math.max(...samples) : undefined;
  }

  /** How much longer the call's answer took than `usual` (0 when there was none), and remembers what it took. */
  excess(lane: string, usual: number | undefined, sentAt: number, answeredAt: number): number {
    const latency = answeredAt - sentAt;
    const samples = this.latencies.get(lane) ?? [];
    samples.push(latency);
    if (samples.length > LATENCY_SAMPLES) samples.shift();
    this.latencies.set(lane, samples);
    return usual === undefined ? 0 : Math.max(0, latency - usual);
  }

  /** Records a move; `told` settles once the governor has it (or the signal failed: it will not have it then). */
  moved(ledgers: readonly string[], from: number, to: number, told: Promise<unknown>): void {
    const seq = ++this.lastSeq;
    this.moves = this.moves.filter((m) => m.to > to - REMEMBER_MS);
    this.moves.push({ seq, ledgers, from, to });
    const heard = told.then(
      () => undefined,
      () => undefined,
    );
    this.unheard.set(seq, heard);
    void heard.then(() => this.unheard.delete(seq));
  }

  /** The last move the governor has surely heard of: a slot asked for now is granted with every move up to it. */
  heard(): number {
    return this.unheard.size > 0 ? Math.min(...this.unheard.keys()) - 1 : this.lastSeq;
  }

  /** Settles once the governor has heard of every move recorded so far. */
  async heardAll(): Promise<void> {
    await Promise.all(this.unheard.values());
  }

  /**
   * Whether a move the governor had not heard of when `slot` was granted puts a call into a window `slot` is in:
   * the windows that gained the moved call are those reaching past its old slot and holding its new one.
   */
  crowds(ledgers: readonly string[], slot: number, heardWhenGranted: number, spanMs: number): boolean {
    return this.moves.some(
      (m) =>
        m.seq > heardWhenGranted &&
        m.from < slot &&
        slot < m.to + spanMs &&
        m.ledgers.some((ledger) => ledgers.includes(ledger)),
    );
  }
}
