/** The `--help` layout shared by nas-backup and `npm run check`: two aligned columns, long entries wrapped. */

export interface HelpOption {
    readonly flag: string;
    readonly placeholder?: string;
    readonly env?: string;
    readonly description: string;
}

/** Rows of "  name  description", the description column aligned (at most 34 wide). */
export function helpRows(rows: readonly (readonly [string, string])[]): string {
    const width = Math.min(34, Math.max(...rows.map(([a]) => a.length)) + 2);
    return rows
        .map(([a, b]) => (a.length + 2 > width ? `  ${a}\n  ${"".padEnd(width)}${b}` : `  ${a.padEnd(width)}${b}`))
        .join("\n");
}

/** The "Options:" rows: --flag PLACEHOLDER, its description and the environment variable it falls back to. */
export function optionRows(options: readonly HelpOption[]): string {
    return helpRows(
        options.map((o): [string, string] => [
            `--${o.flag}${o.placeholder ? ` ${o.placeholder}` : ""}`,
            `${o.description}${o.env ? ` [env ${o.env}]` : ""}`,
        ]),
    );
}
