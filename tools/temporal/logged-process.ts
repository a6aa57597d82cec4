import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A Temporal process (dev server, cluster server, UI server) started by leadsync, its output in a log file. */
export interface LoggedProcess {
  child: ChildProcess;
  /** Resolves with how the process ended. */
  exited: Promise<string>;
  /** SIGTERM, then SIGKILL if it has not ended within the grace period; once, however often called. */
  stop(): Promise<void>;
}

/**
 * Starts `command` with its stdout and stderr appended to `logFile`, without the TEMPORAL_* variables of this process:
 * the CLI reads them as client settings and the server some of its own (TEMPORAL_ENVIRONMENT), and what we start
 * must depend on its flags and files only. Killed should this process exit without stopping it, so no server is left
 * holding the ports.
 */
export function startLogged(command: string, args: string[], logFile: string, graceMs = 15_000): LoggedProcess {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit(signal ?? `exit code ${code}`));
    child.on('error', (err) => resolveExit(err.message));
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    child,
    exited,
    stop: () =>
      (stopped ??= (async () => {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        // An unref'd timer: a quick exit must not leave this process waiting out the grace period.
        const ended = await Promise.race([
          exited.then(() => true),
          sleep(graceMs, undefined, { ref: false }).then(() => false),
        ]);
        if (!ended) {
          child.kill('SIGKILL');
          await exited;
        }
      })()),
  };
}
