/**
 * Shared pieces of the end-to-end tests that run a synthesized job's container (a Kubernetes CronJob:
 * test/kubernetes/cronJobRunsRunner.test.ts; a Container Apps Job: test/azure/jobRunsRunner.test.ts)
 * against a real PostgreSQL over verified TLS and a real `rclone serve restic` NAS.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { restic, type Nas, type Postgres, type RawSnapshot } from "../runner/harness";

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
    return { run, completeBackups, manifestOf };
}
