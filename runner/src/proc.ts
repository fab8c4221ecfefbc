/**
 * Child processes (restic, pg_dump, pg_restore, psql): found on PATH up front with a clear message,
 * killed with the runner (parent-death signal via util-linux `setpriv` where available, and on
 * SIGTERM/SIGINT), never given a secret on their command line.
 */
import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, closeSync, constants, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join } from "node:path";
import { PassThrough, Transform, type Readable, type Writable } from "node:stream";
import { redact } from "./log";

export class UsageError extends Error {}
/** A failure with a cause an operator can act on; exits 1 with the message logged. */
export class OperationError extends Error {}

const resolved = new Map<string, string | null>();

function findOnPath(name: string): string | null {
    if (resolved.has(name)) return resolved.get(name)!;
    let found: string | null = null;
    const candidates = isAbsolute(name)
        ? [name]
        : (process.env.PATH ?? "")
              .split(delimiter)
              .filter(Boolean)
              .map((d) => join(d, name));
    for (const c of candidates) {
        try {
            accessSync(c, constants.X_OK);
            found = c;
            break;
        } catch {
            // next
        }
    }
    resolved.set(name, found);
    return found;
}

/** The absolute path of a program, or an OperationError naming what to install. */
export function requireProgram(name: string, install: string): string {
    const path = findOnPath(name);
    if (!path) throw new OperationError(`${name} not found${isAbsolute(name) ? "" : " on PATH"}: ${install}`);
    return path;
}

/**
 * A program whose stdin (`i`) or stdout (`o`) gets a 1 MiB stdio buffer (coreutils `stdbuf`, where
 * installed): pg_dump writes and pg_restore reads their archive through stdio, 4–8 KiB at a time, so
 * every byte that passes a pipe costs many small system calls in them, the runner and restic.
 */
export function withStdioBuffer(stream: "i" | "o", program: string, args: readonly string[]): [string, string[]] {
    const stdbuf = findOnPath("stdbuf");
    return stdbuf ? [stdbuf, [`-${stream}`, "1M", program, ...args]] : [program, [...args]];
}

const children = new Set<ChildProcess>();

export interface ChildOptions {
    readonly env: NodeJS.ProcessEnv;
    readonly stdio?: StdioOptions;
    readonly cwd?: string;
}

/** Spawns a program (an absolute path from requireProgram); it receives SIGKILL if the runner dies. */
export function spawnChild(program: string, args: readonly string[], options: ChildOptions): ChildProcess {
    const setpriv = findOnPath("setpriv");
    const [cmd, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", program, ...args]] : [program, [...args]];
    const opts: SpawnOptions = {
        env: options.env,
        stdio: options.stdio ?? ["ignore", "pipe", "pipe"],
        cwd: options.cwd,
    };
    const child = spawn(cmd, argv, opts);
    children.add(child);
    child.once("exit", () => children.delete(child));
    child.once("error", () => children.delete(child));
    return child;
}

export interface Exit {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
}

/** Resolves when the process has exited and its stdio is closed. */
export function waitForExit(child: ChildProcess): Promise<Exit> {
    return new Promise((resolve, reject) => {
        child.once("error", reject);
        child.once("close", (code, signal) => resolve({ code, signal }));
    });
}

/** Collects a stream's text, keeping only the last `limit` characters. */
export function collect(stream: NodeJS.ReadableStream | null | undefined, limit = 64 * 1024): () => string {
    let text = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
        text += chunk;
        if (text.length > limit * 2) text = text.slice(-limit);
    });
    return () => (text.length > limit ? text.slice(-limit) : text);
}

export interface RunResult extends Exit {
    readonly stdout: string;
    readonly stderr: string;
}

