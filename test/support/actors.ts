// Actors for tests that call the use cases or the engine directly, as a front end would have resolved them.
import type { Actor } from "../../src/domain/identity/actor.js";

/** Someone in the people list, verified: the person id "person:<name>", shown as <name>. */
export function person(name: string): Actor {
  return { person: `person:${name}`, label: name, verification: "verified in a test", verified: true };
}

/** A Slack user no person lists, from a signed request: "slack:U…" is both the person id and the label. */
export function slackUser(actor: string): Actor {
  return { person: actor, label: actor, verification: "Slack signed request", verified: true };
}
