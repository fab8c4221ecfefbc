/**
 * `restore`: a complete backup (by snapshot id, `latest`, or the latest before a date) into a
 * database or a directory, proven complete against its manifest. Also the restore drill of `verify`.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, mkdir, mkdtemp, readdir, rename, rm, stat, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, normalize } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { recordDataOffsets } from "./archiveOffsets";
import { compareContent, contentSql, SEQUENCES_SQL, type DatabaseContent, type SequenceContent } from "./content";
import type { Context } from "./context";
import { log, progressTicker, secondsSince } from "./log";
import { parseManifest, type DatabaseManifest, type DirectoryManifest, type Manifest } from "./manifest";
import { openDatabase, pgEnv, pgProgram, PsqlSession } from "./postgres";
import {
    collect,
    describeExit,
    heldPipe,
    keepOutput,
    OperationError,
    run,
    spawnChild,
    stderrTail,
    UsageError,
    waitForExit,
    withStdioBuffer,
    type Exit,
    type PipedStream,
} from "./proc";
import { explainResticFailure, type ResticRepository } from "./restic";
import { createMissingRoles, dropRoles } from "./roles";
import { dropCreated, TargetDatabase } from "./targetDatabase";
import {
    dumpFileName,
    manifestFileName,
    selectBackup,
    SelectionError,
    tags,
    type Backup,
    type BackupSelector,
} from "./snapshots";

export interface RestoreOutcome {
    readonly target: string;
    readonly snapshot: string;
    readonly snapshotTime: string;
    readonly into: string;
    readonly bytes: number;
    readonly durationSeconds: number;
    /** Empty when the restored data matches the manifest. */
    readonly problems: readonly string[];
    /** Roles this restore created (without passwords). */
    readonly rolesCreated?: readonly string[];
}

/** A restic dump of a backup's dump file, started early; its output is kept until pg_restore reads it. */
export interface StartedDump {
    readonly child: ChildProcess;
    readonly output: Readable;
    readonly stderr: () => string;
    readonly exit: Promise<Exit>;
}

/** The snapshot a restore reads: a listed backup, or the one the newest manifest names. */
export type RestoredSnapshot = Pick<Backup, "id" | "shortId" | "time">;

/**
 * `restic dump` of the dump file of the data snapshot `id` (its full id: restic checks the snapshot
 * file's and every blob's SHA-256 against their ids, so what it writes is exactly what was backed up).
 */
function startDump(repo: ResticRepository, id: string): StartedDump {
    const child = repo.spawn(["dump", id, `/${dumpFileName(repo.target)}`], ["ignore", "pipe", "pipe"]);
    return { child, output: keepOutput(child), stderr: collect(child.stderr), exit: waitForExit(child) };
}

export async function stopDump(dump: StartedDump | undefined): Promise<void> {
    if (!dump) return;
    dump.child.kill("SIGKILL");
    // Its kept output must be read away, or restic's stdout never closes and `exit` never comes.
    dump.output.resume();
    await dump.exit.catch(() => undefined);
}

/** The backup to restore, its manifest, and for a database backup its dump already streaming from the NAS. */
export interface OpenedBackup {
    readonly backup: RestoredSnapshot;
    readonly manifest: Manifest;
    readonly dump?: StartedDump;
}

async function selectFromRepository(repo: ResticRepository, selector: BackupSelector): Promise<Backup> {
    const snapshots = await repo.snapshots();
    try {
        return selectBackup(snapshots, selector);
    } catch (e) {
        if (e instanceof SelectionError) throw new OperationError(`target ${repo.target}: ${e.message}`);
        throw e;
    }
}

