/**
 * Helpers for tests that run stacks offline with a changed configuration.
 */
import { readStackFile } from "../../stacks/offline";

/** A path into the `config:` map: the fully qualified key, then nested keys or list indexes. */
export type ConfigPath = readonly [string, ...(string | number)[]];

/**
 * The `config:` map of Pulumi.<stack>.yaml with one value replaced (undefined removes it).
 * The file itself is not touched.
 */
export function configWith(stack: string, ...changes: readonly [ConfigPath, unknown][]): Record<string, unknown> {
    const config = structuredClone(readStackFile(stack).config) as Record<string, unknown>;
    for (const [path, value] of changes) {
        let node = config as Record<string | number, unknown>;
        for (const key of path.slice(0, -1)) {
            if (typeof node[key] !== "object" || node[key] === null) {
                node[key] = {};
            }
            node = node[key] as Record<string | number, unknown>;
        }
        const last = path[path.length - 1];
        if (value === undefined) {
            delete node[last];
        } else {
            node[last] = value;
        }
    }
    return config;
}
