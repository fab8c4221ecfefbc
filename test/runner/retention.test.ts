import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import {
    addMonths,
    calendarDaysBetween,
    civilDate,
    dayNumber,
    fromDayNumber,
    monthKey,
    zonedInstant,
    type CivilDate,
} from "../../runner/src/calendar";
import { classify, nasRetention, plan } from "../../runner/src/retention";
import { selectBackup, tags, type ResticSnapshot } from "../../runner/src/snapshots";

const policy = nasRetention();
const tz = policy.timeZone;
const DAY_MS = 86_400_000;

let counter = 0;
function fakeId(): string {
    counter += 1;
    return counter.toString(16).padStart(64, "0");
}

/**
 * What the runner writes for one backup attempt (see runner/src/snapshots.ts). `monthlyTag`: what
 * runners before issue 13 added to the manifest of a backup that saw no earlier one of its month.
 */
function backupSnapshots(time: Date, complete: boolean, monthlyTag = false): ResticSnapshot[] {
    const id = fakeId();
    const run = `run-${id}`;
    const data: ResticSnapshot = {
        id,
        time: time.toISOString(),
        tags: [tags.target("db"), tags.kind("database"), tags.run(run), tags.daily],
        paths: ["/db.pgdump"],
    };
    if (!complete) return [data];
    const m = [tags.target("db"), tags.manifest, tags.run(run), ...(monthlyTag ? ["monthly"] : [])];
    return [data, { id: fakeId(), time: time.toISOString(), tags: m, paths: ["/manifest.json"] }];
}

function at(date: string, hour: number, minute = 0): Date {
    const [year, month, day] = date.split("-").map(Number);
    return zonedInstant({ year, month, day }, hour, minute, tz);
}

/** Times of the backups `classify` takes as the monthly ones. */
function monthlyTimes(repo: readonly ResticSnapshot[]): string[] {
    return classify(repo, policy)
        .filter((b) => b.monthly)
        .map((b) => b.time.toISOString());
}

/** Times of the first complete backup on or after the anchor day of each month (the policy, computed here). */
function firstOfMonthTimes(repo: readonly ResticSnapshot[]): string[] {
    const done = repo
        .filter((s) => completeIds(repo).has(s.id))
        .map((s) => new Date(s.time))
        .sort((a, b) => a.getTime() - b.getTime());
    const first = new Map<string, Date>();
    for (const t of done) {
        const c = civilDate(t, tz);
        if (c.day >= policy.monthlyAnchorDayOfMonth && !first.has(monthKey(c))) first.set(monthKey(c), t);
    }
    return [...first.values()].map((t) => t.toISOString());
}

/** Ids of data snapshots whose manifest (same run tag) exists. */
function completeIds(repo: readonly ResticSnapshot[]): Set<string> {
    const runs = new Set(
        repo.filter((s) => s.tags?.includes(tags.manifest)).flatMap((s) => s.tags!.filter((t) => t.startsWith("run="))),
    );
    return new Set(
        repo.filter((s) => !s.tags?.includes(tags.manifest) && s.tags?.some((t) => runs.has(t))).map((s) => s.id),
    );
}

function applyPlan(snapshots: ResticSnapshot[], now: Date): ResticSnapshot[] {
    const gone = new Set(plan(snapshots, now, policy).delete.map((d) => d.snapshotId));
    return snapshots.filter((s) => !gone.has(s.id));
}

