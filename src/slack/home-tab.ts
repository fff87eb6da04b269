// The App Home tab: the posture at a glance, published whenever someone opens it.
import type { App } from "@slack/bolt";
import { describeError } from "../domain/errors.js";
import { postureSnapshot } from "./posture-snapshot.js";
import { postureHomeView } from "./posture-view.js";
import type { SlackContext } from "./slack-context.js";

export function registerHomeTab(app: App, context: SlackContext): void {
  app.event("app_home_opened", async ({ event, client }) => {
    if (event.tab !== "home") return;
    try {
      await client.views.publish({ user_id: event.user, view: postureHomeView(await postureSnapshot(context)) });
    } catch (error) {
      context.log.warn(`could not publish the App Home of ${event.user}: ${describeError(error)}`);
    }
  });
}
