/**
 * Run a stack of this project offline: no cloud, no Pulumi CLI, no state backend.
 *
 * `runStackOffline({ stack: "prod" })` reads Pulumi.prod.yaml, sets its configuration (secure values
 * become placeholders marked secret; nothing is decrypted), replaces the engine with Pulumi mocks
 * that answer like Azure would (ids shaped like Azure resource ids, server FQDNs, secret outputs),
 * runs the real program (stacks/program.ts, exactly what `pulumi up` runs) and returns every
 * resource the program registered: type token, name, URN, inputs, resource options (protect,
 * parent, dependsOn, provider, ignoreChanges, retainOnDelete, ...), which inputs are secret, and
 * the stack outputs.
 *
 * Used by the tests and by the offline compliance check. Pulumi's mocks are global to the process:
 * runs are serialised here, and test files must each run in their own process (vitest "forks").
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";

/** A stack's configuration file, Pulumi.<stack>.yaml. */
export interface StackFile {
    /** Project name from Pulumi.yaml (the default config namespace). */
    readonly project: string;
    readonly stack: string;
    readonly path: string;
    /** The `config:` map as written: fully qualified keys ("backup-policy:azure") to YAML values. */
    readonly config: Readonly<Record<string, unknown>>;
}

export interface OfflineRunOptions {
    /** Stack name: reads Pulumi.<stack>.yaml. */
    readonly stack: string;
    /** Directory holding Pulumi.yaml; defaults to this repository's root. */
    readonly projectDir?: string;
    /**
     * Configuration to use instead of the file's `config:` map (same shape: fully qualified keys,
     * YAML values, `{ secure: ... }` for secrets). Tests use it to try wrong values.
     */
    readonly config?: Readonly<Record<string, unknown>>;
    /** The Pulumi program; defaults to this project's program (stacks/program.ts with its config). */
    readonly program?: () => unknown;
}

/** Resource options as the program passed them (after parent inheritance where Pulumi applies it). */
export interface OfflineResourceOptions {
    /** Effective protect: the resource's own option, else inherited from its parent. */
    readonly protect: boolean;
    /** URN of the parent (the stack for top-level resources). */
    readonly parent?: string;
    /** URNs of explicit dependsOn resources. */
    readonly dependsOn: readonly string[];
    /** URN of an explicitly chosen provider resource (undefined: the default provider). */
    readonly provider?: string;
    readonly ignoreChanges: readonly string[];
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
    readonly replaceOnChanges: readonly string[];
    readonly additionalSecretOutputs: readonly string[];
}

/** One registered resource (the root pulumi:pulumi:Stack is not listed). */
export interface OfflineResource {
    /** Type token, e.g. "azure-native:dbforpostgresql:Server" or "backup-policy:azure:PostgresServer". */
    readonly type: string;
    /** Logical (Pulumi) name. */
    readonly name: string;
    readonly urn: string;
    /** false for component resources. */
    readonly custom: boolean;
    /** Mock id (Azure-shaped for azure-native resources); undefined for components. */
    readonly id?: string;
    /** Inputs as sent to the engine, secrets unwrapped (see secretInputs). Empty for components. */
    readonly inputs: Readonly<Record<string, unknown>>;
    /** Top-level input properties whose value is (or contains) a secret. */
    readonly secretInputs: readonly string[];
    /** Outputs the mocks returned (inputs plus id, name, FQDN, ...), secrets unwrapped. */
    readonly outputs: Readonly<Record<string, unknown>>;
    /** Top-level output properties that are secret. */
    readonly secretOutputs: readonly string[];
    readonly options: OfflineResourceOptions;
}

export type OfflineLogSeverity = "debug" | "info" | "warning" | "error";

export interface OfflineLogEntry {
    readonly severity: OfflineLogSeverity;
    readonly message: string;
}

export interface OfflineRun {
    readonly project: string;
    readonly stack: string;
    /** The runtime configuration the program saw (secure values as placeholders). */
    readonly config: Readonly<Record<string, string>>;
    /** Configuration keys that were `secure:` in the file. */
    readonly secretConfigKeys: readonly string[];
    /** Every registered resource in registration order, the root stack excluded. */
    readonly resources: readonly OfflineResource[];
    /** URN of the root pulumi:pulumi:Stack (parent of the top-level resources). */
    readonly stackUrn: string;
    /** Stack outputs, secrets unwrapped (see secretOutputs). Empty when the program failed. */
    readonly outputs: Readonly<Record<string, unknown>>;
    /** Names of stack outputs that are (or contain) secrets. */
    readonly secretOutputs: readonly string[];
    /** Messages the program logged with pulumi.log (warnings, errors, ...). */
    readonly log: readonly OfflineLogEntry[];
    /** The error that stopped the program, e.g. a ConfigError; undefined when it completed. */
    readonly error?: Error;
}

