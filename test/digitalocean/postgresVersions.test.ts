/**
 * The PostgreSQL versions the infrastructure deploys must be dumpable by the runner image's pg_dump.
 */
import * as fs from "fs";
import * as path from "path";
import { expect, it } from "vitest";
import { supportedPostgresVersions } from "../../components/azure/settings";
import { minimumPostgresMajorVersion, runnerPgDumpMajorVersion } from "../../components/postgresVersions";

it("knows the runner image's pg_dump major version from runner/Dockerfile", () => {
    const dockerfile = fs.readFileSync(path.join(__dirname, "../../runner/Dockerfile"), "utf8");
    const declared = [...dockerfile.matchAll(/^ARG PG_MAJOR=(\d+)$/gm)].map((match) => Number(match[1]));
    expect(declared.length).toBeGreaterThan(0);
    for (const major of declared) {
        expect(major).toBe(runnerPgDumpMajorVersion);
    }
});

it("lets Azure stacks choose only versions the runner can dump", () => {
    expect(supportedPostgresVersions.length).toBeGreaterThan(0);
    for (const version of supportedPostgresVersions) {
        expect(Number(version)).toBeGreaterThanOrEqual(minimumPostgresMajorVersion);
        expect(Number(version)).toBeLessThanOrEqual(runnerPgDumpMajorVersion);
    }
});
