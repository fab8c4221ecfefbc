/**
 * The data offsets of a landed dump (`restore --jobs`).
 *
 * pg_dump writes a custom-format archive as header, table of contents, then one data block per table
 * (and per large-object group). When its output is a seekable file, it goes back at the end and
 * records in the table of contents where each data block starts. The runner's pg_dump writes into
 * restic's stdin, a pipe, so its archives say "offset not set" for every block. `pg_restore --jobs`
 * still restores such an archive, but each worker then reads through the archive from the start to
 * find its table's block: on the bench's four-table 1 GB database, `pg_restore --jobs 2` took as long
 * as the single-stream restore; with the offsets recorded it was 0.85× of that (runner/README.md).
 *
 * `recordDataOffsets` walks the landed file's blocks (it reads only the blocks' and chunks' headers,
 * the chunks themselves are skipped) and writes the offsets into the table of contents, in the fixed-
 * width fields pg_dump left for them: the file becomes what pg_dump writes to a seekable file, and no
 * byte of the data changes. It writes nothing unless the whole file parses as the archive versions
 * it knows (1.12–1.16: PostgreSQL 11–17): a file it cannot read is restored as it is.
 */
import { open, type FileHandle } from "node:fs/promises";

/** Archive format versions whose table of contents this reads (pg_backup_archiver.h, K_VERS_1_12–1_16). */
const MINOR_VERSIONS = { min: 12, max: 16 } as const;
/** The custom format's id in the header (archCustom). */
const CUSTOM_FORMAT = 1;
/** Offset flags of a table-of-contents entry (K_OFFSET_POS_NOT_SET, K_OFFSET_POS_SET, K_OFFSET_NO_DATA). */
const OFFSET = { notSet: 1, set: 2, noData: 3 } as const;
/** Data block types (BLK_DATA, BLK_BLOBS). */
const BLOCK = { data: 1, largeObjects: 3 } as const;

export type DataOffsets = { readonly recorded: number } | { readonly skipped: string };

class NotAnArchive extends Error {}

/** Sequential reads of a file through a window of `windowBytes`; skipping moves the position without reading. */
class Reader {
    private buffer = Buffer.alloc(0);
    private window = Buffer.alloc(0);
    private windowStart = 0;
    position = 0;

    constructor(
        private readonly file: FileHandle,
        readonly size: number,
        private readonly windowBytes = 1024 * 1024,
    ) {}

    /** Whether the `n` bytes at the position are in the window. */
    has(n: number): boolean {
        return this.position >= this.windowStart && this.position + n <= this.windowStart + this.window.length;
    }

    /** Makes the `n` bytes at the position readable from the window. */
    async need(n: number): Promise<void> {
        if (this.position + n > this.size) throw new NotAnArchive(`ends within a field at byte ${this.position}`);
        if (this.has(n)) return;
        const length = Math.min(Math.max(n, this.windowBytes), this.size - this.position);
        // One buffer for the whole walk: fresh memory is slow to fault in on some VMs (runner/README.md).
        if (this.buffer.length < length) this.buffer = Buffer.allocUnsafe(length);
        const { bytesRead } = await this.file.read(this.buffer, 0, length, this.position);
        if (bytesRead !== length) throw new NotAnArchive(`short read at byte ${this.position}`);
        this.window = this.buffer.subarray(0, length);
        this.windowStart = this.position;
    }

    /** A byte, after need(1). */
    byte(): number {
        return this.window[this.position++ - this.windowStart];
    }

    /** pg_dump's WriteInt: a sign byte, then `intSize` bytes, least significant first. */
    async int(intSize: number): Promise<number> {
        if (!this.has(1 + intSize)) await this.need(1 + intSize);
        return this.intInWindow(intSize);
    }

    /** int() when has(1 + intSize): without a promise (a 1 GB dump has millions of chunks). */
    intInWindow(intSize: number): number {
        const negative = this.byte() !== 0;
        let value = 0;
        for (let i = 0, scale = 1; i < intSize; i++, scale *= 256) value += this.byte() * scale;
        return negative ? -value : value;
    }

    /** pg_dump's WriteStr: a length (-1 for NULL), then the bytes. Returns undefined for NULL. */
    async str(intSize: number): Promise<string | undefined> {
        const length = await this.int(intSize);
        if (length < 0) return undefined;
        await this.need(length);
        const text = this.window.toString(
            "utf8",
            this.position - this.windowStart,
            this.position - this.windowStart + length,
        );
        this.position += length;
        return text;
    }

    skip(n: number): void {
        if (n < 0 || this.position + n > this.size) throw new NotAnArchive(`a chunk of ${n} bytes runs past the end`);
        this.position += n;
    }
}

interface TocEntry {
    readonly dumpId: number;
    /** Where the entry's offset flag byte is; the offset follows it. */
    readonly flagAt: number;
    readonly flag: number;
}

interface Archive {
    readonly intSize: number;
    readonly offSize: number;
    readonly entries: readonly TocEntry[];
}

