// The names of the checks breakglass can run, derived from the check registry: config, runbooks and reports all speak of checks by these names.
export { CHECK_NAMES, isCheckName, type CheckName } from "./check-registry.js";
