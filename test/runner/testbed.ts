/**
 * The runner testbed for vitest files. Apart from ./harness.ts because that file is also imported by
 * `npm run bench` (plain Node, where vitest cannot be imported).
 */
import { afterAll, beforeAll, vi } from "vitest";
import { requireTools, startNas, startPostgres, type Nas, type Postgres } from "./harness";

/** What a runner test file works against: a throwaway PostgreSQL, a NAS, and the runner's environment for both. */
export interface RunnerTestbed {
    readonly pg: Postgres;
    readonly nas: Nas;
    /** NAS and PostgreSQL environment for the CLI, progress lines off. */
    readonly env: Record<string, string>;
}

/**
 * The setup the runner's integration test files share: generous limits for slow CI machines (the
 * tests take seconds here), the real components checked, PostgreSQL and the NAS started before the
 * file's tests (then `seed`, e.g. its databases) and stopped after them. The fields are there from
 * the file's tests and `seed` on.
 */
export function useRunnerTestbed(seed: (testbed: RunnerTestbed) => void | Promise<void>): RunnerTestbed {
    vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });
    let started: RunnerTestbed | undefined;
    beforeAll(async () => {
        requireTools();
        const [pg, nas] = await Promise.all([startPostgres(), startNas()]);
        started = { pg, nas, env: { ...nas.env, ...pg.env, NAS_BACKUP_PROGRESS_SECONDS: "0" } };
        await seed(started);
    }, 120_000);
    afterAll(async () => {
        started?.pg.cleanup();
        await started?.nas.cleanup();
    });
    const get = (): RunnerTestbed => {
        if (started === undefined) throw new Error("the runner testbed is used before its beforeAll started it");
        return started;
    };
    return {
        get pg() {
            return get().pg;
        },
        get nas() {
            return get().nas;
        },
        get env() {
            return get().env;
        },
    };
}
