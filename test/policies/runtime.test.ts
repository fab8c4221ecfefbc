/**
 * How the rules behave under the policy runtime: unknown values during preview, secrets, policy
 * config (defaults = the policy module's values, overrides, invalid values), enforcement levels, and
 * what every rule of the pack has in common.
 */
import * as fs from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { Database } from "@pulumi/azure-native/dbforpostgresql/database";
import { FileShare } from "@pulumi/azure-native/storage/fileShare";
import { DatabaseDb } from "@pulumi/digitalocean/databaseDb";
import { Nfs } from "@pulumi/digitalocean/nfs";
import { backupPolicy } from "../../components/policy";
import { nasBackupTargetTypes } from "../../components/kubernetes/nasBackupContract";
import {
    analyzeResource,
    PolicyConfigError,
    reconcileConfig,
    runtimeProps,
    secret,
    unknown,
} from "../../policies/harness/analyze";
import { requirementsEnforcedBy } from "../../policies/lib/rule";
import {
    compliantStack,
    containerAppsJob,
    ids,
    protectionPolicy,
    server,
    storageAccount,
    vaultRetention,
    withProp,
} from "./fixtures";
import { checkResource, checkStack, pack, violations } from "./helpers";
import { stackWithContainerAppsJobs } from "./cases";

