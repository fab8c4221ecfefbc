/**
 * What a restore must reproduce, and the proof that it did: taken in the backup's own MVCC snapshot
 * (while pg_dump dumps that snapshot) and again on the restored database, then compared.
 *
 * - every table: its row count and a digest of its content (order-independent: the sum of a 64-bit
 *   hash of each row, so no sort; rows rendered with fixed settings: UTC, ISO dates, exact floats, hex
 *   bytea);
 * - every sequence: its value between the values read just before and just after pg_dump (sequences
 *   move outside transactions; for a database idle during the backup the check is exact);
 * - the schema objects: relations (kind, row-level security), views and materialized views, functions,
 *   triggers, constraints, indexes, policies, enums and domains, large objects (content digest), each
 *   with a digest of its definition and one of its owner and privileges.
 */
import { userSchema } from "./postgres";
import { OperationError } from "./proc";

export interface TableContent {
    readonly schema: string;
    readonly table: string;
    readonly rows: number;
    /** Sum of the rows' hashes (as decimal text, see TableDigest); absent in manifests made before it was recorded. */
    readonly digest?: string;
}

/**
 * How a row is hashed for its table's digest (the manifest names it; the restore hashes with the same):
 * - `column_hashes` (new backups on PostgreSQL 14+): each column hashed on its own, seeded by the
 *   column's name, and the column hashes combined by XOR. A column is hashed by its type's own 64-bit
 *   hash function where equal values always render the same text (integers, oid, name, text and varchar
 *   as bytes, date, time, timestamp(tz), uuid, bool, bytea; numeric by its value and its scale), every
 *   other column by its text under collation "C" (floats keep their sign, jsonb its numbers, enums their
 *   labels, a caseless collation its case). Summed over the rows this detects a column's values swapped
 *   between two rows, which `hash_record_extended` misses about two times in three (it combines the
 *   column hashes linearly: the sum of rows stays the same up to overflow); and it costs about a fifth
 *   less CPU (test/runner/content.test.ts, runner/README.md). Hash partitioning relies on these functions:
 *   stable across versions.
 * - `hash_record_extended` (backups until the above): the column hashes combined in column order;
 * - `hashtextextended`: the 64-bit hash of the row's text (new backups on PostgreSQL 11–13);
 * - `md5`: manifests written before the function was recorded (the first 60 bits of the md5 of the row's text).
 */
const TABLE_DIGESTS = ["md5", "hashtextextended", "hash_record_extended", "column_hashes"] as const;
export type TableDigest = (typeof TABLE_DIGESTS)[number];

/** The function a new backup records, as SQL: the cheapest the server offers. */
const newestDigest = `(CASE WHEN current_setting('server_version_num')::int >= 140000 THEN 'column_hashes' ELSE 'hashtextextended' END)`;

/** The live columns `a` of table `table` (an oid), as a FROM clause: what both row hashes read. */
const columnsOf = (table: string): string =>
    `FROM pg_attribute a WHERE a.attrelid = ${table} AND a.attnum > 0 AND NOT a.attisdropped`;

/** Columns hashed by their type's hash function, the others by their text (see TableDigest). */
const HASHED_TYPES = "bool,bytea,name,int2,int4,int8,oid,text,varchar,date,time,timestamp,timestamptz,uuid";
const rowColumns = (table: string): string => `(SELECT string_agg(format(CASE
      WHEN a.atttypid = ANY('{${HASHED_TYPES}}'::regtype[]) AND (a.attcollation = 0 OR a.attcollation IN
        (SELECT oid FROM pg_collation WHERE collnamespace = 'pg_catalog'::regnamespace AND collname IN ('default', 'C', 'POSIX')))
      THEN 't.%I' ELSE 't.%I::text COLLATE "C"' END, a.attname), ', ' ORDER BY a.attnum)
    ${columnsOf(table)})`;

/**
 * `column_hashes`: one hash per column (%1$I the column, %2$s its seed), the type's own function called
 * directly where SQL can (timestamptz through timestamp: the same instant in UTC, see FIXED_SETTINGS),
 * through a one-column row where it cannot (bool, bytea, date), numeric with its scale (seed %3$s);
 * every other column (text and varchar among them) by its text under collation "C", as bytes.
 */
