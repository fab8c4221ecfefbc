/** The CLI contract: help, documentation, configuration errors, secrets; no external services needed. */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { backupPolicy } from "../../components/policy";
import { parseInstant } from "../../runner/src/instant";
import { backupSpec, commandLine, commands, statusSpec } from "../../runner/src/commands";
import { backup } from "../../runner/src/backup";
import { loadCredentials, parseRepositoryBase, repositoryLocation, resticPassword } from "../../runner/src/config";
import type { Context } from "../../runner/src/context";
import { log, redact, registerSecret, setLogSink } from "../../runner/src/log";
import { pgEnv } from "../../runner/src/postgres";
import { repoRoot, runCli } from "./harness";

const readme = readFileSync(join(repoRoot, "runner/README.md"), "utf8");

describe("help", () => {
    it("lists every command, and each command's --help lists its flags and environment variables", async () => {
        const main = await runCli(["--help"], {});
        expect(main.code).toBe(0);
        for (const c of commands) expect(main.stdout).toMatch(new RegExp(`^  ${c.name} `, "m"));
        for (const c of commands) {
            const r = await runCli([c.name, "--help"], {});
            expect(r.code, c.name).toBe(0);
            expect(r.stdout).toContain(`Usage: nas-backup ${c.name}`);
            for (const o of c.options) expect(r.stdout, `${c.name} --${o.flag}`).toContain(`--${o.flag}`);
            for (const e of c.env) expect(r.stdout, `${c.name} ${e.name}`).toContain(e.name);
        }
    });

    it("states the policy's numbers from the policy module", async () => {
        const prune = await runCli(["prune", "--help"], {});
        expect(prune.stdout).toContain(`last ${backupPolicy.nas.dailyRetentionDays.value} calendar days`);
        expect(prune.stdout).toContain(`for ${backupPolicy.nas.monthlyRetentionMonths.value} months`);
        const verify = await runCli(["verify", "--help"], {});
        expect(verify.stdout).toContain(`RTO of\n${backupPolicy.rtoHours.value} h`);
    });
});

describe("the contract the CronJobs are built from", () => {
    it("commandLine builds, from the specs' flag names, arguments the runner's parser accepts", async () => {
        expect(commandLine(backupSpec, { target: "shop-db", database: "shop", json: true })).toEqual([
            "backup",
            "--target",
            "shop-db",
            "--database",
            "shop",
            "--json",
        ]);
        expect(commandLine(statusSpec, { target: ["a", "b"] })).toEqual(["status", "--target", "a", "--target", "b"]);
        expect(() => commandLine(backupSpec, { target: ["a", "b"] })).toThrow(/--target takes one value/);
        // Every flag of every command, with --help: the parser accepts them all (exit 0) and changes nothing.
        const results = await Promise.all(
            commands.map(async (c) => {
                const values = Object.fromEntries(c.options.map((o) => [o.flag, o.type === "boolean" ? true : "x"]));
                return runCli(commandLine(c, values), {});
            }),
        );
        for (const [i, r] of results.entries()) {
            expect(r.code, `${commands[i].name}: ${r.stderr}`).toBe(0);
            expect(r.stdout).toContain(`Usage: nas-backup ${commands[i].name}`);
        }
    });

    it("importing the contract loads only the command specs and the policy module (no side effects, nothing heavy)", () => {
        const r = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                "-e",
                'require("./runner/src/commands"); console.log(JSON.stringify(Object.keys(require.cache)))',
            ],
            { cwd: repoRoot, encoding: "utf8" },
        );
        expect(r.status, r.stderr).toBe(0);
        const loaded = (JSON.parse(r.stdout) as string[])
            .map((f) => relative(repoRoot, f))
            .filter((f) => !f.startsWith("node_modules/"));
        expect(loaded).toContain("runner/src/commands/backup.ts");
        expect(loaded.filter((f) => !/^runner\/src\/commands\/\w+\.ts$/.test(f))).toEqual(["components/policy.ts"]);
        expect(r.stderr).toBe("");
    });
});