async function readManifest(repo: ResticRepository, backup: Backup): Promise<Manifest> {
    const text = await repo.readFile(backup.manifestSnapshotId!, `/${manifestFileName}`);
    let manifest: Manifest;
    try {
        manifest = parseManifest(text);
    } catch (e) {
        throw new OperationError(
            `the manifest of backup ${backup.shortId} is unreadable (${(e as Error).message}): restore another backup with --snapshot or --before`,
        );
    }
    if (!backup.id.startsWith(manifest.dataSnapshot)) {
        throw new OperationError(
            `the manifest paired with backup ${backup.shortId} names data snapshot ${manifest.dataSnapshot}: it commits another backup; restore another backup with --snapshot or --before`,
        );
    }
    return manifest;
}

/**
 * Finds the backup to restore and reads its manifest; for a database backup its dump is started and
 * waits for pg_restore (unless `streamDump` is false: `restore --jobs` lands the dump instead). The
 * latest backup is opened without a listing of the snapshots. The repository is opened first: a
 * missing one or a NAS that is down is explained better than restic would, and every restic start tries the runner's quick key (`ResticRepository.open`).
 */
export async function openBackup(
    repo: ResticRepository,
    selector: BackupSelector,
    streamDump = true,
): Promise<OpenedBackup> {
    await repo.requireExisting();
    if (selector.snapshot === "latest" && !selector.before) {
        const opened = await openLatest(repo, streamDump);
        if (opened) return opened;
    }
    const backup = await selectFromRepository(repo, selector);
    // The listing gave the full id: the dump starts beside the manifest's read.
    const dump = streamDump && backup.kind === "database" ? startDump(repo, backup.id) : undefined;
    try {
        return { backup, manifest: await readManifest(repo, backup), dump };
    } catch (e) {
        await stopDump(dump);
        throw e;
    }
}

/**
 * The newest manifest (`restic dump latest --tag manifest`) and the backup it names: the manifest is
 * the commit record, so that backup is complete (a newer data snapshot without one is not). Its data
 * snapshot's full id comes from the NAS's file listing (the manifest has restic's short id).
 * Undefined (the listing decides) when there is no readable manifest, or the NAS holds no data
 * snapshot, or more than one, with that short id (a manifest whose backup was deleted).
 */
async function openLatest(repo: ResticRepository, streamDump: boolean): Promise<OpenedBackup | undefined> {
    const [text, stored] = await Promise.allSettled([
        repo.readFile("latest", `/${manifestFileName}`, [tags.manifest, tags.target(repo.target)]),
        repo.snapshotFiles(),
    ]);
    const manifest = text.status === "fulfilled" ? parsedOrUndefined(text.value) : undefined;
    const data = manifest?.dataSnapshot;
    const ids = stored.status === "fulfilled" && data ? stored.value.filter((s) => s.startsWith(data)) : [];
    if (!manifest || ids.length !== 1) return undefined;
    const backup = { id: ids[0], shortId: ids[0].slice(0, 8), time: new Date(manifest.time) };
    const dump = streamDump && manifest.kind === "database" ? startDump(repo, backup.id) : undefined;
    return { backup, manifest, dump };
}

function parsedOrUndefined(text: string): Manifest | undefined {
    try {
        return parseManifest(text);
    } catch {
        return undefined; // the listing path names the backup whose manifest is unreadable
    }
}

export interface DatabaseRestoreOptions {
    readonly database: string;
    readonly adminDatabase: string;
    /** Create the database when it does not exist. */
    readonly create: boolean;
    /** Restore into a database that already has objects (pg_restore --clean --if-exists). */
    readonly force: boolean;
    /** Do not restore ownership and privileges (roles of the source may not exist here). */
    readonly noOwner: boolean;
    /** Create the roles recorded with the backup that this server lacks (without passwords) before the data. */
    readonly createRoles: boolean;
    /** > 1: land the dump on local scratch space, then pg_restore --jobs (not one transaction). */
    readonly jobs?: number;
    /** Where the dump lands with `jobs` (default: the system temp directory). */
    readonly scratchDirectory?: string;
}

