/**
 * `npm run check` as a user runs it (the package.json script, in its own process): exit codes 0/1/2,
 * the text report, `--stack`, `--json` (shape as documented in policies/README.md), `--evidence`,
 * `--policy-config`, and clear messages for program, configuration and usage errors. The real stack
 * files are never edited: wrong configurations are temporary copies (`--project-dir`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";

const root = path.resolve(__dirname, "..", "..");
const days = backupPolicy.database.retentionDays.value;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "backup-policy-check-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs `npm run check -- args` (the script builds the compiled pack and check, then runs them). */
function runCheck(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("npm", ["run", "--silent", "check", "--", ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temporary project directory: Pulumi.yaml and one stack file, its config changed by `edit`. */
function projectWith(stack: string, edit: (config: Record<string, unknown>) => void): string {
    const dir = fs.mkdtempSync(path.join(tmp, "project-"));
    fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    const file = YAML.parse(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as {
        config: Record<string, unknown>;
    };
    edit(file.config);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), YAML.stringify(file));
    return dir;
}

describe("npm run check", () => {
    const all = runCheck("--json", path.join(tmp, "all.json"), "--evidence", path.join(tmp, "evidence.md"));

    it("checks every stack: prod, trial and staging compliant; exit 0", () => {
        expect(all.stderr).not.toMatch(/error/i);
        expect(all.status).toBe(0);
        expect(all.stdout).toContain("== Stack prod (Pulumi.prod.yaml) ==");
        expect(all.stdout).toMatch(/^ {2}prod: COMPLIANT: No mandatory violation/m);
        expect(all.stdout).toMatch(/^ {2}trial: COMPLIANT: No mandatory violation/m);
        expect(all.stdout).toMatch(/^ {2}staging: COMPLIANT: No mandatory violation/m);
        // Staging's NAS rows are evidenced: every database and share has its backup CronJob.
        expect(all.stdout).toMatch(/met +nas-backup-coverage, digitalocean:index\/nfs:Nfs "files-documents"/);
        expect(all.stdout).toContain(
            "azure-native:recoveryservices:ProtectedItem (2): files-protect-documents [protected], files-protect-images [protected]",
        );
        expect(all.stdout).toMatch(
            new RegExp(
                `met +postgresql-backup-retention, azure-native:dbforpostgresql:Server "postgres-server": backup.backupRetentionDays = ${days}\n`,
            ),
        );
    });

    it("shows every NAS row of every stack met: prod and trial by Container Apps Jobs, staging by CronJobs", () => {
        const report = JSON.parse(fs.readFileSync(path.join(tmp, "all.json"), "utf8")) as {
            stacks: {
                stack: string;
                evidence: {
                    requirement: string;
                    status: string;
                    rule: string | null;
                    resource: { type: string } | null;
                }[];
            }[];
        };
        const jobType = {
            prod: "azure-native:app:Job",
            trial: "azure-native:app:Job",
            staging: "kubernetes:batch/v1:CronJob",
        };
        for (const { stack, evidence } of report.stacks) {
            const nas = evidence.filter((r) => r.requirement.startsWith("nas."));
            expect(nas.length, stack).toBeGreaterThan(0);
            expect(
                nas.filter((r) => r.status !== "met"),
                stack,
            ).toEqual([]);
            const scheduled = nas.filter((r) => r.rule === "nas-backup-daily-schedule").map((r) => r.resource?.type);
            expect(new Set(scheduled), stack).toEqual(new Set([jobType[stack as keyof typeof jobType]]));
        }
        expect(all.stdout).toMatch(
            /met +nas-backup-coverage, azure-native:dbforpostgresql:Database "postgres-db-auth"/,
        );
        expect(all.stdout).toMatch(/met +nas-backup-coverage, azure-native:storage:FileShare "files-share-images"/);
    });

    it("prints no secret: the administrator password placeholder of the mocks appears nowhere", () => {
        const everything =
            all.stdout +
            all.stderr +
            fs.readFileSync(path.join(tmp, "all.json"), "utf8") +
            fs.readFileSync(path.join(tmp, "evidence.md"), "utf8");
        expect(everything).not.toMatch(/offline-placeholder-password/);
        expect(everything).not.toMatch(/offline-placeholder-bcrypt/);
    });

    it("--json writes the documented shape", () => {
        const report = JSON.parse(fs.readFileSync(path.join(tmp, "all.json"), "utf8"));
        expect(report).toMatchObject({
            tool: "backup-policy-check",
            policy: { version: backupPolicy.version.value },
            pack: { name: "data-backup-policy", rules: expect.any(Number) },
            policyConfig: null,
            exitCode: 0,
        });
        expect(report.stacks.map((s: { stack: string; verdict: string }) => [s.stack, s.verdict])).toEqual([
            ["prod", "compliant"],
            ["staging", "compliant"],
            ["trial", "compliant"],
        ]);
        const prod = report.stacks[0];
        expect(Object.keys(prod).sort()).toEqual(
            [
                "advisories",
                "configFile",
                "evidence",
                "evidenceCounts",
                "log",
                "notApplicable",
                "resourceCounts",
                "resources",
                "stack",
                "summary",
                "verdict",
                "violations",
            ].sort(),
        );
        // documents, images and the drill scratch share
        expect(prod.resourceCounts["azure-native:storage:FileShare"]).toBe(3);
        expect(prod.resources[0]).toEqual({
            type: expect.any(String),
            name: expect.any(String),
            urn: expect.stringMatching(/^urn:pulumi:prod::/),
            custom: expect.any(Boolean),
            protect: expect.any(Boolean),
        });
        for (const row of prod.evidence) {
            expect(Object.keys(row)).toEqual(
                expect.arrayContaining([
                    "requirement",
                    "clause",
                    "text",
                    "expected",
                    "status",
                    "rule",
                    "resource",
                    "evidence",
                ]),
            );
            expect(["met", "not-met", "unknown", "not-evidenced"]).toContain(row.status);
        }
        expect(prod.evidenceCounts.met).toBeGreaterThan(0);
    });

    it("--evidence writes a Markdown table an auditor can file", () => {
        const md = fs.readFileSync(path.join(tmp, "evidence.md"), "utf8");
        expect(md).toMatch(/^# Evidence: IT Manufactory GmbH Data Backup Policy v1\.2\.0/);
        expect(md).toContain("## Stack `prod`: COMPLIANT");
        expect(md).toContain("## Stack `staging`: COMPLIANT");
        expect(md).toContain("| Clause | Requirement | Expected | Rule | Resource | Property = value | Status |");
        expect(md).toContain(
            `| §2.5.1.1 | ${backupPolicy.database.retentionDays.text} | ${days} | postgresql-backup-retention | azure-native:dbforpostgresql:Server "postgres-server" | backup.backupRetentionDays = ${days} | met |`,
        );
    });

    it("--stack checks one stack; --policy-config changes what a rule demands and a violation exits 1 with the rule's message", () => {
        const config = path.join(tmp, "policy-config.json");
        fs.writeFileSync(config, JSON.stringify({ "postgresql-backup-retention": { retentionDays: 35 } }));
        const result = runCheck("--stack", "prod", "--policy-config", config);
        expect(result.status).toBe(1);
        expect(result.stdout).not.toContain("== Stack trial");
        expect(result.stdout).toContain(
            `✗ [postgresql-backup-retention, §2.5.1.1] azure-native:dbforpostgresql:Server "postgres-server": backup.backupRetentionDays is ${days}; the policy requires 35.`,
        );
        expect(result.stdout).toMatch(/prod: NON-COMPLIANT: 1 mandatory violation/);
    });

    it("a configuration error exits 2 naming key, value and what is allowed", () => {
        const dir = projectWith(
            "prod",
            (c) => ((c["backup-policy:azure"] as Record<string, unknown>).location = "westus"),
        );
        const result = runCheck("--project-dir", dir, "--stack", "prod");
        expect(result.status).toBe(2);
        expect(result.stdout).toMatch(
            new RegExp(
                `Error: .*azure\\.location: westus is not allowed; allowed: ${backupPolicy.regions.azure.value}`,
                "s",
            ),
        );
        expect(result.stdout).toMatch(/prod: ERROR: The program stopped before registering its resources/);
    });

    it("a stack file that changes the retention is refused by the program before anything is checked (exit 2)", () => {
        const dir = projectWith("prod", (c) => (c["backup-policy:backup"] = { retentionDays: 7 }));
        const result = runCheck("--project-dir", dir, "--stack", "prod");
        expect(result.status).toBe(2);
        expect(result.stdout).toContain(
            `backup.retentionDays: 7 is not allowed; allowed: ${backupPolicy.database.retentionDays.value}`,
        );
    });

    it("an unreadable stack file exits 2", () => {
        const dir = projectWith("trial", () => undefined);
        fs.writeFileSync(path.join(dir, "Pulumi.trial.yaml"), "config: [unclosed");
        const result = runCheck("--project-dir", dir);
        expect(result.status).toBe(2);
        expect(result.stdout).toMatch(/trial: ERROR: The stack could not be run/);
    });

    it("usage errors exit 2 with a clear message", () => {
        const unknownStack = runCheck("--stack", "nope");
        expect(unknownStack.status).toBe(2);
        expect(unknownStack.stderr).toMatch(/no stack file Pulumi\.nope\.yaml .*stacks: prod, staging, trial/);
        const badFlag = runCheck("--verbose");
        expect(badFlag.status).toBe(2);
        expect(badFlag.stderr).toMatch(/unknown argument "--verbose"\nusage: npm run check/);
        const badConfig = path.join(tmp, "bad-config.json");
        fs.writeFileSync(badConfig, JSON.stringify({ "postgresql-backup-retention": { retentionDays: 5 } }));
        const invalid = runCheck("--stack", "prod", "--policy-config", badConfig);
        expect(invalid.status).toBe(2);
        expect(invalid.stderr).toMatch(/postgresql-backup-retention\.retentionDays: 5 is less than the minimum 7/);
    });

    // Each run builds the pack first (package.json `check`): minutes on a loaded machine.
    it("--help prints every option in nas-backup's help layout on stdout and exits 0", () => {
        const help = runCheck("--help");
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/^Usage: npm run check -- /m);
        for (const flag of [
            "--stack NAME",
            "--json FILE",
            "--evidence FILE.md",
            "--policy-config FILE",
            "--project-dir DIR",
        ])
            expect(help.stdout).toMatch(new RegExp(`^  ${flag} +\\S`, "m"));
        expect(help.stdout).toContain("EXIT STATUS: 0 no mandatory violation, 1 a mandatory violation, 2 ");
    }, 180_000);

    it("a flag without its value exits 2 with the usage", () => {
        const missing = runCheck("--stack");
        expect(missing.status).toBe(2);
        expect(missing.stderr).toMatch(/--stack needs a value\nusage: npm run check/);
    }, 180_000);
});
