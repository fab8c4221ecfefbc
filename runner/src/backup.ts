/**
 * `backup`: one target (a database or a directory) into its own repository, tagged for retention.
 *
 * Database: a REPEATABLE READ transaction exports its snapshot; pg_dump (custom format, uncompressed
 * so restic can deduplicate and compress) dumps exactly that snapshot into `restic backup --stdin`
 * while the same transaction counts the rows for the manifest. pg_dump writes into restic's stdin
 * directly, through a pipe whose write end the runner holds (`heldStream`) and closes only after
 * pg_dump exited 0 and the manifest is complete; on any failure it kills restic first, so restic
 * never sees the end of a partial dump and writes no snapshot. Only then is the manifest snapshot,
 * the commit record, written.
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Context } from "./context";
import { log, progressTicker, secondsSince } from "./log";
import type { DatabaseManifest, DirectoryManifest, Manifest } from "./manifest";
import { metricNames, pushMetrics } from "./metrics";
import { contentSql, SEQUENCES_SQL, type DatabaseContent, type SequenceContent } from "./content";
import { PsqlSession, pgEnv, pgProgram } from "./postgres";
import {
    collect,
    describeExit,
    type Exit,
    heldStream,
    type HeldStream,
    OperationError,
    run,
    spawnChild,
    stderrTail,
    UsageError,
    waitForExit,
    withStdioBuffer,
} from "./proc";
import { explainResticFailure, type ResticRepository } from "./restic";
import { dumpRoles, type RoleDefinitions } from "./roles";
import { dumpFileName, manifestFileName, tags, type TargetKind } from "./snapshots";
import { watchNas, type NasWatchdog } from "./watchdog";

export interface BackupOptions {
    readonly target: string;
    readonly database?: string;
    readonly directory?: string;
    /** The time the backup is recorded at (default: now). */
    readonly time?: Date;
}

export interface BackupResult {
    readonly target: string;
    readonly kind: TargetKind;
    readonly snapshot: string;
    readonly manifestSnapshot: string;
    /** Time recorded for the backup (ISO 8601). */
    readonly snapshotTime: string;
    /** Size of the dump, or of the files read. */
    readonly bytes: number;
    /** New data after deduplication, before compression (restic's data_added). */
    readonly bytesNew: number;
    /** What the NAS stored for this backup: the size of the files it added (compressed, encrypted). */
    readonly bytesStored: number;
    readonly durationSeconds: number;
}

/** restic --time takes "YYYY-MM-DD HH:MM:SS" in its local zone; restic runs with TZ=UTC. */
export function resticTime(time: Date): string {
    return time.toISOString().slice(0, 19).replace("T", " ");
}

interface ResticSummary {
    readonly message_type: "summary";
    readonly snapshot_id: string;
    readonly data_added: number;
    readonly total_files_processed: number;
    readonly total_bytes_processed: number;
}

export function parseSummary(stdout: string): ResticSummary {
    for (const line of stdout.split("\n").reverse()) {
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line) as { message_type?: string };
        if (m.message_type === "summary") return m as ResticSummary;
    }
    throw new OperationError("restic reported no summary for the backup");
}

/** The bytes restic has read, from the last status line of its `--json` output (60 a second); 0 before the first. */
function bytesDone(stdout: string): number {
    const at = stdout.lastIndexOf('{"message_type":"status"', stdout.lastIndexOf("\n"));
    if (at < 0) return 0;
    try {
        return (JSON.parse(stdout.slice(at, stdout.indexOf("\n", at))) as { bytes_done?: number }).bytes_done ?? 0;
    } catch {
        return 0;
    }
}

function tagArgs(list: readonly string[]): string[] {
    return list.flatMap((t) => ["--tag", t]);
}

interface DataResult {
    readonly snapshot: string;
    readonly bytesNew: number;
    readonly manifest: (dataSnapshot: string) => Manifest;
    readonly bytes: number;
}

