/**
 * staging (§2.5.1.2) selects DigitalOcean FRA1. Its resources are not part of this program yet:
 * the program checks the configuration, creates nothing and says so.
 */
import { expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { readStackFile, runStackOffline } from "../../stacks/offline";

it("validates staging's DigitalOcean configuration, registers nothing and warns", async () => {
    const config = readStackFile("staging").config;
    expect(config["backup-policy:platform"]).toBe(backupPolicy.environments.value.staging);
    expect(config["backup-policy:digitalocean"]).toEqual({ region: backupPolicy.regions.digitalocean.value });

    const run = await runStackOffline({ stack: "staging" });
    expect(run.error).toBeUndefined();
    expect(run.resources).toEqual([]);
    expect(run.outputs).toEqual({});
    const warnings = run.log.filter((entry) => entry.severity === "warning").map((entry) => entry.message);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("DigitalOcean staging resources are not part of this program yet");
    expect(warnings[0]).toContain(backupPolicy.regions.digitalocean.value);
});
