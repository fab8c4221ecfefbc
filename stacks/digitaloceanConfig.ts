/**
 * The staging stack's DigitalOcean and NAS backup settings (§2.5.1.2), checked by stacks/config.ts
 * before anything is created. Each problem names the key as written in Pulumi.staging.yaml, the value
 * and what is allowed; secrets are never echoed.
 */
import { allowedDigitalOceanRegions, backupPolicy } from "../components/policy";
import { minimumPostgresMajorVersion, runnerPgDumpMajorVersion } from "../components/postgresVersions";
import {
    kubePrometheusStack,
    MaintenanceDay,
    maintenanceDays,
    maintenanceWindowHours,
    nasBackupNamespace,
    nfsMinimumSizeGiB,
    nfsPerformanceTiers,
} from "../components/digitalocean/settings";
import { jobsOverlappingMaintenance, nasJobsToAvoid } from "../components/digitalocean/maintenance";
import type { AlertReceiver } from "../components/digitalocean/monitoring";

export interface DigitalOceanSettings {
    readonly region: string;
    /** Names the VPC, the DOKS and database clusters and the project; prefix of the shares. */
    readonly name: string;
    readonly vpc: { readonly ipRange: string };
    readonly kubernetes: {
        readonly versionPrefix: string;
        readonly ha: boolean;
        readonly nodePool: { readonly name: string; readonly size: string; readonly nodeCount: number };
    };
    /** Weekly maintenance window of the DOKS cluster and the database, UTC. */
    readonly maintenance: { readonly day: MaintenanceDay; readonly startTime: string };
    readonly postgres: { readonly version: string; readonly size: string; readonly nodeCount: number };
    readonly fileStorage: {
        /** Size and tier of each managed Network File Storage share; absent when every file resource is an existing claim. */
        readonly share?: { readonly sizeGiB: number; readonly performanceTier: string };
        /** File resources (by their name in `shares`) held in an existing claim instead of a managed share. */
        readonly existingClaims: Readonly<Record<string, ExistingClaim>>;
    };
    readonly monitoring:
        | {
              readonly install: true;
              readonly chartVersion: string;
              readonly alertReceiver: AlertReceiver;
              readonly ruleLabels?: undefined;
          }
        | {
              readonly install: false;
              readonly chartVersion: string;
              readonly alertReceiver?: undefined;
              readonly ruleLabels: Readonly<Record<string, string>>;
          };
}

/** An existing PersistentVolumeClaim holding a file resource (in the NAS backup namespace). */
export interface ExistingClaim {
    readonly namespace: string;
    readonly claimName: string;
}

interface NasEndpointSettings {
    readonly repositoryBase: string;
    readonly user: string;
    /** Secret (a `secure:` config value). */
    readonly password: string;
}

export interface NasBackupSettings {
    readonly image: string;
    readonly scratchPostgresImage: string;
    /** "HH:MM" Europe/Berlin. */
    readonly dailyBackupTime: string;
    readonly nas: {
        readonly appendOnly: NasEndpointSettings;
        readonly maintenance: NasEndpointSettings;
        readonly caCertificate?: string;
        readonly cidrs: readonly string[];
    };
}

/** PostgreSQL majors a staging cluster may run: new enough, and dumpable by the NAS runner. */
export const digitalOceanPostgresVersions: readonly string[] = Array.from(
    { length: runnerPgDumpMajorVersion - minimumPostgresMajorVersion + 1 },
    (_, index) => String(minimumPostgresMajorVersion + index),
);

type Report = (key: string, value: unknown, message: string) => void;

function show(value: unknown): string {
    if (typeof value === "string") {
        return /^[\w.\-/:]+$/.test(value) ? value : JSON.stringify(value);
    }
    return JSON.stringify(value) ?? String(value);
}

/** Reads values below one key, reporting what is wrong; `ok` stays true only if nothing was. */
class Reader {
    ok = true;
    constructor(
        private readonly report: Report,
        private readonly root: Readonly<Record<string, unknown>>,
    ) {}

    private fail(key: string, value: unknown, message: string): undefined {
        this.ok = false;
        this.report(key, value, message);
        return undefined;
    }

    value(key: string): unknown {
        return key.split(".").reduce<unknown>((node, part) => (isRecord(node) ? node[part] : undefined), this.root);
    }