/** Exactly one of database or directory, and the backup's instant: not in the future, in whole seconds. */
function kindAndTime(options: BackupOptions): { kind: TargetKind; time: Date } {
    if (!options.database === !options.directory)
        throw new UsageError("backup needs exactly one of --database or --directory");
    const kind: TargetKind = options.database ? "database" : "directory";
    // A future time would make this the newest backup (restore's latest, status, prune) while it holds today's data.
    if (options.time && options.time.getTime() > Date.now())
        throw new UsageError(`--time ${options.time.toISOString()} is in the future`);
    // restic records seconds; the data, the manifest and its `time` use the same instant.
    const time = new Date(Math.floor((options.time ?? new Date()).getTime() / 1000) * 1000);
    return { kind, time };
}

async function reportSuccess(ctx: Context, result: BackupResult): Promise<void> {
    log("info", "backup.success", { ...result });
    await pushMetrics(ctx.pushgateway, "backup", result.target, {
        [metricNames.lastSuccess]: Date.now() / 1000,
        [metricNames.lastRunSuccess]: 1,
        [metricNames.duration]: result.durationSeconds,
        [metricNames.bytesStored]: result.bytesStored,
        [metricNames.bytesNew]: result.bytesNew,
    });
}

async function reportFailure(
    ctx: Context,
    failed: { target: string; kind: TargetKind; error: Error; start: number },
): Promise<void> {
    const { target, kind, error, start } = failed;
    log("error", "backup.failure", {
        target,
        kind,
        cause: error.message,
        durationSeconds: secondsSince(start),
    });
    await pushMetrics(ctx.pushgateway, "backup", target, {
        [metricNames.lastFailure]: Date.now() / 1000,
        [metricNames.lastRunSuccess]: 0,
    });
}

/**
 * The data's backup with the manifest's restic started alongside; once the data is in, the manifest is
 * committed. If the data fails, the manifest's restic is aborted and nothing of the run counts. No
 * snapshot listing: which backup is a month's monthly one is decided from the complete backups by
 * whoever reads them (prune, status, restore --list: `classify` in retention.ts), never by a tag.
 */
async function backupWithManifest(
    ctx: Context,
    repo: ResticRepository,
    options: BackupOptions,
    step: { kind: TargetKind; time: Date; onCommit: () => void },
): Promise<{ data: DataResult; manifestSummary: ResticSummary }> {
    const { target } = options;
    const { kind, time, onCommit } = step;
    const run = randomUUID();
    const dataTags = [tags.target(target), tags.kind(kind), tags.run(run), tags.daily];
    const common = { format: 1 as const, target, run, time: time.toISOString() };
    // The data's restic (and a database's psql session) start first: they are the critical path.
    const backedUp =
        kind === "database"
            ? backupDatabase(ctx, repo, options.database!, time, dataTags, common)
            : backupDirectory(ctx, repo, resolve(options.directory!), time, dataTags, common);
    // The manifest's restic starts at once too (key derivation, lock, index) and waits for its input,
    // which it gets only at commit time. (At a lower CPU priority it was slower on a shared machine.)
    const writer = startManifest(repo, time, run);
    let data: DataResult;
    try {
        data = await backedUp;
    } catch (e) {
        await writer.abort();
        throw e;
    }
    onCommit();
    const manifestSummary = await writer.commit(`${JSON.stringify(data.manifest(data.snapshot), null, 1)}\n`);
    return { data, manifestSummary };
}

