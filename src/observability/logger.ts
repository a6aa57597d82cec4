import type { Logger, LogLevel, LogMetadata } from '@temporalio/common';
import { LogTimestamp } from '@temporalio/worker';
import { Redactor } from './redactor.js';

/** Where the lines go: process.stderr by default, any writable (or a test's array) otherwise. */
export interface LogSink {
  write(line: string): unknown;
}

export interface JsonLoggerOptions {
  /** Events below this level are dropped. */
  level?: LogLevel;
  sink?: LogSink;
  /** Built over every credential the process holds, so no log line can carry one. */
  redactor?: Redactor;
  /** Bound to every line, e.g. the worker's identity. */
  fields?: Record<string, unknown>;
  now?: () => Date;
}

const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
/** A field may not displace these: every line must say when, how bad and what. */
const RESERVED = new Set(['time', 'level', 'msg']);
const MAX_DEPTH = 8;
/** Copied explicitly for errors; some error classes also make them enumerable, which would copy them twice. */
const ERROR_OWN_KEYS = new Set(['name', 'message', 'stack', 'cause']);

/**
 * One JSON object per line, `{time, level, msg, ...fields}`, with every known secret redacted. It is Temporal's
 * `Logger` too, so `Runtime.install({ logger })` routes the SDK's, workflows' and activities' logs through it and
 * the whole process speaks one format.
 */
export class JsonLogger implements Logger {
  private readonly level: LogLevel;
  private readonly sink: LogSink;
  private readonly redactor: Redactor;
  private readonly fields: Record<string, unknown>;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions = {}) {
    this.level = options.level ?? 'INFO';
    this.sink = options.sink ?? process.stderr;
    this.redactor = options.redactor ?? new Redactor([]);
    this.fields = options.fields ?? {};
    this.now = options.now ?? (() => new Date());
  }

  /** A logger that adds `fields` to every line and shares this one's sink, level and secrets. */
  child(fields: Record<string, unknown>): JsonLogger {
    return new JsonLogger({
      level: this.level,
      sink: this.sink,
      redactor: this.redactor,
      fields: { ...this.fields, ...fields },
      now: this.now,
    });
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (SEVERITY[level] < SEVERITY[this.level]) return;
    const line: Record<string, unknown> = {
      time: this.timeOf(meta),
      level: level.toLowerCase(),
      msg: this.redactor.redact(message),
    };
    const fields = this.plain({ ...this.fields, ...meta }, 0, new WeakSet()) as Record<string, unknown>;
    for (const [key, value] of Object.entries(fields)) {
      if (!RESERVED.has(key)) line[key] = value;
    }
    this.sink.write(`${JSON.stringify(line)}\n`);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  /** Logs forwarded from the SDK's native core carry their own timestamp: keep it, so lines sort truthfully. */
  private timeOf(meta: LogMetadata | undefined): string {
    const nanos: unknown = meta?.[LogTimestamp];
    return typeof nanos === 'bigint' ? new Date(Number(nanos / 1_000_000n)).toISOString() : this.now().toISOString();
  }

  /**
   * A JSON-safe copy with every string redacted. Redacting each string before serialising (rather than the finished
   * line) still finds a secret that JSON would escape, and errors keep their stack, which JSON.stringify drops.
   */
  private plain(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactor.redact(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'symbol' || typeof value === 'function') return undefined;
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    if (depth >= MAX_DEPTH) return '[truncated]';
    seen.add(value);
    try {
      if (value instanceof Date) return value.toISOString();
      if (Array.isArray(value)) return value.map((item) => this.plain(item, depth + 1, seen) ?? null);
      const out: Record<string, unknown> = {};
      const isError = value instanceof Error;
      if (isError) {
        out.name = this.redactor.redact(value.name);
        out.message = this.redactor.redact(value.message);
        if (value.stack) out.stack = this.redactor.redact(value.stack);
        if (value.cause !== undefined) out.cause = this.plain(value.cause, depth + 1, seen);
      }
      for (const [key, item] of Object.entries(value)) {
        if (isError && ERROR_OWN_KEYS.has(key)) continue;
        const copy = this.plain(item, depth + 1, seen);
        if (copy !== undefined) out[this.redactor.redact(key)] = copy;
      }
      return out;
    } finally {
      seen.delete(value);
    }
  }
}
