/**
 * End to end: the Container Apps Jobs the Azure NAS backup component synthesizes run the runner. Each
 * job's container command, arguments and environment (secretRefs resolved to the job's secrets, the
 * CA certificates and the file share as local directories: test/azure/localJob.ts) are executed
 * against a real PostgreSQL over verified TLS and a real `rclone serve restic` NAS (append-only over
 * https, full access for maintenance). If the jobs and the runner disagree on one flag or variable, a
 * run below fails.
 *
 * Substitutions, and only these: the image's own filesystem (its HOME, where restic keeps its cache)
 * lives under the job's temporary root; `nas-backup` on PATH is the repository's runner/bin/nas-backup
 * (the image links the compiled runner there); NAS_BACKUP_PG_BIN_DIR (an ENV of the image) is this
 * machine's PostgreSQL; and the drill's scratch server listens on a free port instead of 5432 (PGPORT,
 * checked to be 5432 first). The drill's container runs as the unprivileged `postgres` user when the
 * tests run as root, as the image runs as an unprivileged user (initdb refuses root).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { AzureNasBackup } from "../../components/azure/nasBackup";
import { firesOncePerBerlinDay } from "../../components/azure/nasJobSchedule";
import { readNasBackupTags } from "../../components/kubernetes/nasBackupContract";
import { scratchPostgresPort } from "../../components/kubernetes/pods";
import { runnerExecutable } from "../../components/kubernetes/runnerContract";
import { freePort, repoRoot, type CliResult } from "../runner/harness";
import {
    documents,
    expectFullDrillWithinRto,
    operator,
    postgresOsUser,
    selfSignedCertificate,
    twoMonthsAgoHistory,
    useNasEndToEnd,
} from "../support/nasEndToEnd";
import { localJob, type LocalJob } from "./localJob";

const imageHome = "/home/nas-backup";

/** Runs a job's container: its command and arguments, with its environment, as the image would. */
async function execute(job: LocalJob, env: Record<string, string> = job.env): Promise<CliResult> {
    const home = join(job.root, imageHome);
    mkdirSync(home, { recursive: true });
    const inImage = (value: string) => (value.startsWith(`${imageHome}/`) ? join(job.root, value) : value);
    const user = process.getuid?.() === 0 ? postgresOsUser() : undefined;
    if (user !== undefined) spawnSync("chown", ["-R", `${user.uid}:${user.gid}`, job.root]);
    const [file, ...commandArgs] = job.command;
    const child = spawn(file, [...commandArgs, ...job.args], {
        cwd: home,
        env: {
            PATH: [join(repoRoot, "runner/bin"), dirname(process.execPath), process.env.PATH].join(":"),
            LANG: "C.UTF-8",
            HOME: home,
            NAS_BACKUP_PG_BIN_DIR: e2e.pg.binDir,
            ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, inImage(v)])),
        },
        stdio: ["ignore", "pipe", "pipe"],
        ...(user ?? {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.once("close", (c, s) => resolve([c, s])),
    );
    const events = stderr.split("\n").flatMap((line) => {
        try {
            return [JSON.parse(line) as CliResult["events"][number]];
        } catch {
            return [];
        }
    });
    return { code, signal, stdout, stderr, events };
}

const e2e = useNasEndToEnd({
    tempPrefix: "aca-job-e2e-",
    synthesize: (targets) => ({
        stack: "prod",
        program: () => {
            const component = new AzureNasBackup("nas", {
                resourceGroupName: "rg-e2e",
                location: "northeurope",
                tags: {},
                environmentName: "nas-backup-e2e",
                network: { virtualNetworkName: "vnet-e2e", subnetName: "container-apps", subnetPrefix: "10.0.2.0/24" },
                logAnalyticsWorkspaceId:
                    "/subscriptions/0/resourceGroups/rg-e2e/providers/Microsoft.OperationalInsights/workspaces/log",
                image: `ghcr.io/it-manufactory/nas-backup@sha256:${"a".repeat(64)}`,
                dailyBackupTimeUtc: "23:30",
                nas: targets.nas,
                databases: [targets.shop],
                fileShares: {
                    storageAccountName: "ste2e",
                    storageAccountKey: "storage-key-e2e",
                    shares: [{ name: "documents" }],
                },
            });
            // Returned so the offline run waits for the jobs (it returns when outputs resolve).
            return { repositoryPassword: component.repositoryPassword, jobNames: component.jobNames };
        },
    }),
});
const nasOperator = () => operator(e2e.nas, localJob(e2e.run, "backup-shop").env.RESTIC_PASSWORD);

