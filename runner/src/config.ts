/**
 * Where the backups go and with which credentials. Passwords come only from files or environment
 * variables, never from arguments; every password read is registered for redaction.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { registerSecret } from "./log";
import { UsageError } from "./proc";

export type CredentialRole = "backup" | "maintenance";

/** Environment variables of the REST credentials of each role. */
export const credentialEnv = {
    backup: {
        user: "NAS_BACKUP_REST_USER",
        passwordFile: "NAS_BACKUP_REST_PASSWORD_FILE",
        password: "NAS_BACKUP_REST_PASSWORD",
    },
    maintenance: {
        user: "NAS_BACKUP_MAINTENANCE_USER",
        passwordFile: "NAS_BACKUP_MAINTENANCE_PASSWORD_FILE",
        password: "NAS_BACKUP_MAINTENANCE_PASSWORD",
    },
} as const;

export interface RestCredentials {
    readonly role: CredentialRole;
    readonly user: string | undefined;
    readonly password: string | undefined;
}

function readSecretFile(variable: string, path: string): string {
    try {
        return readFileSync(path, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
        throw new UsageError(
            `${variable}=${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        );
    }
}

/** The REST user and password of a role, from NAS_BACKUP_[MAINTENANCE_]… variables. */
export function loadCredentials(role: CredentialRole, env: NodeJS.ProcessEnv): RestCredentials {
    const names = credentialEnv[role];
    const user = env[names.user] || undefined;
    let password: string | undefined;
    if (env[names.passwordFile]) password = readSecretFile(names.passwordFile, env[names.passwordFile]!);
    else if (env[names.password]) password = env[names.password];
    registerSecret(password);
    if (user && password === undefined)
        throw new UsageError(`${names.user} is set but neither ${names.passwordFile} nor ${names.password}`);
    if (!user && password !== undefined)
        throw new UsageError(`${names.passwordFile}/${names.password} is set but ${names.user} is not`);
    return { role, user, password };
}

/**
 * The repository (encryption) password, as restic reads it (a file's content without surrounding
 * white space, or the variable as is); it must be available to restic as a file or variable.
 */
export function resticPassword(env: NodeJS.ProcessEnv): string {
    if (!env.RESTIC_PASSWORD_FILE && !env.RESTIC_PASSWORD) {
        throw new UsageError(
            "set RESTIC_PASSWORD_FILE (or RESTIC_PASSWORD): the key that encrypts the repositories (§2.9)",
        );
    }
    const password = env.RESTIC_PASSWORD_FILE
        ? readSecretFile("RESTIC_PASSWORD_FILE", env.RESTIC_PASSWORD_FILE).trim()
        : (env.RESTIC_PASSWORD ?? "");
    registerSecret(password);
    return password;
}

export function isLoopback(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    // Only the name itself: glibc and Go resolve "x.localhost" through DNS and its search domains.
    if (host === "localhost") return true;
    if (isIP(host) === 4) return host.startsWith("127.");
    if (isIP(host) === 6) return host === "::1" || host === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(host);
    return false;
}

/**
 * Parses the NAS base URL (`rest:https://nas.example:8000/backups/`, the `rest:` prefix optional).
 * Plain HTTP is refused unless the host is loopback; credentials in the URL are refused.
 */
export function parseRepositoryBase(value: string | undefined): URL {
    if (!value)
        throw new UsageError(
            "--repository-base (or NAS_BACKUP_REPOSITORY_BASE) is required, e.g. rest:https://nas.example:8000/",
        );
    const raw = value.startsWith("rest:") ? value.slice("rest:".length) : value;
    let url: URL;
    try {
        url = new URL(raw);
    } catch {
        throw new UsageError(
            `repository base ${JSON.stringify(value.replace(/\/\/[^@/]*@/, "//***@"))} is not a URL; expected rest:https://host:port/path/`,
        );
    }
    if (url.username || url.password) {
        throw new UsageError(
            "the repository base must not contain credentials: set NAS_BACKUP_REST_USER and NAS_BACKUP_REST_PASSWORD_FILE instead",
        );
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new UsageError(`repository base must be a restic REST server (http or https), not ${url.protocol}`);
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname)) {
        throw new UsageError(
            `refusing plain HTTP to ${url.hostname}: backups must travel encrypted (§2.9); use https:// (plain http is allowed only for loopback)`,
        );
    }
    if (url.search || url.hash) throw new UsageError("the repository base must not have a query or fragment");
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    return url;
}

/** Target names: one restic repository each, also used in tags, metric labels and scratch database names. */
export function checkTargetName(target: string | undefined): string {
    if (!target) throw new UsageError("--target (or NAS_BACKUP_TARGET) is required");
    if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(target)) {
        throw new UsageError(
            `target ${JSON.stringify(target)} is invalid: use 1–40 characters a-z, 0-9, "-" and "_", starting with a letter or digit`,
        );
    }
    return target;
}

export interface RepositoryLocation {
    /** For restic (RESTIC_REPOSITORY): with credentials. Never logged. */
    readonly resticUrl: string;
    /** HTTP URL of the repository root (no credentials), e.g. for probing. */
    readonly httpUrl: URL;
    /** For logs and messages. */
    readonly display: string;
    readonly credentials: RestCredentials;
}

/** The repository of one target: `<base>/<target>/`. */
export function repositoryLocation(base: URL, target: string, credentials: RestCredentials): RepositoryLocation {
    const http = new URL(`${target}/`, base);
    const withAuth = new URL(http.href);
    if (credentials.user !== undefined) {
        withAuth.username = encodeURIComponent(credentials.user);
        withAuth.password = encodeURIComponent(credentials.password ?? "");
    }
    return { resticUrl: `rest:${withAuth.href}`, httpUrl: http, display: `rest:${http.href}`, credentials };
}

/** An environment variable as a positive number, or the default. */
export function numberFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name}=${raw}: expected a non-negative number`);
    return n;
}

/** --rto-share / NAS_BACKUP_RTO_SHARE: a percentage above 0 and at most 100, returned as a fraction. */
export function rtoShareFraction(value: string | undefined, fallbackPercent: number): number {
    if (value === undefined || value === "") return fallbackPercent / 100;
    const n = Number(value.replace(/%$/, ""));
    if (!Number.isFinite(n) || n <= 0 || n > 100)
        throw new UsageError(`--rto-share ${value}: expected a percentage of the RTO above 0 and at most 100`);
    return n / 100;
}