export async function backup(ctx: Context, options: BackupOptions): Promise<BackupResult> {
    const start = performance.now();
    const { target } = options;
    const { kind, time } = kindAndTime(options);
    log("info", "backup.start", {
        target,
        kind,
        database: options.database,
        directory: options.directory,
        snapshotTime: time.toISOString(),
    });
    let watchdog: NasWatchdog | undefined;
    let committing = false;
    try {
        const repo = ctx.repository(target, "backup");
        await repo.ensureInitialized();
        watchdog = watchNas(repo, ctx.nasTimeoutSeconds, () =>
            committing
                ? "backup aborted while writing its manifest: it counts only if `restore --list` shows it"
                : "backup aborted, no manifest was written: nothing of this run counts as a backup",
        );
        const storedBefore = repo.storedFiles().then(
            (files) => files,
            (e: Error) => e,
        );
        const { data, manifestSummary } = await backupWithManifest(ctx, repo, options, {
            kind,
            time,
            onCommit: () => (committing = true),
        });
        const result: BackupResult = {
            target,
            kind,
            snapshot: data.snapshot,
            manifestSnapshot: manifestSummary.snapshot_id,
            snapshotTime: time.toISOString(),
            bytes: data.bytes,
            bytesNew: data.bytesNew + manifestSummary.data_added,
            bytesStored: await bytesStored(repo, storedBefore),
            durationSeconds: secondsSince(start),
        };
        await reportSuccess(ctx, result);
        return result;
    } catch (e) {
        // Once the watchdog killed restic, its cause is the NAS, not the kill.
        const error = watchdog?.failure() ?? e;
        await reportFailure(ctx, { target, kind, error: error as Error, start });
        throw error;
    } finally {
        watchdog?.stop();
    }
}

/** `restic backup --stdin` of the manifest, started early and held: it writes its snapshot only once `commit` ends its input. */
interface ManifestWriter {
    commit(text: string): Promise<ResticSummary>;
    /** Kills restic before it saw the end of its input: no snapshot. */
    abort(): Promise<void>;
}

function startManifest(repo: ResticRepository, time: Date, run: string): ManifestWriter {
    const manifestTags = [tags.target(repo.target), tags.manifest, tags.run(run)];
    const {
        restic,
        resticOut: stdout,
        resticErr: stderr,
        resticExit: exit,
    } = startStdinBackup(repo, manifestFileName, time, manifestTags);
    return {
        async commit(text) {
            restic.stdin!.end(text);
            const e = await exit;
            if (e.code !== 0 || e.signal)
                throw new OperationError(explainResticFailure("writing the manifest", e, stderr(), repo.location));
            return parseSummary(stdout());
        },
        async abort() {
            restic.kill("SIGKILL");
            await exit.catch(() => undefined);
        },
    };
}

/** Bytes of the files the NAS gained since `before` was listed (a concurrent backup of the target counts too). */
async function bytesStored(repo: ResticRepository, before: Promise<Map<string, number> | Error>): Promise<number> {
    const earlier = await before;
    if (earlier instanceof Error) throw earlier;
    let bytes = 0;
    for (const [name, size] of await repo.storedFiles()) if (!earlier.has(name)) bytes += size;
    return bytes;
}

/** pg_dump's version, as `pg_dump --version` words it (the manifest records which pg_dump wrote the dump). */
async function pgDumpVersion(program: string, env: NodeJS.ProcessEnv): Promise<string> {
    const r = await run(program, ["--version"], { env });
    if (r.code !== 0 || r.signal) throw new OperationError(`${program} --version failed: ${stderrTail(r.stderr)}`);
    return r.stdout.trim();
}

