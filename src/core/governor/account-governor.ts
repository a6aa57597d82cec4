import { adaptedWindows, onQuotaReading, onRefused, ownCalls, recover } from './adaptation.js';
import { aboveLow, leftToLow, noteWanted, reachOf } from './horizon.js';
import {
  earliestSlot,
  emptyLedger,
  joinedSlot,
  moveSlot,
  pacedWindows,
  pause,
  recordSlot,
  releaseSlot,
  type Ledger,
  type PacedWindow,
} from './ledger.js';
import {
  LaneReportSchema,
  ReserveLanesSchema,
  ReserveRequestSchema,
  SlotMovesSchema,
  SlotReleaseSchema,
  type GovernorState,
  type GovernorView,
  type Grant,
  type LaneReport,
  type Reservation,
  type ReserveRequest,
  type WindowHeadroom,
} from './protocol.js';
import { MAX_MESSAGE_WAIT_MS, nearNow, readMessage } from '../messages.js';
import type { LaneName, Window } from '../plans.js';

/**
 * How long after its last slot a grant still answers for its calls: a release comes before a call is sent, a move or
 * a report with the call's answer, and calls time out in seconds. Later messages quoting it are dropped.
 */
export const GRANT_TTL_MS = 2 * 60 * 1000;

/**
 * The account governor's state and the four things that change it: `reserve` grants call slots, `report` hears what
 * the vendor said of a call, `release` gives back slots whose calls were never sent, `move` shifts slots whose calls
 * the vendor may have counted late. Pure and deterministic (it runs in the governor workflow, on workflow time, with
 * the workflow's random tokens); every method takes `now`.
 *
 * Every message but a reservation comes as a signal, which anyone with access to the namespace can send and nothing
 * can refuse. So each is read where nothing throws, bounded in time and size, and acted on only when it quotes a
 * grant: the token a reservation handed out, which names the lanes and slots the message may touch. A release or a
 * move frees or shifts only a slot its grant holds, once. What does not read so is dropped and counted.
 */
export class AccountGovernor {
  private constructor(
    private readonly state: GovernorState,
    private readonly newToken: () => string,
    private readonly note: (note: GovernorNote) => void,
    private readonly joinsSlots: boolean,
  ) {}

  /**
   * `note` hears each decision an operator may want to see in the log: a window cut or restored, a lane paused.
   * `joinsSlots: false` grants every slot at its earliest, as governors did before slots joined the room freeing
   * just after them: a run that started so replays so.
   */
  static start(
    carried: GovernorState | undefined,
    newToken: () => string,
    note: (note: GovernorNote) => void = () => {},
    { joinsSlots = true }: { joinsSlots?: boolean } = {},
  ): AccountGovernor {
    const fresh: GovernorState = {
      ledgers: {},
      vendorWindows: {},
      adaptations: {},
      reservations: 0,
      rateLimitReports: 0,
      quotaReports: 0,
    };
    return new AccountGovernor({ ...fresh, ...carried }, newToken, note, joinsSlots);
  }

  /** Reservations granted so far, over every run of the governor: the workflow ends when this stops moving. */
  get reservations(): number {
    return this.state.reservations;
  }