/** --jobs N: a whole number from 1 to 64 (1 = the default single-stream restore). */
export function parseJobs(value: string | undefined): number {
    if (value === undefined || value === "") return 1;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 64)
        throw new UsageError(`--jobs ${value}: expected a whole number of parallel pg_restore jobs from 1 to 64`);
    return n;
}

/** Room the landed dump leaves free on the scratch filesystem (for the filesystem's other users). */
const SCRATCH_RESERVE_BYTES = 64 * 1024 * 1024;

/** Refuses a scratch directory whose filesystem cannot hold `bytes` (plus a reserve). */
export async function checkRoom(directory: string, bytes: number): Promise<void> {
    const fs = await statfs(directory).catch((e: NodeJS.ErrnoException) => {
        throw new OperationError(`scratch directory ${directory} is not usable: ${e.code ?? e.message}`);
    });
    const free = fs.bavail * fs.bsize;
    if (free < bytes + SCRATCH_RESERVE_BYTES) {
        const mib = (n: number): string => `${Math.ceil(n / 1024 / 1024)} MiB`;
        throw new OperationError(
            `scratch directory ${directory} has ${mib(free)} free; the dump needs ${mib(bytes)} plus ${mib(SCRATCH_RESERVE_BYTES)} to spare: free space, pass --scratch-directory, or restore without --jobs (streaming)`,
        );
    }
}

/** What a restore read of a dump, and its SHA-256 if the manifest records one (backups made before 2026-11-28). */
interface DumpRead {
    readonly bytes: number;
    readonly sha256?: string;
}

function isManifestDump(read: DumpRead, manifest: DatabaseManifest): boolean {
    return read.bytes === manifest.dump.bytes && read.sha256 === manifest.dump.sha256;
}

/** Fails unless what was read is all of the dump the manifest commits. */
function checkDumpRead(read: DumpRead, manifest: DatabaseManifest, outcome: string): void {
    if (isManifestDump(read, manifest)) return;
    const hash = (sha256: string | undefined): string => (sha256 ? `, sha256 ${sha256.slice(0, 12)}…` : "");
    throw new OperationError(
        `dump read back has ${read.bytes} bytes${hash(read.sha256)}; the manifest says ${manifest.dump.bytes} bytes${hash(manifest.dump.sha256)}; ${outcome}`,
    );
}

/**
 * Lands the dump in `folder` with `restic restore --verify` (it fetches the packs in parallel, where
 * `restic dump` loads one blob after another: 2.8 s against 5.1 s for 1 GB here, runner/README.md;
 * --verify reads the file back and checks every blob against its id), and checks it against the
 * manifest before anything is restored.
 */
async function landDump(
    repo: ResticRepository,
    backup: RestoredSnapshot,
    manifest: DatabaseManifest,
    folder: string,
): Promise<DumpRead & { file: string }> {
    const name = dumpFileName(repo.target);
    await repo.run(`landing the dump of ${backup.shortId}`, [
        "restore",
        backup.id,
        "--target",
        folder,
        "--include",
        `/${name}`,
        "--verify",
    ]);
    // The folder is the runner's own (mkdtemp: mode 0700), whatever mode restic gives the file.
    const file = join(folder, name);
    const bytes = await stat(file).then(
        (s) => s.size,
        () => 0, // a snapshot without the dump file: reported as 0 bytes against the manifest's
    );
    const read = { bytes, sha256: manifest.dump.sha256 && bytes > 0 ? await sha256Of(file) : undefined };
    checkDumpRead(read, manifest, "nothing was restored");
    return { file, ...read };
}

async function sha256Of(file: string): Promise<string> {
    const hash = createHash("sha256");
    await pipeline(createReadStream(file), hash);
    return hash.digest("hex");
}

