/**
 * The offline check on the real program: compliant as written; and when one thing the policy demands
 * is changed in what the program registers (retention, geo redundancy, encryption, the monthly rule),
 * the check fails with that rule's message, exactly as the pack would block `pulumi preview`.
 *
 * The change is made the way a code change would show up: a Pulumi stack transformation on top of
 * the real program (stacks/program.ts) with the real Pulumi.prod.yaml. No file is edited.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { check } from "../../policies/check/run";
import { runStackOffline } from "../../stacks/offline";

type Change = (value: Record<string, unknown>) => void;

/** The real program, with one property of every resource of `type` changed before registration. */
function changedProgram(type: string, property: string, change: Change): () => Promise<unknown> {
    return async () => {
        pulumi.runtime.registerStackTransformation((args) => {
            if (args.type !== type) return undefined;
            const props = { ...args.props };
            props[property] = pulumi.output(props[property]).apply((value: unknown) => {
                const copy = JSON.parse(JSON.stringify(value ?? {})) as Record<string, unknown>;
                change(copy);
                return copy;
            });
            return { props, opts: args.opts };
        });
        const { readStackConfig } = await import("../../stacks/config");
        const { backupPolicyStack } = await import("../../stacks/program");
        return backupPolicyStack(readStackConfig());
    };
}

const changes: [string, string, string, string, Change, string, RegExp][] = [
    [
        "database backup retention 7 days",
        "azure-native:dbforpostgresql:Server",
        "backup",
        "postgresql-backup-retention",
        (b) => (b.backupRetentionDays = 7),
        "database.retentionDays",
        new RegExp(
            `backup.backupRetentionDays is 7; the policy requires ${backupPolicy.database.retentionDays.value}\\.`,
        ),
    ],
    [
        "database backups not geo-redundant",
        "azure-native:dbforpostgresql:Server",
        "backup",
        "postgresql-geo-redundant-backup",
        (b) => (b.geoRedundantBackup = "Disabled"),
        "database.geoRedundant",
        /backup.geoRedundantBackup is "Disabled"; the policy requires Enabled\./,
    ],
    [
        "vault storage locally redundant",
        "azure-native:recoveryservices:Vault",
        "properties",
        "vault-geo-redundant-storage",
        (p) => ((p.redundancySettings as Record<string, unknown>).standardTierStorageRedundancy = "LocallyRedundant"),
        "fileShares.geoRedundant",
        /standardTierStorageRedundancy is "LocallyRedundant"; the policy requires GeoRedundant\./,
    ],
    [
        "storage without infrastructure encryption",
        "azure-native:storage:StorageAccount",
        "encryption",
        "storage-infrastructure-encryption",
        (e) => (e.requireInfrastructureEncryption = false),
        "encryption.atRest",
        /encryption.requireInfrastructureEncryption is false; the policy requires true\./,
    ],
    [
        "monthly backup on the last Sunday",
        "azure-native:recoveryservices:ProtectionPolicy",
        "properties",
        "file-share-backup-monthly-retention",
        (p) =>
            ((
                p.vaultRetentionPolicy as Record<string, Record<string, Record<string, Record<string, unknown>>>>
            ).vaultRetention.monthlySchedule.retentionScheduleWeekly.weeksOfTheMonth = ["Last"]),
        "fileShares.monthlyAnchor",
        /the monthly backup is taken on weeks \["Last"\], days \["Sunday"\]; the policy requires the First Sunday of each month\./,
    ],
    [
        "NAS backup job at 22:30 UTC",
        "azure-native:app:Job",
        "configuration",
        "nas-backup-daily-schedule",
        // Only scheduled jobs have a trigger config (the manual nas-status job has none).
        (c) => {
            const trigger = c.scheduleTriggerConfig as Record<string, unknown> | undefined;
            if (trigger !== undefined) trigger.cronExpression = "30 22 * * *";
        },
        "nas.schedule",
        // The job's whole configuration is secret (it holds the job secrets): the report shows the value as [secret].
        /cronExpression is "\[secret\]"; Container Apps evaluates it in UTC, and that time falls twice or not at all/,
    ],
    [
        "NAS backup job declaring 14 days",
        "azure-native:app:Job",
        "tags",
        "nas-backup-retention",
        (t) => {
            const key = "backup-policy.it-manufactory.de:daily-retention-days";
            if (key in t) t[key] = "14";
        },
        "nas.dailyRetentionDays",
        new RegExp(
            `daily-retention-days"\\] is 14; the policy requires ${backupPolicy.nas.dailyRetentionDays.value}\\.`,
        ),
    ],
    [
        "NAS job without a replica timeout",
        "azure-native:app:Job",
        "configuration",
        "nas-job-bounded",
        (c) => delete c.replicaTimeout,
        "nas.schedule",
        /configuration.replicaTimeout is not set; set a bound\./,
    ],
    [
        "NAS job with the repository key in plain text",
        "azure-native:app:Job",
        "template",
        "nas-job-secrets-by-reference",
        (t) => {
            const env = (t.containers as { env: { name: string; value?: string; secretRef?: string }[] }[])[0].env;
            const key = env.find((v) => v.name === "RESTIC_PASSWORD");
            if (key === undefined) return;
            delete key.secretRef;
            key.value = "plain-repository-key";
        },
        "nas.encrypted",
        /env RESTIC_PASSWORD is not a secretRef; secrets must come from the job's secrets\./,
    ],
    [
        "NAS job reaching the NAS over http",
        "azure-native:app:Job",
        "template",
        "nas-job-https",
        (t) => {
            const env = (t.containers as { env: { name: string; value?: string }[] }[])[0].env;
            const base = env.find((v) => v.name === "NAS_BACKUP_REPOSITORY_BASE");
            if (base !== undefined) base.value = "rest:http://nas.example:8000/";
        },
        "nas.encrypted",
        /NAS_BACKUP_REPOSITORY_BASE is "rest:http:\/\/nas.example:8000\/"; backups travel to the NAS only over https/,
    ],
];

