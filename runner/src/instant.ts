/**
 * Times on the command line (--time, --before, --as-of): a date is midnight in the policy's time zone,
 * a wall-clock time is read there, an instant with a zone is exact. Its own module: the calendar
 * (Luxon) is loaded only when a command is given a time.
 */
import { backupPolicy } from "../../components/policy";
import { zonedInstant } from "./calendar";
import { UsageError } from "./proc";

const timeZone = backupPolicy.nas.timeZone.value;

/** Parses --time/--before: a date (midnight in the policy's zone), a wall-clock time there, or an exact instant. */
export function parseInstant(value: string, flag: string): Date {
    const local = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?$/.exec(value);
    if (local) {
        const [, y, m, d, hh, mm] = local;
        return zonedInstant(
            { year: Number(y), month: Number(m), day: Number(d) },
            Number(hh ?? 0),
            Number(mm ?? 0),
            timeZone,
        );
    }
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
        const t = new Date(value);
        if (!Number.isNaN(t.getTime())) return t;
    }
    throw new UsageError(
        `--${flag} ${JSON.stringify(value)}: expected 2025-03-01, 2025-03-01T14:30 (${timeZone}) or 2025-03-01T13:30:00Z`,
    );
}
