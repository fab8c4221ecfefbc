#!/usr/bin/env node
/**
 * nas-backup: daily encrypted backups of databases and file shares to the self-hosted NAS with restic,
 * retention, verification, restore and customer-requested deletion (Data Backup Policy v1.2.0,
 * §2.5.1, §2.8–2.10, §2.12, §2.13, §2.15).
 *
 * This file dispatches to the commands (one module each in ./commands, with its flags, environment
 * variables and help) and maps every outcome to the one set of exit codes. The commands' specs are a
 * contract (the Kubernetes CronJobs are built from it); runner/README.md documents the same, and a test
 * keeps both in step.
 */
import { parseArgs } from "node:util";
import { backupPolicy } from "../../components/policy";
import { commands, runnableCommands } from "./commands";
import type { CommandSpec, Invocation, Outcome } from "./commands/spec";
import { checkTargetName } from "./config";
import { createContext } from "./context";
import { helpRows, optionRows } from "./help";
import { log } from "./log";
import { killChildren, OperationError, UsageError } from "./proc";

export const exitCodes = { ok: 0, failure: 1, usage: 2, rpoBreached: 3, rtoAtRisk: 4 } as const satisfies Record<
    Outcome | "usage",
    number
>;

const timeZone = backupPolicy.nas.timeZone.value;
const TIMES = `TIMES: 2025-03-01 means 00:00 on that day in ${timeZone}; 2025-03-01T14:30 is wall-clock time there; 2025-03-01T13:30:00Z or +01:00 is exact.`;
const EXIT = `EXIT STATUS: ${exitCodes.ok} success, ${exitCodes.failure} failure (cause in the log), ${exitCodes.usage} usage or configuration error, ${exitCodes.rpoBreached} (status) a target breaches the RPO, ${exitCodes.rtoAtRisk} (status) a target's projected restore time exceeds --rto-share of the RTO.`;
const LOGGING =
    "OUTPUT: one JSON line per event on stderr (start, progress, success with bytes and duration, failure with cause); results on stdout. Passwords never appear.";

export function commandHelp(spec: CommandSpec): string {
    return [
        `nas-backup ${spec.name} — ${spec.summary}`,
        "",
        `Usage: ${spec.usage}`,
        "",
        spec.description,
        "",
        "Options:",
        optionRows(spec.options),
        "",
        "Environment:",
        helpRows(spec.env.map((e): [string, string] => [e.name, e.description])),
        "",
        TIMES,
        EXIT,
        LOGGING,
        "",
        "Examples:",
        ...spec.examples.map((e) => `  ${e}`),
    ].join("\n");
}

export function mainHelp(): string {
    return [
        `nas-backup — encrypted backups to the NAS with restic (Data Backup Policy v${backupPolicy.version.value})`,
        "",
        "Usage: nas-backup <command> [options]      (from the repository: npm run nas-backup -- <command> [options])",
        "",
        "Commands:",
        helpRows(commands.map((c): [string, string] => [c.name, c.summary])),
        "",
        "Run `nas-backup <command> --help` for its options and environment variables.",
        "Every command needs the NAS (--repository-base or NAS_BACKUP_REPOSITORY_BASE; prune and purge use",
        "NAS_BACKUP_MAINTENANCE_REPOSITORY_BASE if set) and the repository key (RESTIC_PASSWORD_FILE).",
        EXIT,
        LOGGING,
    ].join("\n");
}

type Values = Record<string, string | boolean | string[] | undefined>;

function parse(spec: CommandSpec, argv: readonly string[]): Values {
    const options: Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }> = {};
    for (const o of spec.options)
        options[o.flag] = {
            type: o.type,
            ...(o.multiple ? { multiple: true } : {}),
            ...(o.flag === "help" ? { short: "h" } : {}),
        };
    try {
        return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values as Values;
    } catch (e) {
        throw new UsageError(`${(e as Error).message.split("\n")[0]} (see nas-backup ${spec.name} --help)`);
    }
}

