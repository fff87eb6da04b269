// Namespaces in XML 1.0's constraints on one namespace declaration (§3, "Reserved Prefixes and Namespace Names" and
// "No Prefix Undeclaring"). Every SAML consumer, AWS's included, reads metadata with namespaces on and refuses a document
// that breaks them, so the safety scan refuses it too, naming the rule, instead of a later reader misreading it.

export const XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace";
export const XMLNS_NAMESPACE = "http://www.w3.org/2000/xmlns/";

/**
 * Why the declaration `name`="`value`" breaks a constraint, or undefined where it keeps them. `name` is "xmlns" or
 * starts "xmlns:"; `value` has its references decoded.
 */
export function namespaceDeclarationError(name: string, value: string): string | undefined {
  const prefix = name === "xmlns" ? undefined : name.slice("xmlns:".length);
  if (prefix === "xmlns") return "the prefix xmlns is reserved and cannot be declared";
  if (prefix === "xml") {
    return value === XML_NAMESPACE
      ? undefined
      : `the prefix xml cannot be bound to a namespace other than ${XML_NAMESPACE}`;
  }
  if (value === XML_NAMESPACE) return `${name} cannot be bound to ${XML_NAMESPACE}, which belongs to the prefix xml`;
  if (value === XMLNS_NAMESPACE) return `${name} cannot be bound to ${XMLNS_NAMESPACE}, which is reserved`;
  if (prefix !== undefined && value === "") {
    return `${name}="" undeclares a prefix, which Namespaces in XML 1.0 does not allow`;
  }
  return undefined;
}
