/**
 * One JSON line per event on stderr (§2.15: backups are visible). Command results (plans, status
 * tables) go to stdout. Every line passes through redact(): registered secrets and the password part
 * of any URL are replaced by "***" before anything is written.
 */

const secrets = new Set<string>();

/** Registers a value that must never appear in output (passwords, tokens). */
export function registerSecret(value: string | undefined): void {
    if (value === undefined || value.length < 4) return;
    secrets.add(value);
    secrets.add(encodeURIComponent(value));
    // As it appears inside a JSON log line (quotes, backslashes, control characters escaped).
    secrets.add(JSON.stringify(value).slice(1, -1));
}

export function redact(text: string): string {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@/]*@/gi, "$1:***@");
    for (const s of secrets) out = out.split(s).join("***");
    return out;
}

export type Level = "info" | "warn" | "error";

export type Fields = Record<string, unknown>;

let sink: (line: string) => void = (line) => process.stderr.write(line + "\n");

/** For tests of the logger itself. */
export function setLogSink(fn: (line: string) => void): void {
    sink = fn;
}

export function log(level: Level, event: string, fields: Fields = {}): void {
    const record: Fields = { time: new Date().toISOString(), level, event };
    for (const [k, v] of Object.entries(fields)) if (!(k in record)) record[k] = v;
    const line = JSON.stringify(record, (_k, v: unknown) => (v instanceof Error ? v.message : v));
    sink(redact(line));
}

/** Seconds since `start` (from performance.now()), rounded to milliseconds. */
export function secondsSince(start: number): number {
    return Math.round(performance.now() - start) / 1000;
}

/** Logs `<event>.progress` every `intervalSeconds` while work runs; returns the stop function. */
export function progressTicker(event: string, intervalSeconds: number, fields: () => Fields): () => void {
    if (!(intervalSeconds > 0)) return () => undefined;
    const start = performance.now();
    const timer = setInterval(
        () => log("info", `${event}.progress`, { elapsedSeconds: secondsSince(start), ...fields() }),
        intervalSeconds * 1000,
    );
    timer.unref();
    return () => clearInterval(timer);
}
