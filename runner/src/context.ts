/** What every command needs: the environment, the NAS base URL and how to reach one target's repository. */
import {
    loadCredentials,
    numberFromEnv,
    parseRepositoryBase,
    repositoryLocation,
    resticPassword,
    type CredentialRole,
} from "./config";
import { DEFAULT_NAS_TIMEOUT_SECONDS, DEFAULT_PROGRESS_SECONDS } from "./commands/spec";
import { UsageError } from "./proc";
import { registerSecret } from "./log";
import { ResticRepository } from "./restic";

export interface RepositoryBases {
    /** NAS_BACKUP_REPOSITORY_BASE / --repository-base: the append-only endpoint. */
    readonly backup: string | undefined;
    /** NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE / --maintenance-repository-base: the full-access endpoint (default: the backup one). */
    readonly maintenance: string | undefined;
}

export interface Context {
    readonly env: NodeJS.ProcessEnv;
    /** The NAS base URL for a role's credentials. */
    base(role: CredentialRole): URL;
    readonly cacert: string | undefined;
    readonly pushgateway: string | undefined;
    readonly progressSeconds: number;
    /** Seconds without an answer from the NAS after which a backup is aborted (NAS_BACKUP_NAS_TIMEOUT_SECONDS). */
    readonly nasTimeoutSeconds: number;
    /** The repository of a target, with the backup (append-only) or maintenance credentials. */
    repository(target: string, role: CredentialRole): ResticRepository;
}

export function createContext(
    env: NodeJS.ProcessEnv,
    bases: RepositoryBases,
    roles: readonly CredentialRole[],
): Context {
    const parsed = new Map<CredentialRole, URL>();
    for (const role of roles) {
        parsed.set(
            role,
            parseRepositoryBase(role === "maintenance" ? (bases.maintenance ?? bases.backup) : bases.backup),
        );
    }
    const password = resticPassword(env);
    registerSecret(env.PGPASSWORD);
    const cacert = env.NAS_BACKUP_CACERT || undefined;
    const progressSeconds = numberFromEnv(env, "NAS_BACKUP_PROGRESS_SECONDS", DEFAULT_PROGRESS_SECONDS);
    const nasTimeoutSeconds = numberFromEnv(env, "NAS_BACKUP_NAS_TIMEOUT_SECONDS", DEFAULT_NAS_TIMEOUT_SECONDS);
    if (nasTimeoutSeconds < 1)
        throw new UsageError(`NAS_BACKUP_NAS_TIMEOUT_SECONDS=${nasTimeoutSeconds}: expected at least 1 (seconds)`);
    const base = (role: CredentialRole): URL => {
        const url = parsed.get(role);
        if (!url) throw new Error(`no repository base for the ${role} role`);
        return url;
    };
    return {
        env,
        base,
        cacert,
        pushgateway: env.NAS_BACKUP_PUSHGATEWAY_URL || undefined,
        progressSeconds,
        nasTimeoutSeconds,
        repository(target, role) {
            return new ResticRepository(target, repositoryLocation(base(role), target, loadCredentials(role, env)), {
                env,
                cacert,
                password,
            });
        },
    };
}