    /** An object with exactly these keys (unknown keys are typos). */
    section(key: string, known: readonly string[], optional = false): boolean {
        const value = this.value(key);
        if (value === undefined && optional) return false;
        if (!isRecord(value)) {
            const what = `an object with ${known.join(", ")}`;
            this.fail(
                key,
                value,
                value === undefined ? `is missing; required: ${what}` : `${show(value)} is not valid; expected ${what}`,
            );
            return false;
        }
        for (const name of Object.keys(value).filter((name) => !known.includes(name))) {
            this.fail(
                `${key}.${name}`,
                value[name],
                `is not a known setting; known settings of ${key}: ${known.join(", ")}`,
            );
        }
        return true;
    }

    oneOf<T extends string | number | boolean>(key: string, allowed: readonly T[], note = ""): T | undefined {
        const value = this.value(key);
        if (allowed.includes(value as T)) return value as T;
        const list = `${allowed.map(show).join(", ")}${note}`;
        return this.fail(
            key,
            value,
            value === undefined ? `is missing; allowed: ${list}` : `${show(value)} is not allowed; allowed: ${list}`,
        );
    }

    matches(key: string, rule: RegExp, expected: string, secret = false): string | undefined {
        const value = this.value(key);
        if (typeof value === "string" && rule.test(value)) return value;
        if (value === undefined) return this.fail(key, value, `is missing; required: ${expected}`);
        return this.fail(
            key,
            secret ? "[secret]" : value,
            `${secret ? "the value" : show(value)} is not valid; allowed: ${expected}`,
        );
    }

    wholeNumber(key: string, min: number, max: number): number | undefined {
        const value = this.value(key);
        if (Number.isInteger(value) && (value as number) >= min && (value as number) <= max) return value as number;
        const allowed = `a whole number from ${min} to ${max}`;
        return this.fail(
            key,
            value,
            value === undefined
                ? `is missing; required: ${allowed}`
                : `${show(value)} is not valid; allowed: ${allowed}`,
        );
    }

