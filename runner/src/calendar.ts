/**
 * Civil (wall-calendar) dates in a named IANA time zone, on Luxon (time zone rules from the
 * runtime's Intl/ICU data).
 *
 * Retention counts days and months the way people in the company's time zone do (§2.13.1: CET/CEST):
 * "the 1st of the month" and "30 days" are calendar days in Europe/Berlin, not UTC days and not
 * multiples of 24 hours (a day across a DST change has 23 or 25 hours).
 */
import { DateTime } from "luxon";

/** A calendar date: year, month 1–12, day 1–31. */
export interface CivilDate {
    readonly year: number;
    readonly month: number;
    readonly day: number;
}

const DAY_MS = 86_400_000;

/** A Luxon DateTime that must be valid (a zone name Luxon does not know is an error, not NaN dates). */
function valid(dt: DateTime): DateTime {
    if (!dt.isValid) throw new RangeError(`calendar: ${dt.invalidReason ?? "invalid"}: ${dt.invalidExplanation ?? ""}`);
    return dt;
}

/** A calendar date as a Luxon date at midnight UTC (for arithmetic on the date alone). */
function utcDate(d: CivilDate): DateTime {
    return valid(DateTime.utc(d.year, d.month, d.day));
}

/** Remembered answers of civilDate: retention classifies the same backups again on every run. */
const civilDates = new Map<string, CivilDate>();

/** The calendar date of an instant in a time zone. */
export function civilDate(instant: Date, timeZone: string): CivilDate {
    const key = `${timeZone} ${instant.getTime()}`;
    let date = civilDates.get(key);
    if (!date) {
        const { year, month, day } = valid(DateTime.fromJSDate(instant, { zone: timeZone }));
        date = { year, month, day };
        if (civilDates.size >= 100_000) civilDates.clear();
        civilDates.set(key, date);
    }
    return date;
}

/** Days since 1970-01-01 of a calendar date: differences are whole calendar days. */
export function dayNumber(d: CivilDate): number {
    return utcDate(d).toMillis() / DAY_MS;
}

export function fromDayNumber(n: number): CivilDate {
    const { year, month, day } = DateTime.fromMillis(n * DAY_MS, { zone: "utc" });
    return { year, month, day };
}

/** Calendar days from `from` to `to` (positive when `to` is later). */
export function calendarDaysBetween(from: CivilDate, to: CivilDate): number {
    return dayNumber(to) - dayNumber(from);
}

/** The same day `months` later; clamped to the month's last day (31 Aug + 6 months = 28/29 Feb). */
export function addMonths(d: CivilDate, months: number): CivilDate {
    const { year, month, day } = utcDate(d).plus({ months });
    return { year, month, day };
}

/** "2025-03" */
export function monthKey(d: CivilDate): string {
    return `${d.year}-${String(d.month).padStart(2, "0")}`;
}

/** "2025-03-01" */
export function formatCivilDate(d: CivilDate): string {
    return `${monthKey(d)}-${String(d.day).padStart(2, "0")}`;
}

/**
 * The instant at which the wall clock in `timeZone` shows the given date and time. A wall time that
 * does not exist (skipped by a spring-forward change) resolves to the instant one hour later on the
 * wall clock, like cron does (Luxon moves it forward); an ambiguous one (autumn) to its first
 * occurrence (the earliest of Luxon's possible offsets).
 */
export function zonedInstant(d: CivilDate, hour: number, minute: number, timeZone: string): Date {
    const local = valid(DateTime.fromObject({ ...d, hour, minute }, { zone: timeZone }));
    const first = Math.min(local.toMillis(), ...local.getPossibleOffsets().map((o) => o.toMillis()));
    return new Date(first);
}