/** This repository's root: the nearest directory above this module with a Pulumi.yaml (also from dist/policy-pack/stacks). */
export function projectRoot(): string {
    let dir = path.resolve(__dirname, "..");
    while (!fs.existsSync(path.join(dir, "Pulumi.yaml")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return dir;
}

/** The placeholder a `secure:` config value becomes offline. Never the real (encrypted) value. */
export function secretPlaceholder(key: string): string {
    return `[secret placeholder: ${key}]`;
}

/** Reads Pulumi.yaml (project name) and Pulumi.<stack>.yaml (config). */
export function readStackFile(stack: string, projectDir: string = projectRoot()): StackFile {
    const projectFile = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: unknown };
    if (typeof projectFile?.name !== "string") {
        throw new Error(`${path.join(projectDir, "Pulumi.yaml")} has no project name`);
    }
    const stackPath = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const stackFile = (YAML.parse(fs.readFileSync(stackPath, "utf8")) ?? {}) as { config?: unknown };
    const config = stackFile.config ?? {};
    if (typeof config !== "object" || config === null || Array.isArray(config)) {
        throw new Error(`${stackPath}: "config" must be a map`);
    }
    return { project: projectFile.name, stack, path: stackPath, config: config as Record<string, unknown> };
}

/** The stack's resources of one type token. */
export function resourcesOfType(run: OfflineRun, type: string): OfflineResource[] {
    return run.resources.filter((resource) => resource.type === type);
}

/** Type token of the root stack resource. */
const rootStackType = "pulumi:pulumi:Stack";

let queue: Promise<unknown> = Promise.resolve();

/** Runs one stack under mocks and reports what it registered. Runs are serialised. */
export function runStackOffline(options: OfflineRunOptions): Promise<OfflineRun> {
    const run = queue.then(() => runExclusive(options));
    queue = run.catch(() => undefined);
    return run;
}

interface Captured {
    readonly resource: pulumi.Resource;
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly opts: pulumi.CustomResourceOptions & pulumi.ComponentResourceOptions;
}

interface Registered {
    readonly id?: string;
    readonly inputs: Record<string, unknown>;
    readonly state: Record<string, unknown>;
}

async function runExclusive(options: OfflineRunOptions): Promise<OfflineRun> {
    const file = readStackFile(options.stack, options.projectDir);
    const { config, secretKeys } = runtimeConfig(file.project, options.config ?? file.config);
    const log: OfflineLogEntry[] = [];

    const rejections = watchUnhandledRejections();
    const restoreConsole = captureRuntimeLog(log);
    let run: Omit<OfflineRun, "log">;
    try {
        run = await Promise.race([runUnderMocks(file, config, secretKeys, options), rejections.failure]);
    } finally {
        restoreConsole();
        await rejections.release();
    }
    // A rejection that arrived while the run finished: the run is incomplete, so it failed all the same.
    if (rejections.error !== undefined) throw rejections.error;
    return { ...run, log };
}

/** Runs the program under mocks and describes what it registered (the log is the caller's). */
async function runUnderMocks(
    file: StackFile,
    config: Record<string, string>,
    secretKeys: string[],
    options: OfflineRunOptions,
): Promise<Omit<OfflineRun, "log">> {
    const captured: Captured[] = [];
    const registered = new Map<string, Registered[]>();
    const secretOutputNames = new Map<string, readonly string[]>();

    await installMocks(file, registered, secretOutputNames);
    pulumi.runtime.setAllConfig(config, secretKeys);

    const program = options.program ?? defaultProgram;
    const { programOutputs, error } = await runProgram(program, captured, secretOutputNames);

    const stackUrn = `urn:pulumi:${file.stack}::${file.project}::${rootStackType}::${file.project}-${file.stack}`;
    const resources = await describeResources(captured, registered, stackUrn);
    const serialized = error ? {} : await pulumi.runtime.serializeProperties("stack outputs", programOutputs);

    return {
        project: file.project,
        stack: file.stack,
        config,
        secretConfigKeys: secretKeys,
        resources,
        stackUrn,
        outputs: unwrapSecrets(serialized) as Record<string, unknown>,
        secretOutputs: Object.keys(serialized).filter((key) => containsSecret(serialized[key])),
        error,
    };
}

/** How long the failed program must stay quiet before the run gives the process its listeners back. */
const rejectionQuietMs = 50;

interface RejectionWatch {
    /** Rejects with the first unhandled rejection of the run (the program's failure); never resolves. */
    readonly failure: Promise<never>;
    /** That failure, once one happened. */
    readonly error: Error | undefined;
    /** Lets pending rejections arrive, waits until the failed program is quiet, restores the listeners. */
    release(): Promise<void>;
}

/**
 * Under `pulumi up` an unhandled rejection is the program's failure: the Pulumi language host reports
 * it and the update fails (@pulumi/pulumi cmd/run/run.js, `process.on("unhandledRejection", ...)`).
 * A throwing `apply` callback is one: the SDK cannot serialise the inputs of the resource it feeds,
 * never registers that resource and rejects a promise nobody holds, and whatever waits for that
 * resource (its dependants, the stack outputs) waits forever. Under mocks nobody listens, so the run
 * would hang; while a run lasts, this takes over the process's unhandled-rejection listeners and fails
 * the run with the first such error. The same error, rejected again along the SDK's promise chains,
 * is reported once.
 */
function watchUnhandledRejections(): RejectionWatch {
    const others = process.listeners("unhandledRejection");
    let error: Error | undefined;
    let lastAt = 0;
    let fail: (reason: Error) => void = () => undefined;
    const failure = new Promise<never>((_resolve, reject) => (fail = reject));
    failure.catch(() => undefined); // Observed by the race; a run that completes never rejects it.
    const listener = (reason: unknown): void => {
        lastAt = Date.now();
        if (error !== undefined) return;
        const message = reason instanceof Error ? reason.message : String(reason);
        error = new Error(
            `the program failed with an unhandled rejection (a throwing apply callback, for one): ${message}`,
            {
                cause: reason,
            },
        );
        fail(error);
    };
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", listener);
    return {
        failure,
        get error() {
            return error;
        },
        async release() {
            await new Promise((resolve) => setImmediate(resolve));
            while (error !== undefined && Date.now() - lastAt < rejectionQuietMs) {
                await new Promise((resolve) => setTimeout(resolve, rejectionQuietMs));
            }
            process.removeListener("unhandledRejection", listener);
            for (const other of others) process.on("unhandledRejection", other);
        },
    };
}

/** Mock monitor: records each registration and marks `additionalSecretOutputs` secret like the engine. */
async function installMocks(
    file: { project: string; stack: string },
    registered: Map<string, Registered[]>,
    secretOutputNames: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
                const inputs = (args.inputs ?? {}) as Record<string, unknown>;
                const key = `${args.type}::${args.name}`;
                const { id, state } = mockState(args.type, args.name, inputs, args.custom !== false);
                // The engine marks `additionalSecretOutputs` secret; the mock monitor does not.
                for (const output of secretOutputNames.get(key) ?? []) {
                    if (state[output] !== undefined && !pulumi.runtime.isRpcSecret(state[output])) {
                        state[output] = pulumi.secret(state[output]);
                    }
                }
                registered.set(key, [...(registered.get(key) ?? []), { id, inputs, state }]);
                return { id, state };
            },
            call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
                return mockInvoke(args.token, (args.inputs ?? {}) as Record<string, unknown>);
            },
        },
        file.project,
        file.stack,
        false,
    );
}

