// Reads what a SAML response asserts (issuer, subject, audience, times, AWS attributes) from the XML a signature covers.
import { SAML_NS } from "./saml-response-signature.js";
import { childElements, is, parseXmlDocument, textContent, type XmlElement } from "./xml-document.js";

export const AWS_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
export const AWS_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName";
export const AWS_SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration";

/** One value of the Role attribute: "roleArn,providerArn" in either order; null parts when the value is not two ARNs. */
export interface RoleValue {
  readonly value: string;
  readonly roleArn: string | null;
  readonly providerArn: string | null;
}

export interface SamlResponseFacts {
  /** The Response's Destination; null when absent. */
  readonly destination: string | null;
  /** The top-level StatusCode Value. */
  readonly status: string | null;
  readonly issuer: string | null;
  readonly nameId: string | null;
  readonly nameIdFormat: string | null;
  /** SubjectConfirmationData of the bearer confirmations (AWS takes exactly one). */
  readonly subjectConfirmations: number;
  readonly recipient: string | null;
  readonly subjectNotBefore: string | null;
  readonly subjectNotOnOrAfter: string | null;
  readonly conditionsNotBefore: string | null;
  readonly conditionsNotOnOrAfter: string | null;
  readonly audiences: readonly string[];
  readonly roles: readonly RoleValue[];
  /** Every RoleSessionName value (AWS takes exactly one). */
  readonly sessionNames: readonly string[];
  readonly sessionDurations: readonly string[];
}

/**
 * The facts of `assertion` (the Assertion element), with the Response-level facts of `response` when given (the
 * signed Response, or the unsigned document when only the Assertion is signed).
 */
export function readResponseFacts(
  assertion: XmlElement | undefined,
  response: XmlElement | undefined,
  input: string,
): SamlResponseFacts {
  const children = (parent: XmlElement | undefined, localName: string, namespace: string = SAML_NS.assertion) =>
    parent ? childElements(parent, input).filter((child) => is(child, namespace, localName)) : [];
  const first = (parent: XmlElement | undefined, localName: string, namespace?: string) =>
    children(parent, localName, namespace)[0];
  const text = (element: XmlElement | undefined) => (element ? textContent(element).trim() : null);
  const attribute = (element: XmlElement | undefined, name: string) => element?.attributes[name] ?? null;

  const status = first(first(response, "Status", SAML_NS.protocol), "StatusCode", SAML_NS.protocol);
  const subject = first(assertion, "Subject");
  const nameId = first(subject, "NameID");
  const bearer = children(subject, "SubjectConfirmation").filter(
    (confirmation) => attribute(confirmation, "Method") === "urn:oasis:names:tc:SAML:2.0:cm:bearer",
  );
  const confirmationData = first(bearer[0], "SubjectConfirmationData");
  const conditions = first(assertion, "Conditions");
  const audiences = children(conditions, "AudienceRestriction").flatMap((restriction) =>
    children(restriction, "Audience").map((audience) => text(audience) ?? ""),
  );
  const attributes = children(assertion, "AttributeStatement").flatMap((statement) => children(statement, "Attribute"));
  const valuesOf = (name: string): string[] =>
    attributes
      .filter((each) => attribute(each, "Name") === name)
      .flatMap((each) => children(each, "AttributeValue").map((value) => text(value) ?? ""));

  return {
    destination: attribute(response, "Destination"),
    status: attribute(status, "Value"),
    issuer: text(first(assertion, "Issuer")),
    nameId: text(nameId),
    nameIdFormat: attribute(nameId, "Format"),
    subjectConfirmations: bearer.length,
    recipient: attribute(confirmationData, "Recipient"),
    subjectNotBefore: attribute(confirmationData, "NotBefore"),
    subjectNotOnOrAfter: attribute(confirmationData, "NotOnOrAfter"),
    conditionsNotBefore: attribute(conditions, "NotBefore"),
    conditionsNotOnOrAfter: attribute(conditions, "NotOnOrAfter"),
    audiences,
    roles: valuesOf(AWS_ROLE_ATTRIBUTE).map(parseRoleValue),
    sessionNames: valuesOf(AWS_SESSION_NAME_ATTRIBUTE),
    sessionDurations: valuesOf(AWS_SESSION_DURATION_ATTRIBUTE),
  };
}

/** The Assertion directly inside a Response element, if it has exactly one. */
export function assertionOf(response: XmlElement, input: string): XmlElement | undefined {
  const assertions = childElements(response, input).filter((child) => is(child, SAML_NS.assertion, "Assertion"));
  return assertions.length === 1 ? assertions[0] : undefined;
}

export function parseSignedXml(xml: string, input: string): XmlElement {
  return parseXmlDocument(xml, input);
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;
const PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:saml-provider\/.+$/;

export function parseRoleValue(value: string): RoleValue {
  const parts = value.split(",").map((part) => part.trim());
  if (parts.length === 2) {
    const [a = "", b = ""] = parts;
    if (ROLE_ARN.test(a) && PROVIDER_ARN.test(b)) return { value, roleArn: a, providerArn: b };
    if (PROVIDER_ARN.test(a) && ROLE_ARN.test(b)) return { value, roleArn: b, providerArn: a };
  }
  return { value, roleArn: null, providerArn: null };
}