/** --jobs N: the dump landed on scratch space, then a parallel pg_restore from the file. */
async function restoreParallel(
    ctx: Context,
    repo: ResticRepository,
    opened: OpenedBackup & { manifest: DatabaseManifest },
    options: DatabaseRestoreOptions & { jobs: number },
): Promise<DumpRead> {
    const scratch = options.scratchDirectory ?? tmpdir();
    await checkRoom(scratch, opened.manifest.dump.bytes);
    const folder = await mkdtemp(join(scratch, "nas-backup-restore-"));
    try {
        const landed = await landDump(repo, opened.backup, opened.manifest, folder);
        // Without them every pg_restore worker reads the archive from its start to find its table.
        const offsets = await recordDataOffsets(landed.file);
        log("recorded" in offsets ? "info" : "warn", "restore.landed", {
            target: repo.target,
            bytes: landed.bytes,
            ...("recorded" in offsets
                ? { dataOffsetsRecorded: offsets.recorded }
                : {
                      dataOffsetsSkipped: offsets.skipped,
                      note: "pg_restore --jobs reads the archive without them (slower)",
                  }),
        });
        const args = ["--exit-on-error", `--jobs=${options.jobs}`, "--no-password", `--dbname=${options.database}`];
        if (options.noOwner) args.push("--no-owner", "--no-acl");
        if (options.force) args.push("--clean", "--if-exists");
        const restored = await run(pgProgram("pg_restore", ctx.env), [...args, landed.file], { env: pgEnv(ctx.env) });
        if (restored.code !== 0 || restored.signal) {
            throw new OperationError(
                `pg_restore --jobs ${options.jobs} into ${options.database} failed (${describeExit("pg_restore", restored)}): ${stderrTail(restored.stderr)}; not one transaction: ${options.create ? "a database --create made is removed" : `${options.database} may hold a partial restore: drop or clean it before the next attempt`}`,
            );
        }
        return landed;
    } finally {
        await rm(folder, { recursive: true, force: true });
    }
}

/** Creates the backup's roles this server lacks; reports them (they have no passwords). */
async function createRoles(
    ctx: Context,
    repo: ResticRepository,
    backup: RestoredSnapshot,
    manifest: DatabaseManifest,
    options: DatabaseRestoreOptions,
): Promise<string[]> {
    if (!manifest.roles) {
        throw new OperationError(
            `backup ${backup.shortId} holds no role definitions (made before the runner recorded them): create the roles by hand, or restore a newer backup`,
        );
    }
    const created = await createMissingRoles(manifest.roles, options.adminDatabase, ctx.env);
    if (created.length > 0) {
        log("info", "restore.roles_created", {
            target: repo.target,
            roles: created,
            note: "created without passwords: set them (ALTER ROLE … PASSWORD) before the application connects",
        });
    }
    return created;
}

/**
 * Once restic's dump ended: pg_restore gets the held-back last chunk and the end of its input (and
 * commits) only if restic succeeded and what it read is exactly the manifest's dump; else it is killed.
 */
async function commitOrKill(
    dumpExit: Exit,
    piped: PipedStream,
    restore: ChildProcess,
    manifest: DatabaseManifest,
): Promise<"restic" | "mismatch" | undefined> {
    if (dumpExit.code !== 0 || dumpExit.signal) {
        restore.kill("SIGKILL");
        return "restic";
    }
    await piped.drained;
    if (!isManifestDump(piped.read(), manifest)) {
        restore.kill("SIGKILL");
        return "mismatch";
    }
    piped.release();
    restore.stdin!.end();
    return undefined;
}

/**
 * Feeds `restic dump` (already started) into pg_restore in one transaction. pg_restore gets the last
 * chunk and the end of its input only after restic exited 0 and the bytes read match the manifest
 * (`isManifestDump`; pg_restore needs an archive's last bytes before it can commit): a partial dump
 * can never commit. The cause of a failure is the program that failed first, not the
 * one the runner killed.
 */