/** Runs the program inside a stack, capturing every resource it constructs; failures are returned, not thrown. */
async function runProgram(
    program: () => unknown,
    captured: Captured[],
    secretOutputNames: Map<string, readonly string[]>,
): Promise<{ programOutputs: Record<string, unknown>; error: Error | undefined }> {
    let programOutputs: Record<string, unknown> = {};
    let error: Error | undefined;
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation((args) => {
                captured.push({
                    resource: args.resource,
                    type: args.type,
                    name: args.name,
                    custom: args.resource instanceof pulumi.CustomResource,
                    opts: args.opts,
                });
                const secret = (args.opts as pulumi.CustomResourceOptions).additionalSecretOutputs;
                if (secret && secret.length > 0) {
                    secretOutputNames.set(`${args.type}::${args.name}`, secret);
                }
                return undefined;
            });
            // Failures are caught here, not thrown out of the stack: a rejected stack
            // initialisation would also surface as unhandled rejections inside the SDK.
            try {
                // Kept as returned: the stack's own copy loses which outputs are secret.
                programOutputs = ((await program()) ?? {}) as Record<string, unknown>;
                return programOutputs;
            } catch (caught) {
                error = caught instanceof Error ? caught : new Error(String(caught));
                return {};
            }
        });
    } catch (caught) {
        error ??= caught instanceof Error ? caught : new Error(String(caught));
    }

    return { programOutputs, error };
}

