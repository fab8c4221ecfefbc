/**
 * The RTO watched (§2.13.1): verify's drill records its restore throughput in the repository; verify
 * and status project the restore time at the current size and fail above a share of the RTO
 * (--rto-share, default 50 %), verify with a metric the Prometheus rule alerts on. Against real
 * PostgreSQL, restic 0.14 and `rclone serve restic`; the retention of drill records in-process.
 */
import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { DEFAULT_RTO_SHARE_PERCENT } from "../../runner/src/commands/spec";
import { nasRetention, plan } from "../../runner/src/retention";
import { tags, type ResticSnapshot } from "../../runner/src/snapshots";
import { failureCause, runCli, snapshotsOf } from "./harness";
import { useRunnerTestbed } from "./testbed";

const rtoSeconds = backupPolicy.rtoHours.value * 3600;

const testbed = useRunnerTestbed(({ pg }) => {
    pg.sql("postgres", "CREATE DATABASE growing");
    pg.sql(
        "growing",
        "CREATE TABLE orders (id serial PRIMARY KEY, note text); INSERT INTO orders (note) SELECT md5(g::text) FROM generate_series(1, 20000) g",
    );
});

interface StatusRow {
    target: string;
    bytes: number | null;
    drill: { bytes: number; seconds: number } | null;
    projectedRestoreSeconds: number | null;
    restoreBudgetSeconds: number;
    withinRestoreBudget: boolean | null;
}

async function statusOf(target: string, extra: string[] = []): Promise<{ code: number | null; row: StatusRow }> {
    const r = await runCli(["status", "--target", target, "--json", ...extra], testbed.env);
    expect(r.stdout, r.stderr).not.toBe("");
    return { code: r.code, row: (JSON.parse(r.stdout) as StatusRow[])[0] };
}

