/**
 * `npm run check [-- options]`: the offline compliance check of the Data Backup Policy.
 *
 *   --stack NAME           check this stack only (repeatable); default: every Pulumi.<stack>.yaml
 *   --json FILE            also write the report as JSON (shape: policies/README.md)
 *   --evidence FILE.md     also write the evidence table as Markdown for the auditor
 *   --policy-config FILE   policy config JSON as for `pulumi preview --policy-pack-config`
 *   --project-dir DIR      directory with Pulumi.yaml and the stack files (default: this repository)
 *
 * Exit 0: no mandatory violation. Exit 1: a mandatory violation. Exit 2: a program, configuration or
 * usage error. No secret value is ever printed or written.
 */
import * as fs from "fs";
import * as path from "path";
import { PolicyConfigError, type PolicyConfigInput } from "../harness/analyze";
import { renderEvidenceMarkdown, renderText } from "./render";
import { check, type CheckOptions, UsageError } from "./run";

interface Arguments {
    stacks: string[];
    json?: string;
    evidence?: string;
    policyConfig?: string;
    projectDir?: string;
}

const usage =
    "usage: npm run check -- [--stack NAME]... [--json FILE] [--evidence FILE.md] [--policy-config FILE] [--project-dir DIR]";

export function parseArguments(argv: readonly string[]): Arguments {
    const result: Arguments = { stacks: [] };
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "") throw new UsageError(`${flag} needs a value\n${usage}`);
            return v;
        };
        switch (flag) {
            case "--stack":
                result.stacks.push(value());
                break;
            case "--json":
                result.json = value();
                break;
            case "--evidence":
                result.evidence = value();
                break;
            case "--policy-config":
                result.policyConfig = value();
                break;
            case "--project-dir":
                result.projectDir = value();
                break;
            case "--help":
            case "-h":
                throw new UsageError(usage);
            default:
                throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}\n${usage}`);
        }
    }
    return result;
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
        process.stderr.write(`check: unexpected error: ${(e as Error).stack ?? e}\n`);
        return 2;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (e) => {
            process.stderr.write(`check: ${(e as Error).stack ?? e}\n`);
            process.exit(2);
        },
    );
}
