// calico.yaml variants: render (variant → manifest), parse (manifest → agent settings), validate, presets.
export {
  BACKENDS,
  CALICO_DEFAULTS,
  DATASTORE_TYPES,
  ENCAP_MODES,
  ENCAP_OVERHEAD,
  LAB_DEFAULTS,
  LAB_NETWORK,
  PRESETS,
  encapOverhead,
  mtusFor,
  resolveVariant,
} from "./variant.ts";
export type { Backend, CalicoVariant, DatastoreType, EncapMode, LabNetwork, VariantSpec } from "./variant.ts";
export { MODES, MODE_SPECS, isMode } from "../modes.ts";
export type { Mode, ModeSpec } from "../modes.ts";
export { ManifestError } from "./problems.ts";
export type { ManifestNote, ManifestProblem } from "./problems.ts";
export { AUTODETECT_FIELD, formatAutodetectMethod, parseAutodetectMethod } from "./autodetect-method.ts";
export type { AutodetectMethod, AutodetectResult } from "./autodetect-method.ts";
export { validateVariant } from "./validate.ts";
export { renderManifest } from "./render.ts";
export type { RenderOptions, RenderResult } from "./render.ts";
export { parseManifest, readAgentSettings, toAgentSettings } from "./parse.ts";
export type { AgentSettings, DatastoreSettings, EtcdTls, ParseOptions, ParsedManifest } from "./parse.ts";
export { TEMPLATES_DIR, loadTemplate, templatePath } from "./load.ts";
export {
  AGENT_ENTRYPOINT,
  INSTALL_CNI_ENTRYPOINT,
  LAB_NODE_IMAGE,
  applyLabImages,
  upstreamImages,
} from "./lab-images.ts";
export type { ImageUse, LabImageResult } from "./lab-images.ts";