async function backupDatabase(
    ctx: Context,
    repo: ResticRepository,
    database: string,
    time: Date,
    dataTags: readonly string[],
    common: { format: 1; target: string; run: string; time: string },
): Promise<DataResult> {
    const env = pgEnv(ctx.env);
    const pgDump = pgProgram("pg_dump", ctx.env);
    // pg_dump writes into restic's stdin directly; restic sees its end only once the runner ends it.
    const stream = await heldStream();
    // restic first: its key derivation and index load overlap the connection and the snapshot export.
    const dumpBackup = startStdinBackup(repo, dumpFileName(repo.target), time, dataTags, stream.readEnd);
    stream.passed(stream.readEnd);
    const { restic, resticOut, resticErr, resticExit } = dumpBackup;
    const session = PsqlSession.start(database, ctx.env);
    let finished = false;
    try {
        const { pgSnapshot, sequencesBefore } = await exportSnapshot(session);
        const { dump, dumpErr, dumpExit } = startPgDump(pgDump, pgSnapshot, database, env, stream.writeEnd);
        stream.passed(stream.writeEnd);
        const stopProgress = progressTicker("backup", ctx.progressSeconds, () => ({
            target: common.target,
            bytesRead: bytesDone(resticOut()),
        }));

        const { roles, content, version } = startManifestQueries(database, session, ctx.env, pgDump);
        const abort = abortDumpBackup(stopProgress, { restic, dump, resticExit, dumpExit });

        await dumpEnded({ dumpExit, resticExit, resticErr, dumpErr, repo, database, abort });
        const { counted, roleDefinitions, pgDumpVersionText } = await manifestParts(
            { content, roles, version, sequencesBefore, session },
            abort,
        );
        const summary = await endDumpBackup(repo, stream, stopProgress, { resticOut, resticErr, resticExit });
        // Its transaction has ended (withSequences): psql quits while the manifest is committed.
        void session.close();
        finished = true;
        const bytes = summary.total_bytes_processed;
        return {
            snapshot: summary.snapshot_id,
            bytesNew: summary.data_added,
            bytes,
            manifest: (dataSnapshot): DatabaseManifest => ({
                ...common,
                kind: "database",
                dataSnapshot,
                pgSnapshot,
                dump: { bytes, format: "custom", pgDumpVersion: pgDumpVersionText },
                content: counted,
                roles: roleDefinitions,
            }),
        };
    } finally {
        if (!finished) {
            // Killed before its input ended: restic wrote no snapshot.
            restic.kill("SIGKILL");
            session.kill();
            await resticExit.catch(() => undefined);
        }
        stream.end();
    }
}

/**
 * One round trip: the transaction, its exported snapshot, and the sequences (they move outside
 * transactions: their dumped values lie between these and the ones read after pg_dump).
 */
async function exportSnapshot(
    session: PsqlSession,
): Promise<{ pgSnapshot: string; sequencesBefore: SequenceContent[] }> {
    const [snapshotId, sequencesBefore] = await session.queryEach(
        `BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT to_jsonb(pg_export_snapshot()); ${SEQUENCES_SQL}`,
    );
    return { pgSnapshot: snapshotId as string, sequencesBefore: sequencesBefore as SequenceContent[] };
}

/**
 * `restic backup --stdin` of one file of the target (the dump, from `input`; the manifest, written by
 * the runner); it writes its snapshot only once its input ends.
 */
function startStdinBackup(
    repo: ResticRepository,
    fileName: string,
    time: Date,
    snapshotTags: readonly string[],
    input: "pipe" | number = "pipe",
) {
    const restic = repo.spawn(
        [
            "backup",
            "--stdin",
            "--stdin-filename",
            fileName,
            "--host",
            repo.target,
            "--time",
            resticTime(time),
            "--json",
            ...tagArgs(snapshotTags),
        ],
        [input, "pipe", "pipe"],
    );
    const resticOut = collect(restic.stdout, 1024 * 1024);
    const resticErr = collect(restic.stderr);
    const resticExit = waitForExit(restic);
    restic.stdin?.on("error", () => undefined); // restic's exit status tells why
    return { restic, resticOut, resticErr, resticExit };
}

/** pg_dump of the database in the exported snapshot into `output`, writing 1 MiB at a time (measured in runner/README.md). */
function startPgDump(pgDump: string, pgSnapshot: string, database: string, env: NodeJS.ProcessEnv, output: number) {
    const args = [
        "--format=custom",
        "--compress=0",
        `--snapshot=${pgSnapshot}`,
        "--no-password",
        `--dbname=${database}`,
    ];
    const dump = spawnChild(...withStdioBuffer("o", pgDump, args), {
        env,
        stdio: ["ignore", output, "pipe"],
    });
    const dumpErr = collect(dump.stderr);
    const dumpExit = waitForExit(dump);
    return { dump, dumpErr, dumpExit };
}

