/**
 * Shared pieces of the end-to-end tests that run a synthesized job's container (a Kubernetes CronJob:
 * test/kubernetes/cronJobRunsRunner.test.ts; a Container Apps Job: test/azure/jobRunsRunner.test.ts)
 * against a real PostgreSQL over verified TLS and a real `rclone serve restic` NAS.
 */
import { spawnSync } from "node:child_process";
import {
    chmodSync,
    chownSync,
    copyFileSync,
    mkdirSync,
    mkdtempSync,
    readFileSync,
    rmSync,
    writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { NasEndpointArgs } from "../../components/kubernetes/args";
import { runStackOffline, type OfflineRun, type OfflineRunOptions } from "../../stacks/offline";
import {
    requireTools,
    restic,
    startNas,
    startPostgres,
    type Nas,
    type CliResult,
    type Postgres,
    type RawSnapshot,
} from "../runner/harness";

/** A self-signed certificate for 127.0.0.1 (the test's database and NAS https endpoint), in `dir`. */
export function selfSignedCertificate(dir: string): { cert: string; key: string } {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const r = spawnSync(
        "openssl",
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2"].concat([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ]),
        { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`openssl (install openssl): ${r.stderr}`);
    return { cert, key };
}

/** The uid and gid of the `postgres` OS user (the test clusters' owner when the tests run as root). */
export function postgresOsUser(): { uid: number; gid: number } {
    const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout);
    return { uid: id("-u"), gid: id("-g") };
}

/** TLS on the test server with this certificate (the components require TLS to databases). */
export function enableTls(server: Postgres, tls: { cert: string; key: string }, dir: string): void {
    const tlsDir = join(dir, "pg-tls");
    mkdirSync(tlsDir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    for (const file of ["cert.pem", "key.pem"]) {
        copyFileSync(file === "cert.pem" ? tls.cert : tls.key, join(tlsDir, file));
        chmodSync(join(tlsDir, file), 0o600);
        if (process.getuid?.() === 0) {
            const { uid, gid } = postgresOsUser();
            chownSync(join(tlsDir, file), uid, gid);
        }
    }
    server.sql(
        "postgres",
        `ALTER SYSTEM SET ssl = on; ALTER SYSTEM SET ssl_cert_file = '${tlsDir}/cert.pem';` +
            ` ALTER SYSTEM SET ssl_key_file = '${tlsDir}/key.pem'; SELECT pg_reload_conf();`,
    );
}

/** The test's "documents" file resource: two files. */
export function documents(dir: string): void {
    mkdirSync(join(dir, "contracts"), { recursive: true });
    writeFileSync(join(dir, "contracts", "2025-001.txt"), "contract 2025-001\n");
    writeFileSync(join(dir, "logo.svg"), "<svg/>\n");
}

/** restic as an operator on the NAS (full access), with the repository key the component generated. */
export function operator(nas: Nas, repositoryKey: string) {
    const run = (target: string, args: readonly string[]): string => {
        const { RESTIC_PASSWORD_FILE: _harnessKey, ...env } = nas.resticEnv(target, "maintenance");
        const r = restic(args, { ...env, RESTIC_PASSWORD: repositoryKey });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout;
    };
    const completeBackups = (target: string) =>
        JSON.parse(run(target, ["snapshots", "--json", "--no-lock", "--tag", "manifest"])) as RawSnapshot[];
    const manifestOf = (target: string): Record<string, any> => {
        const [latest] = completeBackups(target).sort((a, b) => b.time.localeCompare(a.time));
        return JSON.parse(run(target, ["dump", latest.id, "/manifest.json"])) as Record<string, any>;
    };
    /** The times of the complete backups, oldest first. */
    const backupTimes = (target: string) =>
        completeBackups(target)
            .map((s) => s.time)
            .sort();
    return { run, completeBackups, manifestOf, backupTimes };
}

/** A drill of the "shop" database that read all data and restored it within the RTO. */
export function expectFullDrillWithinRto(result: CliResult): void {
    expect(result.code, result.stderr).toBe(0);
    const check = result.events.find((e) => e.event === "verify.check.success");
    expect(check?.readDataSubset).toBe("100%");
    const drill = result.events.find((e) => e.event === "verify.drill.success");
    expect(drill?.withinRto).toBe(true);
    expect(drill?.into).toMatch(/nas_backup_drill_shop/);
}

/** `--time` values of a history: backups on the 5th and 6th two months ago (the 5th that month's monthly backup). */
export function twoMonthsAgoHistory(): string[] {
    const twoMonthsAgo = new Date();
    twoMonthsAgo.setUTCDate(1);
    twoMonthsAgo.setUTCMonth(twoMonthsAgo.getUTCMonth() - 2);
    const month = twoMonthsAgo.toISOString().slice(0, 7);
    return ["05", "06"].map((day) => `${month}-${day}T12:00`);
}

/** What the component's jobs are pointed at, in the shape both components take. */
export interface NasEndToEndTargets {
    /** Append-only over https (the test's CA), maintenance with full access. */
    readonly nas: { appendOnly: NasEndpointArgs; maintenance: NasEndpointArgs; caCertificate: string };
    /** The "shop" database (500 orders) over verified TLS. */
    readonly shop: {
        name: string;
        host: string;
        port: number;
        role: string;
        password: string;
        tls: { mode: "verify-full"; caCertificate: string };
    };
}

export interface NasEndToEnd {
    /** The test's own temporary directory (certificates, TLS files), removed after its tests. */
    readonly temp: string;
    readonly pg: Postgres;
    /** A second, empty server (with `scratchPostgres` only). */
    readonly scratch: Postgres;
    readonly nas: Nas;
    /** The offline run that synthesized the component's jobs. */
    readonly run: OfflineRun;
}

type Started = Omit<NasEndToEnd, "temp" | "scratch"> & { readonly scratch?: Postgres };

/**
 * The setup both end-to-end tests share: PostgreSQL with the "shop" database over TLS, the NAS with an
 * https append-only endpoint, and the offline run of the component (`synthesize`) pointed at both;
 * everything started before the file's tests and stopped after them.
 */
export function useNasEndToEnd(options: {
    readonly tempPrefix: string;
    readonly scratchPostgres?: boolean;
    readonly synthesize: (targets: NasEndToEndTargets) => OfflineRunOptions;
}): NasEndToEnd {
    const temp = mkdtempSync(join(tmpdir(), options.tempPrefix));
    let started: Started | undefined;
    let servers: { pg?: Postgres; scratch?: Postgres; nas?: Nas } = {};
    beforeAll(async () => {
        requireTools();
        const [pg, nas, scratch] = await Promise.all([
            startPostgres(),
            startNas(),
            options.scratchPostgres ? startPostgres() : undefined,
        ]);
        servers = { pg, nas, scratch };
        const tls = selfSignedCertificate(temp);
        enableTls(pg, tls, temp);
        pg.sql("postgres", "CREATE DATABASE shop");
        pg.sql(
            "shop",
            "CREATE TABLE orders (id serial PRIMARY KEY, item text); INSERT INTO orders (item) SELECT 'item ' || g FROM generate_series(1, 500) g;",
        );
        const appendOnly = await nas.startTlsBackupEndpoint(tls.cert, tls.key);
        const ca = readFileSync(tls.cert, "utf8");
        const run = await runStackOffline(
            options.synthesize({
                nas: {
                    appendOnly: { repositoryBase: appendOnly, user: "backup", password: nas.backupPassword },
                    maintenance: {
                        repositoryBase: nas.maintenanceBase,
                        user: "maintenance",
                        password: nas.maintenancePassword,
                    },
                    caCertificate: ca,
                },
                shop: {
                    name: "shop",
                    host: "127.0.0.1",
                    port: pg.port,
                    role: pg.user,
                    password: pg.password,
                    tls: { mode: "verify-full", caCertificate: ca },
                },
            }),
        );
        expect(run.error).toBeUndefined();
        started = { pg, nas, scratch, run };
    }, 180_000);
    afterAll(async () => {
        servers.pg?.cleanup();
        servers.scratch?.cleanup();
        await servers.nas?.cleanup();
        rmSync(temp, { recursive: true, force: true });
    });
    const get = <K extends keyof Started>(key: K): NonNullable<Started[K]> => {
        const value = started?.[key];
        if (value === undefined)
            throw new Error(`the end-to-end setup has no ${key} (before beforeAll, or not asked for)`);
        return value;
    };
    return {
        temp,
        get pg() {
            return get("pg");
        },
        get scratch() {
            return get("scratch");
        },
        get nas() {
            return get("nas");
        },
        get run() {
            return get("run");
        },
    };
}