describe("npm run check on the real prod program", () => {
    it("passes prod as written, every evidenced requirement met", async () => {
        const report = await check({ stacks: ["prod"] });
        expect(report.exitCode).toBe(0);
        const [prod] = report.stacks;
        expect(prod.verdict).toBe("compliant");
        expect(prod.violations).toEqual([]);
        expect(prod.evidence.filter((r) => r.status === "not-met")).toEqual([]);
        const retention = prod.evidence.find((r) => r.requirement === "database.retentionDays")!;
        expect(retention).toMatchObject({
            status: "met",
            rule: "postgresql-backup-retention",
            resource: { type: "azure-native:dbforpostgresql:Server" },
            evidence: [{ property: "backup.backupRetentionDays", value: backupPolicy.database.retentionDays.value }],
        });
        // Every NAS requirement is evidenced by the Container Apps Jobs: every database and share covered.
        const nasRows = prod.evidence.filter((r) => r.requirement.startsWith("nas."));
        expect(nasRows.filter((r) => r.status !== "met")).toEqual([]);
        const coverage = nasRows.filter((r) => r.requirement === "nas.schedule" && r.rule === "nas-backup-coverage");
        // The drill scratch share (§2.10: restored copies only) is shown as exempt, not as covered.
        const exempt = (r: (typeof coverage)[number]) =>
            r.evidence.some((e) => e.property === "drill scratch share (§2.10)");
        expect(coverage.filter(exempt).map((r) => r.resource!.name)).toEqual(["nas-drill-scratch-share"]);
        expect(
            coverage
                .filter((r) => !exempt(r))
                .map((r) => r.resource!.type)
                .sort(),
        ).toEqual([
            ...Array<string>(3).fill("azure-native:dbforpostgresql:Database"),
            ...Array<string>(2).fill("azure-native:storage:FileShare"),
        ]);
        for (const rule of ["nas-backup-daily-schedule", "nas-backup-retention", "nas-job-bounded", "nas-job-https"]) {
            expect(
                nasRows.some((r) => r.rule === rule && r.resource?.type === "azure-native:app:Job"),
                rule,
            ).toBe(true);
        }
    });

    it.each(changes)("fails when the %s", async (_title, type, property, rule, change, requirement, message) => {
        const report = await check({ stacks: ["prod"], program: changedProgram(type, property, change) });
        expect(report.exitCode).toBe(1);
        const [prod] = report.stacks;
        expect(prod.verdict).toBe("non-compliant");
        const mine = prod.violations.filter((v) => v.rule === rule);
        expect(mine.length, JSON.stringify(prod.violations, null, 2)).toBeGreaterThan(0);
        expect(mine.some((v) => message.test(v.message))).toBe(true);
        expect(mine.every((v) => v.enforcementLevel === "mandatory" && v.resource?.type === type)).toBe(true);
        const rows = prod.evidence.filter((r) => r.requirement === requirement && r.rule === rule);
        expect(rows.some((r) => r.status === "not-met")).toBe(true);
    });

    it("stops with the error of a change that throws, instead of hanging", async () => {
        const broken = changedProgram("azure-native:app:Job", "configuration", () => {
            throw new Error("change broken");
        });
        const report = await check({ stacks: ["prod"], program: broken });
        expect(report.exitCode).toBe(2);
        expect(report.stacks[0]).toMatchObject({ verdict: "error", summary: "The stack could not be run." });
        expect(report.stacks[0].error).toMatch(/error serializing property "configuration": change broken/);
    });
});

describe("secrets", () => {
    it("the administrator password exists in the offline run, and appears nowhere in the report", async () => {
        const run = await runStackOffline({ stack: "prod" });
        const password = run.resources.find((r) => r.type === "random:index/randomPassword:RandomPassword")!;
        const secretValue = password.outputs.result as string;
        expect(password.secretOutputs).toContain("result");
        expect(secretValue.length).toBeGreaterThan(8);
        const report = JSON.stringify(await check({ stacks: ["prod"] }));
        expect(report).not.toContain(secretValue);
    });

    it("a rule message that would quote a secret is redacted", async () => {
        // A server whose location were a secret value would be quoted by the location rule's message.
        const program = async () => {
            pulumi.runtime.registerStackTransformation((args) =>
                args.type === "azure-native:dbforpostgresql:Server"
                    ? { props: { ...args.props, location: pulumi.secret("secret-region-xyz") }, opts: args.opts }
                    : undefined,
            );
            const { readStackConfig } = await import("../../stacks/config");
            const { backupPolicyStack } = await import("../../stacks/program");
            return backupPolicyStack(readStackConfig());
        };
        const report = await check({ stacks: ["prod"], program });
        expect(report.exitCode).toBe(1);
        const text = JSON.stringify(report);
        expect(text).not.toContain("secret-region-xyz");
        expect(report.stacks[0].violations.find((v) => v.rule === "azure-data-location-allowed")?.message).toBe(
            `location is "[secret]"; the policy allows ${backupPolicy.regions.azure.value}.`,
        );
    });
});
