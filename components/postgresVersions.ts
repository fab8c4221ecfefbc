/**
 * Which PostgreSQL major versions this repository deploys, on every platform. Not policy values:
 * the policy does not name a version; these follow from support lifetimes and from the NAS backup
 * runner's image (runner/Dockerfile), which must be able to dump every server.
 */

/**
 * Oldest PostgreSQL major version this repository deploys: older majors run out of community
 * support during the life of the servers created now, and in-place major upgrades of a server
 * holding backups are an operation we want to avoid.
 */
export const minimumPostgresMajorVersion = 16;

/**
 * Major version of the `pg_dump` in the runner image (Dockerfile `ARG PG_MAJOR`;
 * test/digitalocean/postgresVersions.test.ts fails when the two disagree). pg_dump refuses to dump a
 * server of a newer major version ("aborting because of server version mismatch"), so every
 * PostgreSQL server the NAS backs up runs this major or an older one. A server's major upgrade
 * therefore starts with rebuilding the image with a newer PG_MAJOR and raising this value.
 */
export const runnerPgDumpMajorVersion = 16;
