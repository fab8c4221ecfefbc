/**
 * restic 0.14 for one target's repository. The repository URL (with the REST credentials) reaches
 * restic only through RESTIC_REPOSITORY in its environment, never through its arguments.
 */
import type { ChildProcess, StdioOptions } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { hostname } from "node:os";
import { request as httpsRequest } from "node:https";
import type { RepositoryLocation } from "./config";
import { isQuickKeyFile, openKeyFile, QUICK_KEY_MIN_PASSWORD, sealQuickKeyFile, type KeyFile } from "./keyFile";
import { log } from "./log";
import { OperationError, requireProgram, run, spawnChild, stderrTail, type Exit, type RunResult } from "./proc";
import type { ResticSnapshot } from "./snapshots";

const INSTALL_RESTIC = "install restic 0.14 (Debian: apt-get install restic)";
const PROBE_TIMEOUT_MS = 20_000;

/** Environment for restic: the caller's, minus the runner's own secrets, plus the repository. */
export function resticEnv(location: RepositoryLocation, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    const out: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(env)) {
        if (/^NAS_BACKUP_.*PASSWORD/.test(k) || k === "PGPASSWORD" || k === "RESTIC_REPOSITORY_FILE") continue;
        out[k] = v;
    }
    // --time and snapshot listings in UTC, whatever the container's zone.
    out.TZ = "UTC";
    out.RESTIC_REPOSITORY = location.resticUrl;
    return out;
}

/** Turns restic's stderr into a cause an operator can act on. */
export function explainResticFailure(what: string, exit: Exit, stderr: string, location: RepositoryLocation): string {
    const tail = stderrTail(stderr);
    const where = location.display;
    if (/wrong password or no key found/i.test(stderr))
        return `${what}: wrong repository password for ${where} (check RESTIC_PASSWORD_FILE)`;
    if (/connection refused|no such host|network is unreachable|i\/o timeout|dial tcp/i.test(stderr))
        return `${what}: NAS not reachable at ${where}: ${tail}`;
    if (/\b401\b|unauthorized/i.test(stderr))
        return `${what}: the NAS rejected the ${location.credentials.role} credentials (401) for ${where}`;
    if (/\b403\b|forbidden/i.test(stderr)) {
        return `${what}: the NAS refused the operation (403 Forbidden) for ${where}${location.credentials.role === "backup" ? ": the backup credentials are append-only by design" : ""}`;
    }
    if (/already locked|unable to create lock/i.test(stderr))
        return `${what}: the repository ${where} is locked by another operation: ${tail}`;
    const status = exit.signal ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
    return `${what}: restic failed (${status}): ${tail}`;
}

export interface ResticOptions {
    readonly env: NodeJS.ProcessEnv;
    /** CA certificate file for an https NAS with a private CA. */
    readonly cacert: string | undefined;
    /** The repository password (as restic reads it): to find or add the runner's quick key. */
    readonly password?: string;
}

/** restic 0.14's filter of `latest`: the newest snapshot carrying every one of `tags` (`--tag a,b`). */
export function latestFilter(tags: readonly string[]): string[] {
    return tags.length > 0 ? ["--tag", tags.join(",")] : [];
}

export class ResticRepository {
    readonly program: string;
    /** The runner's quick key (keyFile.ts), once `open` found or added it: restic tries it first. */
    private keyHint: string | undefined;
    private opened: Promise<"exists" | "missing"> | undefined;

    constructor(
        readonly target: string,
        readonly location: RepositoryLocation,
        private readonly options: ResticOptions,
    ) {
        this.program = requireProgram("restic", INSTALL_RESTIC);
    }

    private args(args: readonly string[]): string[] {
        return [...(this.options.cacert ? ["--cacert", this.options.cacert] : []), ...args];
    }

    get env(): NodeJS.ProcessEnv {
        const env = resticEnv(this.location, this.options.env);
        if (this.keyHint) env.RESTIC_KEY_HINT = this.keyHint;
        return env;
    }

    spawn(args: readonly string[], stdio: StdioOptions): ChildProcess {
        return spawnChild(this.program, this.args(args), { env: this.env, stdio });
    }

    /** Runs restic; throws an OperationError explaining the cause unless it exits with an accepted status. */
    async run(
        what: string,
        args: readonly string[],
        options: { input?: string; accept?: readonly number[] } = {},
    ): Promise<RunResult> {
        const result = await run(this.program, this.args(args), { env: this.env, input: options.input });
        if (result.signal || !(options.accept ?? [0]).includes(result.code ?? -1)) {
            throw new OperationError(explainResticFailure(what, result, result.stderr, this.location));
        }
        return result;
    }

