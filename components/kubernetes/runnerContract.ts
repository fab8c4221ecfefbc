/**
 * The runner's command line as the CronJobs use it, built from the runner's own contract
 * (runner/src/commands: typed command specs, so a misspelt flag does not compile, and the environment
 * variables each command reads), never re-typed. test/kubernetes/cronJobRunsRunner.test.ts runs the
 * result against a real NAS and PostgreSQL.
 */
import { backupSpec, commandLine, pruneSpec, verifySpec, type CommandSpec } from "../../runner/src/commands";
import { credentialEnv } from "../../runner/src/config";

export { backupSpec, commandLine, pruneSpec, verifySpec };

/** The runner's executable in its image (runner/Dockerfile links it onto PATH). */
export const runnerExecutable = "nas-backup";

/** Every environment variable a command documents (its flags' variables and its environment section). */
export function runnerEnvNames(spec: CommandSpec): ReadonlySet<string> {
    return new Set([
        ...spec.options.flatMap((o) => (o.env === undefined ? [] : [o.env])),
        ...spec.env.flatMap((e) => e.name.split(/,\s*/)),
    ]);
}

/** `name`, after checking that the command reads it. */
export function runnerEnv(spec: CommandSpec, name: string): string {
    if (!runnerEnvNames(spec).has(name)) {
        throw new Error(`nas-backup ${spec.name} does not read the environment variable ${name}`);
    }
    return name;
}

/** The REST credential variables of the append-only (backup) and full-access (maintenance) users. */
export const nasCredentialEnv = credentialEnv;
