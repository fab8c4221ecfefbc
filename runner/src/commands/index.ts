/**
 * The runner's CLI contract: every command with its flags, the environment variables it reads and its
 * help text, as typed data. The Kubernetes CronJobs build their arguments from it (commandLine), so a
 * flag is named once. Importing this module has no side effects and loads only components/policy.ts;
 * each command's `run` loads the code it needs when it runs.
 */
import { backupCommand, backupSpec } from "./backup";
import { pruneCommand, pruneSpec } from "./prune";
import { purgeCommand, purgeSpec } from "./purge";
import { restoreCommand, restoreSpec } from "./restore";
import type { BooleanFlag, Command, CommandSpec, StringFlag } from "./spec";
import { statusCommand, statusSpec } from "./status";
import { verifyCommand, verifySpec } from "./verify";

export {
    DEFAULT_NAS_TIMEOUT_SECONDS,
    DEFAULT_PROGRESS_SECONDS,
    environment,
    options,
    type BooleanFlag,
    type CommandSpec,
    type EnvSpec,
    type Flag,
    type OptionSpec,
    type StringFlag,
} from "./spec";
export { backupSpec, pruneSpec, purgeSpec, restoreSpec, statusSpec, verifySpec };

/** Every command's spec, in the order of the help. */
export const commands: readonly CommandSpec[] = [backupSpec, pruneSpec, verifySpec, restoreSpec, purgeSpec, statusSpec];

/** Every command with its `run`, for cli.ts. */
export const runnableCommands: readonly Command[] = [
    backupCommand,
    pruneCommand,
    verifyCommand,
    restoreCommand,
    purgeCommand,
    statusCommand,
];

/** Values for a command line: a string (or, for a repeatable flag, several) per string flag, true for a switch. */
export type CommandValues<S extends CommandSpec> = { readonly [F in StringFlag<S>]?: string | readonly string[] } & {
    readonly [F in BooleanFlag<S>]?: boolean;
};

/** The arguments of `nas-backup <command> …` for these values, flags in the order of the spec. */
export function commandLine<S extends CommandSpec>(spec: S, values: CommandValues<S>): string[] {
    const given = values as Readonly<Record<string, string | readonly string[] | boolean | undefined>>;
    const args: string[] = [spec.name];
    for (const o of spec.options) {
        const value = given[o.flag];
        if (value === undefined || value === false) continue;
        if (value === true) args.push(`--${o.flag}`);
        else if (typeof value === "string") args.push(`--${o.flag}`, value);
        else if (o.multiple) for (const v of value) args.push(`--${o.flag}`, v);
        else throw new Error(`--${o.flag} takes one value, got ${value.length}`);
    }
    return args;
}
