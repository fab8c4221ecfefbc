/**
 * `restore --jobs` records the data offsets that pg_dump could not write into a pipe: checked against
 * what pg_dump itself writes to a seekable file, with real PostgreSQL.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordDataOffsets } from "../../runner/src/archiveOffsets";
import { requireTools, startPostgres, type Postgres } from "./harness";

let pg: Postgres;
let dir: string;
/** The same database dumped by pg_dump to a seekable file, and into a pipe (as the runner's backup does). */
let seekable: string;
let piped: string;

/** Bytes that pg_dump's header spends on magic, versions, sizes, compression and the dump's time (at most). */
const HEADER_UP_TO_TIME = 51;

const differingBytes = (a: Buffer, b: Buffer): number[] => {
    const at: number[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) at.push(i);
    return at;
};

const pgDump = (args: string[]): Buffer => {
    const r = spawnSync(join(pg.binDir, "pg_dump"), ["--format=custom", "--compress=0", "-d", "shop", ...args], {
        env: { ...process.env, ...pg.env },
        maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return r.stdout;
};

beforeAll(async () => {
    requireTools();
    pg = await startPostgres();
    dir = mkdtempSync(join(tmpdir(), "nas-backup-offsets-"));
    pg.sql("postgres", "CREATE DATABASE shop");
    pg.sql(
        "shop",
        `CREATE TABLE orders (id bigserial PRIMARY KEY, note text);
         INSERT INTO orders (note) SELECT repeat(md5(g::text), 3) FROM generate_series(1, 20000) g;
         CREATE TABLE returns (id int PRIMARY KEY, order_id bigint REFERENCES orders);
         CREATE INDEX ON orders (note);
         SELECT lo_from_bytea(0, convert_to(repeat('scan ', 1000), 'UTF8'));`,
    );
    seekable = join(dir, "seekable.pgdump");
    pgDump(["-f", seekable]);
    piped = join(dir, "piped.pgdump");
    writeFileSync(piped, pgDump([]));
});

afterAll(() => {
    pg?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the data offsets of a landed dump", () => {
    it("are recorded where pg_dump records them in a seekable file: nothing else in the file changes", async () => {
        const landed = join(dir, "landed.pgdump");
        copyFileSync(piped, landed);
        // Before: the piped dump's table of contents lacks the offsets (not only the header's time differs).
        expect(differingBytes(readFileSync(landed), readFileSync(seekable)).some((i) => i >= HEADER_UP_TO_TIME)).toBe(
            true,
        );

        // Two tables (one empty) and the large objects: three data blocks.
        expect(await recordDataOffsets(landed)).toEqual({ recorded: 3 });

        const after = differingBytes(readFileSync(landed), readFileSync(seekable));
        expect(after.every((i) => i < HEADER_UP_TO_TIME)).toBe(true);
        // Recorded once: a second pass, and a file pg_dump wrote seekable, have nothing to record.
        expect(await recordDataOffsets(landed)).toEqual({ recorded: 0 });
        expect(await recordDataOffsets(seekable)).toEqual({ recorded: 0 });
    });

    it("let pg_restore --jobs 2 restore every table and large object", async () => {
        const landed = join(dir, "parallel.pgdump");
        copyFileSync(piped, landed);
        await recordDataOffsets(landed);
        pg.sql("postgres", "CREATE DATABASE shop_restored");
        const r = spawnSync(
            join(pg.binDir, "pg_restore"),
            ["--jobs=2", "--exit-on-error", "-d", "shop_restored", landed],
            {
                env: { ...process.env, ...pg.env },
                encoding: "utf8",
            },
        );
        expect(r.status, r.stderr).toBe(0);
        expect(pg.sql("shop_restored", "SELECT count(*), sum(length(note)) FROM orders")).toBe("20000|1920000");
        expect(pg.sql("shop_restored", "SELECT length(lo_get(oid)) FROM pg_largeobject_metadata")).toBe("5000");
    });

    it("are not written into a file that does not read as a whole custom-format archive", async () => {
        const truncated = join(dir, "truncated.pgdump");
        const whole = readFileSync(piped);
        const cut = whole.subarray(0, whole.length - 1000);
        writeFileSync(truncated, cut);
        expect(await recordDataOffsets(truncated)).toEqual({
            skipped: expect.stringMatching(/ends within|past the end/),
        });
        expect(readFileSync(truncated).equals(cut)).toBe(true);

        const other = join(dir, "other.bin");
        writeFileSync(other, "PGDMX not an archive");
        expect(await recordDataOffsets(other)).toEqual({ skipped: "not a pg_dump archive" });
    });
});
