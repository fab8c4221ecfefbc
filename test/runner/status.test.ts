/**
 * `status` judges the RPO (§2.13.2) by the newest complete backup's age; the repository is stood in
 * for (the real one is exercised in maintenance.test.ts).
 */
import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import type { Context } from "../../runner/src/context";
import type { ResticRepository } from "../../runner/src/restic";
import { type ResticSnapshot, tags } from "../../runner/src/snapshots";
import { clockSkewToleranceMinutes, targetStatus } from "../../runner/src/status";

const HOUR_MS = 3_600_000;
const now = new Date("2026-11-26T08:00:00Z");

/** One complete backup (data + manifest snapshot) taken at `time`. */
function completeBackup(time: Date): ResticSnapshot[] {
    const run = `run-${time.getTime()}`;
    return [
        {
            id: `d${time.getTime()}`,
            time: time.toISOString(),
            tags: [tags.target("shop"), tags.kind("database"), tags.run(run), tags.daily],
            paths: ["/shop.pgdump"],
        },
        {
            id: `m${time.getTime()}`,
            time: time.toISOString(),
            tags: [tags.target("shop"), tags.manifest, tags.run(run)],
            paths: ["/manifest.json"],
        },
    ];
}

function contextWith(snapshots: ResticSnapshot[]): Context {
    const repo = { open: async () => "exists", snapshots: async () => snapshots } as unknown as ResticRepository;
    return { repository: () => repo } as unknown as Context;
}

describe("status against the RPO", () => {
    const rpoMs = backupPolicy.rpoHours.value * HOUR_MS;

    it("is within the RPO when the newest complete backup is younger than the RPO", async () => {
        const s = await targetStatus(
            contextWith(completeBackup(new Date(now.getTime() - rpoMs + HOUR_MS))),
            "shop",
            now,
        );
        expect(s.withinRpo).toBe(true);
        expect(s.error).toBeUndefined();
    });

    it("breaches the RPO when the newest complete backup is older than the RPO", async () => {
        const s = await targetStatus(
            contextWith(completeBackup(new Date(now.getTime() - rpoMs - HOUR_MS))),
            "shop",
            now,
        );
        expect(s.withinRpo).toBe(false);
    });

    it("distrusts a newest backup dated in the future (clock skew) instead of reporting it within the RPO", async () => {
        const s = await targetStatus(contextWith(completeBackup(new Date(now.getTime() + 2 * HOUR_MS))), "shop", now);
        expect(s.withinRpo).toBe(false);
        expect(s.error).toMatch(/dated 2 h in the future: the clocks of the backup job and this host disagree/);
    });

    it("tolerates a small skew", async () => {
        const s = await targetStatus(
            contextWith(completeBackup(new Date(now.getTime() + (clockSkewToleranceMinutes / 2) * 60_000))),
            "shop",
            now,
        );
        expect(s.withinRpo).toBe(true);
    });
});
