/**
 * PostgreSQL through its own client programs (psql, pg_dump, pg_restore), connected with the libpq
 * environment (PGHOST, PGPORT, PGUSER, PGPASSWORD/PGPASSFILE, PGSSLMODE, …). pg_dump must be at least
 * the server's major version: NAS_BACKUP_PG_BIN_DIR selects the client installation.
 */
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { backupPolicy } from "../../components/policy";
import { isLoopback } from "./config";
import { registerSecret } from "./log";
import { OperationError, requireProgram, spawnChild, stderrTail, UsageError, waitForExit } from "./proc";

export function pgProgram(name: "pg_dump" | "pg_dumpall" | "pg_restore" | "psql", env: NodeJS.ProcessEnv): string {
    const dir = env.NAS_BACKUP_PG_BIN_DIR;
    return requireProgram(
        dir ? join(dir, name) : name,
        "install the PostgreSQL client matching the server's major version (Debian/PGDG: postgresql-client-<major>) or set NAS_BACKUP_PG_BIN_DIR",
    );
}

/**
 * Environment for the PostgreSQL clients: the caller's minus the runner's other secrets. The minimum
 * TLS version defaults to the policy's (§2.9); a non-loopback server must be reached with TLS.
 */
export function pgEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const out: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(env)) {
        if (/^NAS_BACKUP_.*PASSWORD/.test(k) || k === "RESTIC_PASSWORD" || k === "RESTIC_REPOSITORY") continue;
        out[k] = v;
    }
    out.PGSSLMINPROTOCOLVERSION ??= backupPolicy.encryption.databaseMinTls.value;
    out.PGAPPNAME ??= "nas-backup";
    out.PGCONNECT_TIMEOUT ??= "30";
    registerSecret(env.PGPASSWORD);
    const hosts = (env.PGHOST ?? "").split(",").filter(Boolean);
    const remote = hosts.filter((h) => !h.startsWith("/") && !isLoopback(h));
    if (remote.length > 0 && !["require", "verify-ca", "verify-full"].includes(env.PGSSLMODE ?? "")) {
        throw new UsageError(
            `PGHOST=${remote.join(",")} is not loopback: set PGSSLMODE=verify-full (or require) so the data travels encrypted (${backupPolicy.encryption.databaseMinTls.clause})`,
        );
    }
    return out;
}

export function quoteIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}
export function quoteLiteral(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
}

/** An interactive psql session: one transaction can stay open while pg_dump uses its snapshot. */
export class PsqlSession {
    private buffer = "";
    private stderr = "";
    private pending: { marker: string; resolve: (text: string) => void; reject: (e: Error) => void } | undefined;
    private exited: Error | undefined;
    private counter = 0;

    private constructor(
        private readonly child: ChildProcess,
        readonly database: string,
    ) {
        child.stdout!.setEncoding("utf8");
        child.stderr!.setEncoding("utf8");
        child.stdout!.on("data", (chunk: string) => this.onData(chunk));
        child.stderr!.on("data", (chunk: string) => {
            this.stderr = (this.stderr + chunk).slice(-16_384);
        });
        child.stdin!.on("error", () => undefined);
        void waitForExit(child).then(
            (exit) =>
                this.onExit(
                    new OperationError(
                        `database ${database}: ${stderrTail(this.stderr) || `psql ended (${exit.code ?? exit.signal})`}`,
                    ),
                ),
            (e: Error) => this.onExit(e),
        );
    }

    static async open(database: string, env: NodeJS.ProcessEnv): Promise<PsqlSession> {
        const session = PsqlSession.start(database, env);
        await session.query("SELECT to_jsonb(1)");
        return session;
    }