/** The project's own program: validated config in, resources out (same as stacks/index.ts). */
async function defaultProgram(): Promise<unknown> {
    // Loaded on first use, so that runs of other programs do not load the Azure SDK.
    const { readStackConfig } = await import("./config");
    const { backupPolicyStack } = await import("./program");
    return backupPolicyStack(readStackConfig());
}

/**
 * The YAML `config:` map as the Pulumi CLI hands it to a program: keys fully qualified, structured
 * values as JSON, `secure:` values replaced by placeholders (their keys listed as secret).
 */
export function runtimeConfig(
    project: string,
    fileConfig: Readonly<Record<string, unknown>>,
): { config: Record<string, string>; secretKeys: string[] } {
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(fileConfig)) {
        const key = rawKey.includes(":") ? rawKey : `${project}:${rawKey}`;
        let secret = false;
        const replaced = replaceSecure(value, () => {
            secret = true;
            return secretPlaceholder(key);
        });
        config[key] = typeof replaced === "string" ? replaced : JSON.stringify(replaced);
        if (secret) {
            secretKeys.push(key);
        }
    }
    return { config, secretKeys };
}

function replaceSecure(value: unknown, placeholder: () => string): unknown {
    if (Array.isArray(value)) {
        return value.map((item) => replaceSecure(item, placeholder));
    }
    if (typeof value === "object" && value !== null) {
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        if (keys.length === 1 && keys[0] === "secure" && typeof record.secure === "string") {
            return placeholder();
        }
        return Object.fromEntries(keys.map((key) => [key, replaceSecure(record[key], placeholder)]));
    }
    return value;
}

/** Without an engine, pulumi.log writes "<severity>: [runtime] <message>" to the console: keep those. */
function captureRuntimeLog(log: OfflineLogEntry[]): () => void {
    const original = { log: console.log, warn: console.warn, error: console.error };
    const pattern = /^(debug|info|warning|error): \[runtime\] ([\s\S]*)$/;
    const wrap =
        (write: (...args: unknown[]) => void) =>
        (...args: unknown[]): void => {
            const match = args.length === 1 && typeof args[0] === "string" ? pattern.exec(args[0]) : null;
            if (match) {
                log.push({ severity: match[1] as OfflineLogSeverity, message: match[2] });
            } else {
                write(...args);
            }
        };
    console.log = wrap(original.log);
    console.warn = wrap(original.warn);
    console.error = wrap(original.error);
    return () => Object.assign(console, original);
}

async function describeResources(
    captured: readonly Captured[],
    registered: ReadonlyMap<string, Registered[]>,
    stackUrn: string,
): Promise<OfflineResource[]> {
    const urns = new Map<pulumi.Resource, string>();
    const urnOf = async (resource: pulumi.Resource): Promise<string> => {
        const known = urns.get(resource);
        if (known !== undefined) {
            return known;
        }
        const urn = await resolved<string>(resource.urn);
        urns.set(resource, urn);
        return urn;
    };

    // The mocks see type and name only; they identify a resource as long as no two share both.
    const names = captured.map((entry) => `${entry.type}::${entry.name}`);
    const duplicate = names.find((key, index) => names.indexOf(key) !== index);
    if (duplicate !== undefined) {
        throw new Error(`Offline run: two resources are registered as ${duplicate}; give them distinct names.`);
    }

    const protects = new Map<pulumi.Resource, boolean>();
    const list: OfflineResource[] = [];
    for (const entry of captured) {
        const registration = registered.get(`${entry.type}::${entry.name}`)?.[0];
        const parent = entry.opts.parent;
        // Pulumi's own rule: a resource without a protect option inherits its parent's.
        const protect = entry.opts.protect ?? (parent ? (protects.get(parent) ?? false) : false);
        protects.set(entry.resource, protect);
        if (registration === undefined) {
            // Constructed but never registered (the program failed first): nothing reached the engine.
            continue;
        }
        list.push(await describeResource(entry, registration, { protect, stackUrn, urnOf }));
    }
    return list;
}