async function streamIntoPgRestore(
    ctx: Context,
    repo: ResticRepository,
    opened: { backup: RestoredSnapshot; manifest: DatabaseManifest },
    dump: StartedDump,
    options: DatabaseRestoreOptions,
): Promise<DumpRead> {
    const { backup, manifest } = opened;
    const args = ["--exit-on-error", "--single-transaction", "--no-password", `--dbname=${options.database}`];
    if (options.noOwner) args.push("--no-owner", "--no-acl");
    if (options.force) args.push("--clean", "--if-exists");
    // pg_restore reads its archive 1 MiB at a time instead of 4 KiB (measured in runner/README.md).
    const restore = spawnChild(...withStdioBuffer("i", pgProgram("pg_restore", ctx.env), args), {
        env: pgEnv(ctx.env),
        stdio: ["pipe", "ignore", "pipe"],
    });
    const restoreErr = collect(restore.stderr);
    restore.stdin!.on("error", () => undefined);
    const piped = heldPipe(dump.output, restore.stdin!, { sha256: manifest.dump.sha256 !== undefined });
    const stopProgress = progressTicker("restore", ctx.progressSeconds, () => ({
        target: repo.target,
        bytesRestored: piped.bytes(),
    }));
    let failedFirst: "restic" | "pg_restore" | "mismatch" | undefined;
    const [dumpExit, pgExit] = await Promise.all([
        dump.exit.then(async (e) => {
            const failed = await commitOrKill(e, piped, restore, manifest);
            if (failed) failedFirst ??= failed;
            return e;
        }),
        waitForExit(restore).then((e) => {
            if (e.code !== 0 || e.signal) {
                failedFirst ??= "pg_restore";
                dump.child.kill("SIGKILL");
            }
            return e;
        }),
    ]);
    stopProgress();
    const nothing = "nothing was restored (one transaction)";
    if (failedFirst === "mismatch") checkDumpRead(piped.read(), manifest, nothing);
    if (failedFirst === "pg_restore" || (failedFirst === undefined && (pgExit.code !== 0 || pgExit.signal))) {
        const hint = /role ".*" does not exist/.test(restoreErr())
            ? "; the backup's roles do not exist on this server: pass --create-roles to create them (without passwords) before the data"
            : "";
        throw new OperationError(
            `pg_restore into ${options.database} failed (${describeExit("pg_restore", pgExit)}): ${stderrTail(restoreErr())}; ${nothing}${hint}`,
        );
    }
    if (failedFirst === "restic") {
        const what = `reading the dump of ${backup.shortId}`;
        throw new OperationError(`${explainResticFailure(what, dumpExit, dump.stderr(), repo.location)}; ${nothing}`);
    }
    return piped.read();
}

/** The restored database against the manifest: one round trip in the session that prepared it. */
async function checkRestored(
    ctx: Context,
    session: PsqlSession,
    manifest: DatabaseManifest,
    options: DatabaseRestoreOptions,
): Promise<string[]> {
    // The tables' digests with the function the backup used (older manifests: md5).
    const sql = `${contentSql(manifest.content.tableDigest ?? "md5")}; ${SEQUENCES_SQL}`;
    let answers = await session.queryEach(sql).catch(() => undefined);
    if (!answers) {
        // The session ended meanwhile (a server timeout): one new connection.
        const check = await openDatabase(options.database, ctx.env);
        if (check === "missing")
            throw new OperationError(`database ${options.database} disappeared during the restore`);
        try {
            answers = await check.queryEach(sql);
        } finally {
            await check.close();
        }
    }
    const [content, sequences] = answers as [DatabaseContent, SequenceContent[]];
    return compareContent(manifest.content, { ...content, sequences }, { access: !options.noOwner });
}