describe("retention plan", () => {
    it(`keeps every daily backup of the last ${policy.dailyRetentionDays} days and deletes older non-monthly ones, saying why`, () => {
        const repo: ResticSnapshot[] = [];
        // Daily backups at 01:30 from 10 March to 29 May 2025 (across the spring DST change).
        for (
            let d = dayNumber({ year: 2025, month: 3, day: 10 });
            d <= dayNumber({ year: 2025, month: 5, day: 29 });
            d++
        ) {
            repo.push(...backupSnapshots(zonedInstant(fromDayNumber(d), 1, 30, tz), true));
        }
        const now = at("2025-05-30", 4);
        const result = plan(repo, now, policy);
        const data = result.decisions.filter((d) => d.role === "data");
        for (const d of data) {
            const age = calendarDaysBetween(civilDate(d.time, tz), civilDate(now, tz));
            const monthly = firstOfMonthTimes(repo).includes(d.time.toISOString());
            const within = age <= policy.dailyRetentionDays;
            expect(d.keep, `${d.time.toISOString()} age ${age}`).toBe(within || monthly);
            expect(d.reasons.join(" ")).toMatch(within ? /daily backup/ : monthly ? /monthly backup of/ : /older than/);
        }
        // The monthly backups of April and May (1st) are kept, the first backup (10 March) is not monthly.
        const kept = result.keep.filter((d) => d.role === "data").map((d) => civilDate(d.time, tz));
        expect(kept.filter((c) => c.day === 1).map(monthKey)).toEqual(["2025-04", "2025-05"]);
        // Manifests follow their backups.
        for (const d of result.decisions.filter((x) => x.role === "manifest")) {
            expect(d.keep).toBe(result.decisions.find((x) => x.snapshotId === d.backupId)!.keep);
        }
    });

    it("takes the 1st of the month in Europe/Berlin, not in UTC", () => {
        // 00:30 on 1 March in Berlin is 23:30 UTC on 28 February.
        const first = at("2025-03-01", 0, 30);
        expect(first.toISOString()).toBe("2025-02-28T23:30:00.000Z");
        let repo = backupSnapshots(at("2025-02-27", 0, 30), true);
        repo = [...repo, ...backupSnapshots(first, true)];
        expect(monthlyTimes(repo)).toEqual([at("2025-02-27", 0, 30).toISOString(), first.toISOString()]);
    });

    it("makes the next success of the month the monthly one when the 1st failed", () => {
        let repo = backupSnapshots(at("2025-06-01", 1), false); // pg_dump killed: data without manifest
        repo = [...repo, ...backupSnapshots(at("2025-06-02", 1), true)];
        repo = [...repo, ...backupSnapshots(at("2025-06-03", 1), true)];
        expect(monthlyTimes(repo).map((t) => civilDate(new Date(t), tz).day)).toEqual([2]);
    });

    it("keeps exactly one monthly backup when two backups started together on the 1st both carry an old runner's monthly tag", () => {
        const old = backupSnapshots(at("2025-02-27", 1), true, true);
        // Both saw no earlier backup of March, so both manifests said monthly.
        const first = backupSnapshots(at("2025-03-01", 0, 30), true, true);
        const second = backupSnapshots(new Date(at("2025-03-01", 0, 30).getTime() + 5000), true, true);
        const newer = backupSnapshots(at("2025-08-15", 1), true, true);
        const repo = [...old, ...first, ...second, ...newer];
        expect(repo.filter((s) => s.tags?.includes("monthly"))).toHaveLength(4); // February, March twice, August
        expect(monthlyTimes(repo)).toHaveLength(3); // one a month
        const result = plan(repo, at("2025-08-20", 12), policy);
        const data = (id: string): { keep: boolean; reasons: readonly string[] } =>
            result.decisions.find((d) => d.snapshotId === id)!;
        expect(data(first[0].id)).toMatchObject({
            keep: true,
            reasons: [expect.stringMatching(/monthly backup of 2025-03/)],
        });
        expect(data(second[0].id)).toMatchObject({
            keep: false,
            reasons: [expect.stringMatching(/not a monthly backup/)],
        });
    });

    it(`keeps a monthly backup for ${policy.monthlyRetentionMonths} months, through the same calendar day, then deletes it`, () => {
        const monthlyTime = at("2025-01-01", 1);
        let repo = backupSnapshots(monthlyTime, true);
        repo = [...repo, ...backupSnapshots(at("2025-12-31", 1), true)]; // a newer backup, so "newest" does not apply
        const lastDay = addMonths(civilDate(monthlyTime, tz), policy.monthlyRetentionMonths);
        const lastDayIso = `${monthKey(lastDay)}-${String(lastDay.day).padStart(2, "0")}`;
        const keptOnLastDay = plan(repo, at(lastDayIso, 23, 59), policy).decisions.find(
            (d) => d.snapshotId === repo[0].id,
        )!;
        expect(keptOnLastDay.keep).toBe(true);
        expect(keptOnLastDay.reasons.join()).toContain(`through ${lastDayIso}`);
        const dayAfter = zonedInstant(fromDayNumber(dayNumber(lastDay) + 1), 0, 1, tz);
        const deleted = plan(repo, dayAfter, policy).decisions.find((d) => d.snapshotId === repo[0].id)!;
        expect(deleted.keep).toBe(false);
        expect(deleted.reasons.join()).toMatch(/expired/);
    });

    it("never deletes the newest backup, however old, and never counts an incomplete one as newest", () => {
        let repo = backupSnapshots(at("2023-05-10", 1), true);
        repo = [...repo, ...backupSnapshots(at("2023-05-11", 1), false)];
        const result = plan(repo, at("2025-01-01", 1), policy);
        expect(result.keep.map((d) => d.snapshotId).sort()).toEqual([repo[0].id, repo[1].id].sort());
        expect(result.keep[0].reasons.join()).toMatch(/newest backup/);
        expect(result.delete.map((d) => d.snapshotId)).toEqual([repo[2].id]);
        expect(result.delete[0].reasons.join()).toMatch(/incomplete/);
    });

    it(`keeps a backup without manifest younger than ${policy.unfinishedGraceHours} h (it may still be running)`, () => {
        const repo = backupSnapshots(at("2025-02-10", 1), false);
        expect(plan(repo, at("2025-02-10", 3), policy).keep.map((d) => d.snapshotId)).toEqual([repo[0].id]);
        expect(
            plan(repo, new Date(at("2025-02-10", 1).getTime() + policy.unfinishedGraceHours * 3_600_000), policy).keep,
        ).toEqual([]);
    });

    it("takes its numbers from the policy module", () => {
        expect(policy).toEqual({
            timeZone: backupPolicy.nas.timeZone.value,
            dailyRetentionDays: backupPolicy.nas.dailyRetentionDays.value,
            monthlyAnchorDayOfMonth: backupPolicy.nas.monthlyAnchorDayOfMonth.value,
            monthlyRetentionMonths: backupPolicy.nas.monthlyRetentionMonths.value,
            unfinishedGraceHours: backupPolicy.rpoHours.value,
        });
    });
});

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** A plain check: vitest's expect is too slow for the ~10^6 checks of the simulation. */
function ensure(ok: boolean, message: string): void {
    if (!ok) expect.fail(message);
}