/** One resource as the engine would record it: inputs, mock outputs, secrets and resolved options. */
async function describeResource(
    entry: Captured,
    registration: Registered,
    context: { protect: boolean; stackUrn: string; urnOf: (resource: pulumi.Resource) => Promise<string> },
): Promise<OfflineResource> {
    const { protect, stackUrn, urnOf } = context;
    const parent = entry.opts.parent;
    const dependsOn = await resolved<unknown>(entry.opts.dependsOn);
    const dependencies = (Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []) as pulumi.Resource[];
    return {
        type: entry.type,
        name: entry.name,
        urn: await urnOf(entry.resource),
        custom: entry.custom,
        id: entry.custom ? registration.id : undefined,
        inputs: entry.custom ? (unwrapSecrets(registration.inputs) as Record<string, unknown>) : {},
        secretInputs: entry.custom
            ? Object.keys(registration.inputs).filter((name) => containsSecret(registration.inputs[name]))
            : [],
        outputs: entry.custom
            ? (unwrapSecrets(await pulumi.runtime.serializeProperties("mock state", registration.state)) as Record<
                  string,
                  unknown
              >)
            : {},
        secretOutputs: entry.custom
            ? Object.keys(registration.state).filter((name) => isSecretValue(registration.state[name]))
            : [],
        options: {
            protect,
            parent: parent ? await urnOf(parent) : stackUrn,
            dependsOn: await Promise.all(dependencies.map((dependency) => urnOf(dependency))),
            provider: entry.opts.provider ? await urnOf(entry.opts.provider) : undefined,
            ignoreChanges: entry.opts.ignoreChanges ?? [],
            retainOnDelete: entry.opts.retainOnDelete ?? false,
            deleteBeforeReplace: entry.opts.deleteBeforeReplace ?? false,
            replaceOnChanges: entry.opts.replaceOnChanges ?? [],
            additionalSecretOutputs: entry.opts.additionalSecretOutputs ?? [],
        },
    };
}

function resolved<T>(value: unknown): Promise<T> {
    if (pulumi.Output.isInstance(value)) {
        return new Promise<T>((resolve) => {
            (value as pulumi.Output<T>).apply((inner) => {
                resolve(inner);
                return inner;
            });
        });
    }
    return Promise.resolve(value as T);
}

/** In mock state, secrets are RPC secret values (from secret inputs) or pulumi.secret outputs. */
function isSecretValue(value: unknown): boolean {
    return pulumi.Output.isInstance(value) || containsSecret(value);
}

function containsSecret(value: unknown): boolean {
    if (pulumi.runtime.isRpcSecret(value)) {
        return true;
    }
    if (Array.isArray(value)) {
        return value.some(containsSecret);
    }
    if (typeof value === "object" && value !== null) {
        return Object.values(value).some(containsSecret);
    }
    return false;
}

function unwrapSecrets(value: unknown): unknown {
    if (pulumi.runtime.isRpcSecret(value)) {
        return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
    }
    return value;
}

// ---------------------------------------------------------------------------------------------
// Mock state: what the providers would answer. Azure resources get ids of the form Azure uses.

const subscriptionId = "00000000-0000-0000-0000-000000000000";

function text(value: unknown, fallback: string): string {
    const plain = unwrapSecrets(value);
    return typeof plain === "string" && plain !== "" ? plain : fallback;
}

