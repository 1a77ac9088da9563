// What a lab resource does to the machine. Handlers run inside Pulumi's dynamic-provider process.
// Each create is paired with its delete; a create that fails undoes what it made before throwing,
// so a failed `up` never leaves anything `destroy` cannot find.

export interface CreateResult<O> {
  id: string;
  outs: O;
}

export interface DiffResult {
  changes: boolean;
  replaces?: string[];
  deleteBeforeReplace?: boolean;
}

export interface Handler<I extends object, O extends object = I> {
  /** Input keys whose change replaces the resource (all others update it in place). */
  replaceOn: readonly (keyof I & string)[];
  create(inputs: I): Promise<CreateResult<O>>;
  /** Present state, or undefined when the thing is gone (drift: `pulumi refresh` forgets it). */
  read(id: string, props: O): Promise<O | undefined>;
  update?(id: string, olds: O, news: I): Promise<O>;
  delete(id: string, props: O): Promise<void>;
  /**
   * What the machine shows now that makes the outputs stale although no input changed (a verification
   * whose daemons died): non-empty, and the next `up` runs update. Asked by diff; few handlers have it.
   */
  stale?(props: O): Promise<string[]>;
}

/** Inputs compared by value, the way the engine shows them. */
export function diffInputs<I extends object>(
  replaceOn: readonly string[],
  olds: Record<string, unknown>,
  news: I,
): DiffResult {
  const changed = Object.keys({ ...olds, ...news }).filter(
    (k) =>
      !k.startsWith("__") &&
      JSON.stringify(olds[k]) !== JSON.stringify((news as Record<string, unknown>)[k]) &&
      (k in (news as object) || replaceOn.includes(k)),
  );
  const replaces = changed.filter((k) => replaceOn.includes(k));
  // A refresh that found drift (see Verification) asks for the resource's update to run again.
  const drifted = Array.isArray(olds.drift) && olds.drift.length > 0;
  return { changes: changed.length > 0 || drifted, replaces, deleteBeforeReplace: replaces.length > 0 };
}
