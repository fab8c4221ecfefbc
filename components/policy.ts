/**
 * Data Backup Policy v1.2.0 ("Data Backup Policy – Digital Automotive", IT Manufactory GmbH,
 * 23.05.2025): the single source of the policy's values.
 *
 * Every number, region, schedule and anchor the policy states lives here exactly once, next to the
 * clause that demands it. Components, stack config validation, the policy pack, the offline
 * compliance check and the NAS backup runner read these values; none of them types a policy value
 * again. When the policy changes, this file (and the version below) changes, and the tests and the
 * pack follow.
 *
 * The source texts are in ../shared/policy-documents/ (English and German editions).
 */

/** A value the policy demands, with the clause that demands it and the words it uses. */
export interface Requirement<T> {
    readonly value: T;
    /** Clause of the Data Backup Policy v1.2.0, e.g. "§2.5.1.1". */
    readonly clause: string;
    /** What the policy says, briefly, in its own terms. */
    readonly text: string;
}

function requirement<const T>(value: T, clause: string, text: string): Requirement<T> {
    return Object.freeze({ value, clause, text });
}

/** Day of the week, as Azure Backup and the policy name it. */
export type Weekday = "Sunday" | "Monday" | "Tuesday" | "Wednesday" | "Thursday" | "Friday" | "Saturday";

/** Week of the month, as Azure Backup names it. */
export type WeekOfMonth = "First" | "Second" | "Third" | "Fourth" | "Last";