    check(key: string, value: unknown, problem: string | undefined): void {
        if (problem !== undefined) this.fail(key, value, problem);
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

const time = /^([01]\d|2[0-3]):[0-5]\d$/;
const timeText = 'a time of day "HH:MM" (24 hours)';
const digest = /^[a-z0-9][^\s@]*@sha256:[0-9a-f]{64}$/;
const cidr = /^(\d{1,3}\.){3}\d{1,3}\/([0-9]|[12]\d|3[0-2])$/;
const regionNote = ` (Data Backup Policy ${backupPolicy.version.value} ${backupPolicy.regions.digitalocean.clause}: ${backupPolicy.regions.digitalocean.text})`;

function readMonitoring(r: Reader): DigitalOceanSettings["monitoring"] | undefined {
    const key = "digitalocean.monitoring";
    if (!r.section(key, ["install", "chartVersion", "alertReceiver", "ruleLabels"])) return undefined;
    const install = r.oneOf(`${key}.install`, [true, false]);
    const chartVersion =
        r.value(`${key}.chartVersion`) === undefined
            ? kubePrometheusStack.version
            : r.matches(
                  `${key}.chartVersion`,
                  /^\d+\.\d+\.\d+$/,
                  `an exact chart version such as ${kubePrometheusStack.version}`,
              );
    if (install === false) {
        const labels = r.value(`${key}.ruleLabels`);
        const valid =
            isRecord(labels) &&
            Object.values(labels).every((v) => typeof v === "string") &&
            Object.keys(labels).length > 0;
        r.check(
            `${key}.ruleLabels`,
            labels,
            valid
                ? undefined
                : "is required when install is false: the labels the cluster's Prometheus loads PrometheusRules by, e.g. {release: kube-prometheus-stack}",
        );
        return valid && chartVersion
            ? { install, chartVersion, ruleLabels: labels as Record<string, string> }
            : undefined;
    }
    const receiver = `${key}.alertReceiver`;
    if (!r.section(receiver, ["kind", "to", "from", "smarthost", "username", "password", "url"])) return undefined;
    const kind = r.oneOf(`${receiver}.kind`, ["email", "webhook"] as const);
    let alertReceiver: AlertReceiver | undefined;
    if (kind === "webhook") {
        const url = r.matches(
            `${receiver}.url`,
            /^https:\/\/\S+$/,
            "an https:// URL (set it with pulumi config set --secret)",
            true,
        );
        alertReceiver = url === undefined ? undefined : { kind, url };
    } else if (kind === "email") {
        const address = /^[^@\s]+@[^@\s]+$/;
        const to = r.matches(`${receiver}.to`, address, "an e-mail address");
        const from = r.matches(`${receiver}.from`, address, "an e-mail address");
        const smarthost = r.matches(`${receiver}.smarthost`, /^[A-Za-z0-9.-]+:\d+$/, '"host:port" of the SMTP server');
        const username = r.value(`${receiver}.username`) as string | undefined;
        const password = r.value(`${receiver}.password`) as string | undefined;
        alertReceiver = to && from && smarthost ? { kind, to, from, smarthost, username, password } : undefined;
    }
    return install && chartVersion && alertReceiver ? { install, chartVersion, alertReceiver } : undefined;
}

/** A PersistentVolumeClaim name (DNS-1123 subdomain). */
const claimNameRule = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * `fileStorage.existingClaims`: per file resource of `shares`, an existing claim instead of a managed
 * share. The claim must be in the NAS backup namespace (a pod mounts only claims of its own namespace),
 * must not be a claim the stack creates for a managed share, and serves one file resource only.
 */
function readExistingClaims(
    r: Reader,
    key: string,
    shares: readonly string[],
): Record<string, ExistingClaim> | undefined {
    const value = r.value(key);
    if (value === undefined) return {};
    if (!isRecord(value)) {
        r.check(key, value, `${show(value)} is not valid; expected an object: <file resource>: {namespace, claimName}`);
        return undefined;
    }
    const claims: Record<string, ExistingClaim> = {};
    const owners = new Map<string, string>();
    for (const resource of Object.keys(value)) {
        const at = `${key}.${resource}`;
        if (!shares.includes(resource)) {
            r.check(
                at,
                value[resource],
                `is not a file resource of this stack; allowed: one of shares (${shares.join(", ")})`,
            );
            continue;
        }
        if (!r.section(at, ["namespace", "claimName"])) continue;
        const namespace = r.oneOf(
            `${at}.namespace`,
            [nasBackupNamespace],
            " (the NAS backup pods run there, and a pod can mount only claims of its own namespace)",
        );
        const claimName = r.matches(
            `${at}.claimName`,
            claimNameRule,
            "a PersistentVolumeClaim name: at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
        );
        if (namespace === undefined || claimName === undefined) continue;
        const managedShare = shares.find((share) => share === claimName && !(share in value));
        const owner = owners.get(claimName);
        r.check(
            `${at}.claimName`,
            claimName,
            managedShare !== undefined
                ? `${show(claimName)} is the claim this stack creates for the managed share ${managedShare}; allowed: another claim name`
                : owner !== undefined
                  ? `${show(claimName)} is already the claim of file resource ${owner}; each file resource needs its own claim`
                  : undefined,
        );
        owners.set(claimName, resource);
        claims[resource] = { namespace, claimName };
    }
    return claims;
}

/** `fileStorage`: the managed shares' size and tier (required while any file resource is managed), the existing claims. */
function readFileStorage(r: Reader): DigitalOceanSettings["fileStorage"] | undefined {
    const key = "digitalocean.fileStorage";
    if (!r.section(key, ["sizeGiB", "performanceTier", "existingClaims"])) return undefined;
    const rawShares = r.value("shares");
    const shares = Array.isArray(rawShares) ? rawShares.filter((share) => typeof share === "string") : [];
    const existingClaims = readExistingClaims(r, `${key}.existingClaims`, shares);
    const managed = shares.some((share) => existingClaims === undefined || !(share in existingClaims));
    const unset = r.value(`${key}.sizeGiB`) === undefined && r.value(`${key}.performanceTier`) === undefined;
    if (!managed && unset) return existingClaims && { existingClaims };
    const sizeGiB = r.wholeNumber(`${key}.sizeGiB`, nfsMinimumSizeGiB, 16 * 1024);
    const performanceTier = r.oneOf(`${key}.performanceTier`, nfsPerformanceTiers);
    if (existingClaims === undefined || sizeGiB === undefined || performanceTier === undefined) return undefined;
    return { share: { sizeGiB, performanceTier }, existingClaims };
}

/** The DOKS cluster: its version line, control-plane HA and node pool. */
function readKubernetes(r: Reader) {
    const d = "digitalocean";
    r.section(`${d}.kubernetes`, ["versionPrefix", "ha", "nodePool"]);
    const versionPrefix = r.matches(
        `${d}.kubernetes.versionPrefix`,
        /^1\.\d{2}\.$/,
        'a Kubernetes minor version prefix such as "1.33." (the newest DOKS release of it is used; an exact version would plan a replacement after forced upgrades)',
    );
    const ha = r.oneOf(
        `${d}.kubernetes.ha`,
        [true, false],
        " (set explicitly: DOKS turns it on by default from 1.36, and it cannot be turned off)",
    );
    r.section(`${d}.kubernetes.nodePool`, ["name", "size", "nodeCount"]);
    const poolName = r.matches(
        `${d}.kubernetes.nodePool.name`,
        /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/,
        "a node pool name: lower-case letters, digits and hyphens",
    );
    const size = r.matches(
        `${d}.kubernetes.nodePool.size`,
        /^[a-z0-9-]+$/,
        "a Droplet size slug such as s-2vcpu-4gb (changing it replaces the cluster)",
    );
    const nodeCount = r.wholeNumber(`${d}.kubernetes.nodePool.nodeCount`, 1, 100);
    return { versionPrefix, ha, poolName, size, nodeCount };
}

/** The managed PostgreSQL cluster: its major version (bounded by the runner's pg_dump), size and nodes. */
function readPostgres(r: Reader) {
    const d = "digitalocean";
    r.section(`${d}.postgres`, ["version", "size", "nodeCount"]);
    const rawVersion = r.value(`${d}.postgres.version`);
    const version = typeof rawVersion === "number" ? String(rawVersion) : rawVersion;
    const pgVersion = digitalOceanPostgresVersions.includes(version as string) ? (version as string) : undefined;
    r.check(
        `${d}.postgres.version`,
        rawVersion,
        pgVersion
            ? undefined
            : `${rawVersion === undefined ? "is missing" : `${show(rawVersion)} is not allowed`}; allowed: ${digitalOceanPostgresVersions.join(", ")} (at least ${minimumPostgresMajorVersion}, at most the NAS runner's pg_dump ${runnerPgDumpMajorVersion})`,
    );
    const pgSize = r.matches(`${d}.postgres.size`, /^db-[a-z0-9-]+$/, "a database size slug such as db-s-1vcpu-2gb");
    const pgNodes = r.oneOf(`${d}.postgres.nodeCount`, [1, 2, 3]);
    return { pgVersion, pgSize, pgNodes };
}

function readDigitalOcean(r: Reader): DigitalOceanSettings | undefined {
    const d = "digitalocean";
    const known = ["region", "name", "vpc", "kubernetes", "maintenance", "postgres", "fileStorage", "monitoring"];
    if (!r.section(d, known)) return undefined;
    const region = r.oneOf(`${d}.region`, allowedDigitalOceanRegions, regionNote);
    const name = r.matches(
        `${d}.name`,
        /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/,
        "3–40 lower-case letters, digits and hyphens, starting with a letter (names the VPC, clusters, project and shares)",
    );
    const vpc = r.section(`${d}.vpc`, ["ipRange"])
        ? r.matches(`${d}.vpc.ipRange`, cidr, "an IPv4 address range in CIDR notation such as 10.110.0.0/20")
        : undefined;
    const { versionPrefix, ha, poolName, size, nodeCount } = readKubernetes(r);
    r.section(`${d}.maintenance`, ["day", "startTime"]);
    const day = r.oneOf(`${d}.maintenance.day`, maintenanceDays);
    const startTime = r.matches(`${d}.maintenance.startTime`, time, `${timeText}, UTC`);
    const { pgVersion, pgSize, pgNodes } = readPostgres(r);
    const fileStorage = readFileStorage(r);
    const monitoring = readMonitoring(r);
    const parts = [
        region,
        name,
        vpc,
        versionPrefix,
        ha,
        poolName,
        size,
        nodeCount,
        day,
        startTime,
        pgVersion,
        pgSize,
        pgNodes,
        fileStorage,
        monitoring,
    ];
    if (parts.some((part) => part === undefined)) return undefined;
    return {
        region: region as string,
        name: name as string,
        vpc: { ipRange: vpc as string },
        kubernetes: {
            versionPrefix: versionPrefix as string,
            ha: ha as boolean,
            nodePool: { name: poolName as string, size: size as string, nodeCount: nodeCount as number },
        },
        maintenance: { day: day as MaintenanceDay, startTime: startTime as string },
        postgres: { version: pgVersion as string, size: pgSize as string, nodeCount: pgNodes as number },
        fileStorage: fileStorage as DigitalOceanSettings["fileStorage"],
        monitoring: monitoring as DigitalOceanSettings["monitoring"],
    };
}

function readEndpoint(r: Reader, key: string): NasEndpointSettings | undefined {
    if (!r.section(key, ["repositoryBase", "user", "password"])) return undefined;
    const repositoryBase = r.matches(
        `${key}.repositoryBase`,
        /^rest:https:\/\/[^@\s/]+(\/\S*)?$/,
        'a restic REST URL over https without credentials, such as "rest:https://nas.example:8000/staging/"',
    );
    const user = r.matches(`${key}.user`, /^[A-Za-z0-9._-]+$/, "a user name");
    // Written `secure:` in the file; the Pulumi CLI hands the program the decrypted text.
    const encrypted = r.value(`${key}.password`);
    const password =
        isRecord(encrypted) && typeof encrypted.secure === "string"
            ? String(encrypted.secure)
            : r.matches(
                  `${key}.password`,
                  /^.+$/s,
                  "a secret: pulumi config set --secret --path '<key>' <value>",
                  true,
              );
    return repositoryBase && user && password ? { repositoryBase, user, password } : undefined;
}

function readNasBackup(r: Reader): NasBackupSettings | undefined {
    const n = "nasBackup";
    if (!r.section(n, ["image", "scratchPostgresImage", "dailyBackupTime", "nas"])) return undefined;
    const image = r.matches(
        `${n}.image`,
        digest,
        "the runner image pinned by digest: <registry>/<name>@sha256:<64 hex>",
    );
    const scratchPostgresImage = r.matches(
        `${n}.scratchPostgresImage`,
        digest,
        "the postgres image pinned by digest: <registry>/<name>@sha256:<64 hex>",
    );
    const dailyBackupTime = r.matches(
        `${n}.dailyBackupTime`,
        /^([01][013-9]|2[0-3]):[0-5]\d$/,
        `${timeText} in ${backupPolicy.nas.timeZone.value}, outside 02:00–02:59 (skipped or repeated on DST changes)`,
    );
    if (!r.section(`${n}.nas`, ["appendOnly", "maintenance", "caCertificate", "cidrs"])) return undefined;
    const appendOnly = readEndpoint(r, `${n}.nas.appendOnly`);
    const maintenance = readEndpoint(r, `${n}.nas.maintenance`);
    const caCertificate = r.value(`${n}.nas.caCertificate`);
    r.check(
        `${n}.nas.caCertificate`,
        caCertificate,
        caCertificate === undefined ||
            (typeof caCertificate === "string" && caCertificate.includes("BEGIN CERTIFICATE"))
            ? undefined
            : "is not valid; allowed: a PEM certificate",
    );
    const cidrs = r.value(`${n}.nas.cidrs`);
    const cidrsOk =
        Array.isArray(cidrs) && cidrs.length > 0 && cidrs.every((c) => typeof c === "string" && cidr.test(c));
    r.check(
        `${n}.nas.cidrs`,
        cidrs,
        cidrsOk
            ? undefined
            : `${show(cidrs)} is not valid; allowed: a list of the NAS's address ranges (CIDR) such as [203.0.113.10/32]`,
    );
    if (!image || !scratchPostgresImage || !dailyBackupTime || !appendOnly || !maintenance || !cidrsOk)
        return undefined;
    return {
        image,
        scratchPostgresImage,
        dailyBackupTime,
        nas: { appendOnly, maintenance, caCertificate: caCertificate as string | undefined, cidrs: cidrs as string[] },
    };
}

/**
 * Reads and checks `digitalocean` and `nasBackup` of a staging stack, and that the maintenance window
 * (UTC) misses every NAS backup, prune and drill run (Europe/Berlin). Problems go to `report`.
 */
export function readDigitalOceanStaging(
    raw: Readonly<Record<string, unknown>>,
    report: Report,
): { digitalocean: DigitalOceanSettings; nasBackup: NasBackupSettings } | undefined {
    const r = new Reader(report, raw);
    const digitalocean = readDigitalOcean(r);
    const nasBackup = readNasBackup(r);
    if (!digitalocean || !nasBackup || !r.ok) return undefined;
    const overlapping = jobsOverlappingMaintenance(
        digitalocean.maintenance.startTime,
        nasJobsToAvoid(nasBackup.dailyBackupTime),
    );
    if (overlapping.length > 0) {
        report(
            "digitalocean.maintenance.startTime",
            digitalocean.maintenance.startTime,
            `${show(digitalocean.maintenance.startTime)} UTC overlaps ${overlapping.map((job) => job.label).join(", ")} ` +
                `(the window lasts ${maintenanceWindowHours} hours; Europe/Berlin is UTC+1 or UTC+2); allowed: a start whose window misses every NAS backup, prune and drill run`,
        );
        return undefined;
    }
    return { digitalocean, nasBackup };
}
