/**
 * Policy config: the offline check accepts and refuses what the Pulumi CLI accepts and refuses
 * (pulumi/pulumi pkg/resource/analyzer/config.go: each entry a level or an object, a valid level,
 * then JSON Schema `{ type: "object", properties, required }` per policy), and the copy of the
 * @pulumi/policy runtime in policies/harness stays tied to the release it was taken from.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import {
    copiedFromPolicyVersion,
    PolicyConfigError,
    type PolicyConfigInput,
    reconcileConfig,
} from "../../policies/harness/analyze";
import { pack } from "./helpers";

const root = path.join(__dirname, "..", "..");

/** Configs the CLI accepts: a level, an object, "all", defaults overridden within the schema. */
const acceptedByTheCli: readonly [string, unknown][] = [
    ["no config", {}],
    ["a level for every rule", { all: "advisory" }],
    ["a level for every rule as an object", { all: { enforcementLevel: "disabled" } }],
    ["remediate, a level the CLI knows", { "postgresql-backup-retention": "remediate" }],
    ["the schema's maximum", { "postgresql-backup-retention": { retentionDays: 35 } }],
    ["a level and a property", { "postgresql-backup-retention": { enforcementLevel: "advisory", retentionDays: 7 } }],
    ["a value of the enum", { "file-share-backup-monthly-retention": { dayOfWeek: "Saturday", weekOfMonth: "Last" } }],
    ["a list of strings", { "azure-data-location-allowed": { allowedLocations: ["northeurope", "westeurope"] } }],
    ["a boolean", { "vault-immutability-enabled": { requireLocked: true } }],
    ["an empty object", { "storage-https-only": {} }],
];

/** Configs the CLI refuses, with what the offline check says. */
const refusedByTheCli: readonly [string, unknown, RegExp][] = [
    ["above the maximum", { "postgresql-backup-retention": { retentionDays: 36 } }, /retentionDays: 36 is greater/],
    ["below the minimum", { "nas-backup-retention": { monthlyAnchorDayOfMonth: 0 } }, /is less than the minimum 1/],
    ["not an integer", { "postgresql-backup-retention": { retentionDays: 30.5 } }, /30.5 is not of type integer/],
    ["a number as text", { "postgresql-backup-retention": { retentionDays: "30" } }, /"30" is not of type integer/],
    ["null", { "postgresql-backup-retention": { retentionDays: null } }, /null is not of type integer/],
    ["outside the enum", { "postgresql-tls-minimum-version": { minimumTlsVersion: "TLSv1.4" } }, /is not one of/],
    ["an empty list", { "azure-data-location-allowed": { allowedLocations: [] } }, /needs at least 1 item/],
    ["a list item of the wrong type", { "azure-data-location-allowed": { allowedLocations: [1] } }, /\[0\]: 1 is not/],
    ["an unknown level", { "storage-https-only": "strict" }, /"strict" is not one of advisory/],
    ["an unknown level for all", { all: "warn" }, /all.enforcementLevel: "warn"/],
    ["a level that is no string", { "storage-https-only": { enforcementLevel: 1 } }, /enforcementLevel: 1 is not/],
    ["a number instead of level or object", { "storage-https-only": 5 }, /storage-https-only: 5 is not valid/],
    ["a list instead of level or object", { "storage-https-only": [] }, /storage-https-only: \[\] is not valid/],
];

describe("policy config", () => {
    it.each(acceptedByTheCli)("accepts %s, as the CLI does", (_title, config) => {
        expect(() => reconcileConfig(pack, config as PolicyConfigInput)).not.toThrow();
    });

    it.each(refusedByTheCli)("refuses %s, as the CLI does", (_title, config, message) => {
        expect(() => reconcileConfig(pack, config as PolicyConfigInput)).toThrow(PolicyConfigError);
        expect(() => reconcileConfig(pack, config as PolicyConfigInput)).toThrow(message);
    });

    it("hands every rule its schema defaults, the given values and levels", () => {
        const config = reconcileConfig(pack, {
            all: "advisory",
            "postgresql-backup-retention": { retentionDays: 35 },
            "storage-https-only": "disabled",
        });
        expect(config["postgresql-backup-retention"]).toEqual({ retentionDays: 35, enforcementLevel: "advisory" });
        expect(config["storage-https-only"]).toEqual({ enforcementLevel: "disabled" });
        expect(config["nas-backup-retention"]).toMatchObject({
            monthlyAnchorDayOfMonth: 1,
            enforcementLevel: "advisory",
        });
    });
});

describe("the harness's copy of the @pulumi/policy runtime", () => {
    it("is taken from the installed release, and package.json pins exactly that release", () => {
        const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
            dependencies: Record<string, string>;
        };
        const installed = JSON.parse(
            fs.readFileSync(path.join(root, "node_modules", "@pulumi", "policy", "package.json"), "utf8"),
        ) as { version: string };
        // A different release may serialize, proxy or report differently: compare policies/harness with
        // its server.js, deserialize.js and proxy.js, then move the pin and copiedFromPolicyVersion together.
        expect(manifest.dependencies["@pulumi/policy"]).toBe(copiedFromPolicyVersion);
        expect(installed.version.replace(/^v/, "")).toBe(copiedFromPolicyVersion);
    });
});
