/**
 * A bound on how long a backup waits for a NAS that stopped answering.
 *
 * restic 0.14 retries every failed request to the REST server 10 times with exponential backoff
 * (about a minute per request) and has no option to shorten that; a NAS that disappeared mid-backup
 * was reported only after about three minutes (the upload's retries, then the lock removal's). The
 * watchdog asks the NAS itself (`HEAD <repository>/config`, as the probe before every command) every
 * few seconds; once it has not answered for the bound, it kills the backup's children (restic first,
 * so restic never sees the end of a partial stream) and the backup fails with that cause.
 */
import { log } from "./log";
import { killChildren, OperationError } from "./proc";
import type { ResticRepository } from "./restic";

/** At most this long between two probes (shorter for a bound under 20 s). */
const MAX_INTERVAL_MS = 5_000;
/** A probe gives up after this long (or half the bound); one unanswered for an interval already counts as failing. */
const MAX_PROBE_TIMEOUT_MS = 20_000;

export interface NasWatchdog {
    /** The watchdog's cause once it has aborted the operation, else `undefined`. */
    failure(): OperationError | undefined;
    stop(): void;
}

/**
 * Probes the NAS while an operation runs; aborts it (kills the runner's children) once the NAS has
 * not answered for `boundSeconds`. `consequence` completes the message with what the abort left.
 */
export function watchNas(
    repo: Pick<ResticRepository, "probe" | "target" | "location">,
    boundSeconds: number,
    consequence: () => string,
): NasWatchdog {
    const boundMs = boundSeconds * 1000;
    const intervalMs = Math.min(MAX_INTERVAL_MS, boundMs / 4);
    let inFlight: Date | undefined;
    let failingSince: Date | undefined;
    let lastError = "no answer";
    let failure: OperationError | undefined;

    const probe = (): void => {
        const started = new Date();
        inFlight = started;
        repo.probe(Math.min(MAX_PROBE_TIMEOUT_MS, boundMs / 2))
            .then(
                () => (failingSince = undefined),
                (e: Error) => {
                    lastError = e.message.replace(/^NAS not reachable at \S+: /, "");
                    if (!failingSince) {
                        failingSince = started;
                        log("warn", "nas.unreachable", {
                            target: repo.target,
                            since: started.toISOString(),
                            cause: lastError,
                        });
                    }
                },
            )
            .finally(() => {
                if (inFlight === started) inFlight = undefined;
            });
    };
    const tick = (): void => {
        const now = Date.now();
        // A probe still unanswered after an interval counts as failing since it started.
        const since = failingSince ?? (inFlight && now - inFlight.getTime() >= intervalMs ? inFlight : undefined);
        if (since && now - since.getTime() >= boundMs) {
            clearInterval(timer);
            failure = new OperationError(
                `NAS unreachable since ${since.toISOString()} at ${repo.location.display} (${lastError}; no answer for ${Math.round((now - since.getTime()) / 1000)} s, the bound is ${boundSeconds} s, NAS_BACKUP_NAS_TIMEOUT_SECONDS): ${consequence()}`,
            );
            killChildren();
            return;
        }
        if (!inFlight) probe();
    };
    const timer = setInterval(tick, intervalMs);
    return {
        failure: () => failure,
        stop: () => clearInterval(timer),
    };
}
