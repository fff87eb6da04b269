// Process entry of the `breakglass` command (bin/breakglass.js loads the compiled copy).
import { main } from "./main.js";

// On Node 20 every AWS client would print an eight-line warning that SDK releases after January 2027 need Node 22. The
// SDK is pinned by breakglass's lockfile, so that is the maintainers' news, not the admin's: it would break the
// one-line-error promise of every command and repeat in serve's log. Set the variable to "false" to see it.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

process.exitCode = await main(process.argv.slice(2));