const COLUMN_HASH = `CASE a.atttypid
        WHEN 'int2'::regtype THEN 'hashint2extended(t.%1$I, %2$s)'
        WHEN 'int4'::regtype THEN 'hashint4extended(t.%1$I, %2$s)'
        WHEN 'int8'::regtype THEN 'hashint8extended(t.%1$I, %2$s)'
        WHEN 'oid'::regtype THEN 'hashoidextended(t.%1$I, %2$s)'
        WHEN 'name'::regtype THEN 'hashnameextended(t.%1$I, %2$s)'
        WHEN 'time'::regtype THEN 'time_hash_extended(t.%1$I, %2$s)'
        WHEN 'timestamp'::regtype THEN 'timestamp_hash_extended(t.%1$I, %2$s)'
        WHEN 'timestamptz'::regtype THEN 'timestamp_hash_extended(t.%1$I::timestamp, %2$s)'
        WHEN 'uuid'::regtype THEN 'uuid_hash_extended(t.%1$I, %2$s)'
        WHEN 'numeric'::regtype THEN 'hash_numeric_extended(t.%1$I, %2$s) # coalesce(hashint4extended(scale(t.%1$I), %3$s), 0)'
        WHEN 'bool'::regtype THEN 'hash_record_extended(ROW(t.%1$I), %2$s)'
        WHEN 'bytea'::regtype THEN 'hash_record_extended(ROW(t.%1$I), %2$s)'
        WHEN 'date'::regtype THEN 'hash_record_extended(ROW(t.%1$I), %2$s)'
        ELSE 'hashtextextended(t.%1$I::text COLLATE "C", %2$s)' END`;

/** `column_hashes` of the row `t` of table `table` (an oid): the XOR of its columns' hashes, a NULL's being 0. */
const columnHashes = (table: string): string => `(SELECT coalesce(string_agg(format('coalesce(%s, 0)',
      format(${COLUMN_HASH}, a.attname, hashtextextended(a.attname, 0), hashtextextended(a.attname, 1))), ' # '), '0')
    ${columnsOf(table)})`;

/** The SQL text of the row hash of table `table` (an oid) for the digest named by `digest` (SQL). */
const rowHash = (digest: string, table: string): string => `CASE ${digest}
      WHEN 'md5' THEN '(''x'' || substr(md5(t::text), 1, 15))::bit(60)::bigint'
      WHEN 'hashtextextended' THEN 'hashtextextended(t::text, 0)'
      WHEN 'hash_record_extended' THEN format('hash_record_extended(ROW(%s), 0)', ${rowColumns(table)})
      ELSE ${columnHashes(table)} END`;

export interface SequenceContent {
    readonly schema: string;
    readonly sequence: string;
    /** Read after pg_dump ended. */
    readonly lastValue: number | null;
    /** Read before pg_dump started; absent in older manifests. */
    readonly lastValueBefore?: number | null;
}

export interface SchemaObject {
    readonly kind: string;
    readonly name: string;
    /** MD5 of the object's definition. */
    readonly definition: string;
    /** MD5 of its owner and privileges. */
    readonly access: string;
}

export interface DatabaseContent {
    readonly database: string;
    readonly serverVersion: string;
    readonly encoding: string;
    /** How the tables' digests were computed; absent (older manifests): `md5`. */
    readonly tableDigest?: TableDigest;
    readonly tables: readonly TableContent[];
    readonly sequences: readonly SequenceContent[];
    readonly largeObjects: number;
    /** Absent in manifests made before it was recorded. */
    readonly objects?: readonly SchemaObject[];
    /** The database's size on its server (pg_database_size): what a drill's scratch needs; absent in older manifests. */
    readonly bytes?: number;
}

/** Renderings that do not depend on the session (time zone, date style, float digits, search path). */
const FIXED_SETTINGS = `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';
SET extra_float_digits = 3; SET bytea_output = 'hex'; SET search_path = pg_catalog;`;