  /** Checks a reservation before it is accepted: an update's validator may throw, and the caller hears why. */
  static validateReserve(raw: unknown): void {
    const parsed = ReserveRequestSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`malformed reservation request: ${parsed.error.issues[0]?.message}`);
  }

  /** Checks reservations on several lanes before they are accepted, as validateReserve does one. */
  static validateReserveLanes(raw: unknown): void {
    const parsed = ReserveLanesSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`malformed reservation request: ${parsed.error.issues[0]?.message}`);
  }

  /** Reservations on several lanes at once, granted in order as so many `reserve`s at the same time. */
  reserveLanes(raw: unknown, now: number): Reservation[] {
    return ReserveLanesSchema.parse(raw).map((request) => this.reserve(request, now));
  }

  /**
   * One slot per call, each the earliest that keeps every window of every ledger the call spends from within its
   * limit (as the sync's share and the vendor's adaptation leave it), and a grant that answers for them. Slots lie
   * within the request's priority's horizon: calls whose slot would lie beyond it are left out, and `retryAt` says
   * when to ask again for them. So a higher priority arriving finds the lower ones holding little ahead, and its
   * calls take the next slots; in every ledger the call spends from, so in every window of every lane.
   */
  reserve(raw: unknown, now: number): Reservation {
    const request = ReserveRequestSchema.parse(raw);
    this.forgetGrants(now);
    const before = this.factors();
    const ledgers = this.pacing(request, now);
    this.noteChanges(before);
    const wanted = (this.state.wanted ??= {});
    const reach = reachOf(request.priority, ledgers[0]!.windows, wanted, now);
    // A spaced window already spreads its calls evenly: no burst to join, and hundreds of rooms to try per call.
    const spaced = ledgers.some(({ windows }) => windows.some((w) => w.spacingMs !== undefined));
    const joinMs = this.joinsSlots && !spaced ? reach.joinMs : 0;
    const called = request.spends[0]!;
    const slots: number[] = [];
    const headroom: WindowHeadroom[][] = [];
    let retryAt: number | undefined;
    let askBy: number | undefined;
    for (let i = 0; i < request.calls; i++) {
      const earliest = earliestSlot(ledgers, reach.notBefore);
      if (!Number.isFinite(earliest)) {
        // Low, beside a sync whose share leaves it nothing: until the sync stops asking.
        retryAt = aboveLow(wanted, shortestSpan(ledgers), now)?.until ?? now + shortestSpan(ledgers);
        break;
      }
      if (earliest > now + reach.horizonMs) {
        ({ retryAt, askBy } = nextAsk(ledgers, earliest, reach.horizonMs, joinMs, request.calls - i, now));
        break;
      }
      const at = joinedSlot(ledgers, earliest, Math.min(earliest + joinMs, now + reach.horizonMs));
      recordSlot(ledgers, at, now);
      slots.push(at);
      headroom.push(
        called.windows.map((w) => ({
          limit: w.limit,
          remaining: w.limit - ownCalls(this.state.ledgers[called.ledger]!, w, at, request.marginMs),
        })),
      );
    }
    noteWanted(wanted, request.priority, request.share ?? 1, slots, now);
    this.state.reservations += slots.length;
    (this.state.lanes ??= {})[called.lane] = { windows: called.windows, marginMs: request.marginMs };
    const grant = this.newToken();
    if (slots.length > 0) {
      (this.state.grants ??= {})[grant] = {
        lane: called.lane,
        ledgers: ledgers.map((spend) => spend.name),
        slots: [...slots],
        lastSlot: Math.max(...slots),
      };
    }
    return { grant, slots, headroom, ...(retryAt !== undefined ? { retryAt, askBy } : {}) };
  }

  /**
   * Each ledger a reservation spends from, by name, with its windows as enforced now: the plan's (and what the vendor
   * says it enforces), cut to what the vendor's answers leave us, widened by the margin. A sync's share is of the calls
   * above low priority (`<ledger>:above-low`, every call but a low one's): a low reconciliation's calls take room only
   * from the plan, never from the share of a sync beside it. A low reservation's share is of every call, and while a
   * sync above it asks, its calls (`<ledger>:low`) are held to what that sync's share leaves of each window.
   */
  pacing(request: ReserveRequest, now: number): { name: string; ledger: Ledger; windows: PacedWindow[] }[] {
    const share = request.share ?? 1;
    return request.spends.flatMap(({ ledger, lane, windows }) => {
      // What the vendor says it enforces, and what others on the key leave us, bind the lane as a whole, not a
      // lane's own share of it.
      const whole = ledger === lane;
      const adaptation = whole ? this.state.adaptations[lane] : undefined;
      if (adaptation) recover(adaptation, now);
      const usable = adaptedWindows([...windows, ...(whole ? (this.state.vendorWindows[lane] ?? []) : [])], adaptation);
      const held = (name: string, cut: number) => ({
        name,
        ledger: (this.state.ledgers[name] ??= emptyLedger()),
        windows: pacedWindows(shareOf(usable, cut), request.marginMs),
      });
      if (request.priority !== 'low') return [held(ledger, 1), held(`${ledger}:above-low`, share)];
      const above = aboveLow(
        this.state.wanted ?? {},
        shortestSpan([{ windows: pacedWindows(usable, request.marginMs) }]),
        now,
      );
      if (!above) return [held(ledger, share)];
      return [
        held(ledger, share),
        {
          name: `${ledger}:low`,
          ledger: (this.state.ledgers[`${ledger}:low`] ??= emptyLedger()),
          windows: pacedWindows(leftToLow(usable, above.share), request.marginMs),
        },
      ];
    });
  }

  /** The vendor refused a call for rate, or said how full a window is after one: the lane pauses or adapts. */
  report(raw: unknown, now: number): void {
    const report = readMessage(LaneReportSchema, raw);
    const grant = report && nearNow(report.at, now) ? this.grantOf(report.grant, now) : undefined;
    const terms = grant && this.state.lanes?.[grant.lane];
    if (!report || !grant || !terms) return this.drop();
    const before = this.factors();
    this.hear(report, grant, terms, now);
    this.noteChanges(before);
  }

  private hear(report: LaneReport, grant: Grant, terms: LaneTerms, now: number): void {
    if (report.kind === 'quota') {
      this.state.quotaReports += 1;
      const ledger = this.state.ledgers[grant.lane];
      if (!ledger) return;
      const reading = { ...report.reading, resetAtMs: Math.min(report.reading.resetAtMs, now + MAX_MESSAGE_WAIT_MS) };
      const adaptation = (this.state.adaptations[grant.lane] ??= {});
      onQuotaReading(adaptation, ledger, terms.windows, reading, report.at, terms.marginMs);
      return;
    }
    this.state.rateLimitReports += 1;
    // Calls in flight when the first 429 came are refused too: one event, one cut.
    const repeat = report.at < (this.state.ledgers[grant.lane]?.pausedUntil ?? 0);
    for (const lane of lanesOf(grant)) {
      pause((this.state.ledgers[lane] ??= emptyLedger()), report.at + report.retryAfterMs);
    }
    this.note({ kind: 'lanes-paused', lanes: lanesOf(grant), until: report.at + report.retryAfterMs });
    const refused = terms.windows.find((w) => w.limit === report.refusedLimit);
    onRefused((this.state.adaptations[grant.lane] ??= {}), terms.windows, refused, report.at, repeat);
    if (report.window) this.adoptVendorWindow(grant.lane, report.window);
  }

  /** Slots whose calls were never sent, given back for other calls to take. */
  release(raw: unknown, now: number): void {
    const release = readMessage(SlotReleaseSchema, raw);
    const grant = release && this.grantOf(release.grant, now);
    if (!release || !grant) return this.drop();
    for (const at of release.slots) {
      if (!takeSlot(grant, at)) continue;
      for (const ledger of this.ledgersOf(grant)) releaseSlot(ledger, at);
    }
  }

  /** Slots whose calls were answered late, moved to where the vendor may have counted them: a move adds no slot. */
  move(raw: unknown, now: number): void {
    const moves = readMessage(SlotMovesSchema, raw);
    const grant = moves && this.grantOf(moves.grant, now);
    if (!moves || !grant) return this.drop();
    for (const { from, to } of moves.moves) {
      // A move follows the call's answer, so it names a time already past; one said to lie ahead (a worker's clock
      // ahead of the server's) is taken as now: held later, the slot would leave room at `from` before `to` comes.
      const at = Math.min(to, now);
      if (at <= from || !takeSlot(grant, from)) continue;
      for (const ledger of this.ledgersOf(grant)) moveSlot(ledger, from, at);
    }
  }

  /** What the state query shows: everything but the grants' tokens, which would let a reader speak for a worker. */
  view(): GovernorView {
    const { grants, ...rest } = this.state;
    return { ...rest, grants: Object.keys(grants ?? {}).length };
  }

  /** What the next run starts from, on continue-as-new. */
  carried(): GovernorState {
    return this.state;
  }

  private grantOf(token: string, now: number): Grant | undefined {
    const grant = Object.hasOwn(this.state.grants ?? {}, token) ? this.state.grants![token] : undefined;
    return grant && now - grant.lastSlot <= GRANT_TTL_MS ? grant : undefined;
  }

  private forgetGrants(now: number): void {
    const grants = this.state.grants ?? {};
    for (const [token, grant] of Object.entries(grants)) {
      if (now - grant.lastSlot > GRANT_TTL_MS) delete grants[token];
    }
  }

  /** The ledgers a grant spends from that the governor holds. */
  private ledgersOf(grant: Grant): Ledger[] {
    return grant.ledgers.flatMap((name) => this.state.ledgers[name] ?? []);
  }

  /** Every window's share in use, by lane and span: 1 where the adaptation holds none. */
  private factors(): Map<string, number> {
    const factors = new Map<string, number>();
    for (const [lane, adaptation] of Object.entries(this.state.adaptations)) {
      for (const [seconds, window] of Object.entries(adaptation ?? {}))
        factors.set(`${lane}/${seconds}`, window.factor);
    }
    return factors;
  }

  private noteChanges(before: Map<string, number>): void {
    const after = this.factors();
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const [lane, seconds] = key.split('/') as [LaneName, string];
      const was = before.get(key) ?? 1;
      const is = after.get(key) ?? 1;
      if (is < was) this.note({ kind: 'window-cut', lane, seconds: Number(seconds), factor: is });
      else if (is === 1 && was < 1) this.note({ kind: 'window-restored', lane, seconds: Number(seconds) });
    }
  }

  private drop(): void {
    this.state.droppedMessages = (this.state.droppedMessages ?? 0) + 1;
  }

  private adoptVendorWindow(lane: LaneName, window: Window): void {
    const known = this.state.vendorWindows[lane] ?? [];
    if (known.some((w) => w.seconds === window.seconds && w.limit <= window.limit)) return;
    this.state.vendorWindows[lane] = [...known.filter((w) => w.seconds !== window.seconds), window];
  }
}

