/**
 * `npm run check [-- options]`: the offline compliance check of the Data Backup Policy. Arguments are
 * parsed with `node:util` `parseArgs` and `--help` is laid out as nas-backup's (options below).
 *
 * Exit 0: no mandatory violation. Exit 1: a mandatory violation. Exit 2: a program, configuration or
 * usage error. No secret value is ever printed or written.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { optionRows, type HelpOption } from "../../runner/src/help";
import { PolicyConfigError, type PolicyConfigInput } from "../harness/analyze";
import { renderEvidenceMarkdown, renderText } from "./render";
import { check, type CheckOptions, UsageError } from "./run";

interface Arguments {
    stacks: string[];
    json?: string;
    evidence?: string;
    policyConfig?: string;
    projectDir?: string;
    help: boolean;
}

/** The flags, as `parseArgs` takes them, with their help text. */
const options = {
    stack: {
        type: "string",
        multiple: true,
        placeholder: "NAME",
        description: "check this stack only (repeatable); default: every Pulumi.<stack>.yaml.",
    },
    json: {
        type: "string",
        placeholder: "FILE",
        description: "also write the report as JSON (shape: policies/README.md).",
    },
    evidence: {
        type: "string",
        placeholder: "FILE.md",
        description: "also write the evidence table as Markdown for the auditor.",
    },
    "policy-config": {
        type: "string",
        placeholder: "FILE",
        description: "policy config JSON as for `pulumi preview --policy-pack-config`.",
    },
    "project-dir": {
        type: "string",
        placeholder: "DIR",
        description: "directory with Pulumi.yaml and the stack files (default: this repository).",
    },
    help: { type: "boolean", short: "h", description: "show this help." },
} as const satisfies Record<
    string,
    Omit<HelpOption, "flag"> & { type: "string" | "boolean"; multiple?: boolean; short?: string }
>;

const usage =
    "usage: npm run check -- [--stack NAME]... [--json FILE] [--evidence FILE.md] [--policy-config FILE] [--project-dir DIR]";

export function help(): string {
    return [
        "npm run check — the offline compliance check of the Data Backup Policy",
        "",
        `Usage: ${usage.slice("usage: ".length)}`,
        "",
        "Runs every stack's program with its Pulumi.<stack>.yaml under Pulumi's mocks (no cloud, no CLI) and applies",
        "every rule of the policy pack as `pulumi preview --policy-pack policies` does; prints the resources, each",
        "violation and the evidence table. No secret value is ever printed or written.",
        "",
        "Options:",
        optionRows(Object.entries(options).map(([flag, o]) => ({ ...o, flag }))),
        "",
        "EXIT STATUS: 0 no mandatory violation, 1 a mandatory violation, 2 a program, configuration or usage error.",
        "",
        "Examples:",
        "  npm run check -- --stack prod",
        "  npm run check -- --json report.json --evidence evidence.md",
    ].join("\n");
}

/** parseArgs' message, in this CLI's words: the argument at fault, then the usage line. */
function usageError(e: Error & { code?: string }): UsageError {
    const quoted = /'([^']*)'/.exec(e.message)?.[1] ?? "";
    if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
        return new UsageError(`${quoted.split(" ")[0]} needs a value\n${usage}`);
    if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e.code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL")
        return new UsageError(`unknown argument ${JSON.stringify(quoted)}\n${usage}`);
    return new UsageError(`${e.message.split("\n")[0]}\n${usage}`);
}

function parse(argv: readonly string[]): ReturnType<typeof parseArgs<{ options: typeof options }>>["values"] {
    try {
        return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
    } catch (e) {
        throw usageError(e as Error);
    }
}

export function parseArguments(argv: readonly string[]): Arguments {
    const values = parse(argv);
    const value = (flag: string, v: string | undefined): string | undefined => {
        if (v === "") throw new UsageError(`--${flag} needs a value\n${usage}`);
        return v;
    };
    return {
        stacks: (values.stack ?? []).map((s) => value("stack", s)!),
        json: value("json", values.json),
        evidence: value("evidence", values.evidence),
        policyConfig: value("policy-config", values["policy-config"]),
        projectDir: value("project-dir", values["project-dir"]),
        help: values.help === true,
    };
}

function readPolicyConfig(file: string): PolicyConfigInput {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        throw new UsageError(`--policy-config ${file}: ${(e as Error).message}`);
    }
    try {
        const parsed = JSON.parse(text) as unknown;
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
            throw new Error("expected a JSON object of policy name → config");
        return parsed as PolicyConfigInput;
    } catch (e) {
        throw new UsageError(`--policy-config ${file}: ${(e as Error).message}`);
    }
}

function write(file: string, content: string): void {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, content);
}

export async function main(argv: readonly string[]): Promise<number> {
    try {
        const args = parseArguments(argv);
        if (args.help) {
            process.stdout.write(`${help()}\n`);
            return 0;
        }
        const options: CheckOptions = {
            stacks: args.stacks,
            projectDir: args.projectDir ? path.resolve(args.projectDir) : undefined,
            policyConfig: args.policyConfig ? readPolicyConfig(args.policyConfig) : undefined,
        };
        const report = await check(options);
        process.stdout.write(renderText(report));
        if (args.json) {
            write(args.json, JSON.stringify(report, null, 2) + "\n");
            process.stdout.write(`JSON report written to ${args.json}\n`);
        }
        if (args.evidence) {
            write(args.evidence, renderEvidenceMarkdown(report));
            process.stdout.write(`Evidence table written to ${args.evidence}\n`);
        }
        return report.exitCode;
    } catch (e) {
        if (e instanceof UsageError || e instanceof PolicyConfigError) {
            process.stderr.write(`check: ${e.message}\n`);
            return 2;
        }
        process.stderr.write(`check: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`check: ${(e as Error).stack ?? String(e)}\n`);
            process.exit(2);
        },
    );
}