interface Success {
    readonly id: string;
    readonly time: Date;
    readonly civil: CivilDate;
}

describe("retention over years of simulated daily runs", () => {
    const years = 4;
    for (const seed of [1, 2, 3, 20250330, 20251026]) {
        it(`seed ${seed}: ${years} years with random failures, reruns, outages and DST changes keep the policy every day`, () => {
            const random = rng(seed);
            const start = dayNumber({ year: 2024, month: 1, day: 1 }) + Math.floor(random() * 365);
            let repo: ResticSnapshot[] = [];
            const successes: Success[] = [];
            let outageDaysLeft = 0;
            let prunes = 0;
            let dstDaysSeen = 0;
            let concurrentPairs = 0;

            const check = (now: Date, pruned: boolean): void => {
                const today = civilDate(now, tz);
                const present = new Set(repo.map((s) => s.id));
                const withManifest = completeIds(repo);
                // Older successes can no longer be required by any rule (6 months + a day < 250 days), except the newest.
                const horizon = now.getTime() - 250 * DAY_MS;
                const done = successes
                    .filter((s) => s.time.getTime() <= now.getTime() && s.time.getTime() > horizon)
                    .sort((a, b) => a.time.getTime() - b.time.getTime());
                const where = `seed ${seed}, ${now.toISOString()}`;

                // Daily: every success of the last 30 calendar days (and of the last 30×24 h) is there, with its manifest.
                for (const s of done) {
                    const age = calendarDaysBetween(s.civil, today);
                    if (
                        age <= policy.dailyRetentionDays ||
                        now.getTime() - s.time.getTime() < policy.dailyRetentionDays * DAY_MS
                    ) {
                        ensure(present.has(s.id), `${where}: daily ${s.time.toISOString()} (age ${age}) missing`);
                        ensure(withManifest.has(s.id), `${where}: manifest of ${s.time.toISOString()} missing`);
                    }
                }
                // Monthly: the first success on/after the anchor day of every month is there for 6 months, and is the one `classify` names.
                const firstOfMonth = new Map<string, Success>();
                for (const s of done) {
                    if (s.civil.day >= policy.monthlyAnchorDayOfMonth && !firstOfMonth.has(monthKey(s.civil)))
                        firstOfMonth.set(monthKey(s.civil), s);
                }
                for (const [month, s] of firstOfMonth) {
                    const through = addMonths(s.civil, policy.monthlyRetentionMonths);
                    if (dayNumber(today) <= dayNumber(through)) {
                        ensure(present.has(s.id), `${where}: monthly of ${month} missing`);
                        ensure(
                            monthlyTimes(repo).includes(s.time.toISOString()),
                            `${where}: monthly of ${month} not classified monthly`,
                        );
                    }
                }
                // The newest success is always there, and restore's "latest" finds exactly it.
                const newest = done[done.length - 1];
                if (newest) {
                    ensure(present.has(newest.id), `${where}: newest missing`);
                    ensure(
                        selectBackup(repo, { snapshot: "latest" }).id === newest.id,
                        `${where}: restore's latest is not the newest success`,
                    );
                }
                if (!pruned) return;
                // Right after a prune nothing is kept beyond what the policy asks for (data minimisation, §2.12).
                const monthlyIds = new Set([...firstOfMonth.values()].map((s) => s.id));
                for (const snap of repo) {
                    if (snap.tags?.includes(tags.manifest)) {
                        const run = snap.tags.find((t) => t.startsWith("run="));
                        ensure(
                            repo.some((d) => d !== snap && d.tags?.includes(run!)),
                            `${where}: manifest without backup`,
                        );
                        continue;
                    }
                    const time = new Date(snap.time);
                    const complete = withManifest.has(snap.id);
                    const ageDays = calendarDaysBetween(civilDate(time, tz), today);
                    const ageHours = (now.getTime() - time.getTime()) / 3_600_000;
                    if (!complete) {
                        ensure(ageHours < policy.unfinishedGraceHours, `${where}: incomplete ${snap.time} kept`);
                        continue;
                    }
                    const daily = ageDays <= policy.dailyRetentionDays || ageHours < policy.dailyRetentionDays * 24;
                    // Exactly one monthly per month: a second backup of the 1st (started together) is not kept for it.
                    const monthly =
                        monthlyIds.has(snap.id) &&
                        dayNumber(today) <= dayNumber(addMonths(civilDate(time, tz), policy.monthlyRetentionMonths));
                    ensure(
                        daily || monthly || snap.id === newest?.id,
                        `${where}: ${snap.time} (age ${ageDays} d) kept without reason`,
                    );
                }
            };

            for (let day = start; day < start + years * 366; day++) {
                const date: CivilDate = fromDayNumber(day);
                const dayLength =
                    zonedInstant(fromDayNumber(day + 1), 0, 0, tz).getTime() - zonedInstant(date, 0, 0, tz).getTime();
                if (dayLength !== DAY_MS) dstDaysSeen++;
                // NAS or database down for days; rarely for more than the daily retention (only the newest backup protects then).
                if (outageDaysLeft === 0 && random() < 0.01) {
                    outageDaysLeft =
                        random() < 0.15
                            ? policy.dailyRetentionDays + 1 + Math.floor(random() * 30)
                            : 1 + Math.floor(random() * 9);
                }
                const attempts = outageDaysLeft > 0 ? 1 : random() < 0.05 ? 0 : random() < 0.08 ? 2 : 1;
                // Runs cluster around midnight and the DST hours (00:00–03:59), sometimes any time of day.
                let minuteOfDay = random() < 0.8 ? Math.floor(random() * 240) : Math.floor(random() * 1440);
                let lastAttempt = 0;
                for (let a = 0; a < attempts; a++) {
                    const time = zonedInstant(date, Math.floor(minuteOfDay / 60), minuteOfDay % 60, tz);
                    lastAttempt = Math.max(lastAttempt, time.getTime());
                    const r = random();
                    const outcome =
                        outageDaysLeft > 0 ? "nothing" : r < 0.08 ? "nothing" : r < 0.16 ? "incomplete" : "success";
                    if (outcome !== "nothing") {
                        const written = backupSnapshots(time, outcome === "success");
                        repo = [...repo, ...written];
                        if (outcome === "success")
                            successes.push({ id: written[0].id, time, civil: civilDate(time, tz) });
                    }
                    minuteOfDay = Math.min(1439, minuteOfDay + 1 + Math.floor(random() * 120));
                }
                // Two backups started together on the anchor day (a rerun racing the CronJob): only the
                // earlier one is the month's monthly backup.
                if (outageDaysLeft === 0 && date.day === policy.monthlyAnchorDayOfMonth && random() < 0.3) {
                    const time = zonedInstant(date, Math.floor(minuteOfDay / 60), minuteOfDay % 60, tz);
                    for (const offset of [0, 1000 + Math.floor(random() * 30_000)]) {
                        const written = backupSnapshots(new Date(time.getTime() + offset), true);
                        repo = [...repo, ...written];
                        successes.push({
                            id: written[0].id,
                            time: new Date(time.getTime() + offset),
                            civil: civilDate(time, tz),
                        });
                        lastAttempt = Math.max(lastAttempt, time.getTime() + offset);
                        concurrentPairs++;
                    }
                }
                if (outageDaysLeft > 0) outageDaysLeft--;
                // Prune after the backups (sometimes it fails and the next day catches up).
                const pruneMinute = Math.min(1439, minuteOfDay + 1 + Math.floor(random() * 60));
                // (A run in the spring-forward gap happens an hour later on the wall clock, so prune waits for it.)
                const pruneAt = new Date(
                    Math.max(
                        zonedInstant(date, Math.floor(pruneMinute / 60), pruneMinute % 60, tz).getTime(),
                        lastAttempt + 60_000,
                    ),
                );
                const pruned = random() > 0.1;
                if (pruned) {
                    repo = applyPlan(repo, pruneAt);
                    prunes++;
                }
                check(pruneAt, pruned);
                check(
                    new Date(Math.max(zonedInstant(fromDayNumber(day + 1), 0, 0, tz).getTime() - 1, pruneAt.getTime())),
                    false,
                );
            }
            expect(successes.length).toBeGreaterThan(years * 200);
            expect(prunes).toBeGreaterThan(years * 300);
            expect(dstDaysSeen).toBeGreaterThanOrEqual(years * 2);
            expect(concurrentPairs).toBeGreaterThan(0);
        });
    }
});