/** The server's roles, the row counts in the same snapshot and pg_dump's version, read while pg_dump runs. */
function startManifestQueries(database: string, session: PsqlSession, ctxEnv: NodeJS.ProcessEnv, pgDump: string) {
    const pgDumpVersionText = pgDumpVersion(pgDump, pgEnv(ctxEnv));
    const version = pgDumpVersionText.then(
        (v) => v,
        (e: Error) => e,
    );
    // The server's roles, so a restore onto a new server can create them before the data.
    const roles = dumpRoles(database, ctxEnv, pgDumpVersionText).then(
        (r) => r,
        (e: Error) => e,
    );
    // Row counts and digests in the same snapshot, while pg_dump runs.
    const content = session.query<DatabaseContent>(contentSql()).then(
        (c) => c,
        (e: Error) => e,
    );
    return { roles, content, version };
}

/** Stops progress, kills restic and pg_dump, and fails the backup: restic never got the end of its input. */
function abortDumpBackup(
    stopProgress: () => void,
    running: { restic: ChildProcess; dump: ChildProcess; resticExit: Promise<Exit>; dumpExit: Promise<Exit> },
): (cause: string) => Promise<never> {
    const { restic, dump, resticExit, dumpExit } = running;
    return async (cause: string): Promise<never> => {
        stopProgress();
        restic.kill("SIGKILL");
        dump.kill("SIGKILL");
        await Promise.allSettled([resticExit, dumpExit]);
        throw new OperationError(`${cause}; no snapshot was written`);
    };
}

/** The dump is complete: restic's input ends and it writes its snapshot. */
async function endDumpBackup(
    repo: ResticRepository,
    stream: HeldStream,
    stopProgress: () => void,
    backup: { resticOut: () => string; resticErr: () => string; resticExit: Promise<Exit> },
): Promise<ResticSummary> {
    const { resticOut, resticErr, resticExit } = backup;
    stream.end();
    const exit = await resticExit;
    stopProgress();
    if (exit.code !== 0 || exit.signal)
        throw new OperationError(explainResticFailure("backing up the dump", exit, resticErr(), repo.location));
    return parseSummary(resticOut());
}

/** Waits for pg_dump to end; aborts the backup if restic stopped first or pg_dump failed. */
async function dumpEnded(running: {
    dumpExit: Promise<Exit>;
    resticExit: Promise<Exit>;
    resticErr: () => string;
    dumpErr: () => string;
    repo: ResticRepository;
    database: string;
    abort: (cause: string) => Promise<never>;
}): Promise<void> {
    const { dumpExit, resticExit, resticErr, dumpErr, repo, database, abort } = running;
    const first = await Promise.race([
        dumpExit.then((exit) => ({ who: "pg_dump" as const, exit })),
        resticExit.then((exit) => ({ who: "restic" as const, exit })),
    ]);
    // restic is pg_dump's only reader: a pg_dump that found its pipe broken is a restic that stopped.
    const brokenPipe = first.who === "pg_dump" && (first.exit.signal === "SIGPIPE" || /Broken pipe/.test(dumpErr()));
    if (first.who === "restic" || brokenPipe) {
        const exit = first.who === "restic" ? first.exit : await resticExit;
        return await abort(
            explainResticFailure("restic stopped before the dump ended", exit, resticErr(), repo.location),
        );
    }
    if (first.exit.code !== 0 || first.exit.signal) {
        return await abort(
            `pg_dump of ${database} failed (${describeExit("pg_dump", first.exit)}): ${stderrTail(dumpErr()) || "no message"}`,
        );
    }
}

/** The manifest's row counts (with the sequences read after the dump), roles and pg_dump version; aborts if one failed. */
async function manifestParts(
    pending: {
        content: Promise<DatabaseContent | Error>;
        roles: Promise<RoleDefinitions | Error>;
        version: Promise<string | Error>;
        sequencesBefore: SequenceContent[];
        session: PsqlSession;
    },
    abort: (cause: string) => Promise<never>,
) {
    const { content, roles, version, sequencesBefore, session } = pending;
    const counted = await content.then(async (c) =>
        c instanceof Error ? c : withSequences(c, sequencesBefore, session).catch((e: Error) => e),
    );
    if (counted instanceof Error) return await abort(`counting rows for the manifest failed: ${counted.message}`);
    const roleDefinitions = await roles;
    if (roleDefinitions instanceof Error) return await abort(roleDefinitions.message);
    const pgDumpVersionText = await version;
    if (pgDumpVersionText instanceof Error) return await abort(pgDumpVersionText.message);
    return { counted, roleDefinitions, pgDumpVersionText };
}