describe.sequential("the Container Apps Jobs run the runner", () => {
    it("backs up the database over verified TLS to the append-only NAS, from the job that declares it", async () => {
        const job = localJob(e2e.run, "backup-shop");
        expect(job.command).toEqual([runnerExecutable]);
        expect(job.env.PGSSLMODE).toBe("verify-full");
        expect(readNasBackupTags(job.job.tags)).toMatchObject({ kind: "database", name: "shop" });
        expect(firesOncePerBerlinDay(job.job.configuration.scheduleTriggerConfig.cronExpression)).toBe(true);
        // History: two backups two months ago (the 5th becomes that month's monthly backup, the 6th a daily one).
        for (const time of twoMonthsAgoHistory()) {
            const seeded = await execute({ ...job, args: [...job.args, "--time", time] });
            expect(seeded.code, seeded.stderr).toBe(0);
        }
        const result = await execute(job);
        expect(result.code, result.stderr).toBe(0);
        expect(nasOperator().completeBackups("shop")).toHaveLength(3);
        const manifest = nasOperator().manifestOf("shop");
        expect(manifest.kind).toBe("database");
        expect(manifest.content.tables).toContainEqual(
            expect.objectContaining({ schema: "public", table: "orders", rows: 500 }),
        );
    }, 300_000);

    it("refuses a database whose certificate the job's CA does not sign (TLS is verified, not only encrypted)", async () => {
        const job = localJob(e2e.run, "backup-shop");
        const otherDir = mkdtempSync(join(e2e.temp, "other-"));
        chmodSync(otherDir, 0o755);
        const other = selfSignedCertificate(otherDir);
        const result = await execute(job, { ...job.env, PGSSLROOTCERT: other.cert });
        expect(result.code).not.toBe(0);
        const failure = result.events.find((e) => e.event === "backup.failure");
        expect(String(failure?.cause)).toMatch(/certificate verify failed/i);
    }, 300_000);

    it("backs up the file share from its environment storage", async () => {
        const result = await execute(localJob(e2e.run, "backup-documents", { documents }));
        expect(result.code, result.stderr).toBe(0);
        const manifest = nasOperator().manifestOf("documents");
        expect(manifest.kind).toBe("directory");
        expect(manifest.files).toBe(2);
    }, 300_000);

    it("prunes with the maintenance endpoint: the old daily backup goes, the monthly and the newest stay", async () => {
        const before = nasOperator().backupTimes("shop");
        const result = await execute(localJob(e2e.run, "prune-shop"));
        expect(result.code, result.stderr).toBe(0);
        expect(nasOperator().backupTimes("shop")).toEqual([before[0], before[2]]);
    }, 300_000);

    it("drills the database restore into the scratch server its own container starts, all data read, within the RTO", async () => {
        const job = localJob(e2e.run, "drill-shop");
        expect(job.job.template.containers).toHaveLength(1);
        expect(job.env.PGPORT).toBe(String(scratchPostgresPort));
        const result = await execute(job, { ...job.env, PGPORT: String(await freePort()) });
        expectFullDrillWithinRto(result);
        // Checked for room where the scratch server keeps its data, within the replica's ephemeral storage.
        expect(Number(result.events.find((e) => e.event === "verify.drill.room")?.availableBytes)).toBeLessThanOrEqual(
            8 * 1024 ** 3,
        );
        // The container ended: its scratch server was stopped with it.
        expect(
            spawnSync(join(e2e.pg.binDir, "pg_ctl"), ["-D", join(job.root, "scratch/pgdata"), "status"]).status,
        ).not.toBe(0);
    }, 300_000);

    it("tests the way to the NAS with the manual nas-status job: every target reported", async () => {
        const job = localJob(e2e.run, "nas-status");
        expect(job.command).toEqual([runnerExecutable]);
        const result = await execute(job);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/shop/);
        expect(result.stdout).toMatch(/documents/);
    }, 300_000);

    it("verifies the file share by restoring it into the job's scratch directory", async () => {
        const result = await execute(localJob(e2e.run, "verify-documents"));
        expect(result.code, result.stderr).toBe(0);
        expect(result.events.map((e) => e.event)).toContain("verify.drill.success");
        // The room check ran against the replica's ephemeral storage, not the machine's disk.
        const room = result.events.find((e) => e.event === "verify.drill.room");
        expect(Number(room?.availableBytes)).toBeLessThanOrEqual(8 * 1024 ** 3);
        expect(Number(room?.neededBytes)).toBeGreaterThan(0);
    }, 300_000);
});
