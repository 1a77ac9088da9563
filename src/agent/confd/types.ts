// Datastore resources confd reads besides nodes and pools: BGP configuration and peers.
import type { Resource } from "../datastore/keys.ts";

export interface BGPConfigurationSpec {
  asNumber?: number;
  nodeToNodeMeshEnabled?: boolean;
  logSeverityScreen?: string;
}
export type BGPConfiguration = Resource<"BGPConfiguration", BGPConfigurationSpec>;

export interface BGPPeerSpec {
  /** This peering applies to the named node only. */
  node?: string;
  /** … or to the nodes this selector matches. Neither: a global peer, every node. */
  nodeSelector?: string;
  /** The remote end: an address with its AS … */
  peerIP?: string;
  asNumber?: number;
  /** … or every node this selector matches (their address and AS). */
  peerSelector?: string;
}
export type BGPPeer = Resource<"BGPPeer", BGPPeerSpec>;

export const DEFAULT_AS_NUMBER = 64512;
