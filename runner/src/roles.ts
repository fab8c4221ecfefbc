/**
 * The server's roles, recorded with every database backup and created on a new server before the
 * data. A disaster restore goes to a new server, where the application's roles (owners, grantees, the
 * roles row-level security policies name) do not exist; without them pg_restore fails, with or
 * without --no-owner.
 *
 * The definitions come from `pg_dumpall --globals-only --no-role-passwords`: it reads pg_roles, not
 * pg_authid, so it works on managed servers too. Roles are created without passwords.
 */
import { log } from "./log";
import { pgEnv, pgProgram, PsqlSession, quoteIdent } from "./postgres";
import { OperationError, run, stderrTail } from "./proc";

/** What the manifest records. */
export interface RoleDefinitions {
    readonly pgDumpallVersion: string;
    /** The output of pg_dumpall --globals-only --no-role-passwords. */
    readonly sql: string;
}

/**
 * Dumps the role definitions of the server `database` lives on. `pgDumpVersion` is what pg_dump
 * reports: pg_dumpall runs only with the pg_dump of its own directory and version (it checks
 * `pg_dump -V` itself), so its version is pg_dump's, and no process is started to ask it.
 */
export async function dumpRoles(
    database: string,
    env: NodeJS.ProcessEnv,
    pgDumpVersion: Promise<string>,
): Promise<RoleDefinitions> {
    const program = pgProgram("pg_dumpall", env);
    const args = ["--globals-only", "--no-role-passwords", "--no-password", `--database=${database}`];
    const dump = await run(program, args, { env: pgEnv(env) });
    if (dump.code !== 0 || dump.signal) {
        throw new OperationError(
            `pg_dumpall --globals-only (the server's roles) failed: ${stderrTail(dump.stderr) || `exit status ${dump.code}`}`,
        );
    }
    return { pgDumpallVersion: (await pgDumpVersion).replace(/^pg_dump /, "pg_dumpall "), sql: dump.stdout };
}

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;

function unquote(ident: string): string {
    return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident;
}

export interface ParsedRoles {
    /** Each role's statements (CREATE ROLE, its attributes, settings, comment), by role name. */
    readonly roles: ReadonlyMap<string, readonly string[]>;
    /** Role memberships: `GRANT role TO member`, without GRANTED BY (the grantor may not exist). */
    readonly memberships: readonly { role: string; member: string; statement: string }[];
}

/** Reads pg_dumpall's globals: one statement per line. Tablespaces and database settings are left out. */
export function parseRoles(sql: string): ParsedRoles {
    const roles = new Map<string, string[]>();
    const memberships: { role: string; member: string; statement: string }[] = [];
    const roleStatement = new RegExp(
        String.raw`^(?:CREATE ROLE|ALTER ROLE|COMMENT ON ROLE) ${IDENT}(;| WITH | SET | IS )`,
    );
    const grant = new RegExp(String.raw`^GRANT ${IDENT} TO ${IDENT}(.*?)(?: GRANTED BY ${IDENT})?;$`);
    for (const line of sql.split("\n")) {
        const m = roleStatement.exec(line);
        if (m && line.endsWith(";")) {
            const name = unquote(m[1]);
            if (line.startsWith("CREATE ROLE")) roles.set(name, []);
            roles.get(name)?.push(line);
            continue;
        }
        const g = grant.exec(line);
        if (g) {
            memberships.push({
                role: unquote(g[1]),
                member: unquote(g[2]),
                statement: `GRANT ${g[1]} TO ${g[2]}${g[3]};`,
            });
        }
    }
    return { roles, memberships };
}

/**
 * Creates the recorded roles the server lacks (without passwords), with their attributes, settings
 * and memberships, in one transaction. Returns the names created.
 */
export async function createMissingRoles(
    definitions: RoleDefinitions,
    adminDatabase: string,
    env: NodeJS.ProcessEnv,
): Promise<string[]> {
    const { roles, memberships } = parseRoles(definitions.sql);
    const session = await PsqlSession.open(adminDatabase, env);
    try {
        const existing = new Set(
            await session.query<string[]>("SELECT coalesce(jsonb_agg(rolname), '[]') FROM pg_roles"),
        );
        const missing = [...roles.keys()].filter((name) => !existing.has(name));
        if (missing.length === 0) return [];
        const created = new Set(missing);
        const statements = [
            ...missing.flatMap((name) => roles.get(name)!),
            ...memberships
                .filter(
                    (m) => (created.has(m.role) || created.has(m.member)) && roles.has(m.role) && roles.has(m.member),
                )
                .map((m) => m.statement),
        ];
        await session.execute(["BEGIN", ...statements.map((st) => st.replace(/;$/, "")), "COMMIT"].join(";\n"));
        return missing;
    } catch (e) {
        throw new OperationError(`creating the backup's roles failed: ${(e as Error).message}`);
    } finally {
        await session.close();
    }
}

/** Drops roles a failed restore created (best effort, logged). */
export async function dropRoles(
    names: readonly string[],
    adminDatabase: string,
    env: NodeJS.ProcessEnv,
): Promise<void> {
    if (names.length === 0) return;
    try {
        const session = await PsqlSession.open(adminDatabase, env);
        try {
            await session.execute(`DROP ROLE IF EXISTS ${names.map(quoteIdent).join(", ")}`);
        } finally {
            await session.close();
        }
    } catch (e) {
        log("warn", "restore.cleanup_failed", { roles: names, cause: (e as Error).message });
    }
}