/** Runs a program to completion, feeding `input` to its stdin. Does not throw on a non-zero exit. */
export async function run(
    program: string,
    args: readonly string[],
    options: ChildOptions & { input?: string },
): Promise<RunResult> {
    const child = spawnChild(program, args, {
        ...options,
        stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const stdout = collect(child.stdout, 64 * 1024 * 1024);
    const stderr = collect(child.stderr);
    if (options.input !== undefined) {
        child.stdin?.on("error", () => undefined); // the exit status tells what went wrong
        child.stdin?.end(options.input);
    }
    const exit = await waitForExit(child);
    return { ...exit, stdout: stdout(), stderr: stderr() };
}

/** The last meaningful lines of a program's stderr, redacted, for an error message. */
export function stderrTail(stderr: string, lines = 4): string {
    const meaningful = stderr
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !/^\s*(github\.com|runtime\/|golang\.org|main\.)/.test(l) && !l.startsWith("\t"));
    return redact(meaningful.slice(-lines).join(" | "));
}

export function describeExit(name: string, exit: Exit): string {
    return exit.signal ? `${name} was killed by ${exit.signal}` : `${name} exited with status ${exit.code}`;
}

/** Kills every child still running (restic first: it must never see the end of a partial stream). */
export function killChildren(): void {
    const ordered = [...children].sort(
        (a, b) =>
            Number(/restic/.test(b.spawnfile + (b.spawnargs ?? []).join(" "))) -
            Number(/restic/.test(a.spawnfile + (a.spawnargs ?? []).join(" "))),
    );
    for (const c of ordered) {
        try {
            c.kill("SIGKILL");
        } catch {
            // already gone
        }
    }
}

/**
 * A pipe from one child (the writer, pg_dump) straight into another (the reader, restic), with a
 * write end the runner holds: the reader sees the end of its input only once the writer has exited
 * and the runner calls `end`, so a writer that dies mid-stream never looks like a complete stream.
 * To abort, kill the reader first, then `end`. The bytes do not pass through Node.
 */
export interface HeldStream {
    /** For the reader's stdin. */
    readonly readEnd: number;
    /** For the writer's stdout. */
    readonly writeEnd: number;
    /** Closes the runner's copy of an end once a child holds it. */
    passed(end: number): void;
    /** Closes what the runner still holds (idempotent). */
    end(): void;
}

/**
 * A HeldStream: a named pipe (Node has no pipe(2)) in a private directory that is removed as soon as
 * the ends are open. Opening a named pipe waits for its other side, unless a read-write end (Linux)
 * is already open: one is opened first and closed once the others are, so the reader is the only
 * reader left and a writer whose reader died gets EPIPE instead of blocking. The ends are
 * close-on-exec (libuv): only the child they are given to inherits one.
 */
export async function heldStream(): Promise<HeldStream> {
    const mkfifo = requireProgram("mkfifo", "install coreutils");
    const folder = await mkdtemp(join(tmpdir(), "nas-backup-stream-"));
    const path = join(folder, "stream");
    try {
        const made = await run(mkfifo, ["-m", "600", path], { env: process.env });
        if (made.code !== 0) throw new OperationError(`mkfifo ${path} failed: ${stderrTail(made.stderr)}`);
        const open = new Set<number>();
        const close = (fd: number): void => {
            if (open.delete(fd)) closeSync(fd);
        };
        const end = (): void => [...open].forEach(close);
        const opened = (flags: number): number => {
            const fd = openSync(path, flags);
            open.add(fd);
            return fd;
        };
        try {
            const both = opened(constants.O_RDWR);
            const [readEnd, writeEnd] = [opened(constants.O_RDONLY), opened(constants.O_WRONLY)];
            opened(constants.O_WRONLY); // the runner's
            close(both);
            return { readEnd, writeEnd, passed: close, end };
        } catch (e) {
            end();
            throw e;
        }
    } finally {
        await rm(folder, { recursive: true, force: true });
    }
}

/** What a stream produced: its size, and its SHA-256 if asked for. */
export interface CountedStream {
    bytes(): number;
    /** What passed, once the source has ended. */
    read(): { bytes: number; sha256?: string };
}

/** Counts what `from` produces, and hashes it with `sha256`: a listener beside whatever reads it. */
export function countStream(from: Readable, options: { sha256: boolean }): CountedStream {
    const hash = options.sha256 ? createHash("sha256") : undefined;
    let bytes = 0;
    let digest: string | undefined;
    from.on("data", (chunk: Buffer) => {
        hash?.update(chunk);
        bytes += chunk.length;
    });
    return {
        bytes: () => bytes,
        read: () => ({ bytes, sha256: hash ? (digest ??= hash.digest("hex")) : undefined }),
    };
}

/** What passed through a held pipe (countStream), and the held-back last chunk. */
export interface PipedStream extends CountedStream {
    /** Resolves once the source ended and everything but its last chunk was handed to the consumer. */
    readonly drained: Promise<void>;
    /** Hands the held-back last chunk to the consumer (after `drained`). */
    release(): void;
}

/**
 * Pipes `from` into `to` but never ends `to`, and holds back the source's last chunk until `release`:
 * the caller ends `to` (commit) only once it knows the source is complete, or kills the consumer
 * (abort). A consumer that needs every byte of its input to finish (pg_restore needs an archive's
 * last bytes, the end of its last data block, before it can commit) cannot finish before the caller
 * checked the whole stream. Counts what passes, and hashes it with `sha256`.
 */
export function heldPipe(from: Readable, to: Writable, options: { sha256: boolean }): PipedStream {
    const counted = countStream(from, options);
    let last: Buffer | undefined;
    const source = from.pipe(
        new Transform({
            transform(chunk: Buffer, _encoding, done) {
                const previous = last;
                last = chunk;
                done(null, previous);
            },
        }),
    );
    const drained = new Promise<void>((resolve) => {
        source.once("end", resolve);
        source.once("close", resolve);
    });
    source.pipe(to, { end: false });
    // A consumer that stops reading (pg_restore exits at its first error, --exit-on-error) makes
    // pipe() unpipe and pause the source: keep reading it, so what it produced is still counted and
    // `drained` resolves instead of waiting forever.
    const keepReading = (): void => {
        source.resume();
    };
    to.once("error", keepReading);
    to.once("close", keepReading);
    return {
        ...counted,
        drained,
        release: () => {
            if (last) to.write(last);
            last = undefined;
        },
    };
}

/**
 * A child's stdout, kept until a consumer is attached. Node resumes a child's (even explicitly
 * paused) stdout when the child exits and discards what nobody listens to: a short `restic dump`
 * that exits before pg_restore is started would hand pg_restore an empty stream. Piping it into a
 * PassThrough at once keeps every byte (with backpressure) until it is read.
 */
export function keepOutput(child: ChildProcess): Readable {
    return child.stdout!.pipe(new PassThrough());
}