const notExtension = (catalog: string, oid: string): string =>
    `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const access = (owner: string, acl: string): string => `pg_get_userbyid(${owner}) || ' ' || coalesce(${acl}::text, '')`;

export const SEQUENCES_SQL = `${FIXED_SETTINGS}
SELECT coalesce(jsonb_agg(jsonb_build_object('schema', schemaname, 'sequence', sequencename, 'lastValue', last_value) ORDER BY schemaname, sequencename), '[]')
FROM pg_sequences WHERE ${userSchema("schemaname")}`;

const tables = (digest: string): string => `coalesce((
  SELECT jsonb_agg(jsonb_build_object('schema', n.nspname, 'table', c.relname,
           'rows', (xpath('/row/c/text()', x.r))[1]::text::bigint, 'digest', (xpath('/row/h/text()', x.r))[1]::text)
         ORDER BY n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN LATERAL (SELECT query_to_xml(format(
      'SELECT count(*) AS c, coalesce(sum(%s), 0) AS h FROM ONLY %I.%I t',
      ${rowHash(digest, "c.oid")}, n.nspname, c.relname), false, true, '') AS r) x
  WHERE c.relkind = 'r' AND ${userSchema("n.nspname")} AND ${notExtension("pg_class", "c.oid")}
), '[]'::jsonb)`;

const OBJECTS = `(WITH objects(kind, name, definition, access) AS (
  SELECT 'relation', c.oid::regclass::text, c.relkind::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity, ${access("c.relowner", "c.relacl")}
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${userSchema("n.nspname")} AND ${notExtension("pg_class", "c.oid")}
  UNION ALL SELECT 'view', c.oid::regclass::text, pg_get_viewdef(c.oid), ''
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${userSchema("n.nspname")} AND ${notExtension("pg_class", "c.oid")}
  UNION ALL SELECT 'schema', n.nspname, '', ${access("n.nspowner", "n.nspacl")}
    FROM pg_namespace n WHERE ${userSchema("n.nspname")} AND ${notExtension("pg_namespace", "n.oid")}
  UNION ALL SELECT 'function', p.oid::regprocedure::text, pg_get_functiondef(p.oid), ${access("p.proowner", "p.proacl")}
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p') AND ${userSchema("n.nspname")} AND ${notExtension("pg_proc", "p.oid")}
  UNION ALL SELECT 'trigger', t.tgrelid::regclass::text || '.' || t.tgname, pg_get_triggerdef(t.oid), ''
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT t.tgisinternal AND ${userSchema("n.nspname")} AND ${notExtension("pg_class", "c.oid")}
  UNION ALL SELECT 'constraint', coalesce(nullif(k.conrelid, 0)::regclass::text, k.contypid::regtype::text) || '.' || k.conname, pg_get_constraintdef(k.oid), ''
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE ${userSchema("n.nspname")} AND ${notExtension("pg_constraint", "k.oid")}
  UNION ALL SELECT 'index', i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), ''
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${userSchema("n.nspname")} AND ${notExtension("pg_class", "i.indrelid")}
  UNION ALL SELECT 'policy', pol.polrelid::regclass::text || '.' || pol.polname,
      pol.polpermissive || ' ' || pol.polcmd::text || ' ' || coalesce((SELECT string_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END, ',' ORDER BY 1) FROM unnest(pol.polroles) r), '')
        || ' ' || coalesce(pg_get_expr(pol.polqual, pol.polrelid), '') || ' ' || coalesce(pg_get_expr(pol.polwithcheck, pol.polrelid), ''), ''
    FROM pg_policy pol
  UNION ALL SELECT 'type', t.oid::regtype::text,
      t.typtype::text || ' ' || format_type(t.typbasetype, t.typtypmod) || ' ' || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), ''),
      ${access("t.typowner", "t.typacl")}
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd') AND ${userSchema("n.nspname")} AND ${notExtension("pg_type", "t.oid")}
  UNION ALL SELECT 'large object', l.oid::text, md5(lo_get(l.oid)), ${access("l.lomowner", "l.lomacl")}
    FROM pg_largeobject_metadata l
)
SELECT coalesce(jsonb_agg(jsonb_build_object('kind', kind, 'name', name, 'definition', md5(definition), 'access', md5(access)) ORDER BY kind, name), '[]')
FROM objects)`;

/**
 * Row counts and content digests of every user table, sequences, large objects and schema objects. The
 * rows are hashed with `digest`: a restore passes the function its manifest names; a backup passes
 * none and gets the cheapest the server offers (recorded as `tableDigest`).
 */
export const contentSql = (digest?: TableDigest): string => {
    if (digest !== undefined && !TABLE_DIGESTS.includes(digest))
        throw new OperationError(
            `the manifest names an unknown table digest "${String(digest)}": a newer runner wrote it`,
        );
    const digestSql = digest === undefined ? newestDigest : `'${digest}'`;
    return `${FIXED_SETTINGS}
