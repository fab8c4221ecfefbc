/**
 * The DOKS/database maintenance window (UTC) must not overlap a NAS job (Europe/Berlin), at either
 * UTC offset of Berlin and for the job's whole possible run.
 */
import { describe, expect, it } from "vitest";
import { jobsOverlappingMaintenance, minutesOfDay } from "../../components/digitalocean/maintenance";
import { maintenanceWindowHours } from "../../components/digitalocean/settings";

const backup = { label: "backup", time: "00:30", maxDurationMinutes: 4 * 60 };

describe("jobsOverlappingMaintenance", () => {
    it("accepts a window that ends before the job starts in summer and winter", () => {
        // Berlin 00:30 is 22:30 UTC (summer) or 23:30 UTC (winter); a 4-hour window from 18:00 ends 22:00.
        expect(maintenanceWindowHours).toBe(4);
        expect(jobsOverlappingMaintenance("18:00", [backup])).toEqual([]);
    });

    it("finds a window that reaches the job only in summer time", () => {
        // 18:31 + 4 h = 22:31 UTC > 22:30 UTC = 00:30 CEST.
        expect(jobsOverlappingMaintenance("18:31", [backup])).toEqual([backup]);
    });

    it("finds a window that starts while the job may still run, across midnight", () => {
        // Backup 00:30 Berlin may run until 04:30 Berlin = 03:30 UTC in winter.
        expect(jobsOverlappingMaintenance("03:29", [backup])).toEqual([backup]);
        expect(jobsOverlappingMaintenance("03:30", [backup])).toEqual([]);
    });

    it("finds a window that contains the whole job", () => {
        const short = { label: "prune", time: "12:00", maxDurationMinutes: 30 };
        expect(jobsOverlappingMaintenance("09:00", [short, backup])).toEqual([short]);
    });

    it("refuses times that are not HH:MM", () => {
        expect(() => jobsOverlappingMaintenance("25:00", [backup])).toThrow(/not a time HH:MM/);
        expect(minutesOfDay("7:00")).toBeUndefined();
        expect(minutesOfDay("07:05")).toBe(425);
    });
});
