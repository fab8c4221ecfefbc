/**
 * End to end: the CronJobs the component synthesizes run the runner. Each CronJob's container command,
 * arguments and environment (secretKeyRefs resolved from the synthesized Secrets, the CA ConfigMap
 * and the file resource's claim as local directories: test/kubernetes/localPod.ts) are executed
 * against a real PostgreSQL over verified TLS and a real `rclone serve restic` NAS (append-only over
 * https, full access for maintenance). If the CronJobs and the runner disagree on one flag or
 * variable, a run below fails.
 *
 * The one substitution: the drill's scratch PostgreSQL is a sidecar on port 5432 in the pod; here it
 * is a local server on a free port, so PGPORT is replaced (and checked to be the sidecar's first).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as k8s from "@pulumi/kubernetes";
import { describe, expect, it } from "vitest";
import { NasBackup } from "../../components/kubernetes/nasBackup";
import { scratchPostgresPort } from "../../components/kubernetes/pods";
import { runnerExecutable } from "../../components/kubernetes/runnerContract";
import { runCli, type CliResult } from "../runner/harness";
import {
    documents,
    expectFullDrillWithinRto,
    operator,
    twoMonthsAgoHistory,
    useNasEndToEnd,
} from "../support/nasEndToEnd";
import { exampleArgs } from "./fixture";
import { localPod, type LocalPod } from "./localPod";

/** Runs a pod's container: `nas-backup` is the runner's CLI (the image links it onto PATH). */
async function execute(
    pod: LocalPod,
    env: Record<string, string> = pod.env,
    extraArgs: string[] = [],
): Promise<CliResult> {
    expect(pod.command).toEqual([runnerExecutable]);
    // The image's own environment (runner/Dockerfile ENV), with this machine's PostgreSQL client.
    const image = { HOME: join(pod.root, "home/nas-backup"), NAS_BACKUP_PG_BIN_DIR: e2e.pg.binDir };
    mkdirSync(image.HOME, { recursive: true });
    return runCli([...pod.args, ...extraArgs], { ...image, ...env });
}

const e2e = useNasEndToEnd({
    tempPrefix: "cronjob-e2e-",
    scratchPostgres: true,
    synthesize: (targets) => ({
        stack: "staging",
        program: () => {
            const provider = new k8s.Provider("cluster", { kubeconfig: "{}" });
            const example = exampleArgs(provider);
            const component = new NasBackup("nas", {
                ...example,
                nas: { ...targets.nas, cidrs: ["127.0.0.1/32"] },
                databases: [{ ...targets.shop, cidrs: ["127.0.0.1/32"] }],
                fileResources: [{ name: "documents", claimName: "documents-claim" }],
            });
            // Returned so the offline run waits for the component's resources (it returns when outputs resolve).
            return { repositoryPassword: component.repositoryPassword };
        },
    }),
});

/** restic as an operator, with the repository key the component generated. */
const nasOperator = () => operator(e2e.nas, localPod(e2e.run, "backup-shop").env.RESTIC_PASSWORD);
const completeBackups = (target: string) => nasOperator().completeBackups(target);
const manifestOf = (target: string) => nasOperator().manifestOf(target);

describe.sequential("the CronJobs run the runner", () => {
    it("backs up the database over verified TLS to the append-only NAS, with its manifest", async () => {
        const pod = localPod(e2e.run, "backup-shop");
        expect(pod.env.PGSSLMODE).toBe("verify-full");
        // History: two backups two months ago (the 5th becomes that month's monthly backup, the 6th a daily one).
        for (const time of twoMonthsAgoHistory()) {
            const seeded = await execute(pod, pod.env, ["--time", time]);
            expect(seeded.code, seeded.stderr).toBe(0);
        }
        const result = await execute(pod);
        expect(result.code, result.stderr).toBe(0);
        expect(completeBackups("shop")).toHaveLength(3);
        const manifest = manifestOf("shop");
        expect(manifest.kind).toBe("database");
        expect(manifest.dump.bytes).toBeGreaterThan(0);
        expect(manifest.content.tables).toContainEqual(
            expect.objectContaining({ schema: "public", table: "orders", rows: 500 }),
        );
    }, 300_000);

    it("backs up the file resource from its claim", async () => {
        const result = await execute(localPod(e2e.run, "backup-documents", { "documents-claim": documents }));
        expect(result.code, result.stderr).toBe(0);
        const manifest = manifestOf("documents");
        expect(manifest.kind).toBe("directory");
        expect(manifest.files).toBe(2);
    }, 300_000);

    it("prunes with the maintenance endpoint: the old daily backup goes, the monthly and the newest stay", async () => {
        const before = nasOperator().backupTimes("shop");
        const result = await execute(localPod(e2e.run, "prune-shop"));
        expect(result.code, result.stderr).toBe(0);
        const after = nasOperator().backupTimes("shop");
        expect(after).toEqual([before[0], before[2]]);
    }, 300_000);

    it("drills the database restore into the scratch PostgreSQL, all data read, within the RTO", async () => {
        const pod = localPod(e2e.run, "drill-shop");
        expect(pod.podSpec.initContainers?.[0].name).toBe("scratch-postgres");
        expect(pod.env.PGPORT).toBe(String(scratchPostgresPort));
        e2e.scratch.sql("postgres", `ALTER ROLE postgres PASSWORD '${pod.env.PGPASSWORD}'`);
        const result = await execute(pod, { ...pod.env, PGPORT: String(e2e.scratch.port) });
        expectFullDrillWithinRto(result);
    }, 300_000);

    it("verifies the file resource by restoring it into the pod's scratch directory", async () => {
        const result = await execute(localPod(e2e.run, "verify-documents"));
        expect(result.code, result.stderr).toBe(0);
        expect(result.events.map((e) => e.event)).toContain("verify.drill.success");
    }, 300_000);
});