    /** One request to the REST server (restic's REST API v2), with the role's credentials. */
    private async rest(
        method: "HEAD" | "GET" | "POST",
        path: string,
        timeoutMs = PROBE_TIMEOUT_MS,
        body?: string,
    ): Promise<{ status: number; body: string }> {
        const url = new URL(path, this.location.httpUrl);
        const { user, password } = this.location.credentials;
        const headers: Record<string, string> = { accept: "application/vnd.x.restic.rest.v2" };
        if (user !== undefined)
            headers.authorization = `Basic ${Buffer.from(`${user}:${password ?? ""}`).toString("base64")}`;
        return new Promise<{ status: number; body: string }>((resolve, reject) => {
            const options = {
                method,
                headers,
                timeout: timeoutMs,
                ...(this.options.cacert ? { ca: readFileSync(this.options.cacert) } : {}),
            };
            const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (c: string) => (body += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
            req.on("error", reject);
            req.end(body);
        }).catch((e: Error & { code?: string }) => {
            throw new OperationError(`NAS not reachable at ${this.location.display}: ${e.code ?? e.message}`);
        });
    }

    private refuse(status: number): never {
        const { display, credentials } = this.location;
        if (status === 401)
            throw new OperationError(`the NAS rejected the ${credentials.role} credentials (401) for ${display}`);
        if (status === 403)
            throw new OperationError(
                `the NAS denied access (403) to ${display} for the ${credentials.role} credentials`,
            );
        throw new OperationError(`unexpected answer ${status} from the NAS for ${display}`);
    }

    /**
     * Asks the REST server directly whether the repository exists: a fast, clear answer for "NAS
     * down" and "wrong NAS credentials" before restic's retries.
     */
    async probe(timeoutMs = PROBE_TIMEOUT_MS): Promise<"exists" | "missing"> {
        const { status } = await this.rest("HEAD", "config", timeoutMs);
        if (status === 200) return "exists";
        if (status === 404) return "missing";
        return this.refuse(status);
    }

    /**
     * The repository's files as the NAS stores them (pack, index and snapshot files: name and size).
     * restic 0.14 reports only the uncompressed size of new data (`data_added`); what a backup cost
     * the NAS is the size of the files it added, read from the REST listing before and after.
     */
    async storedFiles(): Promise<Map<string, number>> {
        const files = new Map<string, number>();
        const types = ["data/", "index/", "snapshots/"];
        // The three listings at once: after a backup they are on its path.
        const listings = await Promise.all(types.map((type) => this.rest("GET", type)));
        listings.forEach(({ status, body }, i) => {
            if (status !== 200) this.refuse(status);
            for (const f of JSON.parse(body) as { name: string; size: number }[])
                files.set(`${types[i]}${f.name}`, f.size);
        });
        return files;
    }

    /** The ids of the repository's snapshots, from the REST server's listing (no restic start). */
    async snapshotFiles(): Promise<string[]> {
        const { status, body } = await this.rest("GET", "snapshots/");
        if (status !== 200) this.refuse(status);
        return (JSON.parse(body) as { name: string }[]).map((f) => f.name);
    }

    /**
     * `probe`, and for an existing repository the runner's quick key: a key file for the same password
     * whose key derivation costs milliseconds instead of restic's calibrated ~0.4 CPU-s at every
     * restic start (keyFile.ts). Found among the repository's key files (two REST round trips and a
     * quick derivation per candidate), or added once (opening a calibrated key here costs what one
     * restic start does). Every restic this repository starts afterwards tries it first
     * (RESTIC_KEY_HINT). Without it (a short password, a NAS that refuses the new file) restic
     * searches the keys as before.
     */
    async open(): Promise<"exists" | "missing"> {
        this.opened ??= this.openOnce().then((state) => {
            if (state === "missing") this.opened = undefined; // until ensureInitialized creates it
            return state;
        });
        return this.opened;
    }

    private async openOnce(): Promise<"exists" | "missing"> {
        const [state, keys] = await Promise.all([this.probe(), this.rest("GET", "keys/")]);
        const password = this.options.password;
        if (state === "exists" && keys.status === 200 && password && password.length >= QUICK_KEY_MIN_PASSWORD) {
            const names = (JSON.parse(keys.body) as { name: string }[]).map((k) => k.name);
            this.keyHint = await this.quickKey(names, password).catch((e: Error) => {
                log("warn", "repository.quick_key_failed", { target: this.target, cause: e.message });
                return undefined;
            });
        }
        return state;
    }

    private async quickKey(names: readonly string[], password: string): Promise<string | undefined> {
        const files = await Promise.all(
            names.map(async (name) => {
                const { status, body } = await this.rest("GET", `keys/${name}`);
                try {
                    return status === 200 ? { name, file: JSON.parse(body) as KeyFile } : undefined;
                } catch {
                    return undefined;
                }
            }),
        );
        const candidates = files.filter((f) => f !== undefined);
        for (const { name, file } of candidates.filter((c) => isQuickKeyFile(c.file))) {
            if (await openKeyFile(file, password)) return name;
        }
        for (const { file } of candidates.filter((c) => !isQuickKeyFile(c.file))) {
            const masterKey = await openKeyFile(file, password);
            if (!masterKey) continue;
            const sealed = await sealQuickKeyFile(masterKey, password, hostname());
            const { status } = await this.rest("POST", `keys/${sealed.id}`, PROBE_TIMEOUT_MS, sealed.body);
            if (status !== 200) {
                log("warn", "repository.quick_key_refused", {
                    target: this.target,
                    repository: this.location.display,
                    status,
                    note: "restic derives its calibrated key at every start (~0.4 CPU-s)",
                });
                return undefined;
            }
            log("info", "repository.quick_key_added", { target: this.target, key: sealed.id.slice(0, 8) });
            return sealed.id;
        }
        return undefined; // the password opens no key: restic says so
    }

    /** Creates the repository (format version 2: compression) on the first backup of a target. */
    async ensureInitialized(): Promise<void> {
        if ((await this.open()) === "exists") return;
        log("info", "repository.init", { target: this.target, repository: this.location.display });
        const result = await run(this.program, this.args(["init", "--repository-version", "2"]), { env: this.env });
        // A concurrent first backup may have created it in between.
        if (
            result.code !== 0 &&
            !(/already exists|config file already exists/i.test(result.stderr) && (await this.probe()) === "exists")
        ) {
            throw new OperationError(
                explainResticFailure("creating the repository", result, result.stderr, this.location),
            );
        }
        await this.open();
    }

    /** Fails with a clear message when the target has no repository. */
    async requireExisting(): Promise<void> {
        if ((await this.open()) === "missing")
            throw new OperationError(`no repository for target ${this.target} at ${this.location.display}`);
    }

    /**
     * restic 0.14 skips a snapshot file it cannot load ("could not load snapshot" on stderr) and exits
     * 0. With `complete`, such a listing is refused: deletions (prune, purge) must never be decided on
     * a partial list (an unreadable manifest would make its complete backup look incomplete).
     */
    async snapshots(options: { complete?: boolean } = {}): Promise<ResticSnapshot[]> {
        const result = await this.run("listing snapshots", ["snapshots", "--json", "--no-lock"]);
        const unreadable = result.stderr.split("\n").filter((l) => /could not load snapshot/i.test(l));
        if (options.complete && unreadable.length > 0) {
            throw new OperationError(
                `${unreadable.length} snapshot(s) of ${this.location.display} could not be read (${stderrTail(unreadable.join("\n"), 2)}); nothing is deleted on an incomplete list: run verify (restic check) and repair the repository first`,
            );
        }
        return JSON.parse(result.stdout || "[]") as ResticSnapshot[];
    }

    /**
     * A (small) file of a snapshot; `latest` with `latestTags` (restic 0.14 `dump --tag a,b`: both
     * tags): of the newest such snapshot. Without a lock, like the listing: restic 0.14 sleeps 200 ms
     * after creating one; a prune that removes the file meanwhile makes this fail, nothing else.
     */
    async readFile(snapshotId: string, path: string, latestTags: readonly string[] = []): Promise<string> {
        const what = `reading ${path} of snapshot ${snapshotId.slice(0, 8)}`;
        return (await this.run(what, ["dump", "--no-lock", ...latestFilter(latestTags), snapshotId, path])).stdout;
    }

    /** Removes locks of restic processes that died (never a live lock). */
    async unlockStale(): Promise<void> {
        await this.run("removing stale locks", ["unlock"]);
    }

    async forget(ids: readonly string[]): Promise<void> {
        for (let i = 0; i < ids.length; i += 100) {
            await this.run("forgetting snapshots", ["forget", ...ids.slice(i, i + 100)]);
        }
    }

    async prune(maxUnused: string): Promise<string> {
        return (await this.run("pruning the repository", ["prune", "--max-unused", maxUnused])).stdout;
    }

    /** Pack files in the repository (after a purge: none). */
    async packCount(): Promise<number> {
        const out = (await this.run("listing pack files", ["list", "packs", "--no-lock"])).stdout;
        return out.split("\n").filter((l) => l.trim()).length;
    }
}