describe("documentation", () => {
    it("runner/README.md documents every command, flag and environment variable of the CLI", () => {
        for (const c of commands) {
            expect(readme, c.name).toContain(`### ${c.name}`);
            for (const o of c.options)
                if (o.flag !== "help" && o.flag !== "json") expect(readme, `--${o.flag}`).toContain(`--${o.flag}`);
            for (const e of c.env) for (const name of e.name.split(", ")) expect(readme, name).toContain(name);
            for (const o of c.options) if (o.env) expect(readme, o.env).toContain(o.env);
        }
    });

    it("every environment variable the runner reads is documented", () => {
        const dir = join(repoRoot, "runner/src");
        const names = new Set<string>();
        for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"))) {
            for (const m of readFileSync(join(dir, f), "utf8").matchAll(
                /\b(NAS_BACKUP_[A-Z_]+|RESTIC_[A-Z_]+|PG[A-Z]{3,})\b/g,
            ))
                names.add(m[1]);
        }
        // Set by the runner for its children, not read from the operator.
        for (const internal of [
            "RESTIC_REPOSITORY",
            "RESTIC_REPOSITORY_FILE",
            "PGAPPNAME",
            "PGOPTIONS",
            "PGCLIENTENCODING",
            "PGCONNECT_TIMEOUT",
        ])
            names.delete(internal);
        names.delete("PGDMP"); // a custom-format archive's first bytes (archiveOffsets.ts), not a variable
        expect(names.size).toBeGreaterThan(15);
        for (const n of names) expect(readme, n).toContain(n);
    });
});

describe("configuration errors exit 2 with the cause", () => {
    const base = { RESTIC_PASSWORD_FILE: "/dev/null" };
    const cases: [string, string[], Record<string, string>, RegExp][] = [
        [
            "plain HTTP to a remote NAS",
            ["status", "--target", "a", "--repository-base", "rest:http://nas.example:8000/"],
            base,
            /refusing plain HTTP to nas\.example/,
        ],
        [
            "credentials in the URL",
            ["status", "--target", "a", "--repository-base", "rest:https://u:secret@nas.example/"],
            base,
            /must not contain credentials/,
        ],
        [
            "no repository key",
            ["status", "--target", "a", "--repository-base", "rest:https://nas.example/"],
            {},
            /RESTIC_PASSWORD_FILE/,
        ],
        [
            "an invalid target",
            ["backup", "--target", "../etc", "--database", "x", "--repository-base", "rest:https://nas.example/"],
            base,
            /target "\.\.\/etc" is invalid/,
        ],
        [
            "database and directory",
            [
                "backup",
                "--target",
                "a",
                "--database",
                "x",
                "--directory",
                "/tmp",
                "--repository-base",
                "rest:https://nas.example/",
            ],
            base,
            /exactly one of --database or --directory/,
        ],
        [
            "an unknown flag",
            ["prune", "--target", "a", "--keep-everything"],
            base,
            /Unknown option '--keep-everything'/,
        ],
        ["a password flag", ["backup", "--password", "x"], base, /Unknown option '--password'/],
        ["an unknown command", ["backupp"], base, /unknown command "backupp"/],
        [
            "a bad --before",
            [
                "restore",
                "--target",
                "a",
                "--before",
                "yesterday",
                "--into-database",
                "x",
                "--repository-base",
                "rest:https://nas.example/",
            ],
            base,
            /--before "yesterday"/,
        ],
    ];
    for (const [name, args, env, cause] of cases) {
        it(name, async () => {
            const r = await runCli(args, env);
            expect(r.code).toBe(2);
            expect(r.events).toHaveLength(1);
            expect(r.events[0]).toMatchObject({
                level: "error",
                event: "usage.error",
                cause: expect.stringMatching(cause),
            });
            expect(r.stderr).not.toContain("secret");
        });
    }

    it("a remote PostgreSQL server without TLS", () => {
        expect(() => pgEnv({ PGHOST: "db.example.com" })).toThrow(
            /PGHOST=db\.example\.com is not loopback: set PGSSLMODE=verify-full/,
        );
        expect(pgEnv({ PGHOST: "db.example.com", PGSSLMODE: "verify-full" }).PGSSLMINPROTOCOLVERSION).toBe(
            backupPolicy.encryption.databaseMinTls.value,
        );
        expect(() => pgEnv({ PGHOST: "127.0.0.1" })).not.toThrow();
        expect(() => pgEnv({ PGHOST: "/var/run/postgresql" })).not.toThrow();
    });

    it("plain HTTP only to loopback", () => {
        expect(parseRepositoryBase("rest:http://127.0.0.1:8000").href).toBe("http://127.0.0.1:8000/");
        expect(parseRepositoryBase("rest:http://[::1]:8000/x").href).toBe("http://[::1]:8000/x/");
        expect(() => parseRepositoryBase("rest:http://10.0.0.5:8000/")).toThrow(/plain HTTP/);
        expect(parseRepositoryBase("https://nas.example/backups").href).toBe("https://nas.example/backups/");
    });

    it("refuses *.localhost names: resolvers (glibc, Go) send them to DNS and the search domains, which may answer with a remote address", () => {
        expect(() => parseRepositoryBase("rest:http://nas.localhost:8000/")).toThrow(
            /refusing plain HTTP to nas\.localhost/,
        );
        expect(() => pgEnv({ PGHOST: "db.localhost" })).toThrow(/is not loopback/);
        // Loopback by address or the name localhost itself stays allowed.
        expect(parseRepositoryBase("rest:http://localhost:8000/").hostname).toBe("localhost");
        expect(parseRepositoryBase("rest:http://127.0.0.2:8000/").hostname).toBe("127.0.0.2");
        expect(parseRepositoryBase("rest:http://[::1]:8000/").hostname).toBe("[::1]");
    });
});

