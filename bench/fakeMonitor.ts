/**
 * A resource monitor for `npm run bench:preview`: just enough of the engine's ResourceMonitor gRPC
 * service for @pulumi/pulumi's cmd/run to register the stack and start the program (it claims no
 * optional feature and answers every registration with a URN), and a promise of the first resource
 * the program itself registers. Every other call answers UNIMPLEMENTED (grpc-js's default).
 */
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as resourceRpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceProto from "@pulumi/pulumi/proto/resource_pb";

export interface FakeMonitor {
    readonly address: string;
    /** Type and name of the first registered resource that is not the stack. */
    readonly firstProgramResource: Promise<string>;
    stop(): Promise<void>;
}

export async function startFakeMonitor(stack: string): Promise<FakeMonitor> {
    let first: (resource: string) => void = () => undefined;
    const firstProgramResource = new Promise<string>((resolve) => (first = resolve));
    const implementation: Partial<resourceRpc.IResourceMonitorServer> = {
        supportsFeature: (_call, callback) => callback(null, new resourceProto.SupportsFeatureResponse()),
        registerResource: (call, callback) => {
            const type = call.request.getType();
            const name = call.request.getName();
            if (type !== "pulumi:pulumi:Stack") first(`${type} ${name}`);
            const response = new resourceProto.RegisterResourceResponse();
            response.setUrn(`urn:pulumi:${stack}::bench::${type}::${name}`);
            response.setObject(new Struct());
            callback(null, response);
        },
        registerResourceOutputs: (_call, callback) => callback(null, new Empty()),
    };
    const server = new grpc.Server();
    server.addService(resourceRpc.ResourceMonitorService, implementation as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
            err ? reject(err) : resolve(p),
        ),
    );
    return {
        address: `127.0.0.1:${port}`,
        firstProgramResource,
        stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    };
}
