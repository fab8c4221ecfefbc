/**
 * Civil (wall-calendar) dates in a named time zone, without a date library.
 *
 * Retention counts days and months the way people in the company's time zone do (§2.13.1: CET/CEST):
 * "the 1st of the month" and "30 days" are calendar days in Europe/Berlin, not UTC days and not
 * multiples of 24 hours (a day across a DST change has 23 or 25 hours).
 */

/** A calendar date: year, month 1–12, day 1–31. */
export interface CivilDate {
    readonly year: number;
    readonly month: number;
    readonly day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
    let f = formatters.get(timeZone);
    if (!f) {
        f = new Intl.DateTimeFormat("en-US", {
            timeZone,
            hourCycle: "h23",
            year: "numeric",
            month: "numeric",
            day: "numeric",
            hour: "numeric",
            minute: "numeric",
            second: "numeric",
        });
        formatters.set(timeZone, f);
    }
    return f;
}

interface WallClock extends CivilDate {
    readonly hour: number;
    readonly minute: number;
    readonly second: number;
}

const OFFSET_BUCKET_MS = 15 * 60_000;
const offsetCache = new Map<string, number>();

/** Offset of the zone from UTC; constant within a UTC quarter hour (zone changes happen on such boundaries). */
function offsetMs(instant: Date, timeZone: string): number {
    const bucket = Math.floor(instant.getTime() / OFFSET_BUCKET_MS);
    const key = `${timeZone} ${bucket}`;
    let offset = offsetCache.get(key);
    if (offset === undefined) {
        const at = new Date(bucket * OFFSET_BUCKET_MS);
        const parts: Record<string, number> = {};
        for (const p of formatter(timeZone).formatToParts(at)) {
            if (p.type !== "literal") parts[p.type] = Number(p.value);
        }
        offset =
            Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - at.getTime();
        if (offsetCache.size > 100_000) offsetCache.clear();
        offsetCache.set(key, offset);
    }
    return offset;
}

function wallClock(instant: Date, timeZone: string): WallClock {
    const w = new Date(instant.getTime() + offsetMs(instant, timeZone));
    return {
        year: w.getUTCFullYear(),
        month: w.getUTCMonth() + 1,
        day: w.getUTCDate(),
        hour: w.getUTCHours(),
        minute: w.getUTCMinutes(),
        second: w.getUTCSeconds(),
    };
}

/** The calendar date of an instant in a time zone. */
export function civilDate(instant: Date, timeZone: string): CivilDate {
    const { year, month, day } = wallClock(instant, timeZone);
    return { year, month, day };
}

/** Days since 1970-01-01 of a calendar date: differences are whole calendar days. */
export function dayNumber(d: CivilDate): number {
    return Date.UTC(d.year, d.month - 1, d.day) / 86_400_000;
}

export function fromDayNumber(n: number): CivilDate {
    const t = new Date(n * 86_400_000);
    return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

/** Calendar days from `from` to `to` (positive when `to` is later). */
export function calendarDaysBetween(from: CivilDate, to: CivilDate): number {
    return dayNumber(to) - dayNumber(from);
}

/** The same day `months` later; clamped to the month's last day (31 Aug + 6 months = 28/29 Feb). */
export function addMonths(d: CivilDate, months: number): CivilDate {
    const index = d.year * 12 + (d.month - 1) + months;
    const year = Math.floor(index / 12);
    const month = (index % 12) + 1;
    const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return { year, month, day: Math.min(d.day, lastDay) };
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
 * wall clock, like cron does; an ambiguous one (autumn) to its first occurrence.
 */
export function zonedInstant(d: CivilDate, hour: number, minute: number, timeZone: string): Date {
    const wall = Date.UTC(d.year, d.month - 1, d.day, hour, minute);
    // Try both offsets around the wall time; prefer the earliest candidate that really shows it.
    const offsets = new Set([
        offsetMs(new Date(wall - 86_400_000), timeZone),
        offsetMs(new Date(wall + 86_400_000), timeZone),
    ]);
    const candidates = [...offsets].map((o) => new Date(wall - o)).sort((a, b) => a.getTime() - b.getTime());
    for (const c of candidates) {
        const w = wallClock(c, timeZone);
        if (w.year === d.year && w.month === d.month && w.day === d.day && w.hour === hour && w.minute === minute)
            return c;
    }
    // In a spring-forward gap: the latest candidate shows the wall time one hour later.
    return candidates[candidates.length - 1];
}

/** Midnight at the start of a calendar day in the time zone. */
export function startOfCivilDay(d: CivilDate, timeZone: string): Date {
    return zonedInstant(d, 0, 0, timeZone);
}