function groupPath(inputs: Record<string, unknown>, name: string): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${text(inputs.resourceGroupName, `${name}-rg`)}`;
}

/** Azure resource id per azure-native type token (the types this project uses; others get a generic id). */
const azureIds: Readonly<Record<string, (inputs: Record<string, unknown>, name: string) => string>> = {
    "azure-native:resources:ResourceGroup": (i, n) =>
        `/subscriptions/${subscriptionId}/resourceGroups/${text(i.resourceGroupName, n)}`,
    "azure-native:network:VirtualNetwork": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Network/virtualNetworks/${text(i.virtualNetworkName, n)}`,
    "azure-native:network:Subnet": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Network/virtualNetworks/${text(i.virtualNetworkName, "vnet")}/subnets/${text(i.subnetName, n)}`,
    "azure-native:privatedns:PrivateZone": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Network/privateDnsZones/${text(i.privateZoneName, n)}`,
    "azure-native:privatedns:VirtualNetworkLink": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Network/privateDnsZones/${text(i.privateZoneName, "zone")}/virtualNetworkLinks/${text(i.virtualNetworkLinkName, n)}`,
    "azure-native:dbforpostgresql:Server": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${text(i.serverName, n)}`,
    "azure-native:dbforpostgresql:Configuration": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${text(i.serverName, "server")}/configurations/${text(i.configurationName, n)}`,
    "azure-native:dbforpostgresql:Database": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${text(i.serverName, "server")}/databases/${text(i.databaseName, n)}`,
    "azure-native:operationalinsights:Workspace": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.OperationalInsights/workspaces/${text(i.workspaceName, n)}`,
    "azure-native:monitor:DiagnosticSetting": (i, n) =>
        `${text(i.resourceUri, "/unknown")}/providers/Microsoft.Insights/diagnosticSettings/${text(i.name, n)}`,
    "azure-native:authorization:ManagementLockByScope": (i, n) =>
        `${text(i.scope, "/unknown")}/providers/Microsoft.Authorization/locks/${text(i.lockName, n)}`,
    "azure-native:storage:StorageAccount": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Storage/storageAccounts/${text(i.accountName, n)}`,
    "azure-native:storage:FileServiceProperties": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Storage/storageAccounts/${text(i.accountName, "account")}/fileServices/${text(i.fileServicesName, "default")}`,
    "azure-native:storage:FileShare": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.Storage/storageAccounts/${text(i.accountName, "account")}/fileServices/default/shares/${text(i.shareName, n)}`,
    "azure-native:recoveryservices:Vault": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.RecoveryServices/vaults/${text(i.vaultName, n)}`,
    "azure-native:recoveryservices:ProtectionPolicy": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.RecoveryServices/vaults/${text(i.vaultName, "vault")}/backupPolicies/${text(i.policyName, n)}`,
    "azure-native:recoveryservices:ProtectionContainer": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.RecoveryServices/vaults/${text(i.vaultName, "vault")}/backupFabrics/${text(i.fabricName, "Azure")}/protectionContainers/${text(i.containerName, n)}`,
    "azure-native:recoveryservices:ProtectedItem": (i, n) =>
        `${groupPath(i, n)}/providers/Microsoft.RecoveryServices/vaults/${text(i.vaultName, "vault")}/backupFabrics/${text(i.fabricName, "Azure")}/protectionContainers/${text(i.containerName, "container")}/protectedItems/${text(i.protectedItemName, n)}`,
};

function mockState(
    type: string,
    name: string,
    inputs: Record<string, unknown>,
    custom: boolean,
): { id: string | undefined; state: Record<string, unknown> } {
    if (!custom) {
        return { id: undefined, state: { ...inputs } };
    }
    const state: Record<string, unknown> = { ...inputs };
    if (type.startsWith("azure-native:")) {
        const [, module, resource] = type.split(":");
        const id =
            azureIds[type]?.(inputs, name) ??
            `${groupPath(inputs, name)}/providers/Microsoft.${module}/${resource.charAt(0).toLowerCase()}${resource.slice(1)}s/${name}`;
        const azureName = id.split("/").pop() as string;
        state.id = id;
        state.name = azureName;
        state.azureApiVersion = "mock";
        if (type === "azure-native:dbforpostgresql:Server") {
            state.fullyQualifiedDomainName = `${azureName}.postgres.database.azure.com`;
        } else if (type === "azure-native:operationalinsights:Workspace") {
            state.customerId = "11111111-1111-1111-1111-111111111111";
        } else if (type === "azure-native:storage:StorageAccount") {
            state.primaryEndpoints = { file: `https://${azureName}.file.core.windows.net/` };
        }
        return { id, state };
    }
    if (type.startsWith("digitalocean:")) {
        return digitalOceanMockState(type, name, state);
    }
    if (type === "random:index/randomPassword:RandomPassword") {
        state.result = `offline-placeholder-password-${name}`;
        state.bcryptHash = `offline-placeholder-bcrypt-${name}`;
    }
    return { id: `${name}-id`, state };
}

