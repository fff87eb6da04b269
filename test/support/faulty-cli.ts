// Test-only entry of the `breakglass` command (run with tsx): the real CLI, with the faults BREAKGLASS_FAULT_* names installed in this process only.
import { processIo } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { faultPlan, faultSeams } from "./fault-injection.js";

// As src/cli/bin.ts: the SDK's Node-version notice would otherwise be printed by every AWS client.
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

process.exitCode = await main(process.argv.slice(2), {
  ...processIo(),
  runbookSeams: faultSeams(faultPlan(process.env)),
});