/** A decision of the governor's worth a line in the log. */
export type GovernorNote =
  | { kind: 'window-cut'; lane: LaneName; seconds: number; factor: number }
  | { kind: 'window-restored'; lane: LaneName; seconds: number }
  | { kind: 'lanes-paused'; lanes: LaneName[]; until: number };

type LaneTerms = NonNullable<NonNullable<GovernorState['lanes']>[LaneName]>;

/** Removes one of the grant's slots at `at`, if it holds one: each slot is released or moved once at most. */
function takeSlot(grant: Grant, at: number): boolean {
  const i = grant.slots.indexOf(at);
  if (i < 0) return false;
  grant.slots.splice(i, 1);
  return true;
}

/** The lanes a grant's calls spend from, the called lane first: its ledgers but a lane's own share. */
function lanesOf(grant: Grant): LaneName[] {
  return grant.ledgers.filter((name): name is LaneName => !name.includes(':'));
}

/** The shortest window any of these ledgers is held to, as paced. */
function shortestSpan(ledgers: readonly { windows: readonly PacedWindow[] }[]): number {
  return Math.min(...ledgers.flatMap((spend) => spend.windows.map((w) => w.spanMs)));
}

function shareOf(windows: Window[], share: number): Window[] {
  return share === 1 ? windows : windows.map((w) => ({ ...w, limit: Math.max(1, Math.floor(w.limit * share)) }));
}