describe("values unknown during preview", () => {
    it("turn the rule that reads them into an advisory 'can't run during preview' message, not a crash or a pass", async () => {
        const result = await checkResource(withProp(server(), "backup.backupRetentionDays", unknown));
        const retention = result.diagnostics.filter((d) => d.policyName === "postgresql-backup-retention");
        expect(retention).toHaveLength(1);
        expect(retention[0].enforcementLevel).toBe("advisory");
        expect(retention[0].message).toBe(
            `can't run policy 'postgresql-backup-retention' from policy pack '${pack.name}@v${pack.version}' during preview: string value at .backup.backupRetentionDays can't be known during preview`,
        );
        // (The engine sends every unknown as its "unknown string" sentinel.) The other rules on the same server still run and pass.
        expect(result.diagnostics.filter((d) => d.policyName !== "postgresql-backup-retention")).toEqual([]);
    });

    it("a whole unknown object is advisory too", async () => {
        const result = await checkStack([withProp(storageAccount(), "encryption", unknown)]);
        expect(result.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([
            ["storage-infrastructure-encryption", "advisory"],
        ]);
    });

    it("in a stack rule, unknown values needed for a link are advisory", async () => {
        const stack = compliantStack().map((r) =>
            r.name === "require-secure-transport" ? withProp(r, "serverName", unknown) : r,
        );
        const result = await checkStack(stack);
        const d = result.diagnostics.filter((x) => x.policyName === "postgresql-secure-transport-required");
        expect(d.map((x) => x.enforcementLevel)).toEqual(["advisory"]);
    });
});

describe("the drill scratch share during preview", () => {
    const accountUrn = stackWithContainerAppsJobs.find((r) => r.name === "scratch-account")!.urn!;
    /** The prod-like stack as a first preview shows it: the account's id unknown, the endpoint linked to it by dependency. */
    const preview = stackWithContainerAppsJobs.map((r) => {
        if (r.name === "scratch-account") return withProp(r, "id", unknown);
        if (r.name !== "scratch-endpoint") return r;
        const connections = withProp(r, "privateLinkServiceConnections", [
            { name: "file", privateLinkServiceId: unknown, groupIds: ["file"] },
        ]);
        return { ...connections, propertyDependencies: { privateLinkServiceConnections: [accountUrn] } };
    });
    const scratchRules = [
        "storage-https-only",
        "storage-geo-redundant-sku",
        "storage-infrastructure-encryption",
        "file-share-backup-coverage",
        "nas-backup-coverage",
        "nas-verify-on-scratch-share",
    ];

    it("is still recognised through the engine's dependencies when its id is unknown", async () => {
        const result = await checkStack(preview);
        expect(result.diagnostics.filter((d) => scratchRules.includes(d.policyName))).toEqual([]);
        expect(result.evaluated).toEqual(expect.arrayContaining(scratchRules));
    });

    it("is not exempted silently when its endpoint names another id and its own is unknown: advisory until the ids are known", async () => {
        const other = preview.map((r) =>
            r.name === "scratch-endpoint"
                ? {
                      ...withProp(r, "privateLinkServiceConnections", [
                          { name: "file", privateLinkServiceId: ids.account, groupIds: ["file"] },
                      ]),
                      propertyDependencies: {},
                  }
                : r,
        );
        const result = await checkStack(other);
        const https = result.diagnostics.filter((d) => d.policyName === "storage-https-only");
        expect(https.map((d) => d.enforcementLevel)).toEqual(["advisory"]);
        // Once the ids are known (pulumi up), it is a violation.
        const known = await checkStack(
            other.map((r) =>
                r.name === "scratch-account"
                    ? stackWithContainerAppsJobs.find((x) => x.name === "scratch-account")!
                    : r,
            ),
        );
        expect(violations(known, "storage-https-only").join("\n")).toMatch(
            /It is not a drill scratch account: no private endpoint of this stack connects to it/,
        );
    });

    it("an unknown storage name in a verify job's volume makes the scratch rule advisory, not a crash", async () => {
        const stack = stackWithContainerAppsJobs.map((r) =>
            r.name === "nas-job-database-main-verify"
                ? withProp(r, "template.volumes", [
                      { name: "scratch", storageType: "NfsAzureFile", storageName: unknown },
                  ])
                : r,
        );
        const result = await checkStack(stack);
        const scratch = result.diagnostics.filter((d) => d.policyName === "nas-verify-on-scratch-share");
        expect(scratch.map((d) => d.enforcementLevel)).toEqual(["advisory"]);
    });
});

describe("Container Apps Jobs during preview", () => {
    const job = containerAppsJob({ kind: "database", name: "main" });

    it("an unknown schedule makes only the schedule rule advisory", async () => {
        const result = await checkResource(
            withProp(job, "configuration.scheduleTriggerConfig.cronExpression", unknown),
        );
        expect(result.diagnostics.map((d) => [d.policyName, d.enforcementLevel])).toEqual([
            ["nas-backup-daily-schedule", "advisory"],
        ]);
        expect(result.evaluated).toEqual(
            expect.arrayContaining(["nas-backup-retention", "nas-job-bounded", "nas-job-https"]),
        );
    });

    it("secret values and a database host still to be created do not stop the rules", async () => {
        const secrets = (job.props.configuration as { secrets: { name: string }[] }).secrets;
        const env = (job.props.template as { containers: { env: { name: string }[] }[] }).containers[0].env;
        const preview = withProp(
            withProp(
                job,
                "configuration.secrets",
                secrets.map((s) => ({ name: s.name, value: unknown })),
            ),
            "template.containers.0.env",
            env.map((v) => (v.name === "PGHOST" ? { name: v.name, value: unknown } : v)),
        );
        const result = await checkResource(preview);
        expect(result.diagnostics).toEqual([]);
        expect(result.evaluated).toEqual(
            expect.arrayContaining([
                "nas-backup-daily-schedule",
                "nas-backup-retention",
                "nas-job-bounded",
                "nas-job-secrets-by-reference",
                "nas-job-https",
            ]),
        );
    });
});

describe("secrets", () => {
    it("reach the rules unwrapped, as the runtime hands them over", async () => {
        const props = runtimeProps({
            administratorLoginPassword: secret("s3cr3t-value"),
            nested: { list: [secret(1)] },
        });
        expect(props.administratorLoginPassword).toBe("s3cr3t-value");
        expect(JSON.parse(JSON.stringify(props))).toEqual({
            administratorLoginPassword: "s3cr3t-value",
            nested: { list: [1] },
        });
        const result = await checkResource(withProp(server(), "administratorLoginPassword", secret("s3cr3t-value")));
        expect(result.diagnostics).toEqual([]);
    });

    it("a secret policy-relevant value is still checked", async () => {
        const result = await checkResource(withProp(server(), "backup.backupRetentionDays", secret(7)));
        expect(violations(result, "postgresql-backup-retention")).toHaveLength(1);
    });
});

describe("policy config", () => {
    it("defaults to the policy module's values (the CLI sends schema defaults with Configure)", () => {
        const config = reconcileConfig(pack);
        expect(config["postgresql-backup-retention"]).toEqual({
            retentionDays: backupPolicy.database.retentionDays.value,
            enforcementLevel: "mandatory",
        });
        expect(config["file-share-backup-monthly-retention"]).toMatchObject({
            weekOfMonth: backupPolicy.fileShares.monthlyAnchor.value.weekOfMonth,
            dayOfWeek: backupPolicy.fileShares.monthlyAnchor.value.dayOfWeek,
            monthlyRetentionMonths: backupPolicy.fileShares.monthlyRetentionMonths.value,
        });
        expect(config["azure-data-location-allowed"]).toMatchObject({
            allowedLocations: [backupPolicy.regions.azure.value],
        });
    });

    it("overrides the expected value", async () => {
        const at35 = withProp(server(), "backup.backupRetentionDays", 35);
        expect(violations(await checkResource(at35), "postgresql-backup-retention")).toHaveLength(1);
        expect(
            violations(
                await checkResource(at35, { "postgresql-backup-retention": { retentionDays: 35 } }),
                "postgresql-backup-retention",
            ),
        ).toEqual([]);
        expect(
            violations(
                await checkResource(server(), { "postgresql-backup-retention": { retentionDays: 35 } }),
                "postgresql-backup-retention",
            ),
        ).toEqual([
            `backup.backupRetentionDays is ${backupPolicy.database.retentionDays.value}; the policy requires 35.`,
        ]);
        const westeurope = withProp(server(), "location", "West Europe");
        expect(
            violations(
                await checkResource(westeurope, {
                    "azure-data-location-allowed": { allowedLocations: ["westeurope"] },
                }),
                "azure-data-location-allowed",
            ),
        ).toEqual([]);
    });

    it("rejects values outside the schema, naming policy, property and value", () => {
        expect(() => reconcileConfig(pack, { "postgresql-backup-retention": { retentionDays: 40 } })).toThrow(
            PolicyConfigError,
        );
        expect(() => reconcileConfig(pack, { "postgresql-backup-retention": { retentionDays: 40 } })).toThrow(
            /postgresql-backup-retention.retentionDays: 40 is greater than the maximum 35/,
        );
        expect(() =>
            reconcileConfig(pack, { "file-share-backup-monthly-retention": { dayOfWeek: "Sonntag" } }),
        ).toThrow(/dayOfWeek: "Sonntag" is not one of/);
        expect(() => reconcileConfig(pack, { "no-such-rule": "advisory" })).toThrow(/no-such-rule: not a policy/);
        expect(() => reconcileConfig(pack, { "storage-https-only": { days: 3 } })).toThrow(
            /storage-https-only.days: not a config property/,
        );
    });

    it("a never-configured runtime (no Configure call) uses the policy module's values too", async () => {
        const result = await analyzeResource(pack, withProp(server(), "backup.backupRetentionDays", 14));
        expect(result.diagnostics.map((d) => d.policyName)).toEqual(["postgresql-backup-retention"]);
    });

    it("enforcement levels: advisory reports without blocking, disabled skips the rule", async () => {
        const bad = withProp(server(), "backup.geoRedundantBackup", "Disabled");
        const advisory = await checkResource(bad, { "postgresql-geo-redundant-backup": "advisory" });
        expect(advisory.diagnostics.map((d) => d.enforcementLevel)).toEqual(["advisory"]);
        const disabled = await checkResource(bad, { all: "disabled" });
        expect(disabled.diagnostics).toEqual([]);
    });

    it("a monthly anchor from config changes what the rule demands", async () => {
        const lastSaturday = withProp(
            withProp(protectionPolicy(), `${vaultRetention}.monthlySchedule.retentionScheduleWeekly.weeksOfTheMonth`, [
                "Last",
            ]),
            `${vaultRetention}.monthlySchedule.retentionScheduleWeekly.daysOfTheWeek`,
            ["Saturday"],
        );
        const config = { "file-share-backup-monthly-retention": { weekOfMonth: "Last", dayOfWeek: "Saturday" } };
        expect(violations(await checkResource(lastSaturday, config), "file-share-backup-monthly-retention")).toEqual(
            [],
        );
        expect(
            violations(await checkResource(protectionPolicy(), config), "file-share-backup-monthly-retention"),
        ).toHaveLength(1);
    });
});

describe("every rule", () => {
    it.each(pack.policies.map((p) => [p.name, p] as const))(
        "%s is mandatory, cites its clause and names the requirements it enforces",
        (name, p) => {
            expect(p.enforcementLevel).toBe("mandatory");
            const requirements = requirementsEnforcedBy(name);
            expect(requirements.length).toBeGreaterThan(0);
            for (const r of requirements) {
                for (const clause of r.clause.split(",").map((c) => c.trim())) {
                    expect(p.description.startsWith("§") || p.description.startsWith("Version")).toBe(true);
                    expect(p.description.split(":")[0]).toContain(clause);
                }
            }
            expect(p.framework?.version).toBe(backupPolicy.version.value);
        },
    );

    it("is documented in policies/README.md, and the README names no rule the pack lacks", () => {
        const readme = fs.readFileSync(path.join(__dirname, "..", "..", "policies", "README.md"), "utf8");
        const documented = [...readme.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
        expect(documented.sort()).toEqual(pack.policies.map((p) => p.name).sort());
        for (const p of pack.policies) {
            const row = readme.split("\n").find((l) => l.startsWith(`| \`${p.name}\` |`))!;
            expect(row.split("|")[2].trim(), p.name).toBe(p.framework?.reference);
        }
    });

    it("has a unique name", () => {
        expect(new Set(pack.policies.map((p) => p.name)).size).toBe(pack.policies.length);
    });
});

describe("the NAS backup contract", () => {
    it("names resource types the provider SDKs define", () => {
        const classes: Record<string, { isInstance(o: unknown): boolean }> = {
            "azure-native:dbforpostgresql:Database": Database,
            "azure-native:storage:FileShare": FileShare,
            "digitalocean:index/databaseDb:DatabaseDb": DatabaseDb,
            "digitalocean:index/nfs:Nfs": Nfs,
        };
        expect(Object.keys(nasBackupTargetTypes).sort()).toEqual(Object.keys(classes).sort());
        for (const [token, cls] of Object.entries(classes)) {
            expect(cls.isInstance({ __pulumiType: token }), token).toBe(true);
        }
    });
});