/** The sequences read after pg_dump ended, with the values read before it started. */
async function withSequences(
    content: DatabaseContent,
    before: readonly SequenceContent[],
    session: PsqlSession,
): Promise<DatabaseContent> {
    const earlier = new Map(before.map((s) => [`${s.schema}.${s.sequence}`, s.lastValue]));
    // Read after pg_dump ended, and the read-only transaction ends with it (one round trip).
    const after = await session.query<SequenceContent[]>(`${SEQUENCES_SQL}; COMMIT`);
    return {
        ...content,
        sequences: after.map((s) => ({ ...s, lastValueBefore: earlier.get(`${s.schema}.${s.sequence}`) ?? null })),
    };
}

function errnoText(errno: number): string {
    return (
        (
            {
                1: "operation not permitted",
                2: "no such file or directory",
                5: "input/output error",
                13: "permission denied",
            } as Record<number, string>
        )[errno] ?? `errno ${errno}`
    );
}

/** The files restic 0.14 could not read: it reports them as JSON lines on stderr. */
function unreadableFiles(stderr: string): string[] {
    const unreadable: string[] = [];
    for (const line of stderr.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
            const m = JSON.parse(line) as { message_type?: string; item?: string; error?: { Err?: number } };
            if (m.message_type === "error")
                unreadable.push(`${m.item ?? "?"}${m.error?.Err !== undefined ? ` (${errnoText(m.error.Err)})` : ""}`);
        } catch {
            // not JSON after all
        }
    }
    return unreadable;
}

async function backupDirectory(
    ctx: Context,
    repo: ResticRepository,
    directory: string,
    time: Date,
    dataTags: readonly string[],
    common: { format: 1; target: string; run: string; time: string },
): Promise<DataResult> {
    const info = await stat(directory).catch(() => undefined);
    if (!info?.isDirectory()) throw new OperationError(`${directory} is not a readable directory`);
    const restic = repo.spawn(
        ["backup", directory, "--host", common.target, "--time", resticTime(time), "--json", ...tagArgs(dataTags)],
        ["ignore", "pipe", "pipe"],
    );
    const resticErr = collect(restic.stderr);
    const exitPromise = waitForExit(restic);
    let summary: ResticSummary | undefined;
    let bytesDone = 0;
    const stopProgress = progressTicker("backup", ctx.progressSeconds, () => ({
        target: common.target,
        bytesRead: bytesDone,
    }));
    for await (const line of createInterface({ input: restic.stdout! })) {
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line) as { message_type?: string; bytes_done?: number };
        if (m.message_type === "status") bytesDone = m.bytes_done ?? bytesDone;
        else if (m.message_type === "summary") summary = m as ResticSummary;
    }
    const exit = await exitPromise;
    stopProgress();
    const unreadable = unreadableFiles(resticErr());
    if (exit.code === 3) {
        const list = unreadable.slice(0, 5).join(", ") + (unreadable.length > 5 ? ", …" : "");
        throw new OperationError(
            `restic could not read ${unreadable.length || "some"} file(s) of ${directory}${list ? `: ${list}` : ""}; the backup is incomplete: its snapshot gets no manifest and never counts`,
        );
    }
    if (exit.code !== 0 || exit.signal || !summary)
        throw new OperationError(explainResticFailure(`backing up ${directory}`, exit, resticErr(), repo.location));
    const done = summary;
    return {
        snapshot: done.snapshot_id,
        bytesNew: done.data_added,
        bytes: done.total_bytes_processed,
        manifest: (dataSnapshot): DirectoryManifest => ({
            ...common,
            kind: "directory",
            dataSnapshot,
            directory,
            files: done.total_files_processed,
            bytes: done.total_bytes_processed,
        }),
    };
}
