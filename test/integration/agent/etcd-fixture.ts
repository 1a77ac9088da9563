// A throwaway etcd for a test: data under a mkdtemp folder, listening on 127.0.0.1 on free ports.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  freePort,
  startEtcd,
  type EtcdServer,
  type EtcdServerOptions,
} from "../../../src/agent/datastore/etcd-server.ts";

export interface EtcdFixture {
  endpoint: string;
  options: EtcdServerOptions;
  server: EtcdServer;
  /** SIGKILL the server (a crash). */
  crash(): Promise<void>;
  /** Start it again on the same data dir and ports. */
  restart(): Promise<void>;
  /** Stop and remove the data dir. Safe to call twice. */
  cleanup(): Promise<void>;
}

export async function startTestEtcd(tag = "t"): Promise<EtcdFixture> {
  const dir = await mkdtemp(join(tmpdir(), `calico-lab-etcd-${tag}-`));
  const options: EtcdServerOptions = {
    name: "test",
    dataDir: join(dir, "data"),
    address: "127.0.0.1",
    clientPort: await freePort(),
    peerPort: await freePort(),
    logFile: join(dir, "etcd.log"),
  };
  let server: EtcdServer;
  try {
    server = await startEtcd(options);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const fx: EtcdFixture = {
    endpoint: server.endpoint,
    options,
    server,
    crash: () => fx.server.kill(),
    async restart() {
      fx.server = await startEtcd(options);
    },
    async cleanup() {
      await fx.server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fx;
}