describe("secrets", () => {
    it("never logs a password: registered secrets and URL passwords are redacted", () => {
        const dir = mkdtempSync(join(tmpdir(), "nas-backup-secret-"));
        try {
            writeFileSync(join(dir, "pw"), "s3cr3t/p@ss:word\n");
            const credentials = loadCredentials("backup", {
                NAS_BACKUP_REST_USER: "backup",
                NAS_BACKUP_REST_PASSWORD_FILE: join(dir, "pw"),
            });
            expect(credentials.password).toBe("s3cr3t/p@ss:word");
            const location = repositoryLocation(
                parseRepositoryBase("rest:https://nas.example:8000/"),
                "shop",
                credentials,
            );
            expect(location.display).toBe("rest:https://nas.example:8000/shop/");
            expect(location.resticUrl).toContain(encodeURIComponent("s3cr3t/p@ss:word"));
            const lines: string[] = [];
            setLogSink((l) => lines.push(l));
            log("error", "test", { cause: `failed with ${location.resticUrl} and s3cr3t/p@ss:word` });
            expect(lines[0]).not.toContain("s3cr3t");
            expect(lines[0]).toContain("rest:https://backup:***@nas.example:8000/shop/");
            expect(redact("Head http://u:other@host/x")).toBe("Head http://u:***@host/x");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("redacts a registered secret also where JSON escaping changed it (quotes, backslashes)", () => {
        const secret = 'Qx"7\\pw-Z';
        registerSecret(secret);
        const lines: string[] = [];
        setLogSink((l) => lines.push(l));
        log("error", "test", { cause: `psql: something echoed ${secret}` });
        setLogSink(() => undefined);
        expect((JSON.parse(lines[0]) as { cause: string }).cause).toBe("psql: something echoed ***");
    });

    it("registers the repository key read from RESTIC_PASSWORD_FILE", () => {
        const dir = mkdtempSync(join(tmpdir(), "nas-backup-key-"));
        try {
            writeFileSync(join(dir, "key"), "the-repository-key-1\n");
            // As restic reads it: without the line end (and surrounding white space).
            expect(resticPassword({ RESTIC_PASSWORD_FILE: join(dir, "key") })).toBe("the-repository-key-1");
            expect(redact("restic said the-repository-key-1")).toBe("restic said ***");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("times", () => {
    it(`reads dates and wall-clock times in ${backupPolicy.nas.timeZone.value}, exact instants as given`, () => {
        expect(parseInstant("2025-03-01", "before").toISOString()).toBe("2025-02-28T23:00:00.000Z");
        expect(parseInstant("2025-07-01T14:30", "before").toISOString()).toBe("2025-07-01T12:30:00.000Z");
        expect(parseInstant("2025-07-01T14:30:00Z", "before").toISOString()).toBe("2025-07-01T14:30:00.000Z");
        expect(() => parseInstant("1.7.2025", "before")).toThrow(/--before/);
    });

    it("backup refuses a --time in the future: it would be restore's 'latest', the newest for status and prune, while holding older data", async () => {
        const ctx = { repository: () => expect.fail("must not open the repository") } as unknown as Context;
        const future = new Date(Date.now() + 366 * 24 * 3_600_000);
        await expect(backup(ctx, { target: "t", database: "app", time: future })).rejects.toThrow(/in the future/);
    });
});

describe("a command that can no longer finish", () => {
    /** A process that hands `exitWhenDone` the given promise expression, as the CLI hands it main(). */
    function exitOf(outcome: string): { status: number | null; stderr: string } {
        const dir = mkdtempSync(join(tmpdir(), "nas-backup-exit-"));
        try {
            const script = join(dir, "run.ts");
            writeFileSync(
                script,
                `import { exitWhenDone } from ${JSON.stringify(join(repoRoot, "runner/src/cli.ts"))};\nexitWhenDone(${outcome});\n`,
            );
            const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: repoRoot, encoding: "utf8" });
            return { status: r.status, stderr: r.stderr };
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }

    it("exits 1 with a clear message when the event loop empties while the command is unfinished (Node alone exits 0)", () => {
        const r = exitOf("new Promise<number>(() => undefined)");
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/"event":"internal.error".*stopped before it finished/);
    });

    it("exits with the command's own code when it finishes, also after waiting", () => {
        expect(exitOf("new Promise<number>((done) => setTimeout(() => done(3), 50))").status).toBe(3);
        expect(exitOf("Promise.resolve(0)")).toEqual({ status: 0, stderr: "" });
    });
});

describe("image build", () => {
    it("compiles with runner/tsconfig.build.json (as the Dockerfile does) and runs with plain node", () => {
        const out = mkdtempSync(join(tmpdir(), "nas-backup-build-"));
        try {
            const tsc = spawnSync(
                process.execPath,
                [
                    join(repoRoot, "node_modules/typescript/bin/tsc"),
                    "-p",
                    join(repoRoot, "runner/tsconfig.build.json"),
                    "--outDir",
                    out,
                ],
                { encoding: "utf8" },
            );
            expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
            // The image copies the one runtime dependency next to the compiled code; so does this test.
            mkdirSync(join(out, "node_modules"));
            symlinkSync(join(repoRoot, "node_modules/luxon"), join(out, "node_modules/luxon"));
            const help = spawnSync(process.execPath, [join(out, "runner/src/cli.js"), "--help"], { encoding: "utf8" });
            expect(help.status).toBe(0);
            expect(help.stdout).toContain("nas-backup");
            expect(readFileSync(join(out, "runner/src/cli.js"), "utf8").startsWith("#!/usr/bin/env node")).toBe(true);
            // The Dockerfile copies exactly what the build needs.
            const dockerfile = readFileSync(join(repoRoot, "runner/Dockerfile"), "utf8");
            for (const path of ["tsconfig.json", "components/policy.ts", "runner/tsconfig.build.json", "runner/src"])
                expect(dockerfile).toContain(`COPY ${path}`);
            const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
                packages: Record<string, { version: string }>;
            };
            for (const pkg of ["typescript", "@types/node", "luxon", "@types/luxon"])
                expect(dockerfile).toContain(` ${pkg}@${lock.packages[`node_modules/${pkg}`].version}`);
            expect(dockerfile).toContain(
                "COPY --from=build /src/node_modules/luxon /opt/nas-backup/node_modules/luxon",
            );
        } finally {
            rmSync(out, { recursive: true, force: true });
        }
    }, 60_000);
});