// DigitalOcean: ids are UUIDs, DigitalOcean URNs "do:<kind>:<id>"; what the staging program reads.

/** A stable UUID-shaped id derived from the resource name (mock ids must not change between runs). */
function mockUuid(name: string): string {
    let hash = 0;
    for (const char of name) {
        hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
    }
    const hex = hash.toString(16).padStart(8, "0");
    return `${hex}-0000-4000-8000-${hex}0000`;
}

/** The PostgreSQL port of DigitalOcean managed databases (not 5432). */
export const mockDigitalOceanDatabasePort = 25060;

function digitalOceanMockState(
    type: string,
    name: string,
    state: Record<string, unknown>,
): { id: string; state: Record<string, unknown> } {
    const id = mockUuid(`${type}::${name}`);
    const resourceName = text(state.name, name);
    state.id = id;
    state.name = resourceName;
    if (type === "digitalocean:index/vpc:Vpc") {
        state.vpcUrn = `do:vpc:${id}`;
    } else if (type === "digitalocean:index/kubernetesCluster:KubernetesCluster") {
        state.clusterUrn = `do:kubernetes:${id}`;
    } else if (type === "digitalocean:index/databaseCluster:DatabaseCluster") {
        state.clusterUrn = `do:dbaas:${id}`;
        state.host = `${resourceName}-do-user-0.db.ondigitalocean.com`;
        state.privateHost = `private-${resourceName}-do-user-0.db.ondigitalocean.com`;
        state.port = mockDigitalOceanDatabasePort;
        state.user = "doadmin";
        state.password = `offline-placeholder-password-${name}`;
        state.uri = `postgresql://doadmin@${String(state.host)}:25060/defaultdb?sslmode=require`;
        state.privateUri = `postgresql://doadmin@${String(state.privateHost)}:25060/defaultdb?sslmode=require`;
    } else if (type === "digitalocean:index/nfs:Nfs") {
        state.host = "10.110.0.100";
        state.mountPath = `/123456/${id}`;
        state.status = "ACTIVE";
    }
    return { id, state };
}

/** The mock CA of every managed database cluster (getDatabaseCa). */
export const mockDigitalOceanDatabaseCa =
    "-----BEGIN CERTIFICATE-----\nMIIB (offline mock CA)\n-----END CERTIFICATE-----\n";

/** The mock key of a storage account (listStorageAccountKeys); tests check it is never in plain text. */
export function mockStorageAccountKey(accountName: string): string {
    return `offline-mock-storage-key-${accountName}`;
}

/** The mock answers of DigitalOcean's data sources and of Azure's listStorageAccountKeys (invokes); others echo their inputs. */
function mockInvoke(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (token) {
        case "digitalocean:index/getKubernetesVersions:getKubernetesVersions": {
            // DigitalOcean lists the newest first; the provider takes the first as latestVersion.
            const prefix = typeof inputs.versionPrefix === "string" ? inputs.versionPrefix : "1.33.";
            const base = prefix.endsWith(".") ? prefix : `${prefix}.`;
            const versions = [`${base}2-do.0`, `${base}1-do.0`];
            return { ...inputs, latestVersion: versions[0], validVersions: versions, id: "versions" };
        }
        case "digitalocean:index/getKubernetesCluster:getKubernetesCluster": {
            const name = text(inputs.name, "cluster");
            return {
                ...inputs,
                id: mockUuid(`cluster::${name}`),
                kubeConfigs: [
                    { rawConfig: `offline-placeholder-kubeconfig-${name}`, token: "offline-placeholder-token" },
                ],
            };
        }
        case "azure-native:storage:listStorageAccountKeys":
            return {
                keys: [
                    {
                        keyName: "key1",
                        permissions: "FULL",
                        value: mockStorageAccountKey(text(inputs.accountName, "account")),
                    },
                ],
            };
        case "digitalocean:index/getDatabaseCa:getDatabaseCa":
            return { ...inputs, id: text(inputs.clusterId, "cluster"), certificate: mockDigitalOceanDatabaseCa };
        default:
            return inputs;
    }
}
