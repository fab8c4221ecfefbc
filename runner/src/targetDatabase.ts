/**
 * The database a restore writes into, made ready while restic reads the backup. Without `--create`: a
 * session on it (or the answer that it does not exist). With `--create`: one session in the admin
 * database asks whether it exists and, if not, creates it at once from template0 with the encoding
 * almost every backup has (UTF8), so neither a psql start nor `CREATE DATABASE` is left on the path
 * once the manifest is read; should the manifest name another encoding, the database (created by this
 * restore a moment ago, empty) is dropped and created again with it. A restore that fails before the
 * database is handed over drops it again, as `--create` promises.
 */
import { log } from "./log";
import { adminStatement, NON_EMPTY_SQL, openDatabase, PsqlSession, quoteIdent, quoteLiteral } from "./postgres";
import { OperationError } from "./proc";

/** The encoding a missing database is created with before the manifest is read. */
const LIKELY_ENCODING = "UTF8";

type State = PsqlSession | "missing" | "created" | Error;

export interface TargetOptions {
    readonly database: string;
    readonly adminDatabase: string;
    /** Create the database when it does not exist. */
    readonly create: boolean;
    /** Restore into a database that already has objects. */
    readonly force: boolean;
}

function createSql(database: string, encoding: string): string {
    // A non-UTF8 database gets the C locale: the server's default locale may not fit its encoding.
    return `CREATE DATABASE ${quoteIdent(database)} TEMPLATE template0 ENCODING ${quoteLiteral(encoding)}${encoding === "UTF8" ? "" : " LOCALE 'C'"}`;
}

/** A session on the database, "missing", or why it cannot be reached. */
function openExisting(database: string, env: NodeJS.ProcessEnv): Promise<PsqlSession | "missing" | Error> {
    return openDatabase(database, env).catch((e: Error) => e);
}

export class TargetDatabase {
    /** Handed over (or abandoned): the caller owns what `prepare` returned. */
    private done = false;

    private constructor(
        private readonly state: Promise<State>,
        private readonly admin: PsqlSession | undefined,
        private readonly encoding: string,
        private readonly options: TargetOptions,
        private readonly env: NodeJS.ProcessEnv,
    ) {}

    /**
     * Starts looking at (and with `create` creating) the database. `encoding`: the backup's, when the
     * manifest is already known.
     */
    static open(options: TargetOptions, env: NodeJS.ProcessEnv, encoding = LIKELY_ENCODING): TargetDatabase {
        const { database, adminDatabase, create } = options;
        if (!create) return new TargetDatabase(openExisting(database, env), undefined, encoding, options, env);
        const admin = PsqlSession.start(adminDatabase, env);
        const exists = `SELECT to_jsonb(EXISTS (SELECT FROM pg_database WHERE datname = ${quoteLiteral(database)}))`;
        const state = admin.query<boolean>(exists).then(
            async (found): Promise<State> => {
                if (found) return await openExisting(database, env);
                await admin.execute(createSql(database, encoding));
                return "created";
            },
            (e: Error) => e,
        );
        // A failed CREATE is reported by `prepare`, as it would have been without the early start.
        return new TargetDatabase(
            state.catch((e: Error) => e),
            admin,
            encoding,
            options,
            env,
        );
    }

    /**
     * The database ready for the backup's `encoding`: refuses a non-empty one unless forced, and
     * returns whether this restore created it (then the caller drops it on failure and starts its
     * session: created from template0, it is empty) or the session on the existing one.
     */
    async prepare(encoding: string): Promise<{ created: boolean; session?: PsqlSession }> {
        const { database } = this.options;
        const state = await this.state;
        if (state instanceof Error) throw state;
        // Only without --create: with it, the admin session created a missing database.
        if (state === "missing")
            throw new OperationError(`database ${database} does not exist: create it, or pass --create`);
        if (state === "created") {
            if (encoding !== this.encoding) {
                await this.admin!.execute(`DROP DATABASE ${quoteIdent(database)}`);
                await this.admin!.execute(createSql(database, encoding));
            }
            this.done = true;
            void this.admin!.close();
            return { created: true };
        }
        this.done = true;
        void this.admin?.close();
        return { created: false, session: await this.checkEmpty(state) };
    }

    /** Refuses a database with objects unless --force. */
    private async checkEmpty(session: PsqlSession): Promise<PsqlSession> {
        try {
            const objects = await session.query<number>(NON_EMPTY_SQL);
            if (Number(objects) > 0 && !this.options.force) {
                throw new OperationError(
                    `database ${this.options.database} is not empty (${objects} objects): restore into an empty database, or pass --force to replace the objects of the dump`,
                );
            }
        } catch (e) {
            await session.close();
            throw e;
        }
        return session;
    }

    /** The restore failed before `prepare` handed the database over: a database created here is dropped, the sessions end. */
    async abandon(): Promise<void> {
        if (this.done) return;
        this.done = true;
        const state = await this.state;
        if (state instanceof PsqlSession) state.kill();
        this.admin?.kill();
        if (state === "created") await dropCreated(this.options, this.env);
    }
}

/** Removes a database this restore created, so a failed `--create` leaves nothing behind. */
export async function dropCreated(
    options: Pick<TargetOptions, "database" | "adminDatabase">,
    env: NodeJS.ProcessEnv,
): Promise<void> {
    await adminStatement(
        options.adminDatabase,
        `DROP DATABASE IF EXISTS ${quoteIdent(options.database)} WITH (FORCE)`,
        env,
    ).catch((e: Error) => log("warn", "restore.cleanup_failed", { database: options.database, cause: e.message }));
}