/** Streams `restic dump` of the dump file into pg_restore (one transaction), then checks the content against the manifest. */
export async function restoreDatabase(
    ctx: Context,
    repo: ResticRepository,
    opened: OpenedBackup & { manifest: DatabaseManifest },
    options: DatabaseRestoreOptions,
    target?: TargetDatabase,
): Promise<RestoreOutcome> {
    const start = performance.now();
    const { backup, manifest } = opened;
    // Streaming: restic opens the repository (key derivation, index) while the database is prepared;
    // its output is kept until pg_restore reads it. --jobs lands the dump instead (restoreParallel).
    const jobs = options.jobs ?? 1;
    const dump = jobs > 1 ? undefined : (opened.dump ?? startDump(repo, backup.id));
    const database = target ?? TargetDatabase.open(options, ctx.env, manifest.content.encoding);
    let created = false;
    let session: PsqlSession | undefined;
    let rolesCreated: string[] = [];
    try {
        ({ created, session } = await database.prepare(manifest.content.encoding));
        if (options.createRoles) rolesCreated = await createRoles(ctx, repo, backup, manifest, options);
        log("info", "restore.start", {
            target: repo.target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
            into: options.database,
            jobs,
        });
        // Both check the dump read back against the manifest (isManifestDump) before anything is committed.
        const restoring = dump
            ? streamIntoPgRestore(ctx, repo, opened, dump, options)
            : restoreParallel(ctx, repo, opened, { ...options, jobs });
        // A database created just now: its session connects while pg_restore (started first) runs.
        session ??= PsqlSession.start(options.database, ctx.env);
        const { bytes } = await restoring;
        const problems = await checkRestored(ctx, session, manifest, options);
        await session.close();
        return {
            target: repo.target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
            into: options.database,
            bytes,
            durationSeconds: secondsSince(start),
            problems,
            rolesCreated,
        };
    } catch (e) {
        session?.kill();
        await stopDump(dump);
        await database.abandon();
        if (created) await dropCreated(options, ctx.env);
        await dropRoles(rolesCreated, options.adminDatabase, ctx.env);
        throw e;
    }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
    try {
        return (await readdir(dir)).length === 0;
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return true;
        throw e;
    }
}

/** Counts regular files and their bytes below a directory. */
export async function countFiles(dir: string): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
            const sub = await countFiles(path);
            files += sub.files;
            bytes += sub.bytes;
        } else if (entry.isFile()) {
            files += 1;
            bytes += (await lstat(path)).size;
        }
    }
    return { files, bytes };
}

/**
 * Restores a directory snapshot below `into`; restic recreates the original absolute path there
 * (a backup of /mnt/share lands in <into>/mnt/share). The snapshot is first restored into a staging
 * folder inside the landing place (the same filesystem, also when the landing place is a mount
 * point) and checked against the manifest; only a complete restore then replaces what is at the
 * landing place. A failed or incomplete restore leaves it as it was.
 */
export async function restoreDirectory(
    repo: ResticRepository,
    backup: RestoredSnapshot,
    manifest: DirectoryManifest,
    into: string,
    force: boolean,
): Promise<RestoreOutcome> {
    const start = performance.now();
    // backup.ts records resolve(<directory>); anything else (e.g. "/../..") would place the landing,
    // and the deletion of --force, outside `into`.
    if (!isAbsolute(manifest.directory) || normalize(manifest.directory) !== manifest.directory) {
        throw new OperationError(
            `the manifest of ${backup.shortId} names the directory ${JSON.stringify(manifest.directory)}, not a clean absolute path: refusing to restore it`,
        );
    }
    const landing = join(into, manifest.directory);
    if (!force && !(await isEmptyOrMissing(into)))
        throw new OperationError(`directory ${into} is not empty: restore into an empty directory, or pass --force`);
    await mkdir(landing, { recursive: true });
    const staging = await mkdtemp(join(landing, ".nas-backup-restore-"));
    try {
        log("info", "restore.start", {
            target: repo.target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
            into,
        });
        await repo.run(`restoring ${backup.shortId}`, ["restore", backup.id, "--target", staging, "--verify"]);
        const restoredTree = join(staging, manifest.directory);
        const restored = await countFiles(restoredTree);
        const problems: string[] = [];
        if (restored.files !== manifest.files || restored.bytes !== manifest.bytes) {
            problems.push(
                `restored ${restored.files} files (${restored.bytes} bytes); the manifest says ${manifest.files} files (${manifest.bytes} bytes); ${landing} was left as it was`,
            );
        } else {
            // --force: the restored tree is exactly the backup, nothing of the old contents stays.
            await replaceContents(landing, restoredTree, staging);
        }
        return {
            target: repo.target,
            snapshot: backup.shortId,
            snapshotTime: backup.time.toISOString(),
            into,
            bytes: restored.bytes,
            durationSeconds: secondsSince(start),
            problems,
        };
    } finally {
        await rm(staging, { recursive: true, force: true });
    }
}