    /**
     * Starts psql without waiting for the connection: the first query reports a failed connection
     * (saves the round trip of `open` where the first query follows at once).
     */
    static start(database: string, env: NodeJS.ProcessEnv): PsqlSession {
        const psql = pgProgram("psql", env);
        const child = spawnChild(
            psql,
            ["-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1", `--dbname=${database}`],
            {
                env: {
                    ...pgEnv(env),
                    PGCLIENTENCODING: "UTF8",
                    PGOPTIONS: `${env.PGOPTIONS ?? ""} -c client_min_messages=warning`.trim(),
                },
                stdio: ["pipe", "pipe", "pipe"],
            },
        );
        return new PsqlSession(child, database);
    }

    private onData(chunk: string): void {
        this.buffer += chunk;
        const p = this.pending;
        if (!p) return;
        const at = this.buffer.indexOf(`${p.marker}\n`);
        if (at < 0) return;
        const text = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + p.marker.length + 1);
        this.pending = undefined;
        p.resolve(text);
    }

    private onExit(error: Error): void {
        this.exited = error;
        this.pending?.reject(error);
        this.pending = undefined;
    }

    /** Runs SQL statements; the last must return one row with one jsonb value, which is returned parsed. */
    async query<T>(sql: string): Promise<T> {
        const text = await this.send(sql);
        const line = text.trim().split("\n").pop() ?? "";
        try {
            return JSON.parse(line) as T;
        } catch {
            throw new OperationError(`database ${this.database}: unexpected answer to a query: ${line.slice(0, 200)}`);
        }
    }

    /** Runs SQL statements in one round trip; each statement that returns a row returns one jsonb value: all of them, parsed. */
    async queryEach(sql: string): Promise<unknown[]> {
        const lines = (await this.send(sql)).split("\n").filter((l) => l.trim());
        return lines.map((line) => {
            try {
                return JSON.parse(line) as unknown;
            } catch {
                throw new OperationError(
                    `database ${this.database}: unexpected answer to a query: ${line.slice(0, 200)}`,
                );
            }
        });
    }

    async execute(sql: string): Promise<void> {
        await this.send(sql);
    }

    private send(sql: string): Promise<string> {
        if (this.exited) return Promise.reject(this.exited);
        if (this.pending) return Promise.reject(new Error("PsqlSession: one query at a time"));
        this.counter += 1;
        const marker = `__nas_backup_${process.pid}_${this.counter}__`;
        return new Promise<string>((resolve, reject) => {
            this.pending = { marker, resolve, reject };
            this.child.stdin!.write(`${sql.trim().replace(/;?$/, ";")}\n\\echo ${marker}\n`);
        });
    }

    async close(): Promise<void> {
        if (this.exited) return;
        this.child.stdin!.end("\\q\n");
        await new Promise((r) => this.child.once("close", r));
    }

    kill(): void {
        this.child.kill("SIGKILL");
    }
}

export const userSchema = (col: string): string =>
    `${col} NOT IN ('pg_catalog', 'information_schema') AND ${col} NOT LIKE 'pg\\_toast%' AND ${col} NOT LIKE 'pg\\_temp\\_%'`;

/** Objects that make a database "not empty" for a restore. */
export const NON_EMPTY_SQL = `
SELECT to_jsonb(
  (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userSchema("n.nspname")})
+ (SELECT count(*) FROM pg_namespace WHERE ${userSchema("nspname")} AND nspname <> 'public')
+ (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${userSchema("n.nspname")})
+ (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')
+ (SELECT count(*) FROM pg_largeobject_metadata))`;

/** Runs one statement in the admin database (CREATE/DROP DATABASE cannot run in a transaction). */
export async function adminStatement(adminDatabase: string, sql: string, env: NodeJS.ProcessEnv): Promise<void> {
    const session = await PsqlSession.open(adminDatabase, env);
    try {
        await session.execute(sql);
    } finally {
        await session.close();
    }
}

/** Opens a session, or explains that the database does not exist. */
export async function openDatabase(database: string, env: NodeJS.ProcessEnv): Promise<PsqlSession | "missing"> {
    try {
        return await PsqlSession.open(database, env);
    } catch (e) {
        if (/does not exist/.test((e as Error).message)) return "missing";
        throw e;
    }
}