export const backupPolicy = Object.freeze({
    /** Version of the policy document this repository implements. */
    version: requirement("1.2.0", "Version history", "Data Backup Policy v1.2.0 of 23.05.2025"),

    /**
     * Which platform runs which environment: production and trial on Microsoft Azure (§2.5.1.1),
     * staging on DigitalOcean (§2.5.1.2).
     */
    environments: requirement(
        Object.freeze({ prod: "azure", trial: "azure", staging: "digitalocean" } as const),
        "§2.5.1.1, §2.5.1.2",
        "Production and trial systems are provided on Microsoft Azure, staging systems on DigitalOcean",
    ),

    regions: Object.freeze({
        /** Production and trial run on Azure; "if not stated differently the hosting location is North Europe". */
        azure: requirement("northeurope", "§2.5.1.1", "Production/trial systems are hosted in Azure North Europe"),
        /** Staging runs on DigitalOcean; "if not stated differently the hosting location is FRA1". */
        digitalocean: requirement("fra1", "§2.5.1.2", "Staging systems are hosted on DigitalOcean FRA1"),
    }),

    /** Azure Database for PostgreSQL – Flexible Server (prod/trial). */
    database: Object.freeze({
        schedule: requirement("daily", "§2.5.1.1", "Automated full backups of the databases are performed daily"),
        retentionDays: requirement(30, "§2.5.1.1", "Database backups are retained for 30 days"),
        geoRedundant: requirement(true, "§2.5.1.1", "Database backups are stored geo redundantly"),
    }),

    /** Azure Storage Account – File shares ("Documents & Images", prod/trial). */
    fileShares: Object.freeze({
        schedule: requirement("daily", "§2.5.1.1", "Automated full backups of the file share are performed daily"),
        dailyRetentionDays: requirement(30, "§2.5.1.1", "The daily backups are retained for 30 days"),
        monthlyAnchor: requirement(
            Object.freeze({ weekOfMonth: "First", dayOfWeek: "Sunday" }),
            "§2.5.1.1",
            "A monthly backup from the 1st Sunday of each month",
        ),
        monthlyRetentionMonths: requirement(6, "§2.5.1.1", "The monthly backup is kept for 6 months"),
        geoRedundant: requirement(true, "§2.5.1.1", "All backups are stored geo redundantly"),
    }),

    /**
     * The file resources the policy names ("Documents & Images"); on prod/trial they are Azure file
     * shares, on staging file resources of the staging platform. Each is backed up.
     */
    fileResources: requirement(
        Object.freeze(["documents", "images"] as const),
        "§2.5.1.1, §2.5.1.2",
        "Documents & Images: all file resources are backed up",
    ),

    /**
     * The self-hosted NAS: daily full backups of every database and every file resource, in addition
     * to the cloud backups on prod/trial (§2.5.1.1) and as the only backup on staging (§2.5.1.2).
     */
    nas: Object.freeze({
        schedule: requirement(
            "daily",
            "§2.5.1.1, §2.5.1.2",
            "Daily full backups of all databases and file resources on the NAS",
        ),
        dailyRetentionDays: requirement(
            30,
            "§2.5.1.1, §2.5.1.2",
            "The daily backups are retained for 30 days before being automatically deleted",
        ),
        /** Day of the month whose backup becomes the monthly one. */
        monthlyAnchorDayOfMonth: requirement(1, "§2.5.1.1, §2.5.1.2", "A monthly backup from the 1st of each month"),
        /** Minimum: the policy says "at least 6 months". */
        monthlyRetentionMonths: requirement(
            6,
            "§2.5.1.1, §2.5.1.2",
            "The monthly backup is kept for at least 6 months",
        ),
        /** Calendar in which "daily", "the 1st of each month" and "months" are counted (the company's, CET/CEST). */
        timeZone: requirement("Europe/Berlin", "§2.13.1", "Times are CET/CEST"),
        /**
         * "Daily full backups of all databases": every database server must be one the NAS backup's
         * pg_dump can read (it refuses servers of a newer major version).
         */
        allDatabasesDumpable: requirement(
            true,
            "§2.5.1.1, §2.5.1.2",
            "Daily full backups of all databases are created on the NAS (every server can be dumped)",
        ),
        encrypted: requirement(
            true,
            "§2.5.1.1, §2.5.1.2, §2.9",
            "The backups are encrypted to protect against unauthorized access",
        ),
    }),

    /** §2.8/§2.13.2: the last backup is always less than 24 hours old. */
    rpoHours: requirement(
        24,
        "§2.13.2, §2.8",
        "Maximum data loss is 24 hours: the last backup is always less than 24 hours ago",
    ),
    /** §2.13.1: services restored within 4 hours (failure noticed during working hours). */
    rtoHours: requirement(
        4,
        "§2.13.1",
        "Services are restored within 4 hours if the failure is noticed during working hours",
    ),
    workingHours: requirement(
        Object.freeze({
            days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"] as readonly Weekday[],
            from: "08:00",
            to: "17:00",
            timeZone: "Europe/Berlin",
        }),
        "§2.13.1",
        "Working hours are Monday to Friday, 8:00 AM to 5:00 PM CET/CEST (excluding national holidays)",
    ),

    /** §2.12: customer data is deleted, also from backups, within one week of the request. */
    deletionRequestDays: requirement(7, "§2.12", "Data deletion is performed within one week of being notified"),

    /** §2.14: side services get the same backup policy as the main service. These are the ones it names. */
    sideServices: requirement(
        Object.freeze(["auth", "messaging"] as const),
        "§2.14",
        "All side services, including the authentication and the messaging service, are subject to the same backup policies",
    ),

    /** §2.9: backups stored encrypted; transport encrypted. */
    encryption: Object.freeze({
        atRest: requirement(true, "§2.9", "The created backups are stored on an encrypted location"),
        /** Minimum TLS for database connections (reference TOMs: TLS 1.3). */
        databaseMinTls: requirement("TLSv1.3", "§2.9", "Backup data in transit is encrypted (TOMs reference: TLS 1.3)"),
        /** Azure Storage cannot enforce TLS 1.3 as a minimum yet; TLS 1.2 is the strongest minimum it accepts. */
        storageMinTls: requirement(
            "TLS1_2",
            "§2.9",
            "Backup data in transit is encrypted (strongest minimum Azure Storage enforces)",
        ),
    }),

    /**
     * Protection of the data, the systems holding it and its backups. The policy states these without a
     * number; the policy pack and the offline check cite them.
     */
    protection: Object.freeze({
        /** §2.5: backups exist to minimise loss by accidental deletion: stateful resources and backups are deletion-protected. */
        againstDeletion: requirement(
            true,
            "§2.5",
            "Data is backed up to minimize the loss of data due to accidental deletion",
        ),
        /** §2.3, §2.9: backups are kept in a secure location under the company's control (immutable vault). */
        secureLocation: requirement(
            true,
            "§2.3, §2.9",
            "Backups are kept in a secure, encrypted location which is under the control of IT Manufactory GmbH",
        ),
        /** §2.6: only authorized personnel reach the systems for data backup purposes (no public network access). */
        accessRestricted: requirement(
            true,
            "§2.6",
            "Only authorized personnel are allowed to access the systems for data backup purposes",
        ),
    }),

    /** §2.10: integrity checks and restore tests (reference TOMs: restore tests at least quarterly). */
    review: Object.freeze({
        integrityCheck: requirement(
            "daily",
            "§2.10",
            "All backups are regularly checked for integrity and completeness",
        ),
        restoreTestMaxIntervalDays: requirement(
            92,
            "§2.10",
            "Regular restore tests (TOMs reference: at least quarterly)",
        ),
    }),

    /** §2.15: backup events logged and visible; logs deleted after a documented period. */
    logging: Object.freeze({
        /** Backup events reach the people responsible: failed backups raise alerts that are routed to a receiver. */
        backupEventsVisible: requirement(
            true,
            "§2.15",
            "Logging of backups and all types of data backups are visible at any time as far as possible",
        ),
        retentionDays: requirement(
            90,
            "§2.15",
            "Logs are deleted after the expiration of reasonable and documented periods of time",
        ),
    }),
});

export type BackupPolicy = typeof backupPolicy;

/** The Azure regions the policy allows for prod/trial (one today: North Europe). */
export const allowedAzureLocations: readonly string[] = [backupPolicy.regions.azure.value];
/** The DigitalOcean regions the policy allows for staging (one today: FRA1). */
export const allowedDigitalOceanRegions: readonly string[] = [backupPolicy.regions.digitalocean.value];