/** The header and table of contents (pg_backup_archiver.c ReadHead, ReadToc; pg_backup_custom.c _ReadExtraToc). */
async function readToc(r: Reader): Promise<Archive> {
    await r.need(11);
    const magic = [0, 1, 2, 3, 4].map(() => String.fromCharCode(r.byte())).join("");
    if (magic !== "PGDMP") throw new NotAnArchive("not a pg_dump archive");
    const [major, minor] = [r.byte(), r.byte(), r.byte()];
    if (major !== 1 || minor < MINOR_VERSIONS.min || minor > MINOR_VERSIONS.max)
        throw new NotAnArchive(`archive version ${major}.${minor} is not one this runner reads`);
    const [intSize, offSize, format] = [r.byte(), r.byte(), r.byte()];
    if (format !== CUSTOM_FORMAT) throw new NotAnArchive(`archive format ${format} is not the custom format`);
    if (intSize < 1 || intSize > 6 || offSize < 1 || offSize > 8)
        throw new NotAnArchive(`integer sizes ${intSize}/${offSize} are not supported`);
    if (minor >= 15) {
        await r.need(1);
        r.byte(); // compression algorithm
    } else await r.int(intSize); // compression level
    for (let i = 0; i < 7; i++) await r.int(intSize); // the dump's time
    for (let i = 0; i < 3; i++) await r.str(intSize); // database name, server and pg_dump versions
    const count = await r.int(intSize);
    const entries: TocEntry[] = [];
    for (let n = 0; n < count; n++) {
        const dumpId = await r.int(intSize);
        await r.int(intSize); // has a data dumper
        for (let i = 0; i < 4; i++) await r.str(intSize); // table oid, oid, tag, desc
        await r.int(intSize); // section
        // definition, drop statement, copy statement, schema, tablespace, table access method
        for (let i = 0; i < 6; i++) await r.str(intSize);
        if (minor >= 16) await r.int(intSize); // relkind
        await r.str(intSize); // owner
        await r.str(intSize); // "with oids"
        while ((await r.str(intSize)) !== undefined); // dependencies, ended by NULL
        await r.need(1 + offSize);
        const flagAt = r.position;
        const flag = r.byte();
        if (flag !== OFFSET.notSet && flag !== OFFSET.set && flag !== OFFSET.noData)
            throw new NotAnArchive(`entry ${dumpId} has offset flag ${flag}`);
        r.skip(offSize);
        entries.push({ dumpId, flagAt, flag });
    }
    return { intSize, offSize, entries };
}

/** Where each data block starts, by dump id, from the end of the table of contents to the end of the file. */
async function findBlocks(r: Reader, intSize: number): Promise<Map<number, number>> {
    const blocks = new Map<number, number>();
    const skipChunks = async (): Promise<void> => {
        for (;;) {
            const length = r.has(1 + intSize) ? r.intInWindow(intSize) : await r.int(intSize);
            if (length === 0) return;
            r.skip(length);
        }
    };
    while (r.position < r.size) {
        const start = r.position;
        await r.need(1);
        const type = r.byte();
        const dumpId = await r.int(intSize);
        if (blocks.has(dumpId)) throw new NotAnArchive(`two data blocks for entry ${dumpId}`);
        blocks.set(dumpId, start);
        if (type === BLOCK.data) await skipChunks();
        else if (type === BLOCK.largeObjects) while ((await r.int(intSize)) !== 0) await skipChunks();
        else throw new NotAnArchive(`unknown block type ${type} at byte ${start}`);
    }
    return blocks;
}

/** pg_dump's WriteOffset: the flag byte, then the offset in `offSize` bytes, least significant first. */
function offsetField(offset: number, offSize: number): Buffer {
    const field = Buffer.alloc(1 + offSize);
    field[0] = OFFSET.set;
    for (let i = 0; i < offSize; i++) field[1 + i] = Math.floor(offset / 2 ** (8 * i)) % 256;
    return field;
}

/**
 * Records where each data block of the custom-format archive `file` starts (see the module comment).
 * Returns how many offsets it recorded (0 for an archive pg_dump wrote to a seekable file), or why it
 * left the file as it was.
 */
export async function recordDataOffsets(file: string): Promise<DataOffsets> {
    const handle = await open(file, "r+");
    try {
        const r = new Reader(handle, (await handle.stat()).size);
        const { intSize, offSize, entries } = await readToc(r);
        const missing = entries.filter((e) => e.flag === OFFSET.notSet);
        if (missing.length === 0) return { recorded: 0 };
        const blocks = await findBlocks(r, intSize);
        const expected = new Set(missing.map((e) => e.dumpId));
        const disagreeing = [
            ...[...blocks.keys()].filter((id) => !expected.has(id)),
            ...[...expected].filter((id) => !blocks.has(id)),
        ];
        if (disagreeing.length > 0)
            throw new NotAnArchive(`data blocks and table of contents disagree (entries ${disagreeing.join(", ")})`);
        for (const entry of missing)
            await handle.write(offsetField(blocks.get(entry.dumpId)!, offSize), 0, 1 + offSize, entry.flagAt);
        return { recorded: missing.length };
    } catch (e) {
        if (e instanceof NotAnArchive) return { skipped: e.message };
        throw e;
    } finally {
        await handle.close();
    }
}