/** Replaces the entries of `dir` (all but `keep`) with the entries of `source`. */
async function replaceContents(dir: string, source: string, keep: string): Promise<void> {
    for (const entry of await readdir(dir)) {
        if (join(dir, entry) !== keep) await rm(join(dir, entry), { recursive: true, force: true });
    }
    for (const entry of await readdir(source)) await rename(join(source, entry), join(dir, entry));
}

export interface RestoreCommandOptions {
    readonly target: string;
    readonly selector: BackupSelector;
    readonly intoDatabase?: string;
    readonly intoDirectory?: string;
    readonly adminDatabase: string;
    readonly create: boolean;
    readonly force: boolean;
    readonly noOwner: boolean;
    readonly createRoles?: boolean;
    readonly jobs?: number;
    readonly scratchDirectory?: string;
}

/** Restores an opened backup as the command asked (refusing a backup of the other kind). */
async function restoreOpened(
    ctx: Context,
    repo: ResticRepository,
    opened: OpenedBackup,
    options: RestoreCommandOptions,
    target: TargetDatabase | undefined,
): Promise<RestoreOutcome> {
    const { backup, manifest } = opened;
    if ((options.jobs ?? 1) > 1 && manifest.kind !== "database") {
        await stopDump(opened.dump);
        throw new UsageError("--jobs restores databases only");
    }
    if (manifest.kind !== (options.intoDatabase ? "database" : "directory")) {
        await stopDump(opened.dump);
        throw new UsageError(
            `${backup.shortId} is a ${manifest.kind} backup: use --into-${manifest.kind === "database" ? "database" : "directory"}`,
        );
    }
    return manifest.kind === "database"
        ? await restoreDatabase(
              ctx,
              repo,
              { ...opened, manifest },
              { ...options, database: options.intoDatabase!, createRoles: options.createRoles === true },
              target,
          )
        : await restoreDirectory(repo, backup, manifest, options.intoDirectory!, options.force);
}

export async function restoreCommand(ctx: Context, options: RestoreCommandOptions): Promise<RestoreOutcome> {
    if (!options.intoDatabase === !options.intoDirectory)
        throw new UsageError("restore needs exactly one of --into-database or --into-directory");
    const repo = ctx.repository(options.target, "backup");
    let early: TargetDatabase | undefined;
    try {
        // The target's session starts while the repository is opened.
        const restored = openBackup(repo, options.selector, (options.jobs ?? 1) <= 1).then((opened) =>
            restoreOpened(ctx, repo, opened, options, early),
        );
        if (options.intoDatabase) early = TargetDatabase.open({ ...options, database: options.intoDatabase }, ctx.env);
        const outcome = await restored;
        if (outcome.problems.length > 0) {
            log("error", "restore.failure", { ...outcome, cause: "restored data does not match the manifest" });
            throw new OperationError(`restore of ${outcome.snapshot} is incomplete: ${outcome.problems.join("; ")}`);
        }
        log("info", "restore.success", { ...outcome, complete: true });
        return outcome;
    } catch (e) {
        await early?.abandon();
        if (!(e instanceof UsageError) && !/restore of .* is incomplete/.test((e as Error).message)) {
            log("error", "restore.failure", { target: options.target, cause: (e as Error).message });
        }
        throw e;
    }
}
