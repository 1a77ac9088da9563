// The input (and output) naming a lab resource's kind: the key of its handler in handlers.ts. The one
// provider (dynamic.ts) reads it on every call and dispatch.ts keeps it in the outputs.
export const KIND_KEY = "__calicoLabKind";
