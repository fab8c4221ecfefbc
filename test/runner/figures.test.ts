/**
 * The runner's figures and plans against real PostgreSQL, restic 0.14 and `rclone serve restic`: what
 * a backup stored on the NAS, and exactly one monthly backup per month.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { addMonths, civilDate, formatCivilDate, zonedInstant } from "../../runner/src/calendar";
import { repoRoot, runCli, snapshotsOf } from "./harness";
import { useRunnerTestbed } from "./testbed";

const tz = backupPolicy.nas.timeZone.value;

const testbed = useRunnerTestbed(({ pg }) => {
    pg.sql("postgres", "CREATE DATABASE app");
    // Text that compresses well: restic's "data added" is far above what the NAS stores.
    pg.sql(
        "app",
        "CREATE TABLE note (id int PRIMARY KEY, body text); INSERT INTO note SELECT g, repeat('Lieferschein ' || (g % 50), 40) FROM generate_series(1, 20000) g",
    );
});

/** Bytes of the repository's pack, index and snapshot files on the NAS's disk. */
function storedOnDisk(target: string): number {
    const sum = (dir: string): number =>
        readdirSync(dir, { withFileTypes: true }).reduce(
            (n, e) => n + (e.isDirectory() ? sum(join(dir, e.name)) : statSync(join(dir, e.name)).size),
            0,
        );
    return ["data", "index", "snapshots"].reduce((n, d) => n + sum(join(testbed.nas.dir, target, d)), 0);
}

interface BackupJson {
    bytes: number;
    bytesNew: number;
    bytesStored: number;
    snapshot: string;
}

async function backup(target: string, time?: Date): Promise<BackupJson> {
    const r = await runCli(
        ["backup", "--target", target, "--database", "app", "--json", ...(time ? ["--time", time.toISOString()] : [])],
        testbed.env,
    );
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as BackupJson;
}

describe.concurrent("figures that are true", () => {
    it("reports the bytes the NAS stored (compressed), next to restic's uncompressed 'new data'", async () => {
        const first = await backup("stored");
        expect(first.bytesStored).toBe(storedOnDisk("stored"));
        expect(first.bytesStored * 3).toBeLessThan(first.bytesNew);
        const before = storedOnDisk("stored");
        const second = await backup("stored");
        expect(second.bytesStored).toBe(storedOnDisk("stored") - before);
        // Unchanged data: pg_dump's header (its timestamp) changes, so the chunk holding it is stored again.
        // restic's chunk boundaries depend on the repository's random polynomial (512 KiB–8 MiB), so how
        // much that is varies; it is never the whole dump (12 MB here, 8 MiB at most per chunk).
        expect(second.bytesStored).toBeLessThan(first.bytesStored);

        // `npx nas-backup … --json` (the package's bin): stdout is the runner's JSON alone, no npm banner.
        const npx = spawnSync("npx", ["nas-backup", "status", "--target", "stored", "--json"], {
            cwd: repoRoot,
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...testbed.env },
            encoding: "utf8",
        });
        expect(npx.status, npx.stderr).toBe(0);
        expect(JSON.parse(npx.stdout)).toMatchObject([{ target: "stored", withinRpo: true, daily: 2 }]);
    });
});

describe.concurrent("exactly one monthly backup", () => {
    it("keeps only the month's first complete backup as monthly when two backups started together on the 1st", async () => {
        // The 1st of the month two months ago: older than the daily retention, younger than the monthly one.
        const today = civilDate(new Date(), tz);
        const first = addMonths({ ...today, day: 1 }, -2);
        const time = zonedInstant(first, 2, 0, tz);
        await backup("twins", new Date(time.getTime() - 86_400_000)); // creates the repository (the month before)
        const [a, b] = await Promise.all([backup("twins", time), backup("twins", new Date(time.getTime() + 1000))]);
        await backup("twins");

        const dry = await runCli(["prune", "--target", "twins", "--dry-run", "--json"], testbed.env);
        expect(dry.code, dry.stderr).toBe(0);
        const plan = JSON.parse(dry.stdout) as {
            decisions: { snapshotId: string; role: string; action: string; reasons: string[] }[];
        };
        const decision = (id: string) => plan.decisions.find((d) => d.role === "data" && d.snapshotId.startsWith(id))!;
        expect(decision(a.snapshot)).toMatchObject({ action: "keep", reasons: [expect.stringMatching(/monthly/)] });
        expect(decision(b.snapshot)).toMatchObject({ action: "delete" });

        // "What will be deleted once that monthly backup's six months are over?"
        const asOf = addMonths(first, backupPolicy.nas.monthlyRetentionMonths.value);
        const later = await runCli(
            [
                "prune",
                "--target",
                "twins",
                "--dry-run",
                "--as-of",
                `${formatCivilDate({ ...asOf, day: asOf.day + 1 })}`,
                "--json",
            ],
            testbed.env,
        );
        expect(later.code, later.stderr).toBe(0);
        const laterPlan = JSON.parse(later.stdout) as typeof plan & { now: string };
        expect(civilDate(new Date(laterPlan.now), tz)).toEqual({ ...asOf, day: asOf.day + 1 });
        expect(laterPlan.decisions.find((d) => d.role === "data" && d.snapshotId.startsWith(a.snapshot))).toMatchObject(
            {
                action: "delete",
                reasons: [expect.stringMatching(/expired/)],
            },
        );
        const refused = await runCli(["prune", "--target", "twins", "--as-of", formatCivilDate(asOf)], testbed.env);
        expect(refused.code).toBe(2);
        expect(snapshotsOf(testbed.nas, "twins")).toHaveLength(8);

        const status = await runCli(["status", "--target", "twins", "--json"], testbed.env);
        expect((JSON.parse(status.stdout) as { monthly: number }[])[0].monthly).toBe(3); // the month before, that month, this month
        expect(snapshotsOf(testbed.nas, "twins")).toHaveLength(8);
    });
});