SELECT jsonb_build_object(
  'database', current_database(),
  'serverVersion', current_setting('server_version'),
  'encoding', pg_encoding_to_char((SELECT encoding FROM pg_database WHERE datname = current_database())),
  'tableDigest', ${digestSql},
  'tables', ${tables(digestSql)},
  'sequences', '[]'::jsonb,
  'largeObjects', (SELECT count(*) FROM pg_largeobject_metadata),
  'objects', ${OBJECTS},
  'bytes', pg_database_size(current_database())
)`;
};

const majorVersion = (version: string): string => version.split(/[.\s]/)[0];

function compareSequences(expected: readonly SequenceContent[], actual: readonly SequenceContent[]): string[] {
    const problems: string[] = [];
    const values = new Map(actual.map((s) => [`${s.schema}.${s.sequence}`, s.lastValue]));
    for (const s of expected) {
        const name = `${s.schema}.${s.sequence}`;
        if (!values.has(name)) {
            problems.push(`sequence ${name} missing`);
            continue;
        }
        if (s.lastValueBefore === undefined) continue;
        const got = values.get(name) === null ? null : Number(values.get(name));
        const [low, high] = [s.lastValueBefore, s.lastValue].map((v) => (v === null ? null : Number(v)));
        const inRange = got === null ? low === null : (low === null || got >= low) && high !== null && got <= high;
        if (!inRange) problems.push(`sequence ${name} is at ${got}, expected ${low === high ? low : `${low}…${high}`}`);
    }
    return problems;
}

function compareObjects(
    expected: readonly SchemaObject[],
    actual: readonly SchemaObject[],
    options: { definitions: boolean; access: boolean },
): string[] {
    const problems: string[] = [];
    const restored = new Map(actual.map((o) => [`${o.kind} ${o.name}`, o]));
    for (const o of expected) {
        const got = restored.get(`${o.kind} ${o.name}`);
        if (!got) problems.push(`${o.kind} ${o.name} missing`);
        else if (options.definitions && got.definition !== o.definition)
            problems.push(`${o.kind} ${o.name}: definition differs`);
        else if (options.access && got.access !== o.access)
            problems.push(`${o.kind} ${o.name}: owner or privileges differ`);
    }
    return problems;
}

/**
 * Differences between a restored database and the manifest, tables first (in name order, so the first
 * problem is the first table that differs); empty = the restore is complete. `access: false` when
 * the restore skipped ownership and privileges. Definitions are compared between equal major versions
 * only (the server renders them).
 */
export function compareContent(
    expected: DatabaseContent,
    actual: DatabaseContent,
    options: { access: boolean } = { access: true },
): string[] {
    const problems: string[] = [];
    const tables = new Map(actual.tables.map((t) => [`${t.schema}.${t.table}`, t]));
    const sameDigest = (expected.tableDigest ?? "md5") === (actual.tableDigest ?? "md5");
    if (!sameDigest)
        problems.push(
            `table digests computed differently (${expected.tableDigest ?? "md5"}, ${actual.tableDigest ?? "md5"})`,
        );
    for (const t of expected.tables) {
        const name = `${t.schema}.${t.table}`;
        const got = tables.get(name);
        if (got === undefined) problems.push(`table ${name} missing`);
        else if (Number(got.rows) !== Number(t.rows))
            problems.push(`table ${name}: ${got.rows} rows, expected ${t.rows}`);
        else if (t.digest !== undefined && got.digest !== t.digest)
            problems.push(`table ${name}: content differs (same ${t.rows} rows, different values)`);
    }
    problems.push(...compareSequences(expected.sequences, actual.sequences));
    if (Number(actual.largeObjects) !== Number(expected.largeObjects))
        problems.push(`${actual.largeObjects} large objects, expected ${expected.largeObjects}`);
    if (expected.objects && actual.objects) {
        const definitions = majorVersion(expected.serverVersion) === majorVersion(actual.serverVersion);
        problems.push(...compareObjects(expected.objects, actual.objects, { definitions, access: options.access }));
    }
    return problems;
}