describe("the RTO watched", () => {
    it("verify records the drill's throughput; status projects the restore time at the current size and fails above --rto-share", async () => {
        const first = await runCli(["backup", "--target", "growing", "--database", "growing", "--json"], testbed.env);
        expect(first.code, first.stderr).toBe(0);
        const firstBytes = (JSON.parse(first.stdout) as { bytes: number }).bytes;

        // Before any drill there is nothing to project from: reported, not failed.
        const before = await statusOf("growing");
        expect(before.code).toBe(0);
        expect(before.row).toMatchObject({ projectedRestoreSeconds: null, withinRestoreBudget: null });

        const v = await runCli(["verify", "--target", "growing", "--read-data-subset", "1/7", "--json"], testbed.env);
        expect(v.code, v.stderr).toBe(0);
        const drill = (JSON.parse(v.stdout) as { drill: { durationSeconds: number; bytes: number } }).drill;
        expect(drill.bytes).toBe(firstBytes);
        const records = snapshotsOf(testbed.nas, "growing").filter((s) => s.tags?.includes("drill"));
        expect(records).toHaveLength(1);
        expect(records[0].tags).toEqual(
            expect.arrayContaining([`restore-bytes=${firstBytes}`, `restore-seconds=${drill.durationSeconds}`]),
        );
        // The record names the drilled backup by its full id, as status's listing does.
        const data = snapshotsOf(testbed.nas, "growing").find((s) => s.tags?.includes("kind=database"));
        expect(data?.id).toHaveLength(64);
        expect(records[0].tags).toContain(`drilled=${data?.id}`);

        // The drilled backup is the newest: its projection is the drill itself, within half the RTO.
        const same = await statusOf("growing");
        expect(same.code).toBe(0);
        expect(same.row).toMatchObject({
            bytes: firstBytes,
            projectedRestoreSeconds: drill.durationSeconds,
            restoreBudgetSeconds: (rtoSeconds * DEFAULT_RTO_SHARE_PERCENT) / 100,
            withinRestoreBudget: true,
        });

        // The database grows about fourfold; the next backup's size is projected at the drill's throughput.
        testbed.pg.sql(
            "growing",
            "INSERT INTO orders (note) SELECT md5(g::text) || md5(g::text) FROM generate_series(1, 60000) g",
        );
        const grown = await runCli(["backup", "--target", "growing", "--database", "growing", "--json"], testbed.env);
        expect(grown.code, grown.stderr).toBe(0);
        const grownBytes = (JSON.parse(grown.stdout) as { bytes: number }).bytes;
        expect(grownBytes).toBeGreaterThan(3 * firstBytes);
        const after = await statusOf("growing");
        expect(after.row.bytes).toBe(grownBytes);
        expect(after.row.projectedRestoreSeconds).toBeCloseTo((drill.durationSeconds * grownBytes) / firstBytes, 2);

        // A share of the RTO below the projection: status exits 4 and names the risk.
        const percent = ((after.row.projectedRestoreSeconds! / rtoSeconds) * 100) / 2;
        const risky = await runCli(["status", "--target", "growing", "--rto-share", String(percent)], testbed.env);
        expect(risky.code, risky.stderr).toBe(4);
        expect(risky.stdout).toMatch(/AT RISK/);
        expect(failureCause(risky)).toMatch(/projected restore time .* exceeds .* of the RTO/);
        // Just above the projection it passes.
        expect((await statusOf("growing", ["--rto-share", String(percent * 4)])).code).toBe(0);
    });

    it("verify fails above --rto-share and pushes the restore time with its budget for the alert", async () => {
        const pushes: { url: string; body: string }[] = [];
        const server: Server = createServer((req, res) => {
            let body = "";
            req.on("data", (c: Buffer) => (body += c.toString()));
            req.on("end", () => {
                pushes.push({ url: req.url ?? "", body });
                res.writeHead(200).end();
            });
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        try {
            const address = server.address();
            const gateway = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
            const b = await runCli(["backup", "--target", "tight", "--database", "growing"], testbed.env);
            expect(b.code, b.stderr).toBe(0);
            // A budget of a millisecond: every drill exceeds it.
            const share = String((0.001 / rtoSeconds) * 100);
            const v = await runCli(
                ["verify", "--target", "tight", "--read-data-subset", "1/7", "--rto-share", share, "--json"],
                { ...testbed.env, NAS_BACKUP_PUSHGATEWAY_URL: gateway },
            );
            expect(v.code, v.stderr).toBe(1);
            const result = JSON.parse(v.stdout) as {
                drill: { withinBudget: boolean; withinRto: boolean; problems: string[]; durationSeconds: number };
            };
            expect(result.drill).toMatchObject({ withinBudget: false, withinRto: true, problems: [] });
            expect(failureCause(v)).toMatch(/restore drill took .* exceeds .* of the RTO/);
            const push = pushes.find((p) => p.url === "/metrics/job/nas_backup/target/tight/operation/verify")!;
            const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(push.body)?.[1]);
            expect(metric("nas_backup_restore_projected_seconds")).toBe(result.drill.durationSeconds);
            expect(metric("nas_backup_restore_budget_seconds")).toBe(0.001);
            expect(metric("nas_backup_last_run_success")).toBe(0);
            // The drill's throughput is recorded all the same: status projects from it.
            expect(snapshotsOf(testbed.nas, "tight").filter((s) => s.tags?.includes("drill"))).toHaveLength(1);
        } finally {
            await new Promise<void>((r) => server.close(() => r()));
        }
    });

    it("refuses a share that is not a percentage above 0 and at most 100", async () => {
        const r = await runCli(["status", "--target", "growing", "--rto-share", "0"], testbed.env);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/--rto-share 0: expected a percentage of the RTO above 0 and at most 100/);
    });
});

describe("drill records under the retention", () => {
    const at = (iso: string, id: string, t: string[]): ResticSnapshot => ({ id, time: iso, tags: t });
    const backup = (iso: string, n: number): ResticSnapshot[] => [
        at(iso, `d${n}`.padEnd(64, "0"), [tags.target("t"), tags.kind("database"), tags.run(`r${n}`), tags.daily]),
        at(iso, `m${n}`.padEnd(64, "0"), [tags.target("t"), tags.manifest, tags.run(`r${n}`)]),
    ];
    const drill = (iso: string, n: number): ResticSnapshot =>
        at(iso, `x${n}`.padEnd(64, "0"), [
            tags.target("t"),
            tags.drill,
            tags.drilled(`d${n}`.padEnd(64, "0")),
            tags.restoreBytes(1000),
            tags.restoreSeconds(2),
        ]);

    it("keeps the newest drill record, deletes older ones, and never counts a record as a backup", () => {
        const snapshots = [
            ...backup("2026-11-20T00:30:00Z", 1),
            drill("2026-11-20T03:00:00Z", 1),
            ...backup("2026-11-21T00:30:00Z", 2),
            drill("2026-11-21T03:00:00Z", 2),
        ];
        const p = plan(snapshots, new Date("2026-11-21T12:00:00Z"), nasRetention());
        const drills = p.decisions.filter((d) => d.role === "drill");
        expect(drills.map((d) => [d.snapshotId[0] + d.snapshotId[1], d.keep])).toEqual([
            ["x1", false],
            ["x2", true],
        ]);
        // Two backups, both kept and complete: the records are neither backups nor incomplete ones.
        expect(p.decisions.filter((d) => d.role === "data").map((d) => d.keep)).toEqual([true, true]);
    });
});