/**
 * How long before the first slot left out its caller should have asked again: the answer's round trip, and a timer
 * waking a little late, fit in it.
 */
export const ASK_LEAD_MS = 500;

/**
 * When to ask again for `calls` left out, the first of them at `first` (before it joins the room freeing after it): as
 * late as lets the next answer take the slots that come close after it (a LeadSquared window's calls come free as a
 * burst, often beside a lone call freed a moment before), so that they are granted in one update, not one each; and
 * `askBy`, the latest time that still asks before the first slot. The slots are found as the answer will grant them,
 * joined, by recording them and giving them back: the ledgers are left as they were.
 */
function nextAsk(
  ledgers: { ledger: Ledger; windows: PacedWindow[] }[],
  first: number,
  horizonMs: number,
  joinMs: number,
  calls: number,
  now: number,
): { retryAt: number; askBy: number } {
  const lead = Math.min(ASK_LEAD_MS, horizonMs / 2);
  const slotFrom = (earliest: number) => joinedSlot(ledgers, earliest, earliest + joinMs);
  const start = slotFrom(first);
  const group = [start];
  recordSlot(ledgers, start, now);
  while (group.length < calls) {
    const at = slotFrom(earliestSlot(ledgers, first));
    if (at > start + horizonMs - lead) break;
    recordSlot(ledgers, at, now);
    group.push(at);
  }
  for (const at of group) for (const { ledger } of ledgers) releaseSlot(ledger, at);
  return { retryAt: Math.max(...group) - horizonMs, askBy: Math.min(...group) - lead };
}
