// Kubernetes label syntax (what a Calico node's labels must be): keys are [prefix/]name, values short words.
// Pure; the lab's config reader and the agent's command line both check labels with it.

/** A DNS subdomain (RFC 1123), at most 253 characters: a label key's optional prefix. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label key's name part and a (non-empty) label value: alphanumerics, with - _ . inside. */
const LABEL_WORD = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
export const LABEL_MAX = 63;
export const PREFIX_MAX = 253;

/** Why `key` is not a Kubernetes label key, or undefined when it is one. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined) {
    if (prefix === "") return "the prefix before / is empty";
    if (prefix.length > PREFIX_MAX) return `the prefix is longer than ${PREFIX_MAX} characters`;
    if (!DNS_SUBDOMAIN.test(prefix))
      return "the prefix before / must be a DNS subdomain (lower-case letters, digits, - and .)";
  }
  if (name === "") return "the name is empty";
  if (name.length > LABEL_MAX) return `the name is longer than ${LABEL_MAX} characters`;
  if (!LABEL_WORD.test(name))
    return "the name must be letters, digits, -, _ and ., beginning and ending with a letter or digit";
  return undefined;
}

/** Why `value` is not a Kubernetes label value, or undefined when it is one (the empty value is one). */
export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > LABEL_MAX) return `longer than ${LABEL_MAX} characters`;
  if (!LABEL_WORD.test(value))
    return "a value must be letters, digits, -, _ and ., beginning and ending with a letter or digit";
  return undefined;
}
