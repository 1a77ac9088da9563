// The host backends, one entry per name in HOST_BACKENDS: a new backend (SSH machines, Kubernetes nodes)
// is one more entry, which the compiler asks for. Pure: the drivers (effects) are imported by the
// resource handlers that use them, not from here.
import { netnsBackend } from "./netns/backend.ts";
import { vmBackend } from "./vm/backend.ts";
import type { HostBackend, HostBackendName } from "./types.ts";

export const hostBackends: { readonly [K in HostBackendName]: HostBackend<K> } = {
  netns: netnsBackend,
  vm: vmBackend,
};
