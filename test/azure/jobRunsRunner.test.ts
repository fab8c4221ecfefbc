/**
 * End to end: the Container Apps Jobs the Azure NAS backup component synthesizes run the runner. Each
 * job's init containers and container (command, arguments and environment; secretRefs resolved to the
 * job's secrets, the CA certificates, the file share and the NFS drill scratch share as local
 * directories: test/azure/localJob.ts) are executed against a real PostgreSQL over verified TLS and a
 * real `rclone serve restic` NAS (append-only over https, full access for maintenance). If the jobs and
 * the runner disagree on one flag or variable, a run below fails.
 *
 * Substitutions, and only these: the image's own filesystem (its HOME, where restic keeps its cache)
 * lives under the job's temporary root; `nas-backup` on PATH is the repository's runner/bin/nas-backup
 * (the image links the compiled runner there); NAS_BACKUP_PG_BIN_DIR (an ENV of the image) is this
 * machine's PostgreSQL; and the drill's scratch server listens on a free port instead of 5432 (PGPORT,
 * checked to be 5432 first). The drill's container runs as the unprivileged `postgres` user when the
 * tests run as root, as the image runs as an unprivileged user (initdb refuses root). The init
 * container that creates a job's scratch directory runs as this machine's user (root in the image),
 * with the runner image's uid and gid (10001) replaced by those of the user the runner runs as here.
 * The NFS share's root is world-traversable here, because the job reaches its directory through the
 * path below it, not through a `subPath` bind mount.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { AzureNasBackup } from "../../components/azure/nasBackup";
import { firesOncePerBerlinDay } from "../../components/azure/nasJobSchedule";
import { readNasBackupTags } from "../../components/kubernetes/nasBackupContract";
import { runnerUser, scratchPostgresPort } from "../../components/kubernetes/pods";
import { drillScratchShareName } from "../../components/azure/drillScratch";
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
import { localJob, type LocalContainer, type LocalJob } from "./localJob";

const imageHome = "/home/nas-backup";

/** The user the runner's container runs as here: `postgres` when the tests run as root, else this user. */
const runnerHere = () => (process.getuid?.() === 0 ? postgresOsUser() : undefined);

/** Runs the job's init containers as the replica does before its container: they must succeed. */
function initialize(job: LocalJob): void {
    const here = runnerHere() ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
    for (const init of job.initContainers) {
        const [dir, uid, gid] = init.args;
        expect([uid, gid]).toEqual([String(runnerUser), String(runnerUser)]);
        const [file, ...commandArgs] = init.command;
        const done = spawnSync(file, [...commandArgs, dir, String(here.uid), String(here.gid)], { encoding: "utf8" });
        expect(done.status, done.stderr).toBe(0);
    }
}

/** Runs a job's container (after its init containers): its command and arguments, with its environment, as the image would. */
async function execute(job: LocalJob, env: Record<string, string> = job.env): Promise<CliResult> {
    initialize(job);
    const home = join(job.root, imageHome);
    mkdirSync(home, { recursive: true });
    const inImage = (value: string) => (value.startsWith(`${imageHome}/`) ? join(job.root, value) : value);
    const user = runnerHere();
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
                network: {
                    virtualNetworkName: "vnet-e2e",
                    virtualNetworkId:
                        "/subscriptions/0/resourceGroups/rg-e2e/providers/Microsoft.Network/virtualNetworks/vnet-e2e",
                    subnetName: "container-apps",
                    subnetPrefix: "10.0.2.0/24",
                },
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
                drillScratch: {
                    accountName: "ste2escratch",
                    quotaGiB: 100,
                    initImage: `docker.io/library/busybox@sha256:${"b".repeat(64)}`,
                    endpointSubnetPrefix: "10.0.3.0/28",
                },
            });
            // Returned so the offline run waits for the jobs (it returns when outputs resolve).
            return { repositoryPassword: component.repositoryPassword, jobNames: component.jobNames };
        },
    }),
});
const nasOperator = () => operator(e2e.nas, localJob(e2e.run, "backup-shop").env.RESTIC_PASSWORD);

/** The drill scratch share (one for all jobs, as on Azure) and a job mounting it. */
let scratchShare: string | undefined;
function withScratchShare(jobName: string): LocalJob {
    if (scratchShare === undefined) {
        scratchShare = mkdtempSync(join(e2e.temp, "drill-scratch-"));
        chmodSync(scratchShare, 0o755);
    }
    return localJob(e2e.run, jobName, { shares: { [drillScratchShareName]: scratchShare } });
}
/** The job's own directory of the share: what its container has at /scratch. */
const scratchOf = (job: LocalContainer) => job.mounts["/scratch"];

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
        const result = await execute(localJob(e2e.run, "backup-documents", { files: { documents } }));
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

    it("drills the database restore into the scratch server its own container starts, on its directory of the NFS scratch share, within the RTO", async () => {
        const job = withScratchShare("drill-shop");
        expect(job.job.template.containers).toHaveLength(1);
        expect(job.env.PGPORT).toBe(String(scratchPostgresPort));
        // A run killed by its timeout left its scratch server's data behind: the init container clears it.
        mkdirSync(join(scratchOf(job), "pgdata"), { recursive: true });
        const result = await execute(job, { ...job.env, PGPORT: String(await freePort()) });
        expectFullDrillWithinRto(result);
        // Checked for room where the scratch server keeps its data: the job's directory of the share.
        const room = result.events.find((e) => e.event === "verify.drill.room");
        expect(Number(room?.neededBytes)).toBeGreaterThan(0);
        expect(Number(room?.availableBytes)).toBeGreaterThanOrEqual(Number(room?.neededBytes));
        // The job's own directory, for the runner's user only; the restored copy did not outlive the run.
        expect(scratchOf(job)).toBe(join(scratchShare!, "drill-shop"));
        expect(statSync(scratchOf(job)).mode & 0o777).toBe(0o700);
        expect(statSync(scratchOf(job)).uid).toBe(runnerHere()?.uid ?? process.getuid?.());
        expect(existsSync(join(scratchOf(job), "pgdata"))).toBe(false);
        expect(
            spawnSync("pgrep", ["-f", "--", `-D ${join(scratchOf(job), "pgdata")}`]).status,
            "the scratch server was stopped with the container",
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

    it("verifies the file share by restoring it into the job's own directory of the NFS scratch share", async () => {
        const job = withScratchShare("verify-documents");
        const result = await execute(job);
        expect(result.code, result.stderr).toBe(0);
        expect(result.events.map((e) => e.event)).toContain("verify.drill.success");
        // The room check ran on the share (statfs there: its quota less what is used), not a replica limit.
        const room = result.events.find((e) => e.event === "verify.drill.room");
        expect(Number(room?.neededBytes)).toBeGreaterThan(0);
        expect(Number(room?.availableBytes)).toBeGreaterThanOrEqual(Number(room?.neededBytes));
        expect(job.args).not.toContain("--scratch-limit");
        // Each job its own directory on the one share; nothing restored is left in it.
        expect(readdirSync(scratchShare!).sort()).toEqual(["drill-shop", "verify-documents"]);
        expect(readdirSync(scratchOf(job))).toEqual([]);
    }, 300_000);
});
