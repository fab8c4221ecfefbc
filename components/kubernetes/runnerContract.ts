/**
 * The runner's command line as the CronJobs use it, built from the runner's own contract (its command
 * specs and credential variables), never re-typed: a flag or variable the runner does not document
 * for a command is refused here, and test/kubernetes/cronJobRunsRunner.test.ts runs the result.
 */
import { commands, type CommandSpec } from "../../runner/src/commands";
import { credentialEnv } from "../../runner/src/config";

/** The runner's executable in its image (runner/Dockerfile links it onto PATH). */
export const runnerExecutable = "nas-backup";

export type RunnerCommandName = "backup" | "prune" | "verify";

function spec(command: RunnerCommandName): CommandSpec {
    const found = commands.find((c) => c.name === command);
    if (found === undefined) {
        throw new Error(`the runner has no command ${JSON.stringify(command)}`);
    }
    return found;
}

/** `[command, --flag value | --flag, …]`; `true` is a boolean flag. Refuses flags the command lacks. */
export function runnerArgs(command: RunnerCommandName, options: Readonly<Record<string, string | true>>): string[] {
    const known = spec(command).options;
    const args: string[] = [command];
    for (const [flag, value] of Object.entries(options)) {
        const option = known.find((o) => o.flag === flag);
        if (option === undefined) {
            throw new Error(`nas-backup ${command} has no flag --${flag}`);
        }
        if ((value === true) !== (option.type === "boolean")) {
            throw new Error(`nas-backup ${command} --${flag} is a ${option.type} flag`);
        }
        args.push(`--${flag}`, ...(value === true ? [] : [value]));
    }
    return args;
}

/** Every environment variable a command documents (flags' variables and its environment section). */
export function runnerEnvNames(command: RunnerCommandName): ReadonlySet<string> {
    const s = spec(command);
    const names = [
        ...s.options.flatMap((o) => (o.env === undefined ? [] : [o.env])),
        ...s.env.flatMap((e) => e.name.split(/,\s*/)),
    ];
    return new Set(names);
}

/** `name`, after checking that the command reads it. */
export function runnerEnv(command: RunnerCommandName, name: string): string {
    if (!runnerEnvNames(command).has(name)) {
        throw new Error(`nas-backup ${command} does not read the environment variable ${name}`);
    }
    return name;
}

/** The REST credential variables of the append-only (backup) and full-access (maintenance) users. */
export const nasCredentialEnv = credentialEnv;