function print(text: string): void {
    process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** The parsed command line of one command, flags falling back to their environment variables. */
function invocation(spec: CommandSpec, values: Values, env: NodeJS.ProcessEnv): Invocation<CommandSpec> {
    const fromEnv = (flag: string): string | undefined => {
        const name = spec.options.find((o) => o.flag === flag)?.env;
        return name ? env[name] || undefined : undefined;
    };
    const string = (flag: string): string | undefined => {
        const v = values[flag];
        return typeof v === "string" && v !== "" ? v : fromEnv(flag);
    };
    const bases = { backup: string("repository-base"), maintenance: undefined };
    const ctx =
        spec.role === "maintenance"
            ? createContext(env, { ...bases, maintenance: string("maintenance-repository-base") }, ["maintenance"])
            : createContext(env, bases, ["backup"]);
    return {
        ctx,
        env,
        json: values.json === true,
        string,
        list(flag) {
            const given = values[flag];
            if (Array.isArray(given) && given.length) return given;
            return (fromEnv(flag) ?? "")
                .split(",")
                .map((t) => t.trim())
                .filter(Boolean);
        },
        boolean: (flag) => values[flag] === true,
        async instant(flag) {
            const v = string(flag);
            if (!v) return undefined;
            // Loaded only for a given time: the calendar's Luxon costs every command ~45 ms of start-up.
            const { parseInstant } = await import("./instant");
            return parseInstant(v, flag);
        },
        target: () => checkTargetName(string("target")),
        print,
    };
}

async function dispatch(name: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
    const command = runnableCommands.find((c) => c.spec.name === name);
    if (!command)
        throw new UsageError(
            `unknown command ${JSON.stringify(name)}; commands: ${commands.map((c) => c.name).join(", ")}`,
        );
    const values = parse(command.spec, argv);
    if (values.help) {
        print(commandHelp(command.spec));
        return exitCodes.ok;
    }
    return exitCodes[await command.run(invocation(command.spec, values, env))];
}

export async function main(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): Promise<number> {
    const [name, ...rest] = argv;
    if (!name || name === "help" || name === "--help" || name === "-h") {
        print(mainHelp());
        return name ? exitCodes.ok : exitCodes.usage;
    }
    try {
        return await dispatch(name, rest, environment);
    } catch (e) {
        if (e instanceof UsageError) {
            log("error", "usage.error", { command: name, cause: e.message });
            return exitCodes.usage;
        }
        if (e instanceof OperationError) return exitCodes.failure; // the command logged its failure
        log("error", "internal.error", { command: name, cause: (e as Error).stack ?? String(e) });
        return exitCodes.failure;
    }
}

function stopOnSignals(): void {
    let stopping = false;
    for (const [signal, code] of [
        ["SIGTERM", 143],
        ["SIGINT", 130],
    ] as const) {
        process.on(signal, () => {
            if (stopping) return;
            stopping = true;
            // restic first: it must never see the end of a partial dump.
            killChildren();
            log("error", "interrupted", {
                signal,
                cause: `received ${signal}: stopped; an interrupted backup writes no manifest and does not count`,
            });
            process.exit(code);
        });
    }
}

/**
 * Exits with the command's exit code once it is known. Node would exit 0 when its event loop empties
 * while the command is still unfinished (it waits for a promise that nothing can settle any more): that
 * is a failure, said as such.
 */
export function exitWhenDone(outcome: Promise<number>): void {
    let finished = false;
    process.once("beforeExit", () => {
        if (finished) return;
        log("error", "internal.error", {
            cause: "the command stopped before it finished: it waited for something that can no longer happen (a bug in the runner); treat its work as not done",
        });
        process.exit(exitCodes.failure);
    });
    outcome.then(
        (code) => {
            finished = true;
            process.exit(code);
        },
        (e: Error) => {
            finished = true;
            log("error", "internal.error", { cause: e.stack ?? String(e) });
            process.exit(exitCodes.failure);
        },
    );
}

if (require.main === module) {
    stopOnSignals();
    exitWhenDone(main(process.argv.slice(2)));
}
